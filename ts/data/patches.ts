/**
 * Random windows of images at their own resolution (`ImageLoadOptions.patches`). The Node folder loader and the
 * browser file loader both decode each image whole (scaled by `patches.scale`), then cut its windows here, so the
 * same files and seed give the same places in both. Browser-safe.
 *
 * The places of file k come from a stream of their own (`patchOrigins`), so they do not depend on the order the
 * files finish decoding in, nor on which other files were skipped.
 */
import { DataError, FormatError } from '../errors.js';
import { Rng } from '../util/rng.js';
import type { CheckedImageOptions } from './imageopts.js';
import { assembleImages, type LoadedImages } from './imagelist.js';

/**
 * The top-left corners (column x, row y) of the `perImage` patches of `ph × pw` pixels that file `k` (its index in
 * the sorted file list) gives when it is `width × height` pixels after scaling: uniform over every place a patch
 * fits, drawn by `new Rng(seed)` moved to stream k (`Rng.reseed(k)`), x then y for each patch.
 */
export function patchOrigins(
  p: { perImage: number; seed: number },
  k: number,
  width: number,
  height: number,
  ph: number,
  pw: number,
): { x: Uint32Array; y: Uint32Array } {
  const rng = new Rng(p.seed);
  rng.reseed(k);
  const x = new Uint32Array(p.perImage),
    y = new Uint32Array(p.perImage);
  for (let i = 0; i < p.perImage; i++) {
    x[i] = rng.int(width - pw + 1);
    y[i] = rng.int(height - ph + 1);
  }
  return { x, y };
}

/** An image that holds no patch: a reason for `skipped`, or the FormatError of `onError: 'throw'`. */
export class PatchFailure extends Error {
  override name = 'PatchFailure';
}

/** Where the patches of every file go: `perImage` consecutive patches per file, and their places. */
export interface PatchStore {
  bytes: Uint8Array;
  x: Uint32Array;
  y: Uint32Array;
}

/** Room for the patches of `files` files (`checkDatasetBytes` has bounded it). */
export function patchStore(files: number, o: CheckedImageOptions): PatchStore {
  const n = files * o.patches!.perImage;
  return { bytes: new Uint8Array(n * o.channels * o.height * o.width), x: new Uint32Array(n), y: new Uint32Array(n) };
}

/**
 * Cuts file k's patches out of its decoded planes (`o.channels` planes of `width × height`, already scaled) into
 * `store`. Throws `PatchFailure` when the image is smaller than a patch.
 */
export function takePatches(
  planes: Uint8Array,
  width: number,
  height: number,
  k: number,
  o: CheckedImageOptions,
  store: PatchStore,
): void {
  const p = o.patches!;
  const ph = o.height,
    pw = o.width;
  if (width < pw || height < ph)
    throw new PatchFailure(
      `the image is ${width}×${height} pixels${p.scale !== 1 ? ` after scaling by ${p.scale}` : ''}, smaller than a patch of ${pw}×${ph} (width×height)`,
    );
  const { x, y } = patchOrigins(p, k, width, height, ph, pw);
  const size = o.channels * ph * pw;
  for (let i = 0; i < p.perImage; i++) {
    const j = k * p.perImage + i;
    store.x[j] = x[i];
    store.y[j] = y[i];
    for (let c = 0; c < o.channels; c++)
      for (let r = 0; r < ph; r++) {
        const from = c * width * height + (y[i] + r) * width + x[i];
        store.bytes.set(planes.subarray(from, from + pw), j * size + (c * ph + r) * pw);
      }
  }
}

/** The error of `onError: 'throw'` for a file that holds no patch. */
export const patchless = (file: string, e: PatchFailure): FormatError => new FormatError(file, e.message);

/**
 * The dataset of the patches of the files `ok` marks (`perImage` each, labelled as their file), with their places
 * and images; the files of the others are in `skipped`. None left is a DataError.
 */
export function assemblePatches(
  op: string,
  o: CheckedImageOptions,
  paths: readonly string[],
  labelling: { classes: string[] | null; labels: Uint8Array | null },
  store: PatchStore,
  ok: Uint8Array,
  skipped: { file: string; reason: string }[],
  where: string,
): LoadedImages {
  const per = o.patches!.perImage;
  // The first file's reason (in file order, not the order decoding finished in): the skipped list never reaches the
  // caller, and "smaller than a patch" says what to change.
  if (!ok.some((v) => v === 1)) {
    const first = skipped.find((x) => x.file === paths[0]);
    throw new DataError(
      `${op}: none of the ${paths.length} image files in ${where} both decodes and holds a ${o.width}×${o.height} patch${first ? ` (${first.file}: ${first.reason})` : ''}`,
    );
  }
  const n = paths.length * per;
  const fileOf = (j: number) => Math.floor(j / per);
  const patchPaths = Array.from({ length: n }, (_, j) => paths[fileOf(j)]!);
  const patchOk = Uint8Array.from({ length: n }, (_, j) => ok[fileOf(j)]!);
  const fileLabels = labelling.labels;
  const labels = fileLabels ? Uint8Array.from({ length: n }, (_, j) => fileLabels[fileOf(j)]!) : null;
  const loaded = assembleImages(
    op,
    o,
    patchPaths,
    { classes: labelling.classes, labels },
    store.bytes,
    patchOk,
    skipped,
    where,
  );
  const keep = (a: Uint32Array) => a.filter((_, j) => patchOk[j] === 1);
  // Each patch's image among the files that gave patches: what `splitDataset`'s `groups` holds out whole.
  const image = new Uint32Array(loaded.dataset.length);
  for (let j = 0; j < image.length; j++) image[j] = Math.floor(j / per);
  return { ...loaded, patchOrigins: { x: keep(store.x), y: keep(store.y), image } };
}
