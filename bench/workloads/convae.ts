/**
 * convae's side of `npm run bench`: W1–W4 through the public model API
 * (ConvAutoencoder / Classifier trainStep, Optimizer), one training step =
 * zeroGrad + trainStep + optimizer.step as ts/train/fit.ts does it; W4 is
 * Classifier.logits on a batch of 256. Then the same workloads through `Trainer`
 * on 1 and N workers (data-parallel fit, split predict), on the first build.
 *   node [--experimental-wasm-relaxed-simd] --import tsx bench/workloads/convae.ts [--quick] [--build=auto|native|relaxed|simd|scalar[,…]] [--only=W1,W4]
 * Several builds (`--build=native,relaxed`; a realm holds the native addon and
 * one wasm build) are measured in turns: rounds of (each workload on each
 * build), so a drift of the machine's speed hits them alike.
 * Prints a RunnerResult (spec.ts) per configuration, as JSON on its last line.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import * as cv from '../../ts/index.js';
import { FULL, QUICK, measure, type TimingOptions } from '../timing.js';
import { W1_BLOCK, W2_BLOCK, W3_BLOCKS, W3_HEAD } from './convae-net.js';
import {
  BATCH,
  INPUT_SHAPE,
  LR,
  WORKLOAD_IDS,
  inputs,
  w4Weights,
  type RunnerResult,
  type WorkloadId,
  type WorkloadResult,
} from './spec.js';

const quick = process.argv.includes('--quick');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const only = (arg('only')?.split(',') ?? WORKLOAD_IDS) as WorkloadId[];
const backends: cv.Backend[] = [];
for (const name of (arg('build') ?? 'auto').split(',')) {
  const b = await cv.loadBackend({ build: name as cv.Build | 'auto' });
  if (!backends.includes(b)) backends.push(b);
}
const be = backends[0];
const timing = quick ? QUICK : FULL;
// Rounds of turns between builds; each round takes its share of the sampling time.
const rounds = backends.length > 1 && !quick ? 3 : 1;
const roundTiming: TimingOptions = {
  ...timing,
  minSamples: Math.ceil(timing.minSamples / rounds),
  maxSamples: Math.ceil(timing.maxSamples / rounds),
  minMs: timing.minMs / rounds,
};

type Model = cv.StackedConvAutoencoder | cv.Classifier;

function model(be: cv.Backend, id: WorkloadId): Model {
  if (id === 'W1') return new cv.StackedConvAutoencoder(be, [W1_BLOCK], INPUT_SHAPE.W1, 1);
  if (id === 'W2') return new cv.StackedConvAutoencoder(be, [W2_BLOCK], INPUT_SHAPE.W2, 1);
  const clf = cv.Classifier.fromBlocks(be, W3_BLOCKS, INPUT_SHAPE[id], W3_HEAD, 1);
  if (id === 'W4') {
    const w = w4Weights();
    for (const p of clf.params()) p.value.set(w[p.name]);
  }
  return clf;
}

/** One workload on one backend: the call to time, and what to free after. */
function setup(be: cv.Backend, id: WorkloadId) {
  const batch = BATCH[id];
  const m = model(be, id);
  const { x: xs, labels: ls } = inputs(id);
  const x = be.fromArray([batch, ...INPUT_SHAPE[id]], xs),
    labels = be.fromArray([batch], ls, 'u32');
  const dispose = () => {
    x.dispose();
    labels.dispose();
    m.dispose();
  };
  if (cv.isClassifying(m) && id === 'W4')
    return { call: () => m.logits(x), logits: () => [...m.logits(x).data], dispose };
  const opt = new cv.Optimizer(be, m.params(), { type: 'sgd', lr: LR });
  // The model's own task: the classifier's train step, or block 0 of the stack on raw images.
  const task = m.task({ layer: 0 });
  const call = () => {
    opt.zeroGrad();
    const loss = task.step(x, labels);
    opt.step();
    return loss;
  };
  return {
    call,
    logits: undefined,
    dispose: () => {
      opt.dispose();
      dispose();
    },
  };
}

