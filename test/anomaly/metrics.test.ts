/**
 * ROC curve, AUROC and average precision against hand-computed cases (ties
 * included) and against brute-force definitions: AUROC as the fraction of
 * (positive, negative) pairs ranked right (ties ½), AP as Σ ΔRecall·Precision
 * over every distinct threshold, each counted from scratch.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../ts/errors.js';
import { auroc, averagePrecision, rocCurve } from '../../ts/train/metrics.js';
import { Rng } from '../../ts/util/rng.js';

function pairAuroc(s: number[], l: number[]): number {
  let good = 0,
    pairs = 0;
  for (let i = 0; i < s.length; i++)
    for (let j = 0; j < s.length; j++)
      if (l[i] === 1 && l[j] === 0) {
        pairs++;
        good += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
      }
  return good / pairs;
}

function bruteAp(s: number[], l: number[]): number {
  const P = l.filter((x) => x === 1).length;
  const ts = [...new Set(s)].sort((a, b) => b - a);
  let ap = 0,
    prevRecall = 0;
  for (const t of ts) {
    let tp = 0,
      flagged = 0;
    for (let i = 0; i < s.length; i++)
      if (s[i] >= t) {
        flagged++;
        tp += l[i];
      }
    ap += (tp / P - prevRecall) * (tp / flagged);
    prevRecall = tp / P;
  }
  return ap;
}

describe('metrics: hand-computed cases', () => {
  it('scores=[0.1,0.4,0.35,0.8] labels=[0,0,1,1]: AUROC 3/4, AP 5/6 (scikit-learn doc example)', () => {
    const s = [0.1, 0.4, 0.35, 0.8],
      l = [0, 0, 1, 1];
    expect(auroc(s, l)).toBeCloseTo(0.75, 12);
    expect(averagePrecision(s, l)).toBeCloseTo(5 / 6, 12);
    const r = rocCurve(s, l);
    expect(r.fpr).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(r.tpr).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(r.thresholds).toEqual([Infinity, 0.8, 0.4, 0.35, 0.1]);
  });

  it('a tie across classes: scores=[1,1,0,2] labels=[1,0,0,1]: AUROC 7/8, AP 5/6, the curve crosses the tie diagonally', () => {
    const s = [1, 1, 0, 2],
      l = [1, 0, 0, 1];
    expect(auroc(s, l)).toBeCloseTo(0.875, 12);
    expect(averagePrecision(s, l)).toBeCloseTo(0.5 + 0.5 * (2 / 3), 12);
    const r = rocCurve(s, l);
    expect(r.fpr).toEqual([0, 0, 0.5, 1]);
    expect(r.tpr).toEqual([0, 0.5, 1, 1]);
  });

  it('all scores equal: AUROC ½, AP = fraction of positives', () => {
    const s = [3, 3, 3, 3, 3],
      l = [1, 0, 0, 1, 0];
    expect(auroc(s, l)).toBe(0.5);
    expect(averagePrecision(s, l)).toBeCloseTo(2 / 5, 12);
  });

  it('perfect and reversed rankings: AUROC 1 and 0, AP 1 and the worst-case value', () => {
    expect(auroc([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1);
    expect(auroc([4, 3, 2, 1], [0, 0, 1, 1])).toBe(0);
    expect(averagePrecision([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1);
    // Positives last: P at recall ½ is 1/3, at recall 1 is 2/4.
    expect(averagePrecision([4, 3, 2, 1], [0, 0, 1, 1])).toBeCloseTo(0.5 / 3 + 0.5 * 0.5, 12);
  });
});

describe('metrics: random scores with many ties against brute force', () => {
  for (const [n, levels] of [
    [50, 5],
    [300, 40],
    [1000, 1000000],
  ] as const) {
    it(`n=${n} scores on ${levels} levels`, () => {
      const rng = new Rng(n + levels);
      const l = Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
      l[0] = 1;
      l[1] = 0;
      // Positives score a little higher on average, so the AUROC is neither 0.5 nor 1.
      const s = l.map((y) => Math.floor((rng.next() + 0.3 * y) * levels) / levels);
      expect(auroc(s, l)).toBeCloseTo(pairAuroc(s, l), 12);
      expect(averagePrecision(s, l)).toBeCloseTo(bruteAp(s, l), 12);
    });
  }
});

describe('metrics: bad input', () => {
  it('rejects one class only, non-binary labels, NaN scores and length mismatches with ArgumentError', () => {
    expect(() => auroc([1, 2], [1, 1])).toThrow(/both classes/);
    expect(() => auroc([1, 2], [0, 2])).toThrow(ArgumentError);
    expect(() => averagePrecision([1, Number.NaN], [0, 1])).toThrow(/finite/);
    expect(() => rocCurve([1, 2, 3], [0, 1])).toThrow(/one label per score/);
  });
});
