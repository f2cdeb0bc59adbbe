/**
 * encode at each depth equals the stack's own forward (block encoders run one
 * after the other on the whole set at once); the nearest neighbours equal a
 * brute-force f64 search; reconstruction scores equal the MSE of the blocks'
 * own decode path computed in f64.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { encode, nearestNeighbours, neighbourRows } from '../../ts/anomaly/embed.js';
import { knnAccuracy } from '../../ts/anomaly/probe.js';
import { neighbourScores, reconstructionScores } from '../../ts/anomaly/score.js';
import { ArgumentError } from '../../ts/errors.js';
import { threadRunner } from '../../ts/train/runner.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { StackedConvAutoencoder, type BlockSpec } from '../../ts/model/autoencoder.js';
import { Rng } from '../../ts/util/rng.js';
import { backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();
const blocks: BlockSpec[] = [
  { convs: [{ filters: 3, kernel: 3 }], activation: 'tanh', pool: { kernel: 2 } },
  {
    convs: [
      { filters: 4, kernel: 3, padding: 1 },
      { filters: 5, kernel: 2 },
    ],
    activation: 'relu',
    pool: null,
  },
];
const stack = new StackedConvAutoencoder(be, blocks, [1, 12, 12], 4);
afterAll(() => stack.dispose());
const rng = new Rng(9);
const n = 13;
const images = Float32Array.from({ length: n * 144 }, () => rng.next());
const data = ImageDataset.fromFloat32(images, [1, 12, 12]);

describe('encode({ depth })', () => {
  for (const depth of [0, 1, 2]) {
    it(`depth=${depth}, batches of 5 over 13 images: equals the blocks' encoders on the whole set`, () => {
      const e = encode(stack, data, { depth, batchSize: 5 });
      const x = be.fromArray([n, 1, 12, 12], images);
      let h = x;
      for (let k = 0; k < depth; k++) h = stack.blocks[k].encoder.forward(h, false);
      const want = h.toArray();
      x.dispose();
      const shape = depth === 0 ? [1, 12, 12] : stack.blocks[depth - 1].codeShape;
      expect(e.n).toBe(n);
      expect(e.dim).toBe(shape.reduce((a, b) => a * b, 1));
      expect(Array.from(e.vectors)).toEqual(Array.from(want));
    });
  }

  it('rejects a depth outside the stack and images of another shape', () => {
    expect(() => encode(stack, data, { depth: 3 })).toThrow(/depth/);
    expect(() => encode(stack, data, { depth: -1 })).toThrow(/depth/);
    const other = ImageDataset.fromFloat32(new Float32Array(2 * 100), [1, 10, 10]);
    expect(() => encode(stack, other)).toThrow(/\[1,12,12\]/);
  });
});

describe('nearestNeighbours', () => {
  const dim = 7;
  const ref = { vectors: Float32Array.from({ length: 40 * dim }, () => rng.next()), n: 40, dim };
  const query = { vectors: Float32Array.from({ length: 9 * dim }, () => rng.next()), n: 9, dim };
  const brute = (q: Float32Array, i: number, r: Float32Array, m: number, skip: number) =>
    Array.from({ length: m }, (_, j) => {
      let s = 0;
      for (let t = 0; t < dim; t++) s += (q[i * dim + t] - r[j * dim + t]) ** 2;
      return { j, d: Math.sqrt(s) };
    })
      .filter((o) => o.j !== skip)
      .sort((a, b) => a.d - b.d);

  it('k=3, batches of 4: the indices and distances of a brute-force search', () => {
    const nn = nearestNeighbours(be, ref, query, 3, { batchSize: 4 });
    for (let i = 0; i < 9; i++) {
      const want = brute(query.vectors, i, ref.vectors, 40, -1).slice(0, 3);
      expect(Array.from(nn.indices.subarray(i * 3, i * 3 + 3))).toEqual(want.map((o) => o.j));
      for (let p = 0; p < 3; p++) expect(nn.distances[i * 3 + p]).toBeCloseTo(want[p].d, 5);
    }
    const s = neighbourScores(be, ref, query, { k: 3 });
    for (let i = 0; i < 9; i++)
      expect(s[i]).toBeCloseTo((nn.distances[i * 3] + nn.distances[i * 3 + 1] + nn.distances[i * 3 + 2]) / 3, 6);
  });

  it('skipSelf leaves each vector out of its own neighbours', () => {
    const nn = nearestNeighbours(be, ref, ref, 2, { skipSelf: true });
    for (let i = 0; i < 40; i++) {
      const want = brute(ref.vectors, i, ref.vectors, 40, i).slice(0, 2);
      expect(Array.from(nn.indices.subarray(i * 2, i * 2 + 2))).toEqual(want.map((o) => o.j));
    }
  });

  it('an exact copy is at distance 0, and the others at their float64 distances, in 800 features of codes-like size', () => {
    // |q|² + |r|² − 2q·r in float32 cancels: a copy came out ≈ 0.005 away where the next vector was ≈ 6.7.
    const d = 800;
    const big = { vectors: Float32Array.from({ length: 30 * d }, () => 3 * rng.next()), n: 30, dim: d };
    const q = { vectors: big.vectors.slice(7 * d, 9 * d), n: 2, dim: d }; // copies of vectors 7 and 8
    const nn = nearestNeighbours(be, big, q, 4);
    for (let i = 0; i < 2; i++) {
      expect(nn.indices[i * 4]).toBe(7 + i);
      expect(nn.distances[i * 4]).toBe(0);
      for (let p = 1; p < 4; p++) {
        const j = nn.indices[i * 4 + p]!;
        let s = 0;
        for (let t = 0; t < d; t++) s += (q.vectors[i * d + t]! - big.vectors[j * d + t]!) ** 2;
        expect(nn.distances[i * 4 + p]).toBe(Math.fround(Math.sqrt(s)));
        expect(nn.distances[i * 4 + p]).toBeGreaterThanOrEqual(nn.distances[i * 4 + p - 1]!);
      }
    }
  });

  // The k of a float64 search ordered by (Σ(q − r)², index), as a user of `similar` expects them: written apart from
  // the library's bounds, so a wrong bound shows as a different index.
  const exactKnn = (r: Float32Array, m: number, q: Float32Array, i: number, d: number, k: number, skip = -1) =>
    Array.from({ length: m }, (_, j) => {
      let s = 0;
      for (let t = 0; t < d; t++) s += (q[i * d + t]! - r[j * d + t]!) ** 2;
      return { j, s };
    })
      .filter((o) => o.j !== skip)
      .sort((a, b) => a.s - b.s || a.j - b.j)
      .slice(0, k);

  const cases: [string, (t: number) => number, number][] = [
    // ‖q‖² ≈ 6e7 against squared distances of 1e-4: the float32 gemm's ranking is its rounding.
    ['far from the origin, a thousandth apart', (t) => 1000 + (t % 7) + 1e-3 * rng.next(), 64],
    // Every third vector a copy of another: exact ties at the k-th place go to the lower index.
    ['copies tying at every place', (t) => Math.floor(((Math.floor(t / 16) % 5) * 7 + (t % 16)) % 3), 16],
    // Squares beyond float32: the gemm's dot products overflow.
    ['codes of 1e30', (t) => (t % 5 === 0 ? 1e30 : 1) * rng.next(), 8],
    // Products that underflow float32 to 0.
    ['codes of 1e-30', () => 1e-30 * rng.next(), 8],
  ];
  for (const [name, value, d] of cases)
    it(`${name}: the k nearest of a float64 search, ties to the lower index, alone and on a runner`, async () => {
      const m = 60,
        nq = 12,
        k = 5;
      const all = Float32Array.from({ length: (m + nq) * d }, (_, t) => value(t));
      const r = { vectors: all.subarray(0, m * d), n: m, dim: d };
      const q = { vectors: all.slice(m * d), n: nq, dim: d };
      // A third of the queries are copies of reference vectors, so the nearest is at 0.
      for (let i = 0; i < nq; i += 3) q.vectors.set(r.vectors.subarray(i * 4 * d, (i * 4 + 1) * d), i * d);
      const check = (nn: { indices: Int32Array; distances: Float32Array }, self: boolean) => {
        const queries = self ? r : q;
        for (let i = 0; i < queries.n; i++) {
          const want = exactKnn(r.vectors, m, queries.vectors, i, d, k, self ? i : -1);
          expect(Array.from(nn.indices.subarray(i * k, (i + 1) * k)), `query ${i}`).toEqual(want.map((o) => o.j));
          expect(Array.from(nn.distances.subarray(i * k, (i + 1) * k))).toEqual(
            want.map((o) => Math.fround(Math.sqrt(o.s))),
          );
        }
      };
      check(nearestNeighbours(be, r, q, k, { batchSize: 5 }), false);
      check(nearestNeighbours(be, r, r, k, { skipSelf: true }), true);
      const runner = threadRunner(be);
      check(await runner.nearestNeighbours(r, q, k), false);
    });

  it('measures few rows in float64 when the vectors sit far from the origin with a small spread', () => {
    // Pixels of near-white scans: 0.9 ± 0.02 in 784 features. The gemm's error bound is relative to ‖q‖² + ‖r‖²; of the
    // vectors as given it was wider than every distance, and all 199 other rows of each query were measured (47 times
    // the time of the search at the origin); of the vectors minus their mean it is as tight as at the origin.
    const m = 200,
      d = 784,
      k = 5;
    const v = Float32Array.from({ length: m * d }, () => 0.9 + 0.02 * rng.normal());
    const counts = { measured: 0 };
    const nn = neighbourRows(be, { vectors: v, n: m, dim: d }, v, k, 0, 64, counts);
    for (let i = 0; i < m; i += 17) {
      const want = exactKnn(v, m, v, i, d, k, i);
      expect(Array.from(nn.indices.subarray(i * k, (i + 1) * k)), `query ${i}`).toEqual(want.map((o) => o.j));
    }
    // At least the k of each query; the few that can tie with them.
    expect(counts.measured).toBeGreaterThanOrEqual(m * k);
    expect(counts.measured / m).toBeLessThan(4 * k);
  });

  it('rejects k beyond the reference set and mismatched dimensions', () => {
    expect(() => nearestNeighbours(be, ref, query, 41)).toThrow(/k/);
    expect(() => nearestNeighbours(be, ref, { vectors: new Float32Array(6), n: 1, dim: 6 }, 1)).toThrow(/features/);
  });

  it('refuses a NaN or infinite value, naming it, on this thread and on a runner, and in knnAccuracy', async () => {
    const bad = (e: typeof ref, i: number, v: number) => {
      const vectors = e.vectors.slice();
      vectors[i] = v;
      return { ...e, vectors };
    };
    const nanRef = bad(ref, 3 * dim + 2, Number.NaN),
      infQuery = bad(query, 5 * dim, Number.NEGATIVE_INFINITY);
    const message = (arg: string, v: number, f: number, x: string) =>
      new RegExp(`nearestNeighbours: ${arg} vector ${v}, feature ${f} is ${x}: finite values needed`);
    expect(() => nearestNeighbours(be, nanRef, query, 2)).toThrow(message('reference', 3, 2, 'NaN'));
    expect(() => nearestNeighbours(be, ref, infQuery, 2)).toThrow(message('query', 5, 0, '-Infinity'));
    expect(() => nearestNeighbours(be, nanRef, nanRef, 2, { skipSelf: true })).toThrow(ArgumentError);
    const runner = threadRunner(be);
    await expect(runner.nearestNeighbours(nanRef, query, 2)).rejects.toThrow(ArgumentError);
    const labels = Array.from({ length: 40 }, (_, i) => i % 2),
      queryLabels = Array.from({ length: 9 }, (_, i) => i % 2);
    expect(() => knnAccuracy(be, ref, labels, infQuery, queryLabels, { k: 1, classes: 2 })).toThrow(/-Infinity/);
  });
});

describe('reconstructionScores', () => {
  for (const depth of [1, 2]) {
    it(`depth=${depth}: per-image MSE and per-pixel maps of the blocks' decode path, in f64`, () => {
      const r = reconstructionScores(stack, data, { depth, maps: true, batchSize: 6 });
      const x = be.fromArray([n, 1, 12, 12], images);
      let h = stack.encodeThrough(depth, x);
      for (let k = depth - 1; k >= 0; k--) h = stack.blocks[k].decode(h);
      const y = h.toArray();
      x.dispose();
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let t = i * 144; t < (i + 1) * 144; t++) {
          const e = (images[t] - y[t]) ** 2;
          s += e;
          expect(r.maps![t]).toBeCloseTo(e, 6);
        }
        expect(r.scores[i]).toBeCloseTo(s / 144, 7);
      }
    });
  }
});
