/**
 * Runs every kernel case on one wasm build and prints the results as JSON on
 * its last line. Started by bench/kernels.ts once per build (a realm runs one build).
 */
import { Bench } from 'tinybench';
import * as cv from '../ts/index.js';
import { makeCases } from './cases.js';

const build = process.argv[2] as cv.Build;
const quick = process.argv.includes('--quick');
const be = await cv.loadBackend({ build });

// Peak probe: flops per call = iters × accumulators × 4 lanes × 2 (multiply and add).
const PEAK_ITERS = 1 << 18;
const peakFlops = PEAK_ITERS * be.mem.exports.peak_accumulators() * 8;

const bench = new Bench({ time: quick ? 150 : 700, warmupTime: quick ? 30 : 200 });
const cases = makeCases(be, quick);
bench.add('peak_mul_add', () => {
  be.peakMulAdd(PEAK_ITERS);
});
bench.add('peak_fma', () => {
  be.peakFma(PEAK_ITERS);
});
for (const c of cases) bench.add(c.name, c.run);
await bench.run();

const work = new Map<string, { work: number; unit: string }>(
  cases.map((c) => [c.name, { work: c.work, unit: c.unit }]),
);
work.set('peak_mul_add', { work: peakFlops, unit: 'GFLOP/s' });
work.set('peak_fma', { work: peakFlops, unit: 'GFLOP/s' });
const rows = bench.tasks.map((t) => {
  const r = t.result;
  if (!('latency' in r)) throw new Error(`${t.name}: ${r.state}${'error' in r ? `: ${r.error.message}` : ''}`);
  const w = work.get(t.name)!;
  const rate = (ms: number) => w.work / (ms * 1e-3) / 1e9;
  return {
    name: t.name,
    unit: w.unit,
    median: rate(r.latency.p50),
    min: rate(r.latency.max),
    max: rate(r.latency.min),
    samples: r.latency.samplesCount,
  };
});
console.log(JSON.stringify({ build: be.build, rows }));
