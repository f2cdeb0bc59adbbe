/**
 * A seeded three-way split (train / validation / test) that also says which
 * source index went where, so file names can follow their images. Browser-safe.
 */
import { ArgumentError, DataError, quote } from '../errors.js';
import { Rng } from '../util/rng.js';
import { datasetArg, type ImageDataset } from './dataset.js';

/** Options of `splitDataset`: the validation and test fractions and the seed of the permutation. */
export interface SplitOptions {
  /** Fraction of the images for validation, in [0, 1). Default 0.1. */
  validation?: number;
  /** Fraction for testing, in [0, 1). Default 0.1. */
  test?: number;
  /** Seed of the permutation (the same seed, the same split). */
  seed: number;
  /**
   * The group of each image (integers in [0, 2^32), one per image): the fractions then count groups, and every image
   * of a group goes to the same part. For patches, their source image (`LoadedImages.patchOrigins.image`), so that
   * no window of a held-out photograph is trained on. Default: each image its own group.
   */
  groups?: ArrayLike<number>;
}

/** One part of a split: the images, and where each came from in the source dataset. */
export interface SplitPart {
  /** The part's images (and labels), in source order. */
  data: ImageDataset;
  /** Index in the source dataset of each image of `data`, ascending. */
  indices: Uint32Array;
}

/**
 * `round(n·validation)` images for validation, `round(n·test)` for test, the rest
 * for training, chosen by `new Rng(seed).permutation(n)`; each part keeps the
 * source order. With `groups`, n counts the distinct groups (in ascending order
 * of their numbers before the permutation) and each group's images go together.
 * A part whose fraction is 0 is null; training must not be empty, nor may a part
 * whose fraction is positive. Not stratified.
 */
export function splitDataset(
  ds: ImageDataset,
  options: SplitOptions,
): { train: SplitPart; validation: SplitPart | null; test: SplitPart | null } {
  const op = 'splitDataset';
  datasetArg(op, ds, 'ds');
  // Required: the seed has no default.
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new ArgumentError(op, 'options', `must be an object like { seed: 1 }, got ${quote(options)}`);
  const fv = options.validation ?? 0.1,
    ft = options.test ?? 0.1;
  for (const [name, f] of [
    ['validation', fv],
    ['test', ft],
  ] as const) {
    if (typeof f !== 'number' || !(f >= 0 && f < 1))
      throw new ArgumentError(op, name, `must be in [0, 1), got ${quote(f)}`);
  }
  if (!Number.isInteger(options.seed))
    throw new ArgumentError(op, 'seed', `must be an integer, got ${quote(options.seed)}`);
  const g = groupRanks(op, options.groups, ds.length);
  const n = g ? g.count : ds.length;
  const nv = Math.round(n * fv),
    nt = Math.round(n * ft);
  const nTrain = n - nv - nt;
  if (nTrain < 1 || (fv > 0 && nv < 1) || (ft > 0 && nt < 1)) {
    const what = g ? `images in ${n} groups` : 'images';
    throw new DataError(
      `${op}: ${ds.length} ${what} split ${fv}/${ft} leave ${nTrain} for training, ${nv} for validation and ${nt} for test; each part asked for needs at least one${g ? ' (a group goes to one part whole)' : ''}`,
    );
  }
  // The part of each group (of each image without groups): 0 validation, 1 test, 2 training.
  const perm = new Rng(options.seed).permutation(n);
  const partOf = new Uint8Array(n);
  for (let p = 0; p < n; p++) partOf[perm[p]!] = p < nv ? 0 : p < nv + nt ? 1 : 2;
  const members: number[][] = [[], [], []];
  for (let i = 0; i < ds.length; i++) members[partOf[g ? g.rank[i]! : i]!]!.push(i);
  const part = (k: number): SplitPart | null => {
    if (members[k]!.length === 0) return null;
    const indices = Uint32Array.from(members[k]!);
    return { data: ds.subset(indices), indices };
  };
  return { validation: part(0), test: part(1), train: part(2)! };
}

/**
 * `groups` checked (one integer in [0, 2^32) per image) as the rank of each image's group among the distinct groups
 * in ascending order; null when absent.
 */
function groupRanks(op: string, groups: unknown, n: number): { count: number; rank: Uint32Array } | null {
  if (groups === undefined) return null;
  const length = (groups as { length?: unknown } | null)?.length;
  if (groups === null || typeof groups !== 'object' || typeof length !== 'number')
    throw new ArgumentError(op, 'groups', `must be an array of one integer per image, got ${quote(groups)}`);
  if (length !== n) throw new ArgumentError(op, 'groups', `has ${length} entries for ${n} images`);
  const a = groups as ArrayLike<unknown>;
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 32 - 1)
      throw new ArgumentError(op, `groups[${i}]`, `must be an integer in [0, 2^32), got ${quote(v)}`);
    value[i] = v;
  }
  const distinct = value.slice().sort();
  let count = 0;
  for (let i = 0; i < n; i++) if (i === 0 || distinct[i] !== distinct[i - 1]) distinct[count++] = distinct[i]!;
  const rank = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    // Binary search in the distinct values: a Map of millions of patches' groups is slower.
    let lo = 0,
      hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (distinct[mid]! < value[i]!) lo = mid + 1;
      else hi = mid;
    }
    rank[i] = lo;
  }
  return { count, rank };
}

/**
 * The labelled subset of `convae paper` and `convae train --labels`: the first
 * `n` images of a permutation seeded by `seed · 7919 + n`, in that order, so
 * that each size has a draw of its own and `train --labels n --seed s` takes
 * the very subset the paper's seed `s` took. Not stratified.
 */
export function labelledSubset(ds: ImageDataset, n: number, seed: number): ImageDataset {
  datasetArg('labelledSubset', ds, 'ds');
  if (!Number.isSafeInteger(n) || n < 1 || n > ds.length)
    throw new DataError(
      `a labelled subset of ${String(n).slice(0, 20)} images from ${ds.length}: it needs 1 to ${ds.length}`,
    );
  return ds.subset(new Rng(seed * 7919 + n).permutation(ds.length).subarray(0, n));
}
