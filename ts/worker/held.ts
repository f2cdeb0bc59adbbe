/**
 * Which model each worker holds for inference (predict, encode, scores), by a
 * key per model object and a checksum of its parameters: the saved model is
 * posted to a worker only when that worker does not hold this version yet.
 */
import type { Param } from '../model/layer.js';
import type { Model } from '../model/model.js';
import { saveModel } from '../model/serialize.js';
import type { ModelRef } from './protocol.js';
import type { WorkerHandle } from './spawn.js';

let nextKey = 1;

export class HeldModels {
  private readonly held = new WeakMap<WorkerHandle, { key: number; checksum: string }>();
  private readonly keys = new WeakMap<Model, number>();

  /** A function giving, per worker, what to post with a job on `model` (saved at most once per call). */
  refs(model: Model): (w: WorkerHandle) => ModelRef {
    let key = this.keys.get(model);
    if (key === undefined) {
      key = nextKey++;
      this.keys.set(model, key);
    }
    const modelKey = key;
    const checksum = paramsChecksum(model.params());
    let saved: ModelRef['model'] = null;
    return (w) => {
      const h = this.held.get(w);
      const send = !h || h.key !== modelKey || h.checksum !== checksum;
      if (send) saved ??= saveModel(model);
      this.held.set(w, { key: modelKey, checksum });
      return { model: send ? saved : null, modelKey, checksum };
    };
  }

  /** After a failed job the worker's slot is unknown: send the model again next time. */
  forget(w: WorkerHandle): void {
    this.held.delete(w);
  }
}

/**
 * A 64-bit checksum of every parameter's bits (two 32-bit FNV-style hashes with
 * different primes and seeds): tells whether a worker's copy of a model is current.
 */
export function paramsChecksum(params: Param[]): string {
  let a = 0x811c9dc5,
    b = 0x2545f491;
  for (const p of params) {
    const d = p.value.data,
      u = new Uint32Array(d.buffer, d.byteOffset, d.length);
    for (let i = 0; i < u.length; i++) {
      a = Math.imul(a ^ u[i], 0x01000193);
      b = Math.imul(b ^ u[i], 0x5bd1e995) ^ (b >>> 15);
    }
    a = Math.imul(a ^ u.length, 0x01000193);
    b = Math.imul(b ^ u.length, 0x5bd1e995);
  }
  return `${(a >>> 0).toString(16)}:${(b >>> 0).toString(16)}`;
}
