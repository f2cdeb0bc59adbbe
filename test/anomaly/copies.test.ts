/**
 * Exact copies among codes: `codeCopies` groups rows as a pairwise float comparison written here does (0 and −0
 * alike); the map of codes with copies is the map of their distinct codes, each copy at its original's point, bit for
 * bit, and its agreement the brute-force count over every code; `mapCodes` and `chooseClusterCount` count distinct
 * codes where they counted codes, refusing before any work.
 */
import { describe, expect, it } from 'vitest';
import { chooseClusterCount } from '../../ts/anomaly/clustercount.js';
import { type Copies, codeCopies, findCopies } from '../../ts/anomaly/copies.js';
import { mapCodes } from '../../ts/anomaly/map.js';
import { ArgumentError } from '../../ts/errors.js';
import { threadRunner } from '../../ts/train/runner.js';
import { Rng } from '../../ts/util/rng.js';
import { bruteAgreement } from '../util/agreement.js';
import { backendUnderTest } from '../util/backend.js';

/**
 * `distinct` codes of `dim` floats in three blobs (class = blob), and a list of `n` of them: each distinct code first
 * in its order, copies of earlier ones (drawn by `seed`) between them, some written with −0 for 0. `from[i]` is the
 * distinct code row i copies.
 */
function withCopies(distinct: number, n: number, dim: number, seed: number) {
  const rng = new Rng(seed);
  const base = new Float32Array(distinct * dim);
  for (let i = 0; i < distinct; i++)
    for (let t = 0; t < dim; t++) base[i * dim + t] = t === 0 ? 0 : (t % 3 === i % 3 ? 4 : 0) + rng.normal();
  const from: number[] = [];
  let next = 0;
  while (from.length < n)
    from.push(next < distinct && (next === 0 || rng.next() < distinct / n) ? next++ : rng.int(Math.max(1, next)));
  if (next < distinct) throw new Error('test set-up: not every distinct code placed');
  const vectors = new Float32Array(n * dim);
  for (const [i, d] of from.entries()) {
    vectors.set(base.subarray(d * dim, (d + 1) * dim), i * dim);
    if (i % 2) vectors[i * dim] = -0; // column 0 is 0 in every code: −0 in some copies
  }
  const labels = Uint8Array.from(from, (d) => d % 3);
  return { distinct: { vectors: base, n: distinct, dim }, codes: { vectors, n, dim }, from, labels };
}

/**
 * Expects `c` to group the rows of `vectors` as a pairwise float comparison does (0 and −0 alike, NaN never equal),
 * numbered by first appearance; the number of distinct rows.
 */
function pairwiseCopies(c: Copies, vectors: Float32Array, dim: number): number {
  const n = vectors.length / dim;
  const same = (i: number, j: number) => {
    for (let t = 0; t < dim; t++) if (vectors[i * dim + t] !== vectors[j * dim + t]) return false;
    return true;
  };
  const first: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = first.findIndex((f) => same(f, i));
    if (j < 0) first.push(i);
    expect(c.of[i]).toBe(j < 0 ? first.length - 1 : j);
  }
  expect(Array.from(c.first)).toEqual(first);
  return first.length;
}

