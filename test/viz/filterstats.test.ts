/**
 * The filter statistics that back the README's description of learned
 * filters, on filters whose kind is known by construction: white noise,
 * oriented Gabor gratings and edges (any angle), isotropic Gaussian blobs,
 * grey and single-channel filters; hand-computed values on 2×2 cases.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../ts/util/rng.js';
import { filterStats, summariseFilterStats } from '../../ts/viz/filterstats.js';

const k = 7,
  C = 3,
  n = 100;
const rng = new Rng(11);
const make = (f: (c: number, y: number, x: number, i: number) => number) => {
  const w = new Float32Array(n * C * k * k);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < C; c++)
      for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) w[((i * C + c) * k + y) * k + x] = f(c, y - 3, x - 3, i);
  return w;
};
const angles = Array.from({ length: n }, () => rng.next() * Math.PI);
const gabor = (freq: number, phase: number) =>
  make(
    (_c, y, x, i) =>
      Math.exp(-(x * x + y * y) / 8) *
      Math.cos(2 * Math.PI * freq * (x * Math.cos(angles[i]) + y * Math.sin(angles[i])) + phase),
  );
const shape = [n, C, k, k] as const;
const kinds = (w: Float32Array) => summariseFilterStats(filterStats(w, shape));

describe('filterStats', () => {
  it('white noise: roughness ≈ 1, low coherence, none counted as an edge, blob or point', () => {
    const s = kinds(make(() => rng.normal()));
    expect(s.other).toBe(n);
    expect(s.roughness).toBeGreaterThan(0.85);
    expect(s.roughness).toBeLessThan(1.15);
    expect(s.coherence).toBeLessThan(0.2);
    // Independent channels: 2/3 of the energy is not common to them.
    expect(s.chroma).toBeGreaterThan(0.55);
    expect(s.chroma).toBeLessThan(0.75);
  });

  it('oriented gratings and edges at any angle are edges; grey, so no chroma', () => {
    for (const w of [gabor(0.15, 0), gabor(0.25, 0), gabor(0.12, Math.PI / 2)]) {
      const s = kinds(w);
      expect(s.edges).toBe(n);
      expect(s.coherence).toBeGreaterThan(0.7);
      expect(s.chroma).toBeLessThan(1e-12);
    }
  });

  it('thin lines (rough, but one orientation) are edges; single pixels are points', () => {
    const lines = kinds(
      make((c, y, x, i) => (Math.abs(x * Math.sin(angles[i]) - y * Math.cos(angles[i])) < 0.5 ? 1 + c : 0)),
    );
    expect(lines.edges).toBe(n);
    expect(lines.roughness).toBeGreaterThan(0.5);
    const dots = kinds(
      make((c, y, x, i) => (y === (i % 7) - 3 && x === ((3 * i) % 7) - 3 ? 1 + c : 0.05 * rng.normal())),
    );
    expect(dots.points).toBe(n);
  });

  it('isotropic blobs (colour-opponent) are blobs with full chroma', () => {
    const s = kinds(make((c, y, x) => (c === 0 ? 1 : -0.5) * Math.exp(-(x * x + y * y) / 6)));
    expect(s.blobs).toBe(n);
    expect(s.coherence).toBeLessThan(0.05);
    expect(s.roughness).toBeLessThan(0.15);
    expect(s.chroma).toBeCloseTo(1, 6);
    expect(s.colour).toBe(n);
  });

  it('hand-computed 2×2 cases: roughness, coherence, chroma and moved', () => {
    // One channel [[0, 1], [0, 1]]: differences (1, 1) across, (0, 0) down → mean 0.5 over 2·(2·1)/4 = 1 → 0.5;
    // gradient gx = 1, gy = 0: one orientation, coherence 1.
    const [a] = filterStats(Float32Array.from([0, 1, 0, 1]), [1, 1, 2, 2]);
    expect(a.roughness).toBeCloseTo(0.5, 12);
    expect(a.coherence).toBeCloseTo(1, 12);
    expect(a.chroma).toBe(0);
    // A checkerboard: every adjacent difference is 2 → roughness 4/2 = 2; gx = gy = 0 → coherence 0.
    const [b] = filterStats(Float32Array.from([1, -1, -1, 1]), [1, 1, 2, 2]);
    expect(b.roughness).toBeCloseTo(2, 12);
    expect(b.coherence).toBe(0);
    // Two channels, only the first nonzero: per pixel (v − v/2)² + (0 − v/2)² = v²/2 of v² → chroma ½.
    const [c] = filterStats(Float32Array.from([1, 2, 3, 4, 0, 0, 0, 0]), [1, 2, 2, 2]);
    expect(c.chroma).toBeCloseTo(0.5, 12);
    // moved: 0 for the same filter (or its negative), 1 for an orthogonal one.
    const w = Float32Array.from([1, 2, 3, 4]);
    expect(filterStats(w, [1, 1, 2, 2], w)[0].moved).toBeCloseTo(0, 12);
    expect(filterStats(w, [1, 1, 2, 2], Float32Array.from([-1, -2, -3, -4]))[0].moved).toBeCloseTo(0, 12);
    expect(filterStats(Float32Array.from([1, 0, 0, 0]), [1, 1, 2, 2], Float32Array.from([0, 1, 0, 0]))[0].moved).toBe(
      1,
    );
  });
});
