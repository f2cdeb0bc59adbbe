/**
 * Exact copies among codes: `codeCopies` groups rows as a pairwise float comparison written here does (0 and −0
 * alike); the map of codes with copies is the map of their distinct codes, each copy at its original's point, bit for
 * bit, and its agreement the brute-force count over every code; `mapCodes` and `chooseClusterCount` count distinct
 * codes where they counted codes, refusing before any work.
 */
import { describe, expect, it } from 'vitest';
import { chooseClusterCount } from '../../ts/anomaly/clustercount.js';
import { codeCopies } from '../../ts/anomaly/copies.js';
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

describe('exact copies of codes', () => {
  it('codeCopies groups the rows as a pairwise comparison does, numbered by first appearance; 0 and −0 alike', () => {
    const rng = new Rng(4);
    const n = 400;
    const alphabet = [0, -0, 1, 2.5];
    const vectors = Float32Array.from({ length: n * 3 }, () => alphabet[rng.int(4)]!);
    const c = codeCopies({ vectors, n, dim: 3 });
    const same = (i: number, j: number) => [0, 1, 2].every((t) => vectors[i * 3 + t] === vectors[j * 3 + t]);
    const first: number[] = [];
    for (let i = 0; i < n; i++) {
      const j = first.findIndex((f) => same(f, i));
      if (j < 0) first.push(i);
      expect(c.of[i]).toBe(j < 0 ? first.length - 1 : j);
    }
    expect(Array.from(c.first)).toEqual(first);
    expect(first.length).toBe(27); // three values as floats, three places: −0 is 0
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
