/**
 * A threshold on anomaly scores fitted on normal validation images: an image
 * is flagged when its score is strictly above it. Asked for a false-positive
 * rate α, it is the smallest threshold that flags at most ⌊α·n⌋ of the n
 * normal scores (exactly that many unless ties straddle it); a quantile q is
 * the rate 1 − q.
 */
import { ArgumentError } from '../errors.js';

/** Fraction of normal images to flag: `fpr` directly, or `quantile` = 1 − fpr. */
export type ThresholdSpec = { fpr: number } | { quantile: number };

/**
 * The threshold that flags (score strictly above) at most the given fraction of normal scores;
 * throws ArgumentError for an empty or non-finite score list or a rate outside [0, 1].
 */
export function fitThreshold(normalScores: ArrayLike<number>, spec: ThresholdSpec): number {
  const op = 'fitThreshold';
  const n = normalScores?.length;
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(op, 'normalScores', 'must hold at least one score');
  let rate: number;
  if (spec && 'fpr' in spec) {
    if (!(spec.fpr >= 0 && spec.fpr <= 1)) throw new ArgumentError(op, 'fpr', `must be in [0, 1], got ${spec.fpr}`);
    rate = spec.fpr;
  } else if (spec && 'quantile' in spec) {
    if (!(spec.quantile >= 0 && spec.quantile <= 1))
      throw new ArgumentError(op, 'quantile', `must be in [0, 1], got ${spec.quantile}`);
    rate = 1 - spec.quantile;
  } else throw new ArgumentError(op, 'spec', 'must be { fpr } or { quantile }');
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
