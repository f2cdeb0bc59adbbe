/**
 * Local ZCA whitening against independent facts: the eigen-decomposition
 * rebuilds its matrix with orthonormal vectors; on white noise of variance σ²
 * the filter is a centred delta of 1/(σ√(1 + eps)); on blurred (correlated)
 * noise, neighbouring pixels are decorrelated; `whiten` is the convolution
 * with replicated edges written out plainly; saved whitenings are checked.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ImageDataset } from '../../ts/data/dataset.js';
import { fitWhitening, symmetricEigen, whiten, whiteningOf } from '../../ts/data/whiten.js';
import { ArgumentError, DataError } from '../../ts/errors.js';
import { Rng } from '../../ts/util/rng.js';

const rng = new Rng(3);

describe('symmetricEigen', () => {
  it('V Λ Vᵀ rebuilds the matrix and VᵀV = I (random symmetric 1×1 … 30×30); a 2×2 by hand', () => {
    for (const D of [1, 2, 5, 30]) {
      const m = new Float64Array(D * D);
      for (let i = 0; i < D; i++) for (let j = i; j < D; j++) m[i * D + j] = m[j * D + i] = rng.normal();
      const { values, vectors: v } = symmetricEigen(m, D);
      for (let i = 0; i < D; i++)
        for (let j = 0; j < D; j++) {
          let a = 0,
            o = 0;
          for (let e = 0; e < D; e++) {
            a += v[i * D + e] * values[e] * v[j * D + e];
            o += v[e * D + i] * v[e * D + j];
          }
          expect(a).toBeCloseTo(m[i * D + j], 9);
          expect(o).toBeCloseTo(i === j ? 1 : 0, 9);
        }
    }
    // [[2, 1], [1, 2]]: eigenvalues 1 and 3.
    const { values } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect([...values].sort()).toEqual([expect.closeTo(1, 12), expect.closeTo(3, 12)]);
  });
});

/** n images [C, S, S] of N(0, σ²) noise, optionally box-blurred 3×3 (then neighbours correlate). */
function noise(n: number, C: number, S: number, sigma: number, blur: boolean): ImageDataset {
  const out = new Float32Array(n * C * S * S);
  const raw = new Float64Array((S + 2) * (S + 2));
  for (let i = 0; i < n; i++)
    for (let c = 0; c < C; c++) {
      for (let t = 0; t < raw.length; t++) raw[t] = sigma * rng.normal();
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++) {
          let v = raw[(y + 1) * (S + 2) + x + 1];
          if (blur) {
            v = 0;
            for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) v += raw[(y + dy) * (S + 2) + x + dx] / 3;
          }
          out[((i * C + c) * S + y) * S + x] = v;
        }
    }
  return ImageDataset.fromFloat32(out, [C, S, S]);
}

/** Correlation of horizontally adjacent pixels, away from the edges (2 pixels in). */
function neighbourCorrelation(d: ImageDataset): number {
  const [C, H, W] = d.shape;
  let sxy = 0,
    sxx = 0,
    syy = 0,
    sx = 0,
    sy = 0,
    n = 0;
  for (let i = 0; i < d.length; i++) {
    const img = d.image(i);
    for (let c = 0; c < C; c++)
      for (let y = 2; y < H - 2; y++)
        for (let x = 2; x < W - 3; x++) {
          const a = img[(c * H + y) * W + x],
            b = img[(c * H + y) * W + x + 1];
          sxy += a * b;
          sxx += a * a;
          syy += b * b;
          sx += a;
          sy += b;
          n++;
        }
  }
  const cov = sxy / n - (sx / n) * (sy / n);
  return cov / Math.sqrt((sxx / n - (sx / n) ** 2) * (syy / n - (sy / n) ** 2));
}