describe('exact copies of codes', () => {
  it('codeCopies groups the rows as a pairwise comparison does, numbered by first appearance; 0 and −0 alike', () => {
    const rng = new Rng(4);
    const n = 400;
    const alphabet = [0, -0, 1, 2.5];
    const vectors = Float32Array.from({ length: n * 3 }, () => alphabet[rng.int(4)]!);
    const c = codeCopies({ vectors, n, dim: 3 });
    expect(pairwiseCopies(c, vectors, 3)).toBe(27); // three values as floats, three places: −0 is 0 // three values as floats, three places: −0 is 0
  });

  it('rows made to share one hash (a multicollision of FNV-1a, in pixel values) cost n log n row reads, not n²', () => {
    // Joux: for each block of three pixels, two triples that take the hash's state to one state; any choice of one of
    // each pair then ends at one hash. 10 blocks: 1 024 distinct rows of one hash.
    const px = Array.from({ length: 256 }, (_, k) => Math.fround(k / 255));
    const bits = new Uint32Array(1),
      f = new Float32Array(bits.buffer);
    const step = (h: number, x: number) => {
      f[0] = x;
      const b = bits[0] === 0x80000000 ? 0 : bits[0]!;
      return Math.imul(Math.imul(h ^ (b & 0xffff), 0x01000193) ^ (b >>> 16), 0x01000193);
    };
    const blocks = 10,
      dim = 3 * blocks + 4;
    const pairs: number[][][] = [];
    let state = 0x811c9dc5;
    for (let k = 0; k < blocks; k++) {
      const seen = new Map<number, number[]>();
      for (let a = 0; ; a++) {
        const triple = [px[a & 255]!, px[(a >> 8) & 255]!, px[(a >> 16) & 255]!];
        const s = triple.reduce(step, state) >>> 0;
        const other = seen.get(s);
        if (other) {
          pairs.push([other, triple]);
          state = s;
          break;
        }
        seen.set(s, triple);
      }
    }
    const distinct = 1 << blocks;
    const rng = new Rng(7);
    // The distinct rows, then copies of some (0 written −0), then two rows with NaN, copies of one another but never
    // equal as floats.
    const n = distinct + 200 + 2;
    const vectors = new Float32Array(n * dim);
    for (let i = 0; i < distinct; i++)
      for (let k = 0; k < blocks; k++) vectors.set(pairs[k]![(i >> k) & 1]!, i * dim + 3 * k);
    for (let i = distinct; i < distinct + 200; i++) {
      const j = rng.int(distinct);
      for (let t = 0; t < dim; t++) vectors[i * dim + t] = vectors[j * dim + t] === 0 ? -0 : vectors[j * dim + t]!;
    }
    vectors[(n - 2) * dim] = Number.NaN;
    vectors[(n - 1) * dim] = Number.NaN;
    const rowOf = (i: number) => vectors.subarray(i * dim, (i + 1) * dim);
    let reads = 0;
    const c = findCopies(n, dim, (i) => {
      reads++;
      return rowOf(i);
    });
    // Every distinct row the same hash: the chains of one hash were n²/2 reads (over 500 000 here).
    expect(reads).toBeLessThan(4 * n * Math.log2(n));
    expect(pairwiseCopies(c, vectors, dim)).toBe(distinct + 2);
  });

  for (const dims of [2, 3])
    it(`the map of codes with copies is the map of the distinct codes, each copy at its original's point (dims ${dims})`, async () => {
      const runner = threadRunner(await backendUnderTest());
      const { distinct, codes, from, labels } = withCopies(60, 200, 8, dims);
      const opts = { neighbours: 10, seed: 5, dims };
      const m = await mapCodes(runner, codes, { ...opts, labels });
      const ref = await mapCodes(runner, distinct, opts);
      for (const [i, d] of from.entries())
        expect(Array.from(m.points.subarray(i * dims, (i + 1) * dims)), `code ${i}`).toEqual(
          Array.from(ref.points.subarray(d * dims, (d + 1) * dims)),
        );
      // The agreement is over every code, copies counted (a copy's nearest others are its copies first).
      expect(Math.abs(m.agreement!.codes - bruteAgreement(codes.vectors, 200, 8, labels, 10))).toBeLessThan(0.002);
      expect(Math.abs(m.agreement!.map - bruteAgreement(m.points, 200, dims, labels, 10))).toBeLessThan(0.002);
    }, 60_000);

  it('mapCodes needs more distinct codes than neighbours; chooseClusterCount a k below them: refused before any work', async () => {
    const runner = threadRunner(await backendUnderTest());
    const { codes } = withCopies(8, 40, 6, 1);
    const p = mapCodes(runner, codes, { neighbours: 10 });
    await expect(p).rejects.toThrow(ArgumentError);
    await expect(mapCodes(runner, codes, { neighbours: 10 })).rejects.toThrow(
      /^mapCodes: codes needs more distinct codes than neighbours \(10\), got 40 codes, 8 distinct/,
    );
    const seen: number[] = [];
    await expect(chooseClusterCount(runner, codes, { from: 2, to: 9, onK: (r) => seen.push(r.k) })).rejects.toThrow(
      /^chooseClusterCount: to must be an integer in \[3, 7\] .*fewer than the distinct codes \(8 of 40\)/,
    );
    expect(seen).toEqual([]);
    // Below them it runs, and copies share a cluster at every k.
    const r = await chooseClusterCount(runner, codes, { from: 2, to: 7, restarts: 1 });
    const c = r.clustering.assignments;
    const groups = codeCopies(codes).of;
    for (let i = 0; i < 40; i++) for (let j = 0; j < i; j++) if (groups[i] === groups[j]) expect(c[i]).toBe(c[j]);
  }, 60_000);
});
