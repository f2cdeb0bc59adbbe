/**
 * Synthetic noise on images in [0, 1], to measure a denoiser against the clean
 * images it started from (`convae denoise --add-noise`, scripts/denoise-measure.ts).
 * Training-time corruption is `corrupt` (ts/model/noise.ts); masking and
 * Gaussian noise here are that function's, with what a measurement needs
 * besides: masking keeps the surviving pixels as they are (no 1/(1 − f)
 * rescaling: a damaged image is not brightened), Gaussian noise is clipped to
 * the pixel range (a picture holds no value outside it); salt-and-pepper
 * noise is the training one as it is.
 *
 * Every value (one channel of one pixel) is corrupted on its own, from one
 * stream of `Rng(seed)` over the images in order: the same seed gives the same
 * noisy images, and the first n images of a set are corrupted alike whatever
 * follows them. Browser-safe.
 */
import { ArgumentError, quote } from '../errors.js';
import { corrupt } from '../model/noise.js';
import { optionsOf } from '../util/options.js';
import { Rng } from '../util/rng.js';
import { checkResultFloats, datasetArg, ImageDataset } from './dataset.js';

/**
 * Noise added to images in [0, 1]: `masking` sets a `fraction` of the values to 0; `gaussian` adds N(0, std²) and
 * clips to [0, 1]; `salt-pepper` sets a `fraction` of the values to 0 or 1, half each.
 */
export type ImageNoise =
  | { type: 'masking'; fraction: number }
  | { type: 'gaussian'; std: number }
  | { type: 'salt-pepper'; fraction: number };

/** Options of `addNoise`. */
export interface AddNoiseOptions {
  /** Seed of the noise (an integer; default 1). */
  seed?: number;
}

/** Largest `std` of Gaussian noise: past it the clipped image is salt and pepper. */
export const MAX_NOISE_STD = 10;

/** Throws an ArgumentError naming `op` and `arg` unless `noise` is an ImageNoise with a value in range. */
export function checkImageNoise(op: string, arg: string, noise: unknown): ImageNoise {
  const n = noise as Partial<{ type: unknown; fraction: unknown; std: unknown }> | null;
  if (n === null || typeof n !== 'object')
    throw new ArgumentError(op, arg, `must be { type, fraction } or { type: 'gaussian', std }, got ${quote(noise)}`);
  if (n.type === 'masking' || n.type === 'salt-pepper') {
    const f = n.fraction;
    if (typeof f !== 'number' || !(f >= 0 && f <= 1))
      throw new ArgumentError(op, `${arg}.fraction`, `must be a number in [0, 1], got ${quote(f)}`);
    return { type: n.type, fraction: f };
  }
  if (n.type === 'gaussian') {
    const s = n.std;
    if (typeof s !== 'number' || !(s >= 0 && s <= MAX_NOISE_STD))
      throw new ArgumentError(op, `${arg}.std`, `must be a number in [0, ${MAX_NOISE_STD}], got ${quote(s)}`);
    return { type: 'gaussian', std: s };
  }
  throw new ArgumentError(op, `${arg}.type`, `must be 'masking', 'gaussian' or 'salt-pepper', got ${quote(n.type)}`);
}

/** A noisy float copy of `data` (labels kept): the images must be in [0, 1], as every convae loader gives them. */
export function addNoise(data: ImageDataset, noise: ImageNoise, options?: AddNoiseOptions): ImageDataset {
  const op = 'addNoise';
  datasetArg(op, data);
  const spec = checkImageNoise(op, 'noise', noise);
  const seed = optionsOf(op, options).seed ?? 1;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed))
    throw new ArgumentError(op, 'seed', `must be an integer, got ${quote(seed)}`);
  const size = data.imageSize;
  checkResultFloats(op, 'data', data.length, size, 'noisy images');
  const out = new Float32Array(data.length * size);
  const img = new Float32Array(size);
  const rng = new Rng(seed);
  for (let i = 0; i < data.length; i++) {
    data.readImages(i, i + 1, img);
    const dst = out.subarray(i * size, (i + 1) * size);
    if (spec.type === 'masking') corrupt({ type: 'mask', fraction: spec.fraction, rescale: false }, img, dst, rng);
    else corrupt(spec.type === 'gaussian' ? { ...spec, clip: true } : spec, img, dst, rng);
  }
  return ImageDataset.fromFloat32(out, data.shape, data.labels ?? undefined, data.numClasses);
}
