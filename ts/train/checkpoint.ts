/**
 * Training checkpoints: parameters, optimizer buffers, the shuffling RNG and
 * the history and the model's own generators (input noise, dropout), after a
 * completed epoch, and the early-stopping state (best validation loss, epochs
 * since, the best weights). `fit({ resumeFrom })` continues as if never
 * stopped: same data order, same noise, same updates, the same epoch to stop
 * at, bit for bit. Stored as safetensors (`param/<name>`, `opt/<name>/<i>`,
 * `best/<name>`) with the counters as metadata.
 */
import { FormatError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../io/safetensors.js';
import type { EpochInfo } from './fit.js';

/** Everything a training run needs to resume exactly: weights, optimizer buffers, generator states, epoch and early-stopping state. */
export interface Checkpoint {
  /** Completed epochs. */
  epoch: number;
  steps: number;
  rngState: number;
  optimizerSteps: number;
  /** The model's generators (Task.randomState); absent in checkpoints of older versions. */
  modelRng?: number[];
  params: Record<string, Float32Array>;
  optimizer: Record<string, Float32Array[]>;
  history: EpochInfo[];
  /** Early stopping's state; absent when the run has no early stopping (or from older versions). */
  earlyStopping?: EarlyStoppingState;
}

/** The early-stopping part of a checkpoint: the best loss so far, epochs since, and the best weights. */
export interface EarlyStoppingState {
  /** Best validation loss so far (Infinity before the first validation). */
  best: number;
  /** Epochs since it improved. */
  sinceBest: number;
  /** The weights at the best epoch, by parameter name (absent before the first improvement). */
  bestParams?: Record<string, Float32Array>;
}

/** A checkpoint as one safetensors file (weights, optimizer state, generators, early-stopping state). */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, v] of Object.entries(c.params))
    tensors[`param/${name}`] = { dtype: 'F32', shape: [v.length], data: v };
  for (const [name, bufs] of Object.entries(c.optimizer))
    bufs.forEach((v, i) => (tensors[`opt/${name}/${i}`] = { dtype: 'F32', shape: [v.length], data: v }));
  const es = c.earlyStopping;
  for (const [name, v] of Object.entries(es?.bestParams ?? {}))
    tensors[`best/${name}`] = { dtype: 'F32', shape: [v.length], data: v };
  // JSON has no Infinity: a best loss not yet set is null.
  const early = es ? { best: Number.isFinite(es.best) ? es.best : null, sinceBest: es.sinceBest } : undefined;
  return encodeSafetensors(tensors, {
    format: 'convae-checkpoint',
    counters: JSON.stringify({
      epoch: c.epoch,
      steps: c.steps,
      rngState: c.rngState,
      optimizerSteps: c.optimizerSteps,
      modelRng: c.modelRng,
      early,
    }),
    history: JSON.stringify(c.history),
  });
}

/** Reads a checkpoint written by `encodeCheckpoint`; `source` names the file in errors. */
export function decodeCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  const f = decodeSafetensors(bytes, source);
  if (f.metadata.format !== 'convae-checkpoint') throw new FormatError(source, 'not a convae checkpoint');
  let counters: {
      epoch: number;
      steps: number;
      rngState: number;
      optimizerSteps: number;
      modelRng?: number[];
      early?: { best: number | null; sinceBest: number };
    },
    history: EpochInfo[];
  try {
    counters = JSON.parse(f.metadata.counters);
    history = JSON.parse(f.metadata.history);
  } catch {
    throw new FormatError(source, 'checkpoint metadata is not valid JSON');
  }
  for (const k of ['epoch', 'steps', 'rngState', 'optimizerSteps'] as const) {
    if (!Number.isInteger(counters[k]) || counters[k] < 0)
      throw new FormatError(source, `checkpoint counter ${k} is not a non-negative integer`);
  }
  if (!Array.isArray(history)) throw new FormatError(source, 'checkpoint history is not a list');
  const mr = counters.modelRng;
  if (mr !== undefined && !(Array.isArray(mr) && mr.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32))) {
    throw new FormatError(source, 'checkpoint modelRng is not a list of 32-bit unsigned integers');
  }
  const early = counters.early;
  if (
    early !== undefined &&
    !(
      early &&
      (early.best === null || Number.isFinite(early.best)) &&
      Number.isInteger(early.sinceBest) &&
      early.sinceBest >= 0
    )
  ) {
    throw new FormatError(
      source,
      'checkpoint early-stopping state is not { best: number | null, sinceBest: integer ≥ 0 }',
    );
  }
  const params: Record<string, Float32Array> = {},
    optimizer: Record<string, Float32Array[]> = {},
    bestParams: Record<string, Float32Array> = {};
  for (const [key, t] of Object.entries(f.tensors)) {
    if (t.dtype !== 'F32') throw new FormatError(source, `tensor '${key}' is ${t.dtype}, expected F32`);
    const data = t.data as Float32Array;
    const m = /^opt\/(.+)\/(\d+)$/.exec(key);
    if (key.startsWith('param/')) params[key.slice(6)] = data;
    else if (key.startsWith('best/')) bestParams[key.slice(5)] = data;
    // biome-ignore lint/suspicious/noAssignInExpressions: rewritten with the checkpoint validation
    else if (m) (optimizer[m[1]] ??= [])[Number(m[2])] = data;
    else throw new FormatError(source, `unexpected tensor '${key}'`);
  }
  if (!early && Object.keys(bestParams).length)
    throw new FormatError(source, 'checkpoint has best weights but no early-stopping state');
  const { early: _, ...rest } = counters;
  const earlyStopping = early
    ? {
        best: early.best ?? Infinity,
        sinceBest: early.sinceBest,
        ...(Object.keys(bestParams).length ? { bestParams } : {}),
      }
    : undefined;
  return { ...rest, params, optimizer, history, ...(earlyStopping ? { earlyStopping } : {}) };
}
