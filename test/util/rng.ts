/**
 * A small seeded PRNG for tests (mulberry32: 32-bit state, period 2^32, good
 * enough for test data and fully reproducible across platforms, since it uses
 * only 32-bit integer arithmetic).
 *
 * Every test that draws random data should construct its own `Rng` with a fixed
 * seed, so a failure reproduces exactly.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Next raw 32-bit unsigned integer. */
  nextU32(): number {
    // mulberry32 (Tommy Ettinger), the reference implementation line by line.
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1), with 2^-32 resolution. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Standard normal N(0, 1) by Box–Muller (one of the pair; the other is dropped). */
  normal(): number {
    const u1 = 1 - this.next(); // (0, 1]: log(u1) is finite
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Fills `arr` with uniform values in [lo, hi) and returns it. */
  fillUniform<T extends Float64Array | Float32Array>(arr: T, lo: number, hi: number): T {
    for (let i = 0; i < arr.length; i++) arr[i] = this.uniform(lo, hi);
    return arr;
  }

  /** Fills `arr` with N(mean, std²) values and returns it. */
  fillNormal<T extends Float64Array | Float32Array>(arr: T, mean = 0, std = 1): T {
    for (let i = 0; i < arr.length; i++) arr[i] = mean + std * this.normal();
    return arr;
  }

  /** A new Float64Array of `n` uniform values in [lo, hi). */
  uniformArray(n: number, lo: number, hi: number): Float64Array {
    return this.fillUniform(new Float64Array(n), lo, hi);
  }

  /** Shuffles `arr` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: number }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /**
   * `n` values in [lo, hi], pairwise distinct by a margin, in random order:
   * the midpoints of `n` equal cells of width `step = (hi − lo) / n`, shuffled,
   * each moved by a jitter in [−0.1·step, +0.1·step). Any two values therefore
   * differ by at least `0.8·step` (see `distinctMargin`), so a finite-difference
   * step much smaller than that cannot change which element of a pooling window
   * is the maximum, and there are no ties.
   */
  distinct(n: number, lo: number, hi: number): Float64Array {
    const step = (hi - lo) / n;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (i + 0.5) * step;
    this.shuffle(out);
    for (let i = 0; i < n; i++) out[i] += this.uniform(-0.1 * step, 0.1 * step);
    return out;
  }
}

/** The smallest gap `Rng.distinct(n, lo, hi)` guarantees between any two of its values. */
export const distinctMargin = (n: number, lo: number, hi: number): number => (0.8 * (hi - lo)) / n;
