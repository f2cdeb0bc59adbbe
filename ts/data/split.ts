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
 * source order. A part whose fraction is 0 is null; training must not be empty,
 * nor may a part whose fraction is positive. Not stratified.
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
  const n = ds.length;
  const nv = Math.round(n * fv),
    nt = Math.round(n * ft);
  const nTrain = n - nv - nt;
  if (nTrain < 1 || (fv > 0 && nv < 1) || (ft > 0 && nt < 1)) {
    throw new DataError(
      `${op}: ${n} images split ${fv}/${ft} leave ${nTrain} for training, ${nv} for validation and ${nt} for test; each part asked for needs at least one`,
    );
  }
  const perm = new Rng(options.seed).permutation(n);
  const part = (a: number, b: number): SplitPart | null => {
    if (a === b) return null;
    const indices = perm.slice(a, b).sort();
    return { data: ds.subset(indices), indices };
  };
  return { validation: part(0, nv), test: part(nv, nv + nt), train: part(nv + nt, n)! };
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
