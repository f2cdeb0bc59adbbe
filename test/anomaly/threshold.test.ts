/** The fitted threshold flags the asked fraction of the normal validation scores. */
import { describe, expect, it } from 'vitest';
import { fitThreshold, flaggedFraction } from '../../ts/anomaly/threshold.js';
import { Rng } from '../../ts/util/rng.js';

describe('fitThreshold', () => {
  for (const n of [20, 597, 1000]) {
    for (const fpr of [0, 0.01, 0.05, 0.1, 0.5]) {
      it(`n=${n} distinct scores, fpr=${fpr}: exactly ⌊fpr·n⌋ flagged`, () => {
        const rng = new Rng(n);
        const s = Array.from({ length: n }, () => rng.next());
        const t = fitThreshold(s, { fpr });
        expect(flaggedFraction(s, t)).toBe(Math.floor(fpr * n + 1e-9) / n);
        // And it is the smallest such threshold: just below it, one more would be flagged (unless none may be).
        if (fpr * n >= 1 || t < Math.max(...s))
          expect(s.filter((v) => v >= t).length).toBe(Math.floor(fpr * n + 1e-9) + 1);
      });
    }
  }

  it('quantile q is the false-positive rate 1 − q', () => {
    const rng = new Rng(5);
    const s = Array.from({ length: 400 }, () => rng.next());
    expect(fitThreshold(s, { quantile: 0.95 })).toBe(fitThreshold(s, { fpr: 0.05 }));
  });

  it('ties never make it flag more than asked', () => {
    const s = [1, 2, 2, 2, 2, 3, 3, 3, 3, 3];
    for (const fpr of [0.1, 0.2, 0.3, 0.5, 0.6, 0.9])
      expect(flaggedFraction(s, fitThreshold(s, { fpr }))).toBeLessThanOrEqual(fpr);
    expect(flaggedFraction(s, fitThreshold(s, { fpr: 0.5 }))).toBe(0.5);
  });

  it('fpr 1 flags everything; bad specs throw', () => {
    expect(flaggedFraction([1, 2, 3], fitThreshold([1, 2, 3], { fpr: 1 }))).toBe(1);
    expect(() => fitThreshold([1, 2], { fpr: 1.5 })).toThrow(/fpr/);
    expect(() => fitThreshold([], { fpr: 0.1 })).toThrow(/at least one/);
    expect(() => fitThreshold([1, Number.NaN], { quantile: 0.5 })).toThrow(/finite/);
  });
});
