/** Helpers to move test data between f64 references and wasm tensors. */
import { expect } from 'vitest';
import type { Backend, Tensor } from '../../ts/index.js';

/** An f32 tensor holding `values` (rounded to f32). */
export const f32 = (be: Backend, shape: number[], values: ArrayLike<number>): Tensor => be.fromArray(shape, values);

/** The f64 copy of a tensor's (f32) values. */
export const f64 = (t: Tensor): Float64Array => Float64Array.from(t.data);

/** Values rounded to f32 and back, so the f64 reference sees exactly what the kernel sees. */
export const round32 = (v: ArrayLike<number>): Float64Array =>
  Float64Array.from(Float32Array.from(v as ArrayLike<number>));

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| element-wise, where an
 * f32 result is compared to an f64 reference. `scale` lets callers widen atol by
 * the magnitude of the summed terms (a dot product of length K of O(1) values
 * carries O(√K·ε) rounding error).
 */
export function expectNear(
  label: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-5,
  atol = 1e-5,
): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let worst = -1,
    worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i],
      e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    const err = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${label}: index ${worst}: got ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`,
    );
  }
}

/** Asserts two f32 arrays are identical bit for bit (NaN payloads included). */
export function expectBitEqual(label: string, a: Float32Array | Uint32Array, b: Float32Array | Uint32Array): void {
  expect(a.length, `${label}: length`).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) {
    if (ua[i] !== ub[i]) expect.fail(`${label}: index ${i}: ${a[i]} vs ${b[i]} differ in bits`);
  }
}