/** Every workload on every backend, in turns; one row list per backend. */
async function inThread(ids: WorkloadId[]): Promise<WorkloadResult[][]> {
  const out: WorkloadResult[][] = backends.map(() => []);
  for (const id of ids) {
    const runs = backends.map((b) => setup(b, id));
    const rates: number[][] = backends.map(() => []);
    try {
      for (let r = 0; r < rounds; r++)
        for (let i = 0; i < backends.length; i++)
          rates[i].push(...(await measure(BATCH[id], runs[i].call, roundTiming)));
      runs.forEach((run, i) =>
        out[i].push({
          workload: id,
          status: 'ok',
          batch: BATCH[id],
          imagesPerSecond: rates[i],
          ...(run.logits ? { logits: run.logits() } : {}),
          ...(rounds > 1
            ? { note: `${backends.map((b) => b.build).join(' and ')} measured in ${rounds} rounds of turns` }
            : {}),
        }),
      );
    } finally {
      for (const run of runs) run.dispose();
    }
  }
  return out;
}

/**
 * 1 and N workers through Trainer (ts/worker/trainer.ts), interleaved: for each
 * workload, rounds of (1 worker, N workers) so that a drift of the machine's
 * speed (other tenants of its cores) hits both figures alike and their ratio
 * stays meaningful. Training samples are the epochs of one `fit` call after
 * its first (the first pays for the workers' start-up and their skew).
 */
async function withWorkers(ids: WorkloadId[], counts: number[]): Promise<Map<number, WorkloadResult[]>> {
  const trainer = await cv.Trainer.create(be, { size: Math.max(...counts) });
  const out = new Map<number, WorkloadResult[]>(counts.map((k) => [k, []]));
  try {
    for (const id of ids) {
      const batch = BATCH[id];
      const steps = id === 'W4' ? (quick ? 2 : 8) : quick ? 4 : 64;
      const { x, labels } = inputs(id, batch * steps);
      const data = cv.ImageDataset.fromFloat32(x, INPUT_SHAPE[id], Uint8Array.from(labels), 10);
      const m = model(be, id);
      const rates = new Map<number, number[]>(counts.map((k) => [k, []]));
      const rounds = quick ? 1 : 6,
        epochs = quick ? 2 : 3;
      for (let r = 0; r <= rounds; r++) {
        for (const k of counts) {
          if (cv.isClassifying(m) && id === 'W4') {
            const t = performance.now();
            await trainer.predict(m, data, { workers: k, batchSize: batch });
            if (r > 0) rates.get(k)!.push(data.length / ((performance.now() - t) / 1000));
          } else {
            const { history } = await trainer.fit(m, data, {
              epochs,
              batchSize: batch,
              optimizer: { type: 'sgd', lr: LR },
              workers: k,
              seed: r,
              layer: 0,
            });
            if (r > 0) rates.get(k)!.push(...history.epochs.slice(1).map((e) => e.imagesPerSecond));
          }
        }
      }
      m.dispose();
      for (const k of counts) {
        out.get(k)!.push({
          workload: id,
          status: 'ok',
          batch,
          imagesPerSecond: rates.get(k)!,
          note:
            id === 'W4'
              ? `Trainer.predict over ${data.length} images split across the workers, batches of ${batch}`
              : `Trainer.fit epochs of ${steps} steps after the first of each call, global batch ${batch} split across the workers; 1 and N workers measured in alternation`,
        });
      }
    }
  } finally {
    await trainer.dispose();
  }
  return out;
}

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const buildName = (b: cv.Backend) => `${b.build} build${b.build === 'native' ? ` (${b.isa})` : ''}`;
const all: RunnerResult[] = (await inThread(only)).map((rows, i) => ({
  // The first build is "convae" (what the peers are compared with); the others are named by their build.
  key: i === 0 ? 'convae' : `convae-${backends[i].build}`,
  library: 'convae',
  version,
  config: `${buildName(backends[i])}, this thread`,
  threads: 1,
  rows,
}));
if (!process.argv.includes('--no-workers')) {
  // 1 worker too: the issue's "1-worker figure" that N workers are compared with (same loop, same overheads).
  const n = Math.max(2, os.availableParallelism());
  const byCount = await withWorkers(only, [1, n]);
  for (const [k, workerRows] of byCount) {
    all.push({
      key: `convae-workers-${k}`,
      library: 'convae',
      version,
      config: `${buildName(be)}, ${k} worker${k > 1 ? 's' : ''} (Trainer)`,
      threads: k,
      rows: workerRows,
    });
  }
}
console.log(JSON.stringify(all));
