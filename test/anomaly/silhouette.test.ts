/**
 * `silhouetteScore` and `chooseClusterCount`: the silhouette equals a value worked out by hand and Rousseeuw's
 * definition written here over every pair (lists of numbers, distances recomputed for each mean); a sample is the
 * silhouette of those codes alone; the choice of k finds the number of well-separated blobs, and each of its rows is
 * the silhouette of `clusterCodes`' clustering at that k; bad arguments are typed errors.
 */
import { describe, expect, it } from 'vitest';
import { clusterCodes } from '../../ts/anomaly/cluster.js';
import { chooseClusterCount } from '../../ts/anomaly/clustercount.js';
import { defaultSilhouetteSample, silhouetteScore } from '../../ts/anomaly/silhouette.js';
import { ArgumentError } from '../../ts/errors.js';
import { threadRunner } from '../../ts/train/runner.js';
import { Rng } from '../../ts/util/rng.js';
import { backendUnderTest } from '../util/backend.js';

/** Rousseeuw's silhouette as its paper defines it, in float64, every distance recomputed. */
function plainSilhouette(points: number[][], labels: number[]): number {
  const dist = (p: number[], q: number[]) => Math.sqrt(p.reduce((s, x, t) => s + (x - q[t]!) ** 2, 0));
  const clusters = [...new Set(labels)];
  let sum = 0;
  for (const [i, p] of points.entries()) {
    const meanTo = (c: number) => {
      const others = points.filter((_, j) => j !== i && labels[j] === c);
      return others.reduce((s, q) => s + dist(p, q), 0) / others.length;
    };
    if (labels.filter((l) => l === labels[i]).length === 1) continue; // alone: 0
    const a = meanTo(labels[i]!);
    const b = Math.min(...clusters.filter((c) => c !== labels[i]).map(meanTo));
    sum += (b - a) / Math.max(a, b);
  }
  return sum / points.length;
}

/** `n` codes of `dim` floats around `k` centres far apart on their own axes; class = blob (i % k). */
function blobs(n: number, dim: number, k: number, gap: number, seed = 5) {
  const rng = new Rng(seed);
  const vectors = new Float32Array(n * dim);
  for (let i = 0; i < n; i++)
    for (let t = 0; t < dim; t++) vectors[i * dim + t] = (t % k === i % k ? gap : 0) + rng.normal();
  return { vectors, n, dim };
}

const rows = (e: { vectors: Float32Array; n: number; dim: number }) =>
  Array.from({ length: e.n }, (_, i) => Array.from(e.vectors.subarray(i * e.dim, (i + 1) * e.dim)));

describe('silhouetteScore', () => {
  it('equals the value worked out by hand for two pairs on a line', () => {
    // Point 0: a = 1, b = (10 + 11)/2; point 1: a = 1, b = (9 + 10)/2; points 10 and 11 mirror them.
    const s = silhouetteScore({ vectors: Float32Array.of(0, 1, 10, 11), n: 4, dim: 1 }, [0, 0, 1, 1]);
    expect(s).toBeCloseTo((1 - 1 / 10.5 + (1 - 1 / 9.5)) / 2, 12);
  });

  it('equals the definition written out, singletons at 0, on random codes in several clusters', () => {
    const rng = new Rng(9);
    for (const [n, dim, k] of [
      [40, 3, 4],
      [25, 7, 2],
      [31, 1, 6],
    ] as const) {
      const codes = { vectors: Float32Array.from({ length: n * dim }, () => rng.normal()), n, dim };
      const labels = Array.from({ length: n }, () => rng.int(k));
      labels[n - 1] = k; // a cluster of one
      expect(silhouetteScore(codes, labels)).toBeCloseTo(plainSilhouette(rows(codes), labels), 10);
    }
  });

  it('a sample is the silhouette of the sampled codes alone, the same for the same seed', () => {
    const codes = blobs(300, 4, 3, 3);
    const labels = Array.from({ length: 300 }, (_, i) => i % 3);
    const s = silhouetteScore(codes, labels, { sample: 50, seed: 4 });
    expect(silhouetteScore(codes, labels, { sample: 50, seed: 4 })).toBe(s);
    expect(silhouetteScore(codes, labels, { sample: 50, seed: 5 })).not.toBe(s);
    const at = Array.from(new Rng(4).permutation(300).subarray(0, 50)).sort((x, y) => x - y);
    const picked = at.map((i) => rows(codes)[i]!);
    expect(s).toBeCloseTo(
      plainSilhouette(
        picked,
        at.map((i) => labels[i]!),
      ),
      10,
    );
    // A sample as large as the codes is all of them.
    expect(silhouetteScore(codes, labels, { sample: 300 })).toBeCloseTo(plainSilhouette(rows(codes), labels), 10);
    expect(defaultSilhouetteSample(10)).toBe(4000);
    expect(defaultSilhouetteSample(800)).toBe(1581);
  });

  it('bad arguments are typed errors', () => {
    const codes = blobs(10, 2, 2, 3);
    const two = Array.from({ length: 10 }, (_, i) => i % 2);
    const bad: [() => unknown, RegExp][] = [
      [() => silhouetteScore(codes, new Array(10).fill(0)), /fall in 1 cluster\(s\); a silhouette needs 2 to 9/],
      [
        () =>
          silhouetteScore(
            codes,
            Array.from({ length: 10 }, (_, i) => i),
          ),
        /fall in 10 cluster/,
      ],
      [() => silhouetteScore(codes, two.slice(1)), /one cluster per code \(10\), got 9/],
      [() => silhouetteScore(codes, two, { sample: 1 }), /sample must be an integer in \[2, 20000\]/],
      [() => silhouetteScore(codes, two, { seed: -1 }), /seed must be an integer/],
      [() => silhouetteScore(codes, two, { samples: 5 } as never), /samples/],
      [() => silhouetteScore({ ...codes, vectors: codes.vectors.map((x, i) => (i ? x : Number.NaN)) }, two), /codes/],
      [
        () =>
          silhouetteScore(
            codes,
            two.map((x) => x - 0.5),
          ),
        /assignments/,
      ],
    ];
    for (const [f, re] of bad) {
      expect(f).toThrow(ArgumentError);
      expect(f).toThrow(re);
    }
  });
});

