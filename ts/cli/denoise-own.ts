/**
 * `convae denoise` on an image folder at each image's own size: the files are decoded one at a time (never a folder
 * of photos as one float array), each reconstructed from overlapping tiles of the model's input size
 * (`reconstructTiled`) and written at its own size. With `--add-noise` image i of the list (after `--limit`) gets
 * its noise from the seed `deriveSeed(seed, i)`, its errors are measured at its own size, and comparison.png shows
 * the centre of each shown image at its own resolution (at most COMPARISON_CELL pixels a side, each centred on black
 * in a cell of the largest shown): a photo scaled down to a cell would hide the very noise it is meant to show, and
 * cut to the smallest shown, one tiny file made every cell as tiny.
 *
 * Every file is decoded once before anything is written (`decodableFiles`), as the run at the model's size decodes
 * the folder first: an undecodable file stops the run with no output, or with `--skip-bad` is left out.
 */
import { join } from 'node:path';
import { reconstructTiled } from '../anomaly/tiled.js';
import { ImageDataset } from '../data/dataset.js';
import { decodeImageFile, ImageTooLarge } from '../data/imagefolder.js';
import { undecodable } from '../data/imagelist.js';
import { addNoise } from '../data/imagenoise.js';
import { boundedReason } from '../data/imageopts.js';
import type { TrainingInput } from '../data/normalize.js';
import { imageErrors, meanOf, quantize } from '../data/quality.js';
import { DataError, FormatError } from '../errors.js';
import { writeAtomic } from '../io/files.js';
import { MAX_TILED_PIXELS } from '../limits.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import type { Runner } from '../train/runner.js';
import { deriveSeed } from '../util/rng.js';
import { limitSample, skippedList } from './data.js';
import type { DenoiseArgs, DenoiseResult } from './denoise.js';
import { imagePng, writeImageFile } from './denoise-files.js';
import {
  COMPARISON_CELL,
  COMPARISON_IMAGES,
  comparisonPng,
  comparisonScale,
  csvText,
  describeNoise,
} from './denoise-report.js';

/** What `denoise` has checked and made before the images are read. */
export interface OwnSizeRun {
  args: DenoiseArgs;
  stack: StackedConvAutoencoder;
  input: TrainingInput;
  depth: number;
  runner: Runner;
  /** The folder's files to denoise (`folderFiles`). */
  files: { name: string; dir: string; files: string[] };
  /** Those of `files` that decode (`decodableFiles`), by index, and those skipped. */
  decodable: Decodable;
  /** Each file's output, relative to `args.out` (`outputNames`). */
  outputs: string[];
  log: (s: string) => void;
}

/** One shown image's centre crops (clean, noisy, denoised), at most COMPARISON_CELL a side. */
interface Shown {
  h: number;
  w: number;
  crops: [Float32Array, Float32Array, Float32Array];
}

/** The files that decode, by index into the list, and the skipped ones with the decoder's reason. */
export interface Decodable {
  ok: number[];
  skipped: { file: string; reason: string }[];
}

/**
 * Decodes each of `files` (under `dir`) once, keeping nothing: the first that fails throws a FormatError naming it
 * unless `skipBad`, which lists it in `skipped` instead.
 */
export async function decodableFiles(
  dir: string,
  files: readonly string[],
  channels: 1 | 3,
  skipBad: boolean,
): Promise<Decodable> {
  const ok: number[] = [];
  const skipped: { file: string; reason: string }[] = [];
  for (const [i, file] of files.entries()) {
    try {
      await decodeImageFile(join(dir, file), { channels, maxPixels: MAX_TILED_PIXELS });
      ok.push(i);
    } catch (e) {
      // A photo of a 48-megapixel phone decodes well: say what refuses it, and what reads it.
      const reason =
        e instanceof ImageTooLarge
          ? `too large to denoise at its own size: ${e.message} (MAX_TILED_PIXELS; --resize reads it resized to the model's input)`
          : boundedReason(e);
      if (!skipBad) {
        const err =
          e instanceof ImageTooLarge ? new FormatError(join(dir, file), reason) : undecodable(join(dir, file), reason);
        throw new FormatError(err.source, `${err.message.slice(err.source.length + 2)} (--skip-bad skips such files)`);
      }
      skipped.push({ file, reason });
    }
  }
  if (ok.length === 0)
    throw new DataError(
      `convae denoise: none of the ${files.length} image files in ${dir.slice(0, 160)} could be decoded`,
    );
  return { ok, skipped };
}

