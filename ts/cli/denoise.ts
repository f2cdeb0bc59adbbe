/**
 * `convae denoise --model DIR --data SPEC --out DIR`: every image goes up through the first `--depth` blocks of the
 * saved stack and back down (`Runner.reconstructThrough`), and its reconstruction is written as a PNG under
 * `OUT/images/`: a denoising CAE gives back its images cleaned. The fixed-format sets are of the model's size and go
 * through in batches (here); an image folder's files are read one at a time at their own size and reconstructed
 * from overlapping tiles (`reconstructTiled`, laid by `--stride` and `--window`; denoise-own.ts), unless `--resize`
 * resizes them to the model's input as the other commands do (then here too). Flags that would do nothing on the
 * data given are refused (`checkDataFlags`). `OUT/denoise.csv` lists each input file and its output. With
 * `--add-noise` the images given are taken as clean, corrupted first (`addNoise`), and the CSV gives each image's
 * MSE and PSNR, noisy and denoised, against the clean one; `OUT/comparison.png` shows some images clean, noisy and
 * denoised, one row each.
 *
 * A contrast-normalised model reconstructs in its normalised space: each image is mapped back with its own mean and
 * spread (`toPixels`); a whitened model is refused (`checkToPixels` says why).
 */
import { join } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { type ImageNoise, addNoise, checkImageNoise } from '../data/imagenoise.js';
import { checkReconstructThrough } from '../anomaly/score.js';
import { checkTileStride, type TileWindow } from '../anomaly/tiled.js';
import { checkToPixels, toPixels } from '../data/normalize.js';
import { imageErrors, meanOf, quantize } from '../data/quality.js';
import { ArgumentError, DataError, quote } from '../errors.js';
import { writeAtomic } from '../io/files.js';
import type { Runner } from '../train/runner.js';
import { loadRenderer } from '../viz/render.js';
import { defaultWorkers } from '../worker/pool.js';
import { createRunner } from '../worker/runner.js';
import { stackDepth } from './apply.js';
import {
  type AllData,
  type DataKind,
  type DataSpec,
  dataKind,
  folderFiles,
  limitIndices,
  normalized,
  resolveAllData,
} from './data.js';
import {
  checkDataNotInOut,
  checkNoLinks,
  outputNames,
  removeStaleComparison,
  staleComparison,
  writeImages,
} from './denoise-files.js';
import { denoiseOwnSize, ownSizeFiles } from './denoise-own.js';
import { COMPARISON_IMAGES, comparisonPng, comparisonScale, csvText, describeNoise } from './denoise-report.js';
import { checkOutDir, checkOutFile, checkOutsideData } from './outdir.js';
import { loadSaved } from './saved.js';

const OP = 'convae denoise';

export { COMPARISON_IMAGES };

export interface DenoiseArgs extends DataSpec {
  model: string;
  /** Folder of images/, denoise.csv and (with `addNoise`) comparison.png. */
  out: string;
  /** Blocks the images go up and back down through: 1 to the stack's length. */
  depth: number;
  /** Corrupt the (clean) images first, and measure: `--add-noise`. */
  addNoise?: ImageNoise;
  /** Seed of the added noise. */
  noiseSeed: number;
  /** An image folder's files resized to the model's input (`--resize`), as before, instead of read at their own size. */
  resize?: boolean;
  /** At own size: pixels between neighbouring tiles (`--stride`; `reconstructTiled`'s, default half a tile). */
  stride?: number;
  /** At own size: how overlapping tiles are blended (`--window`; `reconstructTiled`'s, default 'hann'). */
  window?: TileWindow;
  build: Build | 'auto';
  /** Workers that reconstruct (default: the cores); 0 = this thread. Same images either way. */
  workers?: number;
  quiet: boolean;
}

/** Mean MSE and PSNR over the images. */
export interface MeanErrors {
  mse: number;
  psnr: number;
}