describe('chooseClusterCount', () => {
  it('finds the number of well-separated blobs; each row is the silhouette of clusterCodes at that k', async () => {
    const be = await backendUnderTest();
    const runner = threadRunner(be);
    const codes = blobs(240, 6, 6, 8);
    const labels = Array.from({ length: 240 }, (_, i) => i % 6);
    const seen: number[] = [];
    const r = await chooseClusterCount(runner, codes, {
      ...{ from: 2, to: 9, seed: 3, restarts: 2, labels },
      onK: (row) => seen.push(row.k),
    });
    expect(r.k).toBe(6);
    expect(seen).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.clustering.scores!.nmi).toBe(1);
    for (const row of r.rows) {
      const c = await clusterCodes(runner, codes, { k: row.k, seed: 3, restarts: 2, labels });
      expect(row.inertia).toBe(c.inertia);
      expect(row.silhouette).toBeCloseTo(plainSilhouette(rows(codes), Array.from(c.assignments)), 10);
      expect(row.nmi).toBe(c.scores!.nmi);
      if (row.k === 6) expect(Array.from(r.clustering.assignments)).toEqual(Array.from(c.assignments));
    }
    expect(Math.max(...r.rows.map((x) => x.silhouette))).toBe(r.rows.find((x) => x.k === 6)!.silhouette);
  });

  it('bad ranges are typed errors, before any clustering', async () => {
    const be = await backendUnderTest();
    const runner = threadRunner(be);
    const codes = blobs(30, 2, 3, 5);
    const bad: [object, RegExp][] = [
      [{ from: 1, to: 5 }, /from must be an integer ≥ 2/],
      [{ from: 4, to: 4 }, /to must be an integer in \[5, 29\]/],
      [{ from: 2, to: 30 }, /to must be an integer in \[3, 29\]/],
      [{ from: 2, to: 10, sample: 6 }, /to must be an integer in \[3, 5\]/],
      [{ from: 2, to: 10, sample: 1 }, /sample must be an integer/],
      [{ from: 2, to: 10, onK: 3 }, /onK must be a function/],
      [{ from: 2, to: 10, k: 3 }, /\bk\b/],
    ];
    for (const [opts, re] of bad) {
      const p = chooseClusterCount(runner, codes, opts as never);
      await expect(p).rejects.toThrow(ArgumentError);
      await expect(chooseClusterCount(runner, codes, opts as never)).rejects.toThrow(re);
    }
    const many = blobs(300, 2, 3, 5);
    await expect(chooseClusterCount(runner, many, { from: 2, to: 52 })).rejects.toThrow(/at most 50 values of k/);
  });
});

describe('chooseClusterCount on degenerate codes', () => {
  it('a k whose sampled codes fall in one cluster gets no silhouette and is not chosen; all equal codes are refused', async () => {
    const runner = threadRunner(await backendUnderTest());
    // 49 codes near the origin and one far away: at k 2 the outlier is a cluster alone, which a sample of 10 of the
    // 50 misses for these seeds, and the silhouette of the sample is undefined there.
    const rng = new Rng(3);
    const vectors = Float32Array.from({ length: 100 }, () => rng.normal() * 0.01);
    vectors.set([1000, 1000]);
    const codes = { vectors, n: 50, dim: 2 };
    for (const seed of [1, 2, 3]) {
      const r = await chooseClusterCount(runner, codes, { from: 2, to: 5, sample: 10, seed, restarts: 1 });
      const two = await clusterCodes(runner, codes, { k: 2, seed, restarts: 1 });
      expect(Array.from(two.sizes).sort((x, y) => x - y)).toEqual([1, 49]);
      expect(r.rows[0]!.silhouette).toBeNaN();
      for (const row of r.rows.slice(1)) {
        const c = await clusterCodes(runner, codes, { k: row.k, seed, restarts: 1 });
        expect(row.silhouette).toBe(silhouetteScore(codes, c.assignments, { sample: 10, seed }));
      }
      const finite = r.rows.filter((x) => !Number.isNaN(x.silhouette));
      expect(r.k).toBe(finite.reduce((b, x) => (x.silhouette > b.silhouette ? x : b)).k);
    }
    const same = { vectors: new Float32Array(60).fill(0.5), n: 20, dim: 3 };
    const p = chooseClusterCount(runner, same, { from: 2, to: 5 });
    await expect(p).rejects.toThrow(ArgumentError);
    await expect(chooseClusterCount(runner, same, { from: 2, to: 5 })).rejects.toThrow(
      /^chooseClusterCount: codes are all equal \(20 copies of one code\): no clusters to choose between$/,
    );
  });

  it('reads each assignment once: a getter answering a second read differently changes nothing', () => {
    const codes = { vectors: Float32Array.of(0, 1, 10, 11), n: 4, dim: 1 };
    let reads = 0;
    const fickle = new Proxy([0, 0, 1, 1], {
      get: (t, key) => (key === '2' && ++reads > 1 ? 0 : Reflect.get(t, key)),
    });
    expect(silhouetteScore(codes, fickle)).toBe(silhouetteScore(codes, [0, 0, 1, 1]));
  });
});
