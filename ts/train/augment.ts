/**
 * Training-time augmentation: each image of a batch moved by a random whole
 * number of pixels (dx, dy ∈ [−shift, shift]), the uncovered border filled
 * with 0 (the background of MNIST-like digits; the zero padding of
 * pad-and-crop for photos). A small shift changes which pixel a stroke falls
 * on but not the digit, so a classifier trained on shifted copies sees many
 * images where it was given one (Simard et al. 2003).
 */
import { ArgumentError } from '../errors.js';
import { MAX_SPATIAL_SIZE } from '../limits.js';
import type { Rng } from '../util/rng.js';
import { knownFields } from '../util/options.js';

/** What `fit` does to each training batch: random translations of up to `shift` pixels each way. */
export interface Augment {
  /** Largest move along each axis, in pixels (0: none). */
  shift: number;
}

/** Throws an ArgumentError naming `op` unless `a` is an augmentation convae can apply. */
export function checkAugment(op: string, a: unknown): Augment {
  if (a === null || typeof a !== 'object' || Array.isArray(a))
    throw new ArgumentError(
      op,
      'augment',
      `must be an object like { shift: 2 }, got ${a === null ? 'null' : typeof a}`,
    );
  knownFields(op, 'augment', a, ['shift']);
  const shift = (a as { shift?: unknown }).shift;
  if (!Number.isSafeInteger(shift) || (shift as number) < 0 || (shift as number) > MAX_SPATIAL_SIZE)
    throw new ArgumentError(
      op,
      'augment.shift',
      `must be an integer in [0, ${MAX_SPATIAL_SIZE}], got ${typeof shift === 'number' ? shift : typeof shift}`,
    );
  return { shift: shift as number };
}

/**
 * Draws the moves of `count` images (dx then dy for each) from `rng`: one
 * `rng.int(2·shift + 1)` per axis, so every replica of a data-parallel run
 * that draws for the whole global batch gets the same moves.
 */
export function drawShifts(count: number, shift: number, rng: Rng): Int32Array {
  const d = new Int32Array(2 * count);
  if (shift === 0) return d;
  for (let i = 0; i < d.length; i++) d[i] = rng.int(2 * shift + 1) - shift;
  return d;
}

/**
 * Moves image j of `x` ([n, c, h, w], NCHW) by (shifts[2(first+j)], shifts[2(first+j)+1])
 * pixels (right, down), in place, zero-filling what is uncovered; `tmp` holds one image.
 */
export function shiftImages(
  x: Float32Array,
  shape: readonly [number, number, number, number],
  shifts: Int32Array,
  first: number,
  tmp: Float32Array,
): void {
  const [n, c, h, w] = shape,
    plane = h * w,
    size = c * plane;
  for (let j = 0; j < n; j++) {
    const dx = shifts[2 * (first + j)],
      dy = shifts[2 * (first + j) + 1];
    if (dx === 0 && dy === 0) continue;
    const img = x.subarray(j * size, (j + 1) * size);
    tmp.set(img);
    img.fill(0);
    // Destination rows/columns that have a source inside the image.
    const y0 = Math.max(0, dy),
      y1 = Math.min(h, h + dy),
      x0 = Math.max(0, dx),
      x1 = Math.min(w, w + dx);
    if (y1 <= y0 || x1 <= x0) continue;
    for (let ch = 0; ch < c; ch++)
      for (let y = y0; y < y1; y++) {
        const dst = ch * plane + y * w,
          src = ch * plane + (y - dy) * w;
        img.set(tmp.subarray(src + x0 - dx, src + x1 - dx), dst + x0);
      }
  }
}
