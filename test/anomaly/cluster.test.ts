/**
 * `clusterCodes` and `clusterScores`: the clusters equal a plain float64 Lloyd's written here from the same start
 * (k-means++ draws, and a given start that leaves a cluster empty); well-separated blobs are found exactly; the
 * scores equal formulas written here another way (pair counts, per-item sums, every one-to-one matching); the
 * same seed gives the same clusters in workers and on this thread; bad arguments are typed errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterCodes, MAX_CLUSTERS } from '../../ts/anomaly/cluster.js';
import { clusterScores } from '../../ts/anomaly/clusterscores.js';
import type { Backend } from '../../ts/backend/backend.js';
import { ArgumentError } from '../../ts/errors.js';
import { type Runner, threadRunner } from '../../ts/train/runner.js';
import { Rng } from '../../ts/util/rng.js';
import { createRunner } from '../../ts/worker/runner.js';
import { backendUnderTest } from '../util/backend.js';
import { bruteAccuracy, itemNmi, majorityPurity, pairCountAri } from '../util/clustering.js';

/** `n` codes of `dim` floats around `k` centres `gap` apart on their own axes, noise `noise`; class = blob (i % k). */
function blobs(n: number, dim: number, k: number, gap: number, noise: number, seed = 3) {
  const rng = new Rng(seed);
  const vectors = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % k;
    for (let t = 0; t < dim; t++) vectors[i * dim + t] = (t % k === i % k ? gap : 0) + noise * rng.normal();
  }
  return { codes: { vectors, n, dim }, labels };
}

/**
 * Lloyd's algorithm in float64, as its textbook states it, from `start`: assign each code to its nearest centre (ties
 * to the lower), stop when nothing changed, else move each centre to its mean. An empty cluster takes, in cluster
 * order, the code farthest from its centre (ties to the lower index) among those not moved yet whose cluster keeps
 * another: the rule `clusterCodes` documents.
 */
function plainLloyd(v: Float32Array, n: number, dim: number, k: number, start: Float32Array, most = 300) {
  let centres = Array.from({ length: k }, (_, c) => Array.from(start.subarray(c * dim, (c + 1) * dim)));
  let assign = new Array<number>(n).fill(-1);
  let dist = new Array<number>(n).fill(0);
  let iterations = 0;
  for (;;) {
    iterations++;
    const next = new Array<number>(n);
    const nd = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      let best = -1;
      let bd = Number.POSITIVE_INFINITY;
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let t = 0; t < dim; t++) s += (v[i * dim + t]! - centres[c]![t]!) ** 2;
        if (s < bd) [best, bd] = [c, s];
      }
      next[i] = best;
      nd[i] = Math.sqrt(bd);
    }
    const same = next.every((c, i) => c === assign[i]);
    [assign, dist] = [next, nd];
    if (same || iterations >= most) break;
    const member = [...assign];
    const count = (c: number) => member.filter((m) => m === c).length;
    const moved = new Set<number>();
    for (let c = 0; c < k; c++) {
      if (count(c) > 0) continue;
      const order = [...member.keys()].sort((a, b) => dist[b]! - dist[a]! || a - b);
      const i = order.find((j) => !moved.has(j) && count(member[j]!) >= 2)!;
      member[i] = c;
      moved.add(i);
    }
    centres = centres.map((old, c) => {
      const mine = member.flatMap((m, i) => (m === c ? [i] : []));
      return old.map((_, t) => mine.reduce((s, i) => s + v[i * dim + t]!, 0) / mine.length);
    });
  }
  const inertia = dist.reduce((s, d) => s + d * d, 0);
  return { assign, centres, dist, iterations, inertia };
}

/** The same partition up to the clusters' names. */
function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((ab.get(a[i]!) ?? b[i]) !== b[i] || (ba.get(b[i]!) ?? a[i]) !== a[i]) return false;
    ab.set(a[i]!, b[i]!);
    ba.set(b[i]!, a[i]!);
  }
  return true;
}

