/**
 * The library's seeded pseudo-random number generator: mulberry32 (Tommy
 * Ettinger), a 32-bit state advanced by a Weyl sequence and mixed by a
 * multiply–xorshift finaliser. Period 2^32, only 32-bit integer arithmetic, so
 * the same seed gives the same stream on every engine and platform.
 *
 * The whole state is one unsigned 32-bit integer (`rng.state`): save it in a
 * checkpoint and assign it back to resume the exact same stream.
 *
 * Not cryptographic. Enough for shuffling, splits, weight initialisation and
 * test data.
 */
import { ArgumentError, quote } from '../errors.js';

/** Every integer typed array; `Rng.shuffle` permutes any of these in place. */
export type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

const TWO_32 = 4294967296;

/**
 * The seed of part `k` of something seeded with `seed` (block k of a stack, pretraining stage k):
 * `seed · stride + k` modulo 2^32. Every 32-bit seed thus has 32-bit children; where the plain
 * value is below 2^32 (every seed saved runs used) it is that value, so their streams are unchanged.
 */
export function deriveSeed(seed: number, k: number, stride = 1): number {
  // seed < 2^32 and stride ≤ 2^16 keep the product below 2^53, so the remainder is exact.
  return (seed * stride + k) % TWO_32;
}

/** A seeded random number generator (same seed, same stream), used for initialisation, shuffling, noise and dropout. */
export class Rng {
  private s: number;

  /** `seed` is any integer; it is reduced to 32 bits (`seed >>> 0`), so seeds that agree modulo 2^32 give the same stream. */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isInteger(seed)) {
      throw new ArgumentError('Rng', 'seed', `must be an integer, got ${quote(seed)}`);
    }
    this.s = seed >>> 0;
  }

  /** Moves this generator to a stream of its own for `salt` (data-parallel replicas draw different noise). */
  reseed(salt: number): void {
    this.s = (this.s ^ Math.imul((salt >>> 0) + 1, 0x9e3779b9)) >>> 0;
  }

  /** The whole generator state (an unsigned 32-bit integer). Assign it back to resume the same stream. */
  get state(): number {
    return this.s;
  }

  set state(value: number) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= TWO_32) {
      throw new ArgumentError('Rng', 'state', `must be an integer in [0, 2^32), got ${quote(value)}`);
    }
    this.s = value;
  }

  /** An independent copy at the same point of the stream. */
  clone(): Rng {
    const r = new Rng(0);
    r.s = this.s;
    return r;
  }

  /** The next raw unsigned 32-bit integer. */
  nextU32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Advances the stream by `n` draws without computing them (the state is a Weyl sequence). */
  skip(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new ArgumentError('Rng.skip', 'n', `must be an integer ≥ 0, got ${quote(n)}`);
    // n · increment mod 2^32 (Math.imul keeps the low 32 bits of the product exactly).
    this.s = (this.s + (Math.imul((n % TWO_32) >>> 0, 0x6d2b79f5) >>> 0)) >>> 0;
  }

  /** Uniform in [0, 1), on a grid of 2^-32. */
  next(): number {
    return this.nextU32() / TWO_32;
  }

  /** Uniform integer in [0, n), without modulo bias (rejection sampling). `n` is an integer in [1, 2^32]. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_32) {
      throw new ArgumentError('Rng.int', 'n', `must be an integer in [1, 2^32], got ${quote(n)}`);
    }
    // Accept draws below the largest multiple of n that fits in 2^32.
    const limit = TWO_32 - (TWO_32 % n);
    let u = this.nextU32();
    while (u >= limit) u = this.nextU32();
    return u % n;
  }

  /** Standard normal N(0, 1) by Box–Muller; uses two draws and keeps one result (no hidden state). */
  normal(): number {
    const u1 = 1 - this.next(); // (0, 1]: log(u1) is finite
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Shuffles `a` in place (Fisher–Yates, `a.length − 1` draws) and returns it. */
  shuffle<T extends unknown[] | TypedArray>(a: T): T {
    const arr = a as unknown as { [i: number]: unknown; length: number };
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return a;
  }

  /** A uniformly random permutation of 0 … n−1. */
  permutation(n: number): Uint32Array {
    if (!Number.isInteger(n) || n < 0 || n >= TWO_32) {
      throw new ArgumentError('Rng.permutation', 'n', `must be an integer in [0, 2^32), got ${quote(n)}`);
    }
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}
