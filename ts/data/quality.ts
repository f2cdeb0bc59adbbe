/**
 * How far images are from the clean ones they should be: per-image mean squared error and PSNR, for pixels in
 * [0, 1] (`convae denoise --add-noise`, scripts/denoise-measure.ts). Browser-safe.
 */
import { ArgumentError, quote } from '../errors.js';

/** PSNR of an image equal to its reference: 10·log10(1 / 1e-10), instead of Infinity (which no mean survives). */
export const MAX_PSNR = 100;

/** Per-image errors of `images` against `clean` (n images of `size` values each, pixels in [0, 1]). */
export interface ImageErrors {
  /** Mean over each image's values of (image − clean)². */
  mse: Float64Array;
  /** 10·log10(1 / mse) in dB (peak 1), at most MAX_PSNR. */
  psnr: Float64Array;
}

/** Each image's MSE and PSNR against the clean image at the same place. */
export function imageErrors(clean: Float32Array, images: Float32Array, size: number): ImageErrors {
  const op = 'imageErrors';
  if (!Number.isInteger(size) || size < 1)
    throw new ArgumentError(op, 'size', `must be an integer ≥ 1, got ${quote(size)}`);
  if (!(clean instanceof Float32Array) || clean.length % size !== 0)
    throw new ArgumentError(op, 'clean', `must be a Float32Array of whole images of ${size} values`);
  if (!(images instanceof Float32Array) || images.length !== clean.length)
    throw new ArgumentError(op, 'images', `must be a Float32Array of ${clean.length} values, as clean`);
  const n = clean.length / size;
  const mse = new Float64Array(n),
    psnr = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = i * size; t < (i + 1) * size; t++) s += (images[t] - clean[t]) ** 2;
    mse[i] = s / size;
    psnr[i] = Math.min(MAX_PSNR, 10 * Math.log10(1 / mse[i]));
  }
  return { mse, psnr };
}

/** The mean of `v` (NaN for none). */
export const meanOf = (v: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s / v.length;
};

/** Values as 8-bit pixels store them: clamped to [0, 1], rounded to 1/255 (what a PNG of them holds). */
export function quantize(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round(255 * Math.min(1, Math.max(0, values[i]))) / 255;
  return out;
}
