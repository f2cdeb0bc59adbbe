/**
 * `oneClassSplit(…, limit)` (`convae anomaly --limit`) keeps a seeded sample of the normal class, not its first
 * images: a folder lists a class alphabetically, so its first files may all be alike.
 */
import { describe, expect, it } from 'vitest';
import { oneClassSplit } from '../../ts/anomaly/oneclass.js';
import { ImageDataset } from '../../ts/data/dataset.js';

// 90 one-pixel images whose value is their index; class 0 is every third (30 images), the others 1 and 2.
const N = 90;
const data = ImageDataset.fromFloat32(
  Float32Array.from({ length: N }, (_, i) => i),
  [1, 1, 1],
  Uint8Array.from({ length: N }, (_, i) => i % 3),
  3,
);
const class0 = Array.from({ length: N / 3 }, (_, r) => 3 * r);

/** The indices (pixel values) of the normal images a split kept, training and held-out together, ascending. */
const normalsOf = (seed: number, limit?: number) => {
  const s = oneClassSplit(data, 0, seed, 0.1, 2000, limit);
  return [...s.train.images, ...s.normalValidation.images].sort((a, b) => a - b);
};

describe('oneClassSplit with a limit', () => {
  it('draws its images from the whole class, the same ones for a seed and others for another', () => {
    const a = normalsOf(1, 10);
    expect(a).toHaveLength(10);
    expect(a.every((i) => class0.includes(i))).toBe(true);
    // The first 10 of the class are 0 … 27: a sample of 30 reaches past them.
    expect(a).not.toEqual(class0.slice(0, 10));
    expect(Math.max(...a)).toBeGreaterThan(27);
    expect(normalsOf(1, 10)).toEqual(a);
    expect(normalsOf(2, 10)).not.toEqual(a);
  });

  it('keeps at least 2 images, and leaves the split as it was when it covers the class', () => {
    const two = oneClassSplit(data, 0, 1, 0.5, 2000, 1);
    expect([two.train.length, two.normalValidation.length]).toEqual([1, 1]);
    for (const limit of [30, 100]) {
      const s = oneClassSplit(data, 0, 3, 0.1, 2000, limit);
      const t = oneClassSplit(data, 0, 3, 0.1, 2000);
      expect([...s.train.images]).toEqual([...t.train.images]);
      expect([...s.normalValidation.images]).toEqual([...t.normalValidation.images]);
      expect([...s.anomalousValidation.images]).toEqual([...t.anomalousValidation.images]);
    }
  });

  it('holds out a tenth of the sample, each part in dataset order', () => {
    const s = oneClassSplit(data, 0, 1, 0.1, 2000, 20);
    expect(s.train.length).toBe(18);
    expect(s.normalValidation.length).toBe(2);
    for (const part of [s.train, s.normalValidation])
      expect([...part.images]).toEqual([...part.images].sort((a, b) => a - b));
  });
});
