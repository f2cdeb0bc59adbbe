/** What the commands that apply a saved model share: its input, run batch by batch. */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/memory.js';
import type { Batch } from '../data/dataset.js';
import type { AllData } from './data.js';

/** Calls `fn` on every batch of `d` as a wasm tensor (owned by the feeder: valid until the next batch). */
export function eachBatch(be: Backend, d: AllData, fn: (x: Tensor, b: Batch) => void, batchSize = 256): void {
  let x: Tensor | null = null;
  try {
    for (const b of d.data.batches(batchSize, { reuseBuffers: true })) {
      if (!x || x.shape[0] !== b.size) {
        x?.dispose();
        x = be.empty([b.size, ...d.data.shape]);
      }
      x.set(b.images);
      fn(x, b);
    }
  } finally {
    x?.dispose();
  }
}

/** A CSV field: quoted when it holds a comma, quote or line break (RFC 4180). */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
