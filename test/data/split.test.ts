/** `labelledSubset`: the labelled images of `convae paper` and `convae train --labels`. */
import { describe, expect, it } from 'vitest';
import { ImageDataset } from '../../ts/data/dataset.js';
import { labelledSubset } from '../../ts/data/split.js';
import { DataError } from '../../ts/errors.js';
import { Rng } from '../../ts/util/rng.js';

/** 100 one-pixel images whose pixel is their index, labelled index mod 10. */
const ds = ImageDataset.fromFloat32(
  Float32Array.from({ length: 100 }, (_, i) => i),
  [1, 1, 1],
  Uint8Array.from({ length: 100 }, (_, i) => i % 10),
  10,
);
const indices = (d: ImageDataset) => Array.from(d.images);

describe('labelledSubset', () => {
  it('n distinct images of the dataset, each with its own label, the same for the same seed and n', () => {
    const s = labelledSubset(ds, 30, 2);
    const idx = indices(s);
    expect(idx).toHaveLength(30);
    expect(new Set(idx).size).toBe(30);
    for (const [k, i] of idx.entries()) {
      expect(Number.isInteger(i) && i >= 0 && i < 100).toBe(true);
      expect(s.labels![k]).toBe(i % 10);
    }
    expect(indices(labelledSubset(ds, 30, 2))).toEqual(idx);
    expect(indices(labelledSubset(ds, 100, 2)).sort((a, b) => a - b)).toEqual(indices(ds));
  });

  it('another seed or another size draws anew (a size is not a prefix of a larger one)', () => {
    expect(indices(labelledSubset(ds, 30, 3))).not.toEqual(indices(labelledSubset(ds, 30, 2)));
    expect(indices(labelledSubset(ds, 31, 2)).slice(0, 30)).not.toEqual(indices(labelledSubset(ds, 30, 2)));
  });

  it("keeps the draw the published tables used: the first n of Rng(seed · 7919 + n)'s permutation", () => {
    // docs/paper-results.md's subsets; changing the draw would make its commands give other numbers.
    const want = Array.from(new Rng(2 * 7919 + 30).permutation(100).subarray(0, 30));
    expect(indices(labelledSubset(ds, 30, 2))).toEqual(want);
  });

  it('refuses sizes outside 1 … length with a DataError', () => {
    for (const n of [0, 101, -1, 2.5, Number.NaN]) expect(() => labelledSubset(ds, n, 1)).toThrow(DataError);
    expect(() => labelledSubset(ds, 101, 1)).toThrow(/it needs 1 to 100/);
  });
});
