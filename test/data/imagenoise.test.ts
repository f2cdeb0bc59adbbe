/**
 * The noise `convae denoise --add-noise` measures with, the errors it reports, and the mapping of a
 * contrast-normalised model's output back to pixels: shares and σ within statistical bounds, clipping, seeded
 * determinism, and `toPixels` against an undo written here in float64.
 */
import { describe, expect, it } from 'vitest';
import { ImageDataset } from '../../ts/data/dataset.js';
import { addNoise, type ImageNoise } from '../../ts/data/imagenoise.js';
import { CONTRAST_EPS, contrastNormalize, toPixels } from '../../ts/data/normalize.js';
import { imageErrors, MAX_PSNR, quantize } from '../../ts/data/quality.js';
import { ArgumentError } from '../../ts/errors.js';
import { Rng } from '../../ts/util/rng.js';

const n = 40,
  size = 3 * 16 * 16;
const rng = new Rng(11);
/** Pixels in [0.2, 0.8]: no clean value is 0 or 1, so every 0 or 1 after noise was put there by it. */
const clean = ImageDataset.fromFloat32(
  Float32Array.from({ length: n * size }, () => 0.2 + 0.6 * rng.next()),
  [3, 16, 16],
);
const total = n * size;
/** Four standard deviations of a share p of `total` draws. */
const bound = (p: number) => 4 * Math.sqrt((p * (1 - p)) / total);

describe('addNoise', () => {
  it('masking sets the given share of values to 0 and keeps the others as they were', () => {
    for (const f of [0.1, 0.5, 0.9]) {
      const y = addNoise(clean, { type: 'masking', fraction: f }, { seed: 3 }).images;
      let zeros = 0;
      for (let i = 0; i < total; i++)
        if (y[i] === 0) zeros++;
        else expect(y[i]).toBe(clean.images[i]);
      expect(Math.abs(zeros / total - f)).toBeLessThan(bound(f));
    }
  });

  it('salt and pepper sets the share to 0 or 1, half each, and keeps the others', () => {
    const f = 0.2;
    const y = addNoise(clean, { type: 'salt-pepper', fraction: f }, { seed: 4 }).images;
    let salt = 0,
      pepper = 0;
    for (let i = 0; i < total; i++)
      if (y[i] === 0) pepper++;
      else if (y[i] === 1) salt++;
      else expect(y[i]).toBe(clean.images[i]);
    expect(Math.abs((salt + pepper) / total - f)).toBeLessThan(bound(f));
    expect(Math.abs(salt / total - f / 2)).toBeLessThan(bound(f / 2));
    expect(Math.abs(pepper / total - f / 2)).toBeLessThan(bound(f / 2));
  });

  it('gaussian noise has the given σ where nothing is clipped, and is clipped to [0, 1]', () => {
    const mid = ImageDataset.fromFloat32(new Float32Array(total).fill(0.5), [3, 16, 16]);
    const s = 0.05; // 10 σ from either end: no value is clipped
    const y = addNoise(mid, { type: 'gaussian', std: s }, { seed: 5 }).images;
    let m = 0,
      v = 0;
    for (const x of y) m += x - 0.5;
    m /= total;
    for (const x of y) v += (x - 0.5 - m) ** 2;
    const sd = Math.sqrt(v / (total - 1));
    expect(Math.abs(m)).toBeLessThan((4 * s) / Math.sqrt(total));
    // The sample σ's standard error is σ/√(2n).
    expect(Math.abs(sd - s)).toBeLessThan((4 * s) / Math.sqrt(2 * total));
    // σ 0.5 on 0.5: about 16 % of the values fall below 0 and as many above 1, each then clipped to the end.
    const wide = addNoise(mid, { type: 'gaussian', std: 0.5 }, { seed: 6 }).images;
    let low = 0,
      high = 0;
    for (const x of wide) {
      expect(x >= 0 && x <= 1).toBe(true);
      if (x === 0) low++;
      if (x === 1) high++;
    }
    const p = 0.158655; // P(Z < −1)
    expect(Math.abs(low / total - p)).toBeLessThan(bound(p));
    expect(Math.abs(high / total - p)).toBeLessThan(bound(p));
  });

  it('the same seed gives the same images, another seed others; the labels are kept; a prefix is noised alike', () => {
    const labelled = ImageDataset.fromFloat32(clean.images, clean.shape, new Uint8Array(n).fill(2), 3);
    for (const noise of [
      { type: 'masking', fraction: 0.5 },
      { type: 'gaussian', std: 0.3 },
      { type: 'salt-pepper', fraction: 0.2 },
    ] as ImageNoise[]) {
      const a = addNoise(labelled, noise, { seed: 9 });
      expect(Array.from(a.images)).toEqual(Array.from(addNoise(labelled, noise, { seed: 9 }).images));
      expect(Array.from(a.images)).not.toEqual(Array.from(addNoise(labelled, noise, { seed: 10 }).images));
      expect(Array.from(a.labels!)).toEqual(Array.from(labelled.labels!));
      const first = addNoise(labelled.take(7), noise, { seed: 9 }).images;
      expect(Array.from(first)).toEqual(Array.from(a.images.subarray(0, 7 * size)));
    }
    // The default seed is 1.
    const m = { type: 'masking', fraction: 0.3 } as const;
    expect(Array.from(addNoise(clean, m).images)).toEqual(Array.from(addNoise(clean, m, { seed: 1 }).images));
  });

  it('refuses bad noise and seeds with ArgumentErrors naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [{ type: 'masking', fraction: 1.5 }, /noise\.fraction must be a number in \[0, 1\]/],
      [{ type: 'salt-pepper', fraction: Number.NaN }, /noise\.fraction/],
      [{ type: 'gaussian', std: -1 }, /noise\.std/],
      [{ type: 'gaussian', std: 1e9 }, /noise\.std/],
      [{ type: 'blur', fraction: 0.1 }, /noise\.type must be 'masking', 'gaussian' or 'salt-pepper'/],
      [null, /addNoise: noise must be/],
    ];
    for (const [noise, msg] of bad) {
      expect(() => addNoise(clean, noise as ImageNoise)).toThrow(ArgumentError);
      expect(() => addNoise(clean, noise as ImageNoise)).toThrow(msg);
    }
    expect(() => addNoise(clean, { type: 'masking', fraction: 0.1 }, { seed: 1.5 })).toThrow(/addNoise: seed/);
  });
});

