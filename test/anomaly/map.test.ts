/**
 * `mapCodes`: clusters of codes stay clusters in the map; the agreement it reports is a brute-force float64 count
 * written here, on the codes and on the map's points; the same seed gives the same map; bad arguments are typed
 * errors before anything runs.
 */
import { describe, expect, it } from 'vitest';
import { MAX_MAP_DIMS, MAX_MAP_NEIGHBOURS, mapCodes, neighbourAgreement } from '../../ts/anomaly/map.js';
import { ArgumentError } from '../../ts/errors.js';
import { threadRunner } from '../../ts/train/runner.js';
import { Rng } from '../../ts/util/rng.js';
import { bruteAgreement } from '../util/agreement.js';
import { backendUnderTest } from '../util/backend.js';

/** `n` codes of `dim` floats in three clusters (class = cluster), with a share of labels swapped to another class. */
function clusters(n: number, dim: number, swapped: number) {
  const rng = new Rng(3);
  const vectors = new Float32Array(n * dim);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    for (let t = 0; t < dim; t++) vectors[i * dim + t] = (t % 3 === c ? 4 : 0) + rng.normal();
    labels[i] = rng.next() < swapped ? (c + 1) % 3 : c;
  }
  return { codes: { vectors, n, dim }, labels };
}

describe('mapCodes', () => {
  it('three clusters: the agreement is the brute-force count in the codes and in the map; the map keeps them apart', async () => {
    const be = await backendUnderTest();
    const runner = threadRunner(be);
    const { codes, labels } = clusters(150, 12, 0.1);
    const m = await mapCodes(runner, codes, { neighbours: 10, labels });
    expect(m.points).toHaveLength(300);
    for (const v of m.points) expect(Number.isFinite(v)).toBe(true);
    // Float32 ranking against float64 here: a near tie at the k-th place may swap, 1/(10·150) each.
    expect(Math.abs(m.agreement!.codes - bruteAgreement(codes.vectors, 150, 12, labels, 10))).toBeLessThan(0.002);
    expect(Math.abs(m.agreement!.map - bruteAgreement(m.points, 150, 2, labels, 10))).toBeLessThan(0.002);
    // 10 % of labels swapped: about 0.8–0.9 agree, not 1 (a self-count would raise it) and not chance (1/3).
    expect(m.agreement!.codes).toBeGreaterThan(0.7);
    expect(m.agreement!.codes).toBeLessThan(0.95);
    // The clusters themselves (labels before swapping: i % 3) stay apart in the map.
    const truth = Uint8Array.from({ length: 150 }, (_, i) => i % 3);
    expect(bruteAgreement(m.points, 150, 2, truth, 10)).toBeGreaterThan(0.95);
  }, 60_000);

  it('dims 5: five floats per code, its agreement the brute-force count over five coordinates', async () => {
    const be = await backendUnderTest();
    const runner = threadRunner(be);
    const { codes, labels } = clusters(150, 12, 0.1);
    const m = await mapCodes(runner, codes, { neighbours: 10, labels, dims: 5 });
    expect(m.dims).toBe(5);
    expect(m.points).toHaveLength(750);
    expect(Math.abs(m.agreement!.map - bruteAgreement(m.points, 150, 5, labels, 10))).toBeLessThan(0.002);
    const truth = Uint8Array.from({ length: 150 }, (_, i) => i % 3);
    expect(bruteAgreement(m.points, 150, 5, truth, 10)).toBeGreaterThan(0.95);
  }, 60_000);

  it('the same seed gives the same map, another seed another; without labels no agreement', async () => {
    const be = await backendUnderTest();
    const runner = threadRunner(be);
    const { codes } = clusters(60, 6, 0);
    const [a, b, c] = await Promise.all([
      mapCodes(runner, codes, { neighbours: 5, seed: 4 }),
      mapCodes(runner, codes, { neighbours: 5, seed: 4 }),
      mapCodes(runner, codes, { neighbours: 5, seed: 5 }),
    ]);
    expect(a.agreement).toBeNull();
    expect(Array.from(a.points)).toEqual(Array.from(b.points));
    expect(Array.from(a.points)).not.toEqual(Array.from(c.points));
  }, 60_000);

  it('neighbourAgreement counts each query’s neighbours with its label', () => {
    // Query 0's neighbours 1, 2 (labels 0, 1) → ½; query 1's 0, 2 → ½; query 2's 0, 1 → 0.
    const near = { indices: Int32Array.from([1, 2, 0, 2, 0, 1]), distances: new Float32Array(6), k: 2 };
    expect(neighbourAgreement(near, [0, 0, 1])).toBeCloseTo((0.5 + 0.5 + 0) / 3, 12);
    // Neighbours that do not fit the labels: a number all the same (NaN for none, a share of the wrong images).
    for (const [bad, labels] of [
      [near, []],
      [near, [0, 0]],
      [near, [0, Number.NaN, 1]],
      [{ ...near, k: 0 }, [0, 0, 1]],
      [{ ...near, indices: Int32Array.from([1, 2, 0, 2, 0, 3]) }, [0, 0, 1]],
    ] as const)
      expect(() => neighbourAgreement(bad, labels), JSON.stringify(labels)).toThrow(ArgumentError);
  });

  it('bad arguments: ArgumentError before anything runs', async () => {
    const be = await backendUnderTest();
    const runner = threadRunner(be);
    const { codes, labels } = clusters(20, 4, 0);
    for (const opts of [
      { neighbours: 1 },
      { neighbours: MAX_MAP_NEIGHBOURS + 1 },
      { neighbours: 2.5 },
      { neighbours: 20 }, // 20 codes: at most 19
      { minDist: -0.1 },
      { minDist: Number.NaN },
      { minDist: '0.1' },
      { seed: -1 },
      { seed: 0.5 },
      { labels: labels.subarray(1) },
      { neighbors: 5 }, // umap-js's spelling: not silently the default 15
      { dims: 0 },
      { dims: MAX_MAP_DIMS + 1 },
      { dims: 2.5 },
      { labels: new Float32Array(20).fill(Number.NaN) }, // NaN ≠ NaN: agreement 0 among codes of one class
      { labels: Array.from(labels, (l) => l - 0.5) },
    ])
      await expect(mapCodes(runner, codes, opts as never), JSON.stringify(opts)).rejects.toThrow(ArgumentError);
    await expect(mapCodes(runner, null as never)).rejects.toThrow(ArgumentError);
    await expect(mapCodes(runner, codes, 5 as never)).rejects.toThrow(ArgumentError);
  });

  it('codes refused as mapCodes’ own argument, not as the runner’s search reference; seeds beyond 32 bits and codes beyond float32 distances refused', async () => {
    const be = await backendUnderTest();
    const runner = threadRunner(be);
    const { codes } = clusters(20, 4, 0);
    const nan = codes.vectors.slice();
    nan[9] = Number.NaN;
    const bad: [unknown, Record<string, unknown>, RegExp][] = [
      [{ ...codes, vectors: nan }, {}, /^mapCodes: codes vector 2, feature 1 is NaN/],
      [{ ...codes, vectors: codes.vectors.subarray(4) }, {}, /^mapCodes: codes holds 76 floats, not n·dim = 80/],
      [{ ...codes, vectors: Array.from(codes.vectors) }, {}, /^mapCodes: codes must be \{ vectors: Float32Array/],
      [{ ...codes, dim: 0 }, {}, /^mapCodes: codes must be/],
      // Rng reduces a seed modulo 2³²: 2³² would give the map of seed 0 under another name.
      [codes, { seed: 2 ** 32 }, /^mapCodes: seed must be an integer in \[0, 4294967295\], got 4294967296/],
    ];
    for (const [c, opts, re] of bad) {
      const e = await mapCodes(runner, c as never, { neighbours: 5, ...opts }).catch((x) => x);
      expect(e, String(re)).toBeInstanceOf(ArgumentError);
      expect((e as Error).message).toMatch(re);
    }
    // Codes whose float32 dot products overflow: refused, not searched into another code's neighbours (agreement
    // 0.46 of 1); codes a little smaller are searched as they are.
    const huge = await mapCodes(
      runner,
      { ...codes, vectors: codes.vectors.map((x) => x * 1e30) },
      { neighbours: 5 },
    ).catch((x) => x);
    expect(huge).toBeInstanceOf(ArgumentError);
    expect((huge as Error).message).toMatch(
      /^mapCodes: codes vector \d+ has squared length .* beyond the float32 distance search/,
    );
    const { codes: big, labels } = clusters(60, 4, 0.2);
    const scaled = big.vectors.map((x) => x * 1e17);
    const near = await mapCodes(runner, { ...big, vectors: scaled }, { neighbours: 5, labels });
    expect(near.agreement!.codes).toBeCloseTo(bruteAgreement(scaled, 60, 4, labels, 5), 6);
    // The largest seed is a seed like any other.
    const top = await mapCodes(runner, codes, { neighbours: 5, seed: 2 ** 32 - 1 });
    expect(top.points.every(Number.isFinite)).toBe(true);
  });
});