/** What `denoise` wrote, and with `addNoise` how far the noisy and the denoised images are from the clean ones. */
export interface DenoiseResult {
  /** The input names (a folder's relative paths, or `test#i`). */
  files: string[];
  /** Each image's output, relative to `out`. */
  outputs: string[];
  noisy?: MeanErrors;
  denoised?: MeanErrors;
}

export async function denoise(a: DenoiseArgs): Promise<DenoiseResult> {
  const log = (s: string) => a.quiet || console.error(s);
  if (a.addNoise !== undefined) {
    checkImageNoise(OP, '--add-noise', a.addNoise);
    loadRenderer(); // comparison.png is drawn through SVG: without a renderer, stop before anything is read
  }
  // The images written there would be read back by the next run on --data; and --data inside --out could be overwritten.
  await checkOutsideData(OP, [{ flag: '--out', path: a.out, folder: true }], [{ flag: '--data', spec: a.data }]);
  await checkDataNotInOut(a.data, a.out);
  checkDataFlags(a, await dataKind(a));
  // Before this run's denoise.csv replaces the one that shows whose comparison.png it is.
  const stale = !a.addNoise && (await staleComparison(a.out));
  const be = await loadBackend({ build: a.build });
  const saved = await loadSaved(be, a.model, 'stack');
  let runner: Runner | undefined;
  try {
    const stack = saved.stack!;
    checkToPixels(OP, '--model', saved.input);
    const depth = stackDepth(OP, a.depth, stack, a.model);
    const listed = a.resize ? null : await folderFiles(a);
    if (listed) {
      const c = stack.inputShape[0];
      if (c !== 1 && c !== 3)
        throw new DataError(`the model takes ${c}-channel input; image folders give 1 or 3 channels`);
      if (a.stride !== undefined) checkTileStride(OP, '--stride', a.stride, stack);
      const own = await ownSizeFiles(listed, a, { stack, stride: a.stride });
      const outputs = outputNames({ name: own.name, names: own.files });
      await checkOutDir(a.out);
      await checkNoLinks(a.out, outputs);
      await checkOutFile(join(a.out, 'denoise.csv'), '--out');
      if (a.addNoise) await checkOutFile(join(a.out, 'comparison.png'), '--out');
      runner = await createRunner(be, { workers: a.workers ?? (await defaultWorkers()) });
      const result = await denoiseOwnSize({
        ...{ args: a, stack, input: saved.input, depth, runner },
        ...{ files: own, outputs, log },
      });
      await tidyComparison(a, stale, log);
      return result;
    }
    // Read as the files are (pixels in [0, 1]); the model's normalisation is applied below, after any added noise.
    const d = await resolveAllData({ ...a, normalize: 'none' }, saved.inputShape);
    const n = d.data.length;
    // Everything that can be refused is refused before an image is encoded.
    checkReconstructThrough(OP, stack, d.data, { depth });
    const outputs = outputNames(d);
    await checkOutDir(a.out);
    await checkNoLinks(a.out, outputs);
    await checkOutFile(join(a.out, 'denoise.csv'), '--out');
    if (a.addNoise) await checkOutFile(join(a.out, 'comparison.png'), '--out');
    const shown = a.addNoise ? comparisonLayout(d) : null;
    log(
      `${OP}: ${n} images of ${d.name.slice(0, 120)}${a.addNoise ? `, with ${describeNoise(a.addNoise)} added (seed ${a.noiseSeed})` : ''}; through ${depth} block(s) and back`,
    );

    const given = a.addNoise ? addNoise(d.data, a.addNoise, { seed: a.noiseSeed }) : d.data;
    runner = await createRunner(be, { workers: a.workers ?? (await defaultWorkers()) });
    const recon = await runner.reconstructThrough(stack, normalized(given, saved.input.normalize), { depth });
    // What the PNGs hold: the errors below are those of the files written.
    const denoised = quantize(toPixels(recon, given, saved.input));
    await writeImages(a.out, d, outputs, denoised);

    const size = d.data.imageSize;
    const clean = a.addNoise ? d.data.readImages(0, n) : null;
    const noisy = clean ? given.readImages(0, n) : null;
    const noisyErr = clean && noisy ? imageErrors(clean, noisy, size) : null;
    const denoisedErr = clean ? imageErrors(clean, denoised, size) : null;
    await writeAtomic(join(a.out, 'denoise.csv'), csvText(d.names, outputs, noisyErr, denoisedErr));
    if (shown && clean && noisy) {
      const title = `${d.name.slice(0, 60)}, ${describeNoise(a.addNoise!)}: PSNR ${meanOf(noisyErr!.psnr).toFixed(2)} dB noisy, ${meanOf(denoisedErr!.psnr).toFixed(2)} dB denoised (depth ${depth}, mean of ${n} images)`;
      const png = comparison(d, shown, [clean, noisy, denoised], title);
      await writeAtomic(join(a.out, 'comparison.png'), png);
    }
    await tidyComparison(a, stale, log);
    const result: DenoiseResult = { files: d.names, outputs };
    if (noisyErr && denoisedErr) {
      result.noisy = { mse: meanOf(noisyErr.mse), psnr: meanOf(noisyErr.psnr) };
      result.denoised = { mse: meanOf(denoisedErr.mse), psnr: meanOf(denoisedErr.psnr) };
    }
    return result;
  } finally {
    await runner?.dispose();
    saved.dispose();
  }
}

