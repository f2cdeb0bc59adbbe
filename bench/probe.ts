/**
 * The linear probe's arithmetic on this thread (ts/anomaly/probe.ts, `linearProbeAccuracy`):
 *   node --import tsx bench/probe.ts [--n=1000 --dim=800 --classes=10 --steps=150 --rounds=5 --warmup=0]
 *
 * Synthetic embeddings: `classes` Gaussian clusters in `dim` features (seeded), `n` training
 * vectors and n/4 test vectors. Prints the median (min–max) seconds of one probe over `rounds`
 * calls after `warmup` more (tinybench makes one uncounted call of its own first, which warms
 * the JIT), and the rate in GFLOP/s counting 4·n·classes·dim per step (the logits' multiply-add
 * and the gradient's multiply-add; the divide, softmax and Adam not counted). The accuracy is
 * printed too: it must not change between two versions of the code.
 */
import os from 'node:os';
import { Bench } from 'tinybench';
import { linearProbeAccuracy } from '../ts/anomaly/probe.js';
import { Rng } from '../ts/util/rng.js';

const arg = (name: string, d: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? d);
const n = arg('n', 1000),
  dim = arg('dim', 800),
  classes = arg('classes', 10),
  steps = arg('steps', 150),
  rounds = arg('rounds', 5),
  warmup = arg('warmup', 0);

function clusters(rng: Rng, centres: Float32Array, count: number) {
  const vectors = new Float32Array(count * dim),
    labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const c = rng.int(classes);
    labels[i] = c;
    for (let j = 0; j < dim; j++) vectors[i * dim + j] = 0.15 * centres[c * dim + j] + rng.normal();
  }
  return { e: { vectors, n: count, dim }, labels };
}

const rng = new Rng(7);
const centres = Float32Array.from({ length: classes * dim }, () => rng.normal());
const train = clusters(rng, centres, n),
  test = clusters(rng, centres, Math.max(1, n >> 2));
let accuracy = Number.NaN;
const bench = new Bench({ iterations: rounds, time: 0, warmupIterations: warmup, warmupTime: 0, warmup: warmup > 0 });
bench.add(`probe n=${n} d=${dim} C=${classes} steps=${steps}`, () => {
  accuracy = linearProbeAccuracy(train.e, train.labels, test.e, test.labels, { classes, steps });
});
await bench.run();
const r = bench.tasks[0].result;
if (!('latency' in r)) throw new Error(`probe: ${r.state}`);
const s = (ms: number) => (ms / 1000).toFixed(3);
const flops = 4 * steps * n * classes * dim;
console.log(
  `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, Node ${process.version}, load ${os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(' / ')}`,
);
console.log(
  `${bench.tasks[0].name}: ${s(r.latency.p50)} s (${s(r.latency.min)}–${s(r.latency.max)}) over ${r.latency.samplesCount} calls, ` +
    `${(flops / (r.latency.p50 * 1e-3) / 1e9).toFixed(2)} GFLOP/s, accuracy ${accuracy}`,
);
