/**
 * `convae denoise` on an image folder at each image's own size: the files are decoded one at a time (never a folder
 * of photos as one float array), each reconstructed from overlapping tiles of the model's input size
 * (`reconstructTiled`, its stride and window `--stride` and `--window`) and written at its own size. With
 * `--add-noise` image i of the files denoised (denoise.csv's row i) gets its noise from the seed `deriveSeed(seed, i)`, its errors are measured at its own size, and comparison.png shows
 * the centre of each shown image at its own resolution (at most COMPARISON_CELL pixels a side, each centred on black
 * in a cell of the largest shown): a photo scaled down to a cell would hide the very noise it is meant to show, and
 * cut to the smallest shown, one tiny file made every cell as tiny.
 *
 * Every file of the folder is decoded before anything is written (`decodableFiles`), as the run at the model's size
 * decodes it first: an undecodable file, in `--limit`'s sample or not, stops the run with no output, or with
 * `--skip-bad` is left out (and `--limit` samples among the others, `ownSizeFiles`). The check keeps the images to
 * denoise up to KEEP_DECODED_BYTES, so only a folder of photos is decoded twice. Before it, the headers bound the
 * tiles of each image (MAX_DENOISE_TILES), whose count the progress bar then shows (`CountProgress`).
 */
import { join } from 'node:path';
import { reconstructTiled, tileCount } from '../anomaly/tiled.js';
import { ImageDataset } from '../data/dataset.js';
import { type DecodedImage, decodeImageFile, ImageTooLarge, imageFileSize } from '../data/imagefolder.js';
import { undecodable } from '../data/imagelist.js';
import { addNoise } from '../data/imagenoise.js';
import { boundedReason } from '../data/imageopts.js';
import type { TrainingInput } from '../data/normalize.js';
import { imageErrors, meanOf, quantize } from '../data/quality.js';
import { ArgumentError, DataError, FormatError, quote } from '../errors.js';
import { writeAtomic } from '../io/files.js';
import { MAX_DENOISE_TILES, MAX_TILED_PIXELS } from '../limits.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import type { Runner } from '../train/runner.js';
import { deriveSeed } from '../util/rng.js';
import { type DataSpec, type FolderFiles, limitFolderIndices, limitSample, skippedList } from './data.js';
import type { DenoiseArgs, DenoiseResult } from './denoise.js';
import { imagePng, writeImageFile } from './denoise-files.js';
import { CountProgress } from './progress.js';
import {
  COMPARISON_CELL,
  COMPARISON_IMAGES,
  comparisonPng,
  comparisonScale,
  csvText,
  describeNoise,
} from './denoise-report.js';

const OP = 'convae denoise';

