/** `convae encode`: the code of every image through the whole saved stack, as safetensors, with a CSV of what each row is. */
import { writeAtomic, makeDirs } from '../io/files.js';
import { join } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { encodeSafetensors, type SafetensorsTensor } from '../io/safetensors.js';
import { defaultWorkers } from '../worker/pool.js';
import { createRunner } from '../worker/runner.js';
import { csvField, labelCells, stackDepth } from './apply.js';
import { resolveAllData, type DataSpec } from './data.js';
import { loadSaved } from './saved.js';

export interface EncodeArgs extends DataSpec {
  model: string;
  /** Folder for codes.safetensors and codes.csv. */
  out: string;
  build: Build | 'auto';
  /** Workers that encode (default: the cores); 0 encodes on this thread. Same codes either way. */
  workers?: number;
  /** Blocks the images go through, 1 to the stack's length (default: all, the deepest code). */
  depth?: number;
}

/**
 * Writes `codes.safetensors` (`codes` F32 [N, C, H, W] after the last block, or after `depth` blocks;
 * `labels` U8 [N] when the data is labelled) and `codes.csv` (row, file, label, label_name: the true class's index and name, as `convae predict` names them).
 */
export async function encode(a: EncodeArgs): Promise<{ count: number; codeShape: number[] }> {
  const be = await loadBackend({ build: a.build });
  const saved = await loadSaved(be, a.model, 'stack');
  try {
    const stack = saved.stack!;
    const depth = stackDepth('convae encode', a.depth, stack, a.model);
    const d = await resolveAllData({ ...a, ...saved.input }, saved.inputShape);
    const codeShape = [...stack.blocks[depth - 1]!.codeShape];
    const runner = await createRunner(be, { workers: a.workers ?? (await defaultWorkers()) });
    let codes: Float32Array;
    try {
      codes = (await runner.encode(stack, d.data, { depth })).vectors;
    } finally {
      await runner.dispose();
    }
    const tensors: Record<string, SafetensorsTensor> = {
      codes: { dtype: 'F32', shape: [d.data.length, ...codeShape], data: codes },
    };
    if (d.data.labels) tensors.labels = { dtype: 'U8', shape: [d.data.length], data: d.data.labels };
    await makeDirs(a.out);
    await writeAtomic(join(a.out, 'codes.safetensors'), encodeSafetensors(tensors, { source: d.name.slice(0, 500) }));
    const lines = ['row,file,label,label_name'];
    for (let i = 0; i < d.data.length; i++) lines.push(`${i},${csvField(d.names[i]!)},${labelCells(d, i)}`);
    await writeAtomic(join(a.out, 'codes.csv'), `${lines.join('\n')}\n`);
    return { count: d.data.length, codeShape };
  } finally {
    saved.dispose();
  }
}