describe('clusterCodes', () => {
  let be: Backend;
  let here: Runner;
  let workers: Runner;
  beforeAll(async () => {
    be = await backendUnderTest();
    here = threadRunner(be);
    workers = await createRunner(be, { workers: 2 });
  }, 60_000);
  afterAll(() => workers?.dispose());

  it('equals a plain float64 Lloyd’s from the same k-means++ start, step for step', async () => {
    // Blobs that overlap: several steps, codes on the borders.
    const { codes, labels } = blobs(300, 6, 4, 3, 1.2);
    for (const restarts of [1, 3]) {
      const r = await clusterCodes(here, codes, { k: 4, seed: 7, restarts, labels });
      const ref = plainLloyd(codes.vectors, 300, 6, 4, r.start);
      expect(ref.iterations).toBeGreaterThan(3);
      expect(r.converged).toBe(true);
      expect(r.iterations).toBe(ref.iterations);
      expect(Array.from(r.assignments)).toEqual(ref.assign);
      for (let c = 0; c < 4; c++)
        for (let t = 0; t < 6; t++) expect(r.centroids[c * 6 + t]).toBeCloseTo(ref.centres[c]![t]!, 5);
      for (let i = 0; i < 300; i++) expect(r.distances[i]).toBeCloseTo(ref.dist[i]!, 4);
      expect(r.inertia / ref.inertia).toBeCloseTo(1, 6);
      expect(Array.from(r.sizes)).toEqual([0, 1, 2, 3].map((c) => ref.assign.filter((a) => a === c).length));
      // k-means++ draws codes: each start row is one of the codes.
      for (let c = 0; c < 4; c++) {
        const row = Array.from(r.start.subarray(c * 6, c * 6 + 6));
        expect(
          Array.from({ length: 300 }, (_, i) => Array.from(codes.vectors.subarray(i * 6, i * 6 + 6))).some(
            (x) => x.join() === row.join(),
          ),
        ).toBe(true);
      }
      expect(r.scores!.accuracy).toBeGreaterThan(0.6);
    }
  }, 60_000);

  it('the best of several starts has the least inertia; the same seed the same clusters, another seed its own', async () => {
    const { codes } = blobs(240, 5, 6, 2, 1.5);
    const [one, four, again, other] = await Promise.all([
      clusterCodes(here, codes, { k: 6, seed: 2, restarts: 1 }),
      clusterCodes(here, codes, { k: 6, seed: 2, restarts: 4 }),
      clusterCodes(here, codes, { k: 6, seed: 2, restarts: 4 }),
      clusterCodes(here, codes, { k: 6, seed: 3, restarts: 1 }),
    ]);
    expect(four.inertia).toBeLessThanOrEqual(one.inertia);
    expect(Array.from(again.assignments)).toEqual(Array.from(four.assignments));
    expect(Array.from(again.centroids)).toEqual(Array.from(four.centroids));
    expect(Array.from(other.start)).not.toEqual(Array.from(one.start));
    expect(four.scores).toBeNull();
  }, 60_000);

  it('well-separated blobs are found exactly: every score 1', async () => {
    const { codes, labels } = blobs(500, 10, 5, 20, 1);
    const r = await clusterCodes(here, codes, { k: 5, labels });
    expect(samePartition(r.assignments, labels)).toBe(true);
    expect(r.scores).toEqual({ accuracy: 1, nmi: 1, ari: 1, purity: 1 });
    expect(Array.from(r.sizes)).toEqual([100, 100, 100, 100, 100]);
  }, 60_000);

  it('the same clusters in 2 workers and on this thread (workers: 0)', async () => {
    // More codes than one gemm batch (256), so the workers split them.
    const { codes, labels } = blobs(1200, 16, 8, 2.5, 1.3);
    const zero = await createRunner(be, { workers: 0 });
    const [w, t] = await Promise.all([
      clusterCodes(workers, codes, { k: 8, seed: 5, restarts: 2, labels }),
      clusterCodes(zero, codes, { k: 8, seed: 5, restarts: 2, labels }),
    ]);
    expect(Array.from(w.assignments)).toEqual(Array.from(t.assignments));
    expect(Array.from(w.centroids)).toEqual(Array.from(t.centroids));
    expect(Array.from(w.distances)).toEqual(Array.from(t.distances));
    expect([w.inertia, w.iterations, w.scores]).toEqual([t.inertia, t.iterations, t.scores]);
  }, 60_000);

  it('a cluster left empty takes the code farthest from its centre, as the plain Lloyd’s here does', async () => {
    // Three blobs in 2-D; the third start is far from every code, so no code chooses it at the first step.
    const n = 90;
    const rng = new Rng(11);
    const vectors = new Float32Array(2 * n);
    const centres = [
      [0, 0],
      [10, 0],
      [0, 10],
    ];
    for (let i = 0; i < n; i++) for (const t of [0, 1]) vectors[2 * i + t] = centres[i % 3]![t]! + rng.normal();
    const start = Float32Array.from([0, 0, 10, 0, 1000, 1000]);
    const r = await clusterCodes(here, { vectors, n, dim: 2 }, { k: 3, start });
    const ref = plainLloyd(vectors, n, 2, 3, start);
    expect(Array.from(r.start)).toEqual(Array.from(start));
    expect(Array.from(r.assignments)).toEqual(ref.assign);
    expect(r.iterations).toBe(ref.iterations);
    for (let c = 0; c < 3; c++)
      for (const t of [0, 1]) expect(r.centroids[2 * c + t]).toBeCloseTo(ref.centres[c]![t]!, 4);
    // The empty cluster was re-seeded inside the blob at (0, 10), the farthest from both other starts.
    expect(
      samePartition(
        r.assignments,
        Int32Array.from({ length: n }, (_, i) => i % 3),
      ),
    ).toBe(true);
    expect(r.assignments[2]).toBe(2);
    // Without the re-seeding the far centre would keep no code: k − 1 clusters.
    expect(Math.min(...r.sizes)).toBe(30);
  }, 60_000);

  it('far from the origin, where the float32 gemm cancels, each code still goes to its nearest centroid in float64', async () => {
    // ‖q‖² ≈ 8·10⁶ here: float32's ‖q‖² + ‖c‖² − 2q·c is off by about 1, the two centroids' squared distances differ
    // by 0.1 or less.
    const [n, dim] = [400, 8];
    const rng = new Rng(13);
    const vectors = Float32Array.from({ length: n * dim }, () => 1000 + 0.1 * rng.normal());
    const start = Float32Array.from({ length: 2 * dim }, (_, j) => 1000 + (j === 0 ? 0.05 : j === dim ? -0.05 : 0));
    const r = await clusterCodes(here, { vectors, n, dim }, { k: 2, start, maxIterations: 1 });
    const ref = plainLloyd(vectors, n, dim, 2, start, 1);
    expect(r.iterations).toBe(1);
    expect(Array.from(r.assignments)).toEqual(ref.assign);
    for (let i = 0; i < n; i++) expect(r.distances[i]).toBeCloseTo(ref.dist[i]!, 5);
  });

  it('far from the origin with three centroids, and in 2 workers, each code goes to its float64-nearest of all k', async () => {
    // Three centroids 0.05 off 1000 along their own axes: float32's gemm ranks the three by noise, and the nearest
    // was often not among the two it handed on (a third of the codes went elsewhere).
    const [n, dim, k] = [400, 8, 3];
    const rng = new Rng(13);
    const vectors = Float32Array.from({ length: n * dim }, () => 1000 + 0.1 * rng.normal());
    const start = Float32Array.from({ length: k * dim }, (_, j) => 1000 + (j % dim === Math.floor(j / dim) ? 0.05 : 0));
    const ref = plainLloyd(vectors, n, dim, k, start, 1);
    for (const runner of [here, workers]) {
      const r = await clusterCodes(runner, { vectors, n, dim }, { k, start, maxIterations: 1 });
      expect(Array.from(r.assignments)).toEqual(ref.assign);
      for (let i = 0; i < n; i++) expect(r.distances[i]).toBeCloseTo(ref.dist[i]!, 5);
    }
  }, 60_000);

  it('codes near float32’s largest, where the gemm’s dot products overflow: the plain float64 Lloyd’s clusters', async () => {
    // ‖q‖² ≈ 1e61 is beyond float32: the gemm handed on arbitrary centroids, or index −1 ("assignments holds -1").
    const { codes, labels } = blobs(90, 4, 3, 5, 1);
    const vectors = codes.vectors.map((x) => x * 1e30);
    for (const k of [2, 3]) {
      const r = await clusterCodes(here, { vectors, n: 90, dim: 4 }, { k, seed: 4, restarts: 1, labels });
      const ref = plainLloyd(vectors, 90, 4, k, r.start);
      expect(Array.from(r.assignments), `k ${k}`).toEqual(ref.assign);
      expect(r.iterations).toBe(ref.iterations);
      for (let i = 0; i < 90; i++) expect(r.distances[i]! / ref.dist[i]!).toBeCloseTo(1, 5);
    }
  }, 60_000);

  it('equal centroids tie to the lower cluster, whatever the gemm’s rounding of each', async () => {
    // Every code and centroid the same vector: all distances 0, so every code belongs to cluster 0 (the documented
    // tie rule, and the plain Lloyd’s). Several widths, as the gemm rounds columns differently by their position.
    for (const dim of [3, 17, 100, 131]) {
      const row = Float32Array.from({ length: dim }, (_, t) => 0.1 + ((t * 0.37) % 1.3));
      const n = 30;
      const vectors = new Float32Array(n * dim);
      for (let i = 0; i < n; i++) vectors.set(row, i * dim);
      const start = new Float32Array(4 * dim);
      for (let c = 0; c < 4; c++) start.set(row, c * dim);
      const ref = plainLloyd(vectors, n, dim, 4, start, 1);
      const r = await clusterCodes(here, { vectors, n, dim }, { k: 4, start, maxIterations: 1 });
      expect(Array.from(r.assignments), `dim ${dim}`).toEqual(ref.assign);
      expect(Array.from(r.sizes)).toEqual([n, 0, 0, 0]);
    }
  }, 60_000);

  it('fewer distinct codes than clusters: every code on its centre, an empty cluster, no NaN', async () => {
    const vectors = Float32Array.from({ length: 20 }, (_, i) => (i < 10 ? 1 : 5));
    const r = await clusterCodes(here, { vectors, n: 20, dim: 1 }, { k: 3 });
    expect(r.inertia).toBe(0);
    expect(Array.from(r.sizes).sort()).toEqual([0, 10, 10]);
    for (const v of r.centroids) expect(Number.isFinite(v)).toBe(true);
  }, 60_000);

  it('bad options are typed errors naming the option, before anything runs', async () => {
    const { codes, labels } = blobs(30, 3, 3, 5, 1);
    const bad: [unknown, RegExp][] = [
      [{ k: 1 }, /k must be an integer in \[2, 200\]/],
      [{ k: MAX_CLUSTERS + 1 }, /k must be an integer/],
      [{ k: 2.5 }, /k must be an integer/],
      [{}, /k must be an integer/],
      [{ k: 31 }, /k must be at most the number of codes \(30\), got 31/],
      [{ k: 3, seed: -1 }, /seed must be an integer/],
      [{ k: 3, restarts: 0 }, /restarts must be an integer in \[1, 100\]/],
      [{ k: 3, maxIterations: Number.NaN }, /maxIterations must be an integer/],
      [{ k: 3, clusters: 3 }, /unknown field "clusters"/],
      [{ k: 3, labels: labels.slice(1) }, /labels must hold one class per code \(30\), got 29/],
      [{ k: 3, labels: Float32Array.from(labels, (l, i) => (i === 4 ? Number.NaN : l)) }, /labels holds NaN at 4/],
      [{ k: 3, labels: Int32Array.from(labels, (l, i) => (i === 2 ? -1 : l)) }, /labels holds -1 at 2/],
      [{ k: 3, start: new Float32Array(8) }, /start must be a Float32Array of k·dim = 9 floats/],
      [{ k: 3, start: new Float32Array(9), restarts: 2 }, /restarts must be 1 with start/],
      [{ k: 3, start: new Float32Array(9).fill(Number.NaN) }, /start vector 0, feature 0 is NaN/],
    ];
    for (const [opts, re] of bad) {
      const e = await clusterCodes(here, codes, opts as never).catch((x) => x);
      expect(e, JSON.stringify(opts)).toBeInstanceOf(ArgumentError);
      expect((e as Error).message, String(re)).toMatch(re);
      expect((e as Error).message.length).toBeLessThan(400);
    }
    const nan = codes.vectors.slice();
    nan[7] = Number.POSITIVE_INFINITY;
    await expect(clusterCodes(here, { ...codes, vectors: nan }, { k: 2 })).rejects.toThrow(
      /codes vector 2, feature 1 is Infinity/,
    );
    await expect(clusterCodes(here, { ...codes, n: 31 }, { k: 2 })).rejects.toThrow(ArgumentError);
    await expect(clusterCodes(here, codes, 'k=3' as never)).rejects.toThrow(/options must be an object/);
  });
});

