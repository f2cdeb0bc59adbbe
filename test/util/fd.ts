/**
 * Finite differences and array comparison in f64, for gradient checks.
 *
 * `numericGrad` is the only derivative the reference self-checks trust without
 * reading: the analytic backward references in test/reference/ are checked
 * against it.
 */

/**
 * Central finite-difference gradient of a scalar function:
 * `g[i] = (f(x + h·e_i) − f(x − h·e_i)) / (2h)`.
 *
 * The step actually divided by is `(x[i] + eps) − (x[i] − eps)` as computed in
 * floating point (not the nominal `2·eps`), which removes the representation
 * error of the step. `x` itself is never modified: `f` receives a private copy
 * with one element perturbed at a time, restored exactly afterwards.
 * For a quadratic `f` the central difference is exact up to rounding.
 */
export function numericGrad(f: (x: Float64Array) => number, x: Float64Array, eps = 1e-5): Float64Array {
  const xc = Float64Array.from(x);
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const orig = xc[i];
    const xp = orig + eps;
    const xm = orig - eps;
    xc[i] = xp;
    const fp = f(xc);
    xc[i] = xm;
    const fm = f(xc);
    xc[i] = orig;
    g[i] = (fp - fm) / (xp - xm);
  }
  return g;
}

export interface Tolerance {
  /** Relative tolerance, multiplies |expected|. */
  rtol: number;
  /** Absolute tolerance. */
  atol: number;
}

export interface Comparison {
  /** Every element satisfies |actual − expected| ≤ atol + rtol·|expected| (NaN matches NaN only). */
  ok: boolean;
  /** max |actual − expected| over all elements (NaN if a NaN is unmatched). */
  maxAbs: number;
  /** max |actual − expected| / |expected| over elements with expected ≠ 0. */
  maxRel: number;
  /**
   * The element that exceeds its tolerance the most (largest
   * |a − e| − (atol + rtol·|e|), unmatched NaN counting as worst); when `ok`,
   * the element closest to failing. −1 for empty arrays.
   */
  worstIndex: number;
}

/**
 * Element-wise closeness of `actual` to `expected`:
 * `|a − e| ≤ atol + rtol·|e|`. Two NaNs are equal; a NaN against a number is a
 * failure; equal infinities are equal. Throws if the lengths differ.
 */
export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): Comparison {
  if (actual.length !== expected.length) {
    throw new Error(`compare: length ${actual.length} (actual) != ${expected.length} (expected)`);
  }
  let ok = true;
  let maxAbs = 0;
  let maxRel = 0;
  let worstIndex = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    let diff: number;
    let excess: number;
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (Number.isNaN(a) && Number.isNaN(e)) {
        diff = 0;
        excess = -Infinity;
      } else {
        diff = NaN;
        excess = Infinity;
      }
    } else if (a === e) {
      // Covers equal infinities, where a − e would be NaN.
      diff = 0;
      excess = -(tol.atol + tol.rtol * Math.abs(e));
    } else {
      diff = Math.abs(a - e);
      excess = diff - (tol.atol + tol.rtol * Math.abs(e));
    }
    if (Number.isNaN(diff)) maxAbs = NaN;
    else if (diff > maxAbs) maxAbs = diff;
    if (e !== 0 && !Number.isNaN(diff) && Number.isFinite(e)) {
      const rel = diff / Math.abs(e);
      if (rel > maxRel) maxRel = rel;
    }
    if (excess > 0) ok = false;
    if (worstIndex < 0 || excess > worstExcess) {
      worstIndex = i;
      worstExcess = excess;
    }
  }
  return { ok, maxAbs, maxRel, worstIndex };
}

/**
 * Throws an Error describing the worst element (index, both values, the
 * tolerance there, and maxAbs / maxRel over the array) unless
 * `compare(actual, expected, { rtol, atol }).ok`. Use inside a vitest `it`.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
  label: string,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length} (actual) != ${expected.length} (expected)`);
  }
  const c = compare(actual, expected, { rtol, atol });
  if (c.ok) return;
  const i = c.worstIndex;
  const a = actual[i];
  const e = expected[i];
  const allowed = atol + rtol * Math.abs(e);
  const lo = Math.max(0, i - 2);
  const hi = Math.min(expected.length, i + 3);
  const around: string[] = [];
  for (let k = lo; k < hi; k++) around.push(`[${k}] ${actual[k]} vs ${expected[k]}`);
  throw new Error(
    `${label}: index ${i}: actual ${a}, expected ${e}, |diff| ${Math.abs(a - e)} > allowed ${allowed} ` +
      `(rtol ${rtol}, atol ${atol}); over all ${expected.length}: maxAbs ${c.maxAbs}, maxRel ${c.maxRel}; ` +
      `neighbourhood (actual vs expected): ${around.join(', ')}`,
  );
}

/** Σ a[i]·b[i] in f64 (plain left-to-right sum). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`dot: length ${a.length} != ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
