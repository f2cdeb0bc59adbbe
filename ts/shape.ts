/**
 * All shape arithmetic of the TypeScript side, mirroring
 * crates/convae-kernels/src/shape.rs (test/shape.test.ts checks they agree).
 * Every function returns the size, or a string saying why the shape is invalid.
 */

export type Size = number | string;

const isPosInt = (v: number) => Number.isInteger(v) && v >= 1;
const isNonNegInt = (v: number) => Number.isInteger(v) && v >= 0;

/** Output size of a convolution along one axis: floor((in + 2p − k) / s) + 1. */
export function convOut(input: number, k: number, s: number, p: number): Size {
  if (!isPosInt(input) || !isPosInt(k) || !isPosInt(s) || !isNonNegInt(p))
    return 'sizes must be integers, stride and kernel ≥ 1';
  if (p >= k) return `padding ${p} must be smaller than the kernel ${k}`;
  if (input + 2 * p < k) return `kernel ${k} is larger than the padded input ${input + 2 * p}`;
  return Math.floor((input + 2 * p - k) / s) + 1;
}

/** Output size of a transposed convolution along one axis: (in − 1)s − 2p + k + op. */
export function convTransposeOut(input: number, k: number, s: number, p: number, op: number): Size {
  if (!isPosInt(input) || !isPosInt(k) || !isPosInt(s) || !isNonNegInt(p) || !isNonNegInt(op))
    return 'sizes must be integers, stride and kernel ≥ 1';
  if (p >= k) return `padding ${p} must be smaller than the kernel ${k}`;
  if (op >= s) return `output padding ${op} must be smaller than the stride ${s}`;
  const full = (input - 1) * s + k + op;
  if (full <= 2 * p) return `padding ${p} leaves no output`;
  return full - 2 * p;
}

/** Output size of max pooling along one axis (no padding): floor((in − k) / s) + 1. */
export function poolOut(input: number, k: number, s: number): Size {
  if (!isPosInt(input) || !isPosInt(k) || !isPosInt(s)) return 'sizes must be integers ≥ 1';
  if (input < k) return `window ${k} is larger than the input ${input}`;
  return Math.floor((input - k) / s) + 1;
}

/**
 * The output padding that makes a transposed conv give back `target` (the input
 * size of the conv it inverts): the remainder that conv's floor dropped.
 */
export function convTransposeOutputPadding(target: number, k: number, s: number, p: number): number {
  return (((target + 2 * p - k) % s) + s) % s;
}

/** The stride of a pooling window when none is given: the window itself (non-overlapping). */
export const poolStride = (kernel: Pair, stride?: Pair): Pair => stride ?? kernel;

/** Elements of a parameter shape, or Infinity once it passes `limit` (no float drift on absurd sizes). */
export function boundedNumel(shape: readonly number[], limit: number): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > limit) return Number.POSITIVE_INFINITY;
  }
  return n;
}

/** A size along both axes: one number for height and width, or `[h, w]`. */
export type Pair = number | readonly [number, number];
export const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

export const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
export const fmt = (shape: readonly number[]) => `[${shape.join(',')}]`;