/**
 * Refuses the flags that would do nothing on this data, before the model is read: `--resize` of a fixed-format set
 * (its images are the model's size already), and `--stride` / `--window`, which lay the tiles of an image folder's
 * files denoised at their own size, with `--resize` or a fixed-format set (each image goes through whole).
 */
function checkDataFlags(a: DenoiseArgs, kind: DataKind): void {
  const fixed = kind !== 'folder';
  const data = `--data ${a.data.slice(0, 120)}`;
  if (a.resize && fixed)
    throw new ArgumentError(
      OP,
      '--resize',
      `resizes an image folder's files to the model's input; ${data} is a fixed-format set, whose images go through at their size (the model's): leave --resize out`,
    );
  // The command line's choices check this; called as a function, a window reconstructTiled refuses was found only
  // after every file had been decoded.
  if (a.window !== undefined && a.window !== 'hann' && a.window !== 'flat')
    throw new ArgumentError(OP, '--window', `must be hann or flat, got ${quote(a.window)}`);
  const tiling = a.stride !== undefined ? '--stride' : a.window !== undefined ? '--window' : null;
  if (tiling && (a.resize || fixed))
    throw new ArgumentError(
      OP,
      tiling,
      `lays the tiles of an image folder's files denoised at their own size; ${a.resize ? "with --resize each is resized to the model's input" : `${data} is a fixed-format set of the model's size`} and goes through whole: leave ${tiling} out`,
    );
}

/** Without `--add-noise`, an earlier run's comparison.png (`staleComparison`) is removed, and the log says so. */
async function tidyComparison(a: DenoiseArgs, stale: boolean, log: (s: string) => void): Promise<void> {
  if (stale && (await removeStaleComparison(a.out)))
    log(`${OP}: removed the comparison.png of an earlier --add-noise run from ${a.out.slice(0, 160)}`);
}

/** comparison.png's images and scale, checked before anything is encoded. */
function comparisonLayout(d: AllData): { indices: Uint32Array; scale: number } {
  const [, h, w] = d.data.shape;
  const k = Math.min(COMPARISON_IMAGES, d.data.length);
  return { indices: limitIndices(d.data, d.name, k, 1), scale: comparisonScale(k, h, w) };
}

/** Rows clean / noisy / denoised of the chosen images. */
function comparison(
  d: AllData,
  at: { indices: Uint32Array; scale: number },
  rows: Float32Array[],
  title: string,
): Uint8Array {
  const size = d.data.imageSize,
    k = at.indices.length;
  const cells = new Float32Array(3 * k * size);
  rows.forEach((row, r) =>
    at.indices.forEach((i, j) => cells.set(row.subarray(i * size, (i + 1) * size), (r * k + j) * size)),
  );
  return comparisonPng(cells, k, d.data.shape, at.scale, title);
}
