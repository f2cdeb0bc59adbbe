/** What the commands that apply a saved model share: its input, run batch by batch. */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/memory.js';
import type { Batch } from '../data/dataset.js';
import { ArgumentError } from '../errors.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import type { AllData } from './data.js';

/**
 * `--depth` of the commands that encode with a saved stack: up to its blocks, default all (the deepest code). A
 * command that maps the pixels too (`map`) takes 0 and says so.
 */
export function stackDepth(
  op: string,
  depth: number | undefined,
  stack: StackedConvAutoencoder,
  model: string,
  pixels = false,
): number {
  if (depth === undefined) return stack.blocks.length;
  if (depth > stack.blocks.length)
    throw new ArgumentError(
      op,
      '--depth',
      `must be at most ${stack.blocks.length} (the blocks of the stack in ${model.slice(0, 160)}${pixels ? '; 0 maps the pixels' : ''})`,
    );
  return depth;
}

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

/**
 * A text field of a CSV we write (file and class names come from the user's folders): quoted when it holds a comma,
 * quote or line break (RFC 4180), and, when it starts with `=`, `+`, `-`, `@`, a tab or a carriage return, prefixed
 * with `'` so a spreadsheet shows it as text instead of running it as a formula (a file named
 * `=HYPERLINK(…)` or `@SUM(…)`; OWASP's CSV-injection advice). The JSON output (`--format json`) keeps names as they are.
 */
export function csvField(s: string): string {
  const t = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
}

/** Image i's `label,label_name` cells (its true class's index and name), empty for unlabelled data: one rule for every CSV. */
export function labelCells(d: AllData, i: number): string {
  const l = d.data.labels ? d.data.labels[i]! : null;
  return l === null ? ',' : `${l},${d.classes ? csvField(d.classes[l] ?? '') : ''}`;
}
