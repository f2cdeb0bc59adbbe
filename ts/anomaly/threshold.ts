/**
 * A threshold on anomaly scores fitted on normal validation images: an image
 * is flagged when its score is strictly above it. Asked for a false-positive
 * rate α, it is the smallest threshold that flags at most ⌊α·n⌋ of the n
 * normal scores (exactly that many unless ties straddle it); a quantile q is
 * the rate 1 − q.
 */
import { ArgumentError, quote } from '../errors.js';

/** Fraction of normal images to flag: `fpr` directly, or `quantile` = 1 − fpr. */
export type ThresholdSpec = { fpr: number } | { quantile: number };

/** The rate of normal scores a spec flags; an ArgumentError naming `op` for anything but `{ fpr }` or `{ quantile }` in [0, 1]. */
export function thresholdRate(op: string, spec: unknown, arg = 'spec'): number {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    throw new ArgumentError(op, arg, `must be { fpr } or { quantile }, got ${quote(spec)}`);
  const fpr = (spec as { fpr?: unknown }).fpr,
    quantile = (spec as { quantile?: unknown }).quantile;
  if ((fpr === undefined) === (quantile === undefined))
    throw new ArgumentError(op, arg, `must give one of fpr and quantile, got ${quote(spec)}`);
  const [name, v] = fpr !== undefined ? ['fpr', fpr] : ['quantile', quantile];
  if (typeof v !== 'number' || !(v >= 0 && v <= 1))
    throw new ArgumentError(
      op,
      arg === 'spec' ? name : `${arg}.${name}`,
      `must be a number in [0, 1], got ${quote(v)}`,
    );
  return name === 'fpr' ? v : 1 - v;
}

/**
 * The threshold that flags (score strictly above) at most the given fraction of normal scores;
 * throws ArgumentError for an empty or non-finite score list or a rate outside [0, 1].
 */
export function fitThreshold(normalScores: ArrayLike<number>, spec: ThresholdSpec): number {
  const op = 'fitThreshold';
  const n = normalScores?.length;
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(op, 'normalScores', 'must hold at least one score');
  const rate = thresholdRate(op, spec);
  const s = Float64Array.from(normalScores);
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(s[i])) throw new ArgumentError(op, 'normalScores', `score ${i} is ${s[i]}, not finite`);
  s.sort();
  // At most `allowed` scores may lie above the threshold; ⌊·⌋ with a guard against 0.1·10 = 0.9999….
  const allowed = Math.floor(rate * n + 1e-9);
  if (allowed >= n) return -Infinity;
  // s[n − allowed − 1] flags the `allowed` largest (fewer when ties reach down to it).
  return s[n - allowed - 1];
}

/** The fraction of `scores` flagged (strictly above `threshold`). */
export function flaggedFraction(scores: ArrayLike<number>, threshold: number): number {
  let k = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] > threshold) k++;
  return k / scores.length;
}
