/**
 * Inference passes in workers against this thread (ts/worker/passes.ts):
 *   npm run bench:passes [-- --rounds=3]
 *
 * - score: the anomaly detector of `convae anomaly` (8/16-map stack, knn5@2)
 *   scoring the 10 000 MNIST test images against the ~5 400 codes of one
 *   class's training images (encode + neighbour search), and the per-pixel
 *   error maps of the same images;
 * - encode: the codes at depth 2 of the 60 000 MNIST training images through
 *   the 20/50-map stack of `convae embeddings` / `convae train`;
 * - train: one epoch per block of the anomaly stack on one class (batch 32),
 *   this thread against data-parallel workers (why `convae anomaly` trains on this thread).
 *
 * Configurations take turns, round after round (this thread, 1 worker, 2
 * workers, …), so a drift of a shared machine's load touches them alike; the
 * medians and the load average at the start and the end are printed. Every
 * result is checked equal to this thread's, bit for bit.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { AnomalyDetector } from '../ts/anomaly/detector.js';
import { oneClassSplit, trainStack } from '../ts/anomaly/oneclass.js';
import { loadBackend } from '../ts/backend/backend.js';
import { ANOMALY_BLOCKS } from '../ts/cli/anomaly.js';
import { EMBEDDING_BLOCKS } from '../ts/cli/embeddings.js';
import { loadMnist } from '../ts/data/mnist.js';
import { StackedConvAutoencoder } from '../ts/model/autoencoder.js';
import { type Runner, threadRunner } from '../ts/train/runner.js';
import { Trainer } from '../ts/worker/trainer.js';

const arg = (name: string, d: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? d);
const rounds = arg('rounds', 3);
const maxWorkers = arg('workers', 2);
const load = () =>
  os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(' / ');
/**
 * What the machine gives now: the same plain JS loop on 1 thread, then on 2 at once. On an idle
 * 2-core machine the second finishes twice the work in the same time (×2); on a shared one, less.
 */
async function parallelProbe(): Promise<string> {
  const loop =
    'let s = 0; for (let i = 0; i < 3e8; i++) s += i % 7; require("node:worker_threads").parentPort.postMessage(s);';
  const run = (n: number) =>
    new Promise<number>((ok) => {
      const t0 = performance.now();
      let done = 0;
      for (let i = 0; i < n; i++) {
        const w = new Worker(loop, { eval: true });
        w.on('message', () => {
          void w.terminate();
          if (++done === n) ok((performance.now() - t0) / 1000);
        });
      }
    });
  const one = await run(1),
    two = await run(2);
  return `2 plain JS threads do ×${((2 * one) / two).toFixed(2)} the work of 1 in the same time`;
}
console.log(
  `cores ${os.availableParallelism()}, load average at start ${load()} (1 / 5 / 15 min), ${rounds} rounds; ${await parallelProbe()}`,
);

const be = await loadBackend();
const train = await loadMnist({ split: 'train' });
const test = await loadMnist({ split: 'test' });
const split = oneClassSplit(train, 0, 1);
const fitOpts = { epochs: 1, batchSize: 32, optimizer: { type: 'adam', lr: 3e-3 } } as const;
const small = await trainStack(be, split.train, { ...fitOpts, blocks: ANOMALY_BLOCKS, seed: 1 });
const wide = new StackedConvAutoencoder(be, EMBEDDING_BLOCKS, train.shape, 1);

const trainers = new Map<number, Trainer>();
for (let n = 1; n <= maxWorkers; n++) trainers.set(n, await Trainer.create(be, { size: n }));
const configs: { name: string; runner: Runner }[] = [
  { name: 'this thread', runner: threadRunner(be) },
  ...[...trainers].map(([n, t]) => ({ name: `${n} worker${n > 1 ? 's' : ''}`, runner: t as Runner })),
];

const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

type Work = { name: string; images: number; run: (r: Runner) => Promise<ArrayLike<number>> };
const works: Work[] = [
  {
    name: 'anomaly score: encode 10 000 test images + 5-NN among the class-0 codes (knn5@2)',
    images: test.length,
    run: async (r) => {
      const det = await AnomalyDetector.fitOn(r, small, split.train, split.normalValidation, {
        score: { type: 'neighbours', depth: 2, k: 5 },
      });
      return (await det.detectOn(r, test)).scores;
    },
  },
  {
    name: 'error maps of the 10 000 test images (reconstruction through block 1)',
    images: test.length,
    run: async (r) => (await r.reconstructionScores(small, test, { depth: 1, maps: true })).maps!,
  },
  {
    name: 'encode 60 000 training images at depth 2 (20/50-map stack, 800 values each)',
    images: train.length,
    run: async (r) => (await r.encode(wide, train, { depth: 2 })).vectors,
  },
];

/** Wall and CPU seconds (the whole process: this thread and every worker) of one call. */
async function timed<T>(f: () => Promise<T>): Promise<{ out: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage(),
    t0 = performance.now();
  const out = await f();
  const c = process.cpuUsage(c0);
  return { out, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/**
 * Per configuration: the median wall time, images/s, the speed-up over this thread, and the CPU
 * seconds the process spent (the work, whoever did it) and the cores that makes on average (CPU / wall):
 * with 2 workers on 2 free cores, about twice the CPU per wall second.
 */
function report(times: Map<string, { wall: number; cpu: number }[]>, images?: number): void {
  const base = med(times.get('this thread')!.map((t) => t.wall));
  for (const [name, t] of times) {
    const wall = med(t.map((x) => x.wall)),
      cpu = med(t.map((x) => x.cpu));
    console.log(
      `  ${name.padEnd(12)} median ${wall.toFixed(2)} s (${t.map((x) => x.wall.toFixed(2)).join(', ')})${images ? `, ${Math.round(images / wall)} images/s` : ''}, ×${(base / wall).toFixed(2)}; CPU ${cpu.toFixed(2)} s, ${(cpu / wall).toFixed(2)} cores busy`,
    );
  }
}

for (const w of works) {
  const times = new Map<string, { wall: number; cpu: number }[]>();
  let reference: ArrayLike<number> | null = null;
  // A first untimed pass per configuration starts the workers and sends them the model.
  for (const c of configs) await w.run(c.runner);
  for (let r = 0; r < rounds; r++)
    for (const c of configs) {
      const t = await timed(() => w.run(c.runner));
      times.set(c.name, [...(times.get(c.name) ?? []), t]);
      if (!reference) reference = t.out;
      else if (!same(t.out, reference)) throw new Error(`${w.name}: ${c.name} differs from this thread`);
    }
  console.log(`\n${w.name}`);
  report(times, w.images);
}

// Training: this thread against data-parallel workers, one epoch per block on class 0 (batch 32).
{
  console.log('\ntrain the anomaly stack on class 0 (5 330 images, 1 epoch per block, batch 32)');
  const times = new Map<string, { wall: number; cpu: number }[]>();
  for (let r = 0; r < rounds; r++)
    for (const c of configs) {
      const s = new StackedConvAutoencoder(be, ANOMALY_BLOCKS, train.shape, 1);
      const t = await timed(async () => {
        for (let k = 0; k < 2; k++) await c.runner.fit(s, split.train, { ...fitOpts, layer: k, seed: 31 + k });
      });
      times.set(c.name, [...(times.get(c.name) ?? []), t]);
      s.dispose();
    }
  report(times);
}

console.log(`\nload average at the end ${load()}; ${await parallelProbe()}`);
small.dispose();
wide.dispose();
for (const t of trainers.values()) await t.dispose();
