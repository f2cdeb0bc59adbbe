/**
 * `convae features --model DIR [--data SPEC]`: for every feature map of every
 * block of a saved stack, the images (MNIST's test split by default, or any
 * `--data`, a folder of your own) that activate it most and the deconvnet
 * projection of that strongest activation (ts/anomaly/project.ts), one PNG
 * per block: a row per feature, the projections then the images.
 */
import { writeAtomic, makeDirs } from '../io/files.js';
import { join } from 'node:path';
import { checkProjectionGrid, projectionGrid } from '../anomaly/draw.js';
import { featureStrengths, projectFeature } from '../anomaly/project.js';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import type { ImageShape } from '../data/dataset.js';
import { ArgumentError } from '../errors.js';
import { writePng } from '../viz/png.js';
import { normalized, resolveAllData } from './data.js';
import { loadStackDirInput } from './model-dir.js';
import { checkOutsideData } from './outdir.js';

export interface FeaturesArgs {
  model: string;
  /** The images searched: `mnist`, `fashion` (their test split) or any `--data` spec (a folder: every image, resized to the stack's input). */
  data: string;
  /** Skip a folder's files that cannot be decoded. */
  skipBad?: boolean;
  /** Blocks drawn (0-based; default all). */
  block?: number;
  top: number;
  /** At most this many images searched for the strongest activations (the first ones). */
  limit: number;
  out?: string;
  build: Build | 'auto';
  quiet: boolean;
}

export async function features(a: FeaturesArgs): Promise<string[]> {
  const log = (s: string) => a.quiet || console.log(s);
  const out = a.out ?? a.model;
  // Without --out the pictures go into the model folder: the message names that, not a flag the user did not give.
  const shown = a.out === undefined ? '--out (by default the --model folder)' : undefined;
  await checkOutsideData(
    'convae features',
    [{ flag: '--out', path: out, folder: true, shown }],
    [{ flag: '--data', spec: a.data }],
  );
  const be = await loadBackend({ build: a.build });
  const { stack, input } = await loadStackDirInput(be, a.model);
  const written: string[] = [];
  try {
    if (a.block !== undefined && a.block >= stack.blocks.length)
      throw new ArgumentError(
        'convae features',
        '--block',
        // --block counts from 1, a.block from 0.
        `${a.block + 1} must be at most ${stack.blocks.length}, the blocks of the stack in ${a.model.slice(0, 160)}`,
      );
    const blocks = a.block === undefined ? stack.blocks.map((_, k) => k) : [a.block];
    // Each block's picture: its features × --top rows of images, checked before any data loads or projection runs.
    for (const k of blocks)
      checkProjectionGrid('convae features', '--top', stack.blocks[k].codeShape[0], a.top, stack.inputShape);
    const { data: raw } = await resolveAllData(
      { data: a.data, limit: a.limit, ...(a.skipBad ? { skipBad: true } : {}) },
      stack.inputShape as ImageShape, // a stack's input is [C, H, W] (inputShapeOf checked it)
    );
    // Searched as the stack saw its images in training (contrast-normalised or whitened when it was); drawn as they are.
    const data = normalized(raw, input.normalize, input.whitening);
    if (a.top > data.length)
      throw new ArgumentError(
        'convae features',
        '--top',
        `${a.top} must be at most ${data.length}, the images of --data ${a.data.slice(0, 120)}: give --top ${data.length} or more images`,
      );
    await makeDirs(out);
    const summary: Record<string, unknown> = {};
    for (const k of blocks) {
      const t0 = performance.now();
      const strengths = featureStrengths(stack, data, k);
      const channels = stack.blocks[k].codeShape[0];
      const rows = [];
      const meta = [];
      for (let f = 0; f < channels; f++) {
        const p = projectFeature(stack, data, { block: k, feature: f, top: a.top }, strengths);
        rows.push({ projections: p.projections, images: raw.subset(p.indices).images });
        meta.push({ feature: f, images: p.indices, activations: p.activations });
      }
      const file = join(out, `features-block${k + 1}.png`);
      await writePng(file, projectionGrid(rows, a.top, data.shape));
      written.push(file);
      summary[`block${k + 1}`] = meta;
      log(
        `block ${k + 1}: ${channels} features × top ${a.top} of ${data.length} images → ${file} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
    await writeAtomic(join(out, 'features.json'), JSON.stringify(summary));
  } finally {
    stack.dispose();
  }
  return written;
}