describe('imageErrors and quantize', () => {
  it('MSE and PSNR per image as written out here; PSNR of an exact image is MAX_PSNR', () => {
    const a = Float32Array.from([0, 0.5, 1, 0.25, 0.1, 0.2, 0.3, 0.4]);
    const b = Float32Array.from([0.1, 0.5, 0.8, 0.25, 0.1, 0.2, 0.3, 0.4]);
    const e = imageErrors(a, b, 4);
    const mse0 = ((0.1 - 0) ** 2 + 0 + (0.8 - 1) ** 2 + 0) / 4;
    expect(e.mse[0]).toBeCloseTo(mse0, 7);
    expect(e.psnr[0]).toBeCloseTo(10 * Math.log10(1 / mse0), 4);
    expect(e.mse[1]).toBe(0);
    expect(e.psnr[1]).toBe(MAX_PSNR);
    expect(() => imageErrors(a, b.subarray(1), 4)).toThrow(ArgumentError);
  });

  it('quantize clamps to [0, 1] and rounds to the 1/255 grid', () => {
    const q = quantize(Float32Array.from([-0.5, 0, 0.5, 1.2, 100 / 255 + 0.4 / 255, 100 / 255 + 0.6 / 255]));
    expect(Array.from(q, (v) => Math.round(v * 255))).toEqual([0, 0, 128, 255, 100, 101]);
    expect(q[4]).toBe(Math.fround(100 / 255));
  });
});

describe('toPixels', () => {
  /** Each image's mean and √(variance + eps), written out here in float64. */
  function undo(values: Float32Array, read: ImageDataset): Float64Array {
    const out = new Float64Array(values.length);
    for (let i = 0; i < read.length; i++) {
      const img = read.images.subarray(i * size, (i + 1) * size);
      const m = img.reduce((s, v) => s + v, 0) / size;
      const sd = Math.sqrt(img.reduce((s, v) => s + (v - m) ** 2, 0) / size + CONTRAST_EPS);
      for (let t = 0; t < size; t++) out[i * size + t] = values[i * size + t]! * sd + m;
    }
    return out;
  }

  it('contrast: maps values back with each image’s own mean and spread (the identity on the normalised images)', () => {
    const input = { normalize: 'contrast' } as const;
    const back = toPixels(contrastNormalize(clean).images, clean, input);
    for (let i = 0; i < total; i++) expect(Math.abs(back[i]! - clean.images[i]!)).toBeLessThan(1e-5);
    // A "reconstruction" that is not the normalised image: the reference undo, value by value.
    const r = new Rng(2);
    const y = Float32Array.from({ length: total }, () => 2 * r.normal());
    const want = undo(y, clean);
    const got = toPixels(y, clean, input);
    for (let i = 0; i < total; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-5);
  });

  it('none: a copy; whiten: refused with an ArgumentError saying why; wrong lengths refused', () => {
    const y = clean.images.slice();
    const got = toPixels(y, clean, { normalize: 'none' });
    expect(got).not.toBe(y);
    expect(Array.from(got)).toEqual(Array.from(y));
    const whitened = {
      normalize: 'whiten',
      whitening: { channels: 3, window: 1, eps: 1, kernel: new Float32Array(9) },
    };
    expect(() => toPixels(y, clean, whitened as never)).toThrow(/toPixels: input was trained on whitened images/);
    expect(() => toPixels(y.subarray(1), clean, { normalize: 'none' })).toThrow(ArgumentError);
    expect(() => toPixels(y, clean, { normalize: 'other' } as never)).toThrow(ArgumentError);
  });
});