/** What `denoise` has checked and made before the images are read. */
export interface OwnSizeRun {
  args: DenoiseArgs;
  stack: StackedConvAutoencoder;
  input: TrainingInput;
  depth: number;
  runner: Runner;
  /** The files to denoise, chosen and checked (`ownSizeFiles`). */
  files: OwnSizeFiles;
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

/**
 * Bytes of decoded images the check keeps for the denoising (`decodableFiles`): a folder of small images (200 MNIST
 * digits are 157 KB) is decoded once, where decoding was a fifth of the run; a folder of photos keeps its first few
 * and decodes the others again, 0.3 % of a run of 102 photos. Checking those from their headers alone would save that
 * and pass a photo cut short, which the check is there to stop before anything is written (docs/denoise.md).
 */
export const KEEP_DECODED_BYTES = 2 ** 26;

/** Files `decodableFiles` decodes at once (loadImageFolder's default concurrency). */
const DECODE_CONCURRENCY = 4;

/** An image's size, `height × width` after its EXIF rotation (`imageFileSize`, `decodeImageFile`). */
export interface ImageSize {
  height: number;
  width: number;
}

/** The files that decode, by index into the list, those kept decoded, and the skipped ones with the decoder's reason. */
export interface Decodable {
  ok: number[];
  /** `decoded[j]`: file `ok[j]` as the check decoded it, when it was to be kept and fit the budget; else undefined. */
  decoded: (DecodedImage | undefined)[];
  /** `sizes[j]`: file `ok[j]`'s, as decoded. */
  sizes: ImageSize[];
  skipped: { file: string; reason: string }[];
}

/** How `decodableFiles` checks: `skipBad`, which images it keeps, and the headers read before. */
export interface DecodeCheck {
  /** List a file that fails in `skipped` instead of throwing. */
  skipBad: boolean;
  /** Bytes of decoded images kept at most (default KEEP_DECODED_BYTES). */
  keepBytes?: number;
  /** The files whose images are kept (indices into the list; default all). */
  keep?: ReadonlySet<number>;
  /**
   * Each file's header as read before (`headerSizes`): a file whose header failed fails with that reason, as its
   * decoding would have, and the others are decoded without reading theirs again.
   */
  heads?: readonly PromiseSettledResult<ImageSize>[];
}

/**
 * Decodes each of `files` (of the folder `folder.dir`, opened by `folder.path`), keeping the first decoded images of
 * `o.keep` up to `o.keepBytes` of them (the rest are decoded again when denoised): the first that fails throws a
 * FormatError naming it unless `o.skipBad`, which lists it in `skipped` instead.
 */
export async function decodableFiles(
  folder: Pick<FolderFiles, 'dir' | 'path'>,
  files: readonly string[],
  channels: 1 | 3,
  o: DecodeCheck,
): Promise<Decodable> {
  const dir = folder.dir;
  const keepBytes = o.keepBytes ?? KEEP_DECODED_BYTES;
  const ok: number[] = [];
  const decoded: (DecodedImage | undefined)[] = [];
  const sizes: ImageSize[] = [];
  const skipped: { file: string; reason: string }[] = [];
  let held = 0;
  // A few at a time, as loadImageFolder decodes (sharp decodes off the main thread), the results taken in order: the
  // first file that fails is the one named, and the images kept are the first ones.
  for (let at = 0; at < files.length; at += DECODE_CONCURRENCY) {
    const batch = files.slice(at, at + DECODE_CONCURRENCY);
    const results = await Promise.allSettled(
      batch.map((file, k) => {
        const head = o.heads?.[at + k];
        if (head?.status === 'rejected') return Promise.reject(head.reason);
        const headerRead = head !== undefined;
        return decodeImageFile(folder.path(file), { channels, maxPixels: MAX_TILED_PIXELS, headerRead });
      }),
    );
    for (const [k, r] of results.entries()) {
      const file = batch[k]!;
      if (r.status === 'rejected') {
        skipped.push({ file, reason: undecoded(join(dir, file), r.reason, o.skipBad) });
        continue;
      }
      ok.push(at + k);
      sizes.push({ height: r.value.height, width: r.value.width });
      const kept = (o.keep?.has(at + k) ?? true) && held + r.value.planes.length <= keepBytes;
      if (kept) held += r.value.planes.length;
      decoded.push(kept ? r.value : undefined);
    }
  }
  // The first one's reason: a folder of phone photos, each too large to denoise at its own size, said only that none
  // could be decoded, not why nor that --resize reads them.
  const first = skipped[0];
  if (ok.length === 0)
    throw new DataError(
      `convae denoise: none of the ${files.length} image files in ${dir.slice(0, 160)} could be decoded${first ? ` (${first.file.slice(0, 160)}: ${first.reason})` : ''}`,
    );
  return { ok, decoded, sizes, skipped };
}

/** Why `path` did not decode, for `skipped`; without `skipBad`, thrown as the FormatError that stops the run. */
function undecoded(path: string, e: unknown, skipBad: boolean): string {
  // A photo of a 48-megapixel phone decodes well: say what refuses it, and what reads it.
  const reason =
    e instanceof ImageTooLarge
      ? `too large to denoise at its own size: ${e.message} (MAX_TILED_PIXELS; --resize reads it resized to the model's input)`
      : boundedReason(e);
  if (skipBad) return reason;
  const err = e instanceof ImageTooLarge ? new FormatError(path, reason) : undecodable(path, reason);
  throw new FormatError(err.source, `${err.message.slice(err.source.length + 2)} (--skip-bad skips such files)`);
}

/** The files of an image folder denoised at their own size (`ownSizeFiles`), in folder order. */
export interface OwnSizeFiles {
  name: string;
  dir: string;
  files: string[];
  /** The path that opens one of `files` (`FolderFiles`'). */
  path: FolderFiles['path'];
  /** Each file's class, or null when the folder is unlabelled. */
  labels: Uint8Array | null;
  /** File i as the check decoded it, when kept (`decodableFiles`); else it is decoded when denoised. */
  decoded: (DecodedImage | undefined)[];
  /** File i's tiles (`tileCount`), at most MAX_DENOISE_TILES each. */
  tiles: number[];
  /** The files `--skip-bad` left out, with the decoder's reason. */
  skipped: { file: string; reason: string }[];
}

/** How the files' tiles are laid: the stack whose input is the tile, and `--stride` (undefined: half a tile). */
export interface OwnSizeTiling {
  stack: StackedConvAutoencoder;
  stride: number | undefined;
}

/**
 * The files of `listed` that are denoised: `--limit`'s sample (`limitFolderIndices` on the folder's labels, seeded by
 * `--seed`) among those that decode, as `resolveAllData` samples the images it decoded, so that `--resize` picks the
 * same files. Every file of the folder is decoded before anything is written (`decodableFiles`), as `--resize` and
 * the other commands decode it whole: the sample is one of the folder's decodable files, so without `--skip-bad` a
 * damaged file stops the run even outside the sample (with it, it is left out and the sample drawn among the others).
 * Before that, every file's header is read (`imageFileSize`) and an image of more than MAX_DENOISE_TILES tiles is
 * refused (`checkTiles`), and again on the sizes decoded. `keepBytes`: of the sample's decoded images, how many
 * bytes are kept for the denoising (`decodableFiles`).
 */
export async function ownSizeFiles(
  listed: FolderFiles,
  s: DataSpec,
  tiling: OwnSizeTiling,
  keepBytes = KEEP_DECODED_BYTES,
): Promise<OwnSizeFiles> {
  const seed = s.seed ?? 1;
  const channels = tiling.stack.inputShape[0] as 1 | 3;
  const sample = (pool: number[]) => {
    const labels = listed.labels ? Uint8Array.from(pool, (i) => listed.labels![i]!) : null;
    const kept = limitFolderIndices(labels, pool.length, s.limit, seed);
    return kept ? Array.from(kept, (j) => pool[j]!) : pool;
  };
  // The headers give the sample of the files that decode (but for one whose pixels are damaged), and its tiles.
  const heads = await headerSizes(listed, listed.files);
  const readable = heads.flatMap((h, i) => (h.status === 'fulfilled' ? [{ file: i, size: h.value }] : []));
  const planned = new Set(sample(readable.map((h) => h.file)));
  checkTiles(
    listed,
    readable.filter((h) => planned.has(h.file)),
    tiling,
  );
  const check = { skipBad: s.skipBad === true, keepBytes, keep: planned, heads };
  const d = await decodableFiles(listed, listed.files, channels, check);
  const at = new Map(d.ok.map((i, j) => [i, j]));
  const chosen = sample(d.ok).map((i) => at.get(i)!);
  // As decoded: with --skip-bad a file whose header read but whose pixels did not changes the sample.
  const tiles = checkTiles(
    listed,
    chosen.map((j) => ({ file: d.ok[j]!, size: d.sizes[j]! })),
    tiling,
  );
  return {
    name: listed.name,
    dir: listed.dir,
    path: listed.path,
    files: chosen.map((j) => listed.files[d.ok[j]!]!),
    labels: listed.labels ? Uint8Array.from(chosen, (j) => listed.labels![d.ok[j]!]!) : null,
    decoded: chosen.map((j) => d.decoded[j]),
    tiles,
    skipped: d.skipped,
  };
}

/** Each file's size from its header (`imageFileSize`), a few at a time, or why it cannot be read or is too large. */
async function headerSizes(
  folder: Pick<FolderFiles, 'path'>,
  files: readonly string[],
): Promise<PromiseSettledResult<ImageSize>[]> {
  const heads: PromiseSettledResult<ImageSize>[] = [];
  for (let at = 0; at < files.length; at += DECODE_CONCURRENCY) {
    const batch = files.slice(at, at + DECODE_CONCURRENCY);
    heads.push(...(await Promise.allSettled(batch.map((file) => imageFileSize(folder.path(file), MAX_TILED_PIXELS)))));
  }
  return heads;
}

/**
 * Each of `images`' tiles (`tileCount` with `tiling`), refused (ArgumentError naming `--stride`, the image with the
 * most, its count and the smallest stride that fits it) when one image has more than MAX_DENOISE_TILES.
 */
function checkTiles(listed: FolderFiles, images: { file: number; size: ImageSize }[], tiling: OwnSizeTiling): number[] {
  const tiles = images.map(({ size }) => tileCount(tiling.stack, size.height, size.width, tiling.stride));
  const most = tiles.reduce((a, b) => Math.max(a, b), 0);
  if (most <= MAX_DENOISE_TILES) return tiles;
  const worst = tiles.indexOf(most);
  const { file, size } = images[worst]!;
  const [, th, tw] = tiling.stack.inputShape as [number, number, number];
  const side = Math.min(th, tw);
  // Only strides up to the tile's side are counted: a stride past it (a tile of 2 at --stride 2) was offered.
  let fits = (tiling.stride ?? 1) + 1;
  while (fits <= side && tileCount(tiling.stack, size.height, size.width, fits) > MAX_DENOISE_TILES) fits++;
  const fix =
    fits <= side
      ? `give --stride ${fits} or more (up to ${side})`
      : `even --stride ${side} lays more: the image is too large for tiles of this model (--resize reads it resized)`;
  const given = tiling.stride === undefined ? `not given (half the tile)` : String(tiling.stride);
  throw new ArgumentError(
    OP,
    '--stride',
    `${given} lays ${most} tiles of ${th}×${tw} on ${quote(listed.files[file]!)} (${size.width}×${size.height}), more than MAX_DENOISE_TILES (${MAX_DENOISE_TILES} an image, 6–13 minutes on 2 cores): ${fix}`,
  );
}

/** Denoises every file of `r.files` at its own size; see the file's comment. */
export async function denoiseOwnSize(r: OwnSizeRun): Promise<DenoiseResult> {
  const a = r.args;
  const [c, th, tw] = r.stack.inputShape as [number, number, number];
  const files = r.files.files;
  const n = files.length;
  // Which images comparison.png shows: a seeded sample in proportion to the folder's classes, as the run at the
  // model's size samples its images (the same files), its picture checked as large as it may be before anything is
  // encoded.
  const k = Math.min(COMPARISON_IMAGES, n);
  const showAt = a.addNoise ? new Map(Array.from(limitSample(r.files.labels, n, k, 1), (i, j) => [i, j])) : null;
  if (a.addNoise) comparisonScale(k, COMPARISON_CELL, COMPARISON_CELL);
  const tiling = { depth: r.depth, input: r.input, stride: a.stride, window: a.window };
  r.log(
    `convae denoise: ${n} images of ${r.files.name.slice(0, 120)} at their own size, in tiles of ${th}×${tw} (stride ${a.stride ?? 'half a tile'}, ${a.window ?? 'hann'} window)${a.addNoise ? `, with ${describeNoise(a.addNoise)} added (seed ${a.noiseSeed})` : ''}; through ${r.depth} block(s) and back`,
  );
  const noisyErr = { mse: [] as number[], psnr: [] as number[] },
    denoisedErr = { mse: [] as number[], psnr: [] as number[] };
  const shown: (Shown | undefined)[] = [];
  const madeDirs = new Set<string>();
  const total = r.files.tiles.reduce((s, t) => s + t, 0);
  const bar = new CountProgress('convae denoise', total, 'tiles', a.quiet);
  let tilesDone = 0;
  try {
    for (let i = 0; i < n; i++) {
      // Decoded by the check when it kept it (decodableFiles); a file changed since fails here, after earlier images
      // were written.
      const img = r.files.decoded[i] ?? (await decodeAgain(r, i, c as 1 | 3));
      r.files.decoded[i] = undefined;
      const shape: [number, number, number] = [c, img.height, img.width];
      const clean = ImageDataset.fromUint8(img.planes, shape, null, { store: 'uint8' });
      const given = a.addNoise ? addNoise(clean, a.addNoise, { seed: deriveSeed(a.noiseSeed, i) }) : clean;
      const onProgress = (done: number) => bar.update(tilesDone + done, i + 1, n);
      const recon = await reconstructTiled(r.runner, r.stack, given.images, shape, { ...tiling, onProgress });
      tilesDone += r.files.tiles[i]!;
      const denoised = quantize(recon);
      await writeImageFile(a.out, r.outputs[i]!, imagePng(denoised, ...shape), madeDirs);
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
  } finally {
    bar.stop();
  }
  if (r.files.skipped.length) console.error(skippedList(r.files.skipped));
  const names = files,
    outputs = r.outputs;
  const errs = (e: { mse: number[]; psnr: number[] }) => ({
    mse: Float64Array.from(e.mse),
    psnr: Float64Array.from(e.psnr),
  });
  await writeAtomic(
    join(a.out, 'denoise.csv'),
    csvText(names, outputs, a.addNoise ? errs(noisyErr) : null, a.addNoise ? errs(denoisedErr) : null),
  );
  const result: DenoiseResult = { files: names, outputs };
  if (!a.addNoise) return result;
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
    const title = `${r.files.name.slice(0, 60)}, ${describeNoise(a.addNoise)}: PSNR ${result.noisy.psnr.toFixed(2)} dB noisy, ${result.denoised.psnr.toFixed(2)} dB denoised (depth ${r.depth}, mean of ${n} images at their own size; centres shown)`;
    await writeAtomic(join(a.out, 'comparison.png'), comparisonPng(all, m, [c, h, w], comparisonScale(m, h, w), title));
  }
  return result;
}

/**
 * File `i` of the run decoded again (the check did not keep it). One changed or removed since the check fails here,
 * after the images before it were written: a FormatError naming it and saying so (sharp's own error named no file).
 * So does one replaced by an image of other tiles: the tile bound and the progress total were counted on the old.
 */
async function decodeAgain(r: OwnSizeRun, i: number, channels: 1 | 3): Promise<DecodedImage> {
  const file = r.files.files[i]!;
  const path = join(r.files.dir, file);
  const written = `${i} (of ${r.files.files.length}) images written to ${r.args.out.slice(0, 160)}, denoise.csv not`;
  let img: DecodedImage;
  try {
    img = await decodeImageFile(r.files.path(file), { channels, maxPixels: MAX_TILED_PIXELS });
  } catch (e) {
    throw new FormatError(
      path,
      `decoded when the files were checked, but not now (changed or removed since?): ${boundedReason(e)}; ${written}`,
    );
  }
  const tiles = tileCount(r.stack, img.height, img.width, r.args.stride);
  if (tiles !== r.files.tiles[i])
    throw new FormatError(
      path,
      `changed since the files were checked: now ${img.width}×${img.height} pixels, ${tiles} tiles where the check counted ${r.files.tiles[i]}; ${written}`,
    );
  return img;
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
