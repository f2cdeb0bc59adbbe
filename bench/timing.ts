/**
 * The timing loop of `npm run bench`: warm-up, then one sample per call until
 * both a minimum time and a minimum count are reached (or a cap on samples).
 * Each sample is images/s of one call (one training step or one inference batch).
 */
export interface TimingOptions {
  /** Warm-up calls (at least this many) ... */
  warmupCalls: number;
  /** ... and at least this long in ms. */
  warmupMs: number;
  minSamples: number;
  maxSamples: number;
  /** Keep sampling until this much time (ms) has gone by, up to maxSamples. */
  minMs: number;
}

export const QUICK: TimingOptions = { warmupCalls: 1, warmupMs: 0, minSamples: 2, maxSamples: 20, minMs: 150 };
export const FULL: TimingOptions = { warmupCalls: 3, warmupMs: 500, minSamples: 10, maxSamples: 200, minMs: 3000 };
/** For calls that take seconds (TensorFlow.js cpu training). */
export const SLOW_QUICK: TimingOptions = { warmupCalls: 1, warmupMs: 0, minSamples: 1, maxSamples: 1, minMs: 0 };
export const SLOW_FULL: TimingOptions = { warmupCalls: 1, warmupMs: 0, minSamples: 3, maxSamples: 3, minMs: 0 };

export async function measure(
  images: number,
  call: () => unknown | Promise<unknown>,
  o: TimingOptions,
): Promise<number[]> {
  const t0 = performance.now();
  for (let i = 0; i < o.warmupCalls || performance.now() - t0 < o.warmupMs; i++) await call();
  const rates: number[] = [];
  const t1 = performance.now();
  while (rates.length < o.minSamples || (performance.now() - t1 < o.minMs && rates.length < o.maxSamples)) {
    const s = performance.now();
    await call();
    rates.push(images / ((performance.now() - s) / 1000));
  }
  return rates;
}

export const median = (v: readonly number[]) => {
  const s = [...v].sort((a, b) => a - b),
    m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