describe('clusterScores', () => {
  it('equals pair counts, per-item sums and the best of every matching, for more, fewer and as many clusters as classes', () => {
    const rng = new Rng(5);
    for (const [clusters, classes] of [
      [4, 4],
      [5, 3],
      [2, 6],
    ] as const) {
      const n = 150;
      // Related, not equal: a cluster follows its class two times in three.
      const v = Int32Array.from({ length: n }, () => rng.int(classes));
      const u = Int32Array.from(v, (c) => (rng.next() < 0.66 ? c % clusters : rng.int(clusters)) * 7 + 3);
      const s = clusterScores(u, v);
      expect(s.ari).toBeCloseTo(pairCountAri(u, v), 12);
      expect(s.nmi).toBeCloseTo(itemNmi(u, v), 12);
      expect(s.accuracy).toBeCloseTo(bruteAccuracy(u, v), 12);
      expect(s.purity).toBeCloseTo(majorityPurity(u, v), 12);
      expect(s.ari).toBeGreaterThan(0.05);
      expect(s.accuracy).toBeLessThan(1);
    }
  });

  it('known values: a split class (scikit-learn’s documented ARI 0.5714…), a renamed partition, one cluster', () => {
    const s = clusterScores([0, 0, 1, 2], [0, 0, 1, 1]);
    expect(s.ari).toBeCloseTo(4 / 7, 12);
    // V refines U: I = H(U) = ln 2, H(V) = 1.5 ln 2 → 2 ln 2 / 2.5 ln 2.
    expect(s.nmi).toBeCloseTo(0.8, 12);
    // Three clusters, two classes: one cluster stays unmatched.
    expect(s.accuracy).toBe(0.75);
    expect(s.purity).toBe(1);
    expect(clusterScores([5, 5, 9, 2, 2], [0, 0, 1, 2, 2])).toEqual({ accuracy: 1, nmi: 1, ari: 1, purity: 1 });
    const one = clusterScores([3, 3, 3, 3], [0, 1, 0, 1]);
    expect([one.nmi, one.ari, one.accuracy, one.purity]).toEqual([0, 0, 0.5, 0.5]);
    expect(clusterScores([1, 1], [4, 4])).toEqual({ accuracy: 1, nmi: 1, ari: 1, purity: 1 });
  });

  it('typed errors: lengths, NaN, negative, too many distinct values', () => {
    expect(() => clusterScores([0, 1], [0])).toThrow(/labels must hold one class per item \(2\), got 1/);
    expect(() => clusterScores([0, Number.NaN], [0, 1])).toThrow(ArgumentError);
    expect(() => clusterScores([0, 1], [0, -2])).toThrow(/labels holds -2 at 1/);
    expect(() => clusterScores([], [])).toThrow(/assignments must hold one integer per item/);
    const many = Int32Array.from({ length: 1001 }, (_, i) => i);
    expect(() => clusterScores(many, new Int32Array(1001))).toThrow(/more than 1000 distinct values/);
  });

  it('equal partitions under other names score exactly 1, and no score of other partitions exceeds 1', () => {
    // NMI ≤ 1 and ARI ≤ 1, equal only for the same partition: the scores' sums rounded to 1.0000000000000004.
    const rng = new Rng(1);
    for (let t = 0; t < 2000; t++) {
      const [n, g] = [2 + rng.int(300), 1 + rng.int(20)];
      const a = Array.from({ length: n }, () => rng.int(g));
      const renamed = Int32Array.from(a, (x) => (x * 7 + 3) % 1000);
      expect(clusterScores(a, renamed), `${n} items, ${g} groups`).toEqual({ accuracy: 1, nmi: 1, ari: 1, purity: 1 });
      const other = a.map((x, i) => (i % 5 === 0 ? rng.int(g) : x));
      for (const v of Object.values(clusterScores(a, other))) expect(v).toBeLessThanOrEqual(1);
    }
  });

  it('an array-like claiming more items than it holds is an ArgumentError at its first missing item, not a RangeError', () => {
    for (const length of [2 ** 33, 2 ** 53, 1e300]) {
      const e = (() => {
        try {
          clusterScores({ length } as ArrayLike<number>, [0]);
        } catch (x) {
          return x;
        }
      })();
      expect(e, String(length)).toBeInstanceOf(ArgumentError);
      expect((e as Error).message).toMatch(/^clusterScores: assignments holds undefined at 0/);
    }
  });
});
