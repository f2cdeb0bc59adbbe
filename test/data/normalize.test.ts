/**
 * Per-image contrast normalisation against a plain f64 computation of its
 * definition: (x − mean) / √(variance + eps) over each image's values, on
 * float- and byte-stored datasets; labels kept; bad eps refused.
 */
import { describe, expect, it } from 'vitest';
import { ImageDataset } from '../../ts/data/dataset.js';
import { contrastNormalize } from '../../ts/data/normalize.js';
import { ArgumentError } from '../../ts/errors.js';
import { Rng } from '../../ts/util/rng.js';

function reference(x: Float32Array, size: number, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length / size; i++) {
    const img = Array.from(x.subarray(i * size, (i + 1) * size));
    const m = img.reduce((a, b) => a + b, 0) / size;
    const v = img.reduce((a, b) => a + (b - m) ** 2, 0) / size;
    img.forEach((p, t) => (out[i * size + t] = (p - m) / Math.sqrt(v + eps)));
  }
  return out;
}

describe('contrastNormalize', () => {
  const rng = new Rng(5);
  const n = 7,
    shape = [3, 5, 4] as const,
    size = 60;
  const bytes = Uint8Array.from({ length: n * size }, () => rng.nextU32() % 256);
  // One flat image (all 17): its variance is 0, so it becomes all zeros, not NaN.
  bytes.fill(17, 2 * size, 3 * size);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 3);

  for (const store of ['float32', 'uint8'] as const)
    it(`equals (x − mean)/√(var + eps) per image (${store}-stored), keeps labels and shape`, () => {
      const d = ImageDataset.fromUint8(bytes, shape, labels, { store });
      for (const eps of [1e-3, 0.5]) {
        const out = contrastNormalize(d, { eps });
        const want = reference(ImageDataset.fromUint8(bytes, shape).images, size, eps);
        expect(out.shape).toEqual(shape);
        expect(Array.from(out.labels!)).toEqual(Array.from(labels));
        expect(out.numClasses).toBe(3);
        for (let t = 0; t < want.length; t++) expect(out.images[t]).toBeCloseTo(want[t], 5);
        // Mean 0 and variance v/(v + eps) per image; the flat image is all zeros.
        for (let i = 0; i < n; i++) {
          const img = out.image(i);
          expect(Math.abs(img.reduce((a, b) => a + b, 0) / size)).toBeLessThan(1e-6);
        }
        expect(out.image(2).every((v) => v === 0)).toBe(true);
      }
    });

  it('the default eps (1e-3) keeps a faint image faint: a ±0.01 texture stays below ±0.31', () => {
    const faint = Float32Array.from({ length: size }, (_, i) => 0.5 + (i % 2 ? 0.01 : -0.01));
    const out = contrastNormalize(ImageDataset.fromFloat32(faint, shape)).images;
    // std 0.01 → 0.01/√(1e-4 + 1e-3) ≈ 0.30.
    for (const v of out) expect(Math.abs(v)).toBeCloseTo(0.01 / Math.sqrt(1.1e-3), 5);
  });

  it('refuses an eps that is not a finite number > 0', () => {
    const d = ImageDataset.fromUint8(bytes, shape);
    for (const eps of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1' as unknown as number])
      expect(() => contrastNormalize(d, { eps })).toThrow(ArgumentError);
  });
});
