import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../ts/errors.js';
import { Rng } from '../../ts/util/rng.js';

describe('Rng (mulberry32)', () => {
  it('matches an independent implementation of mulberry32', () => {
    /*
     * Python, 32-bit arithmetic spelled out:
     *   M = 0xffffffff
     *   def mulberry32(s):
     *       while True:
     *           s = (s + 0x6D2B79F5) & M; t = s
     *           t = ((t ^ (t >> 15)) * (t | 1)) & M
     *           t ^= (t + ((t ^ (t >> 7)) * (t | 61) & M)) & M
     *           yield (t ^ (t >> 14)) & M
     */
    const expected: [number, number[]][] = [
      [0, [1144304738, 1416247, 958946056, 627933444]],
      [42, [2581720956, 1925393290, 3661312704, 2876485805]],
      [0xffffffff, [3850105811, 813802916, 3073704848, 4054706436]],
    ];
    for (const [seed, values] of expected) {
      const r = new Rng(seed);
      expect(values.map(() => r.nextU32())).toEqual(values);
    }
    expect(new Rng(-1).nextU32()).toBe(3850105811); // seeds are taken modulo 2^32
    expect(new Rng(42).next()).toBe(2581720956 / 2 ** 32);
  });

  it('state can be saved and restored to resume the same stream; clone is independent', () => {
    const r = new Rng(9);
    for (let i = 0; i < 10; i++) r.next();
    const saved = r.state;
    const a = [r.next(), r.int(1000), r.normal(), ...r.permutation(5)];
    const s = new Rng(1);
    s.state = saved;
    expect([s.next(), s.int(1000), s.normal(), ...s.permutation(5)]).toEqual(a);
    const c = s.clone();
    expect(c.nextU32()).toBe(s.nextU32());
    c.nextU32();
    expect(c.state).not.toBe(s.state);
    expect(() => {
      s.state = -1;
    }).toThrow(ArgumentError);
    expect(() => {
      s.state = 2 ** 32;
    }).toThrow(ArgumentError);
    expect(() => {
      s.state = 0.5;
    }).toThrow(ArgumentError);
    expect(() => new Rng(Number.NaN)).toThrow(ArgumentError);
  });

  it('a refused seed, state or count is quoted: a BigInt reads 1n, a string "1", a Symbol gives no TypeError', () => {
    const s = new Rng(1);
    for (const [run, msg] of [
      [() => new Rng(1n as never), /^Rng: seed must be an integer, got 1n$/],
      [() => new Rng('1' as never), /^Rng: seed must be an integer, got "1"$/],
      [
        () => {
          s.state = 2n as never;
        },
        /^Rng: state must be an integer in \[0, 2\^32\), got 2n$/,
      ],
      [() => s.skip(3n as never), /^Rng\.skip: n must be an integer ≥ 0, got 3n$/],
      [() => s.int(Symbol('n') as never), /^Rng\.int: n must be an integer in \[1, 2\^32\], got "\[object Symbol\]"$/],
      [() => s.permutation(4n as never), /^Rng\.permutation: n must be an integer in \[0, 2\^32\), got 4n$/],
    ] as const)
      expect(run).toThrow(msg);
  });

  it('int(n) is in [0, n) and roughly uniform; next() in [0, 1)', () => {
    const r = new Rng(5);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[r.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400); // ~4 standard deviations
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < 10_000; i++) {
      const v = r.next();
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    // n near 2^32 takes the rejection path and still stays in range
    for (let i = 0; i < 100; i++) expect(r.int(3 * 2 ** 30)).toBeLessThan(3 * 2 ** 30);
    expect(r.int(1)).toBe(0);
    expect(() => r.int(0)).toThrow(ArgumentError);
    expect(() => r.int(2.5)).toThrow(ArgumentError);
  });

  it('normal() has mean ≈ 0 and variance ≈ 1', () => {
    const r = new Rng(11);
    let s = 0;
    let s2 = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const v = r.normal();
      expect(Number.isFinite(v)).toBe(true);
      s += v;
      s2 += v * v;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });

  it('shuffle permutes arrays and typed arrays in place; permutation(n) holds 0…n−1 once', () => {
    const r = new Rng(3);
    const arr = ['a', 'b', 'c', 'd', 'e', 'f'];
    expect(r.shuffle(arr)).toBe(arr);
    expect([...arr].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    const f = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    r.shuffle(f);
    expect(Array.from(f).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const p = r.permutation(1000);
    expect(p).toBeInstanceOf(Uint32Array);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(p.subarray(0, 10))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.permutation(0).length).toBe(0);
    // the first position is uniform over all n values
    const first = new Array<number>(4).fill(0);
    for (let i = 0; i < 8000; i++) first[r.permutation(4)[0]]++;
    for (const c of first) expect(Math.abs(c - 2000)).toBeLessThan(200);
  });
});