describe('fitWhitening / whiten', () => {
  it('white noise of variance σ²: the filter is a centred delta of 1/(σ√(1 + eps))', () => {
    const sigma = 0.5,
      eps = 0.1;
    const w = fitWhitening(noise(200, 3, 12, sigma, false), { window: 5, eps, samples: 40000 });
    expect([w.channels, w.window, w.eps]).toEqual([3, 5, eps]);
    const D = 3 * 25;
    for (let co = 0; co < 3; co++)
      for (let b = 0; b < D; b++) {
        const centre = b === co * 25 + 12;
        // Sampling noise of a 40 000-window covariance: off-centre taps ≈ 0 within a few 1/√40000.
        expect(Math.abs(w.kernel[co * D + b] - (centre ? 1 / (sigma * Math.sqrt(1 + eps)) : 0))).toBeLessThan(0.08);
      }
  });

  it('blurred noise: adjacent pixels correlate (≈ 2/3), and after whitening hardly at all', () => {
    const d = noise(120, 1, 20, 1, true);
    const before = neighbourCorrelation(d);
    expect(before).toBeGreaterThan(0.6);
    const w = fitWhitening(d, { window: 7, eps: 0.01, samples: 30000 });
    const after = neighbourCorrelation(whiten(d, w));
    expect(Math.abs(after)).toBeLessThan(0.1);
  });

  it('whiten is the [C, C, k, k] convolution with replicated edges, written out plainly', () => {
    const C = 3,
      H = 5,
      W = 6,
      k = 3;
    const d = ImageDataset.fromFloat32(
      Float32Array.from({ length: 2 * C * H * W }, () => rng.normal()),
      [C, H, W],
      [1, 0],
    );
    const w = {
      channels: C,
      window: k,
      eps: 0.1,
      kernel: Float32Array.from({ length: C * C * k * k }, () => rng.normal()),
    };
    const out = whiten(d, w);
    expect(Array.from(out.labels!)).toEqual([1, 0]);
    const at = (img: Float32Array, c: number, y: number, x: number) =>
      img[(c * H + Math.min(H - 1, Math.max(0, y))) * W + Math.min(W - 1, Math.max(0, x))];
    for (let i = 0; i < 2; i++) {
      const img = d.image(i),
        o = out.image(i);
      for (let co = 0; co < C; co++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) {
            let s = 0;
            for (let ci = 0; ci < C; ci++)
              for (let dy = -1; dy <= 1; dy++)
                for (let dx = -1; dx <= 1; dx++)
                  s += w.kernel[((co * C + ci) * k + dy + 1) * k + dx + 1] * at(img, ci, y + dy, x + dx);
            expect(o[(co * H + y) * W + x]).toBeCloseTo(s, 5);
          }
    }
  });

  it('bad options and bad saved whitenings are typed errors', () => {
    const d = noise(4, 3, 8, 1, false);
    for (const o of [{ window: 4 }, { window: 9 }, { window: 0 }, { eps: 0 }, { eps: Number.NaN }, { samples: 1 }])
      expect(() => fitWhitening(d, o)).toThrow(ArgumentError);
    expect(() => fitWhitening(ImageDataset.fromFloat32(new Float32Array(3 * 64), [3, 8, 8]), { window: 3 })).toThrow(
      DataError,
    );
    expect(() => whiten(noise(1, 1, 8, 1, false), fitWhitening(d, { window: 3, samples: 100 }))).toThrow(DataError);
    const good = { channels: 1, window: 3, eps: 0.1, kernel: Array.from({ length: 9 }, () => 0.5) };
    expect(whiteningOf(good, 'm.json').kernel).toEqual(Float32Array.from(good.kernel));
    for (const bad of [
      null,
      { ...good, channels: 2 },
      { ...good, window: 4 },
      { ...good, window: 17 },
      { ...good, eps: -1 },
      { ...good, kernel: good.kernel.slice(1) },
      { ...good, kernel: [...good.kernel.slice(1), 'x'] },
      { ...good, kernel: [...good.kernel.slice(1), null] },
      // Finite as a JSON number, infinite as the float32 the kernel is kept in.
      { ...good, kernel: [...good.kernel.slice(1), 1e39] },
    ])
      expect(() => whiteningOf(bad, 'm.json')).toThrow(/m\.json: whitening/);
  });
});

describe('fitWhitening: channels × window² and samples × the covariance', () => {
  const root = new URL('../..', import.meta.url).pathname;
  /** fitWhitening in a child process, killed after 8 s (the unchecked fits below take from 6 s to hours). */
  const fitInChild = (channels: number, window: number, samples: number): string => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'test/data/whiten-child.ts', String(channels), String(window), String(samples)],
      { cwd: root, encoding: 'utf8', timeout: 8000 },
    );
    return r.signal ? `killed (${r.signal})` : r.stdout.trim();
  };

  // Before: each bound alone (window ≤ 15, samples ≤ 10⁷) let these through: 5 channels of 15×15 took 6 s to
  // decompose with 2 samples, 64 channels asked for a 14 400² covariance (1.7 GB, hours), and 10⁷ samples of a
  // colour 15×15 window 2.3·10¹² multiply-adds (hours).
  it('a window of more than MAX_WHITENING_VALUES values, or too many samples of it, is refused at once', () => {
    expect(fitInChild(5, 15, 2)).toMatch(
      /^ArgumentError: fitWhitening: window 15 on 5 channels gives windows of 1125 values, more than 675 \(MAX_WHITENING_VALUES\)/,
    );
    expect(fitInChild(3, 15, 1e7)).toMatch(
      /^ArgumentError: fitWhitening: samples 10000000 of 675-value windows .* at most 37650 samples of this window$/,
    );
  }, 30_000);

  it('a window within the limits is fitted (1 channel, 15×15: 225 values)', () => {
    const grey = ImageDataset.fromFloat32(
      Float32Array.from({ length: 4 * 256 }, () => rng.next()),
      [1, 16, 16],
    );
    expect(fitWhitening(grey, { window: 15, samples: 2 }).kernel.length).toBe(225);
  });
});