/** Denoises every decodable file of `r.files` at its own size; see the file's comment. */
export async function denoiseOwnSize(r: OwnSizeRun): Promise<DenoiseResult> {
  const a = r.args;
  const [c, th, tw] = r.stack.inputShape as [number, number, number];
  const files = r.files.files;
  const n = files.length;
  // Which images comparison.png shows: a seeded sample of the listed files (not in proportion to a folder's classes,
  // as the run at the model's size samples its decoded images), its picture checked as large as it may be before
  // anything is decoded.
  const k = Math.min(COMPARISON_IMAGES, n);
  const showAt = a.addNoise ? new Map(Array.from(limitSample(null, n, k, 1), (i, j) => [i, j])) : null;
  if (a.addNoise) comparisonScale(k, COMPARISON_CELL, COMPARISON_CELL);
  r.log(
    `convae denoise: ${n} images of ${r.files.name.slice(0, 120)} at their own size, in tiles of ${th}×${tw}${a.addNoise ? `, with ${describeNoise(a.addNoise)} added (seed ${a.noiseSeed})` : ''}; through ${r.depth} block(s) and back`,
  );
  const kept: number[] = [];
  const noisyErr = { mse: [] as number[], psnr: [] as number[] },
    denoisedErr = { mse: [] as number[], psnr: [] as number[] };
  const shown: (Shown | undefined)[] = [];
  const madeDirs = new Set<string>();
  for (const i of r.decodable.ok) {
    // Decoded before (decodableFiles); a file changed since fails here, after earlier images were written.
    const img = await decodeImageFile(join(r.files.dir, files[i]!), {
      channels: c as 1 | 3,
      maxPixels: MAX_TILED_PIXELS,
    });
    const shape: [number, number, number] = [c, img.height, img.width];
    const clean = ImageDataset.fromUint8(img.planes, shape, null, { store: 'uint8' });
    const given = a.addNoise ? addNoise(clean, a.addNoise, { seed: deriveSeed(a.noiseSeed, i) }) : clean;
    const recon = await reconstructTiled(r.runner, r.stack, given.images, shape, { depth: r.depth, input: r.input });
    const denoised = quantize(recon);
    await writeImageFile(a.out, r.outputs[i]!, imagePng(denoised, ...shape), madeDirs);
    kept.push(i);
    if (!a.addNoise) continue;
    const size = clean.imageSize;
    const before = imageErrors(clean.images, given.images, size),
      after = imageErrors(clean.images, denoised, size);
    noisyErr.mse.push(before.mse[0]!);
    noisyErr.psnr.push(before.psnr[0]!);
    denoisedErr.mse.push(after.mse[0]!);
    denoisedErr.psnr.push(after.psnr[0]!);
    const j = showAt?.get(i);
    if (j !== undefined) {
      const h = Math.min(COMPARISON_CELL, img.height),
        w = Math.min(COMPARISON_CELL, img.width);
      const cut = (v: Float32Array) => centre(v, shape, h, w);
      shown[j] = { h, w, crops: [cut(clean.images), cut(given.images), cut(denoised)] };
    }
  }
  if (r.decodable.skipped.length) console.error(skippedList(r.decodable.skipped));
  const names = kept.map((i) => files[i]!),
    outputs = kept.map((i) => r.outputs[i]!);
  const errs = (e: { mse: number[]; psnr: number[] }) => ({
    mse: Float64Array.from(e.mse),
    psnr: Float64Array.from(e.psnr),
  });
  await writeAtomic(
    join(a.out, 'denoise.csv'),
    csvText(names, outputs, a.addNoise ? errs(noisyErr) : null, a.addNoise ? errs(denoisedErr) : null),
  );
  const result: DenoiseResult = { files: names, outputs };
  if (!a.addNoise || kept.length === 0) return result;
  result.noisy = { mse: meanOf(noisyErr.mse), psnr: meanOf(noisyErr.psnr) };
  result.denoised = { mse: meanOf(denoisedErr.mse), psnr: meanOf(denoisedErr.psnr) };
  const cells = shown.filter((s): s is Shown => s !== undefined);
  if (cells.length) {
    const h = Math.max(...cells.map((s) => s.h)),
      w = Math.max(...cells.map((s) => s.w));
    const m = cells.length,
      size = c * h * w;
    const all = new Float32Array(3 * m * size);
    cells.forEach((s, j) =>
      s.crops.forEach((crop, row) => padInto(crop, [c, s.h, s.w], all, (row * m + j) * size, h, w)),
    );
    const title = `${r.files.name.slice(0, 60)}, ${describeNoise(a.addNoise)}: PSNR ${result.noisy.psnr.toFixed(2)} dB noisy, ${result.denoised.psnr.toFixed(2)} dB denoised (depth ${r.depth}, mean of ${kept.length} images at their own size; centres shown)`;
    await writeAtomic(join(a.out, 'comparison.png'), comparisonPng(all, m, [c, h, w], comparisonScale(m, h, w), title));
  }
  return result;
}

/** The centred `h × w` crop of planes of `shape`. */
function centre(v: Float32Array, [c, H, W]: readonly [number, number, number], h: number, w: number): Float32Array {
  const y0 = Math.floor((H - h) / 2),
    x0 = Math.floor((W - w) / 2);
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++)
      out.set(v.subarray((ch * H + y0 + y) * W + x0, (ch * H + y0 + y) * W + x0 + w), (ch * h + y) * w);
  return out;
}

/** Planes of `shape` centred in an `h × w` cell (no smaller) of `out` at `at`, whose other pixels stay 0. */
function padInto(
  v: Float32Array,
  [c, H, W]: readonly [number, number, number],
  out: Float32Array,
  at: number,
  h: number,
  w: number,
): void {
  const y0 = Math.floor((h - H) / 2),
    x0 = Math.floor((w - W) / 2);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < H; y++)
      out.set(v.subarray((ch * H + y) * W, (ch * H + y + 1) * W), at + (ch * h + y0 + y) * w + x0);
}
