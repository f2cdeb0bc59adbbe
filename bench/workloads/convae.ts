/**
 * convae's side of `npm run bench`: W1–W4 through the public model API
 * (ConvAutoencoder / Classifier trainStep, Optimizer), one training step =
 * zeroGrad + trainStep + optimizer.step as ts/train/fit.ts does it; W4 is
 * Classifier.logits on a batch of 256. Then the same workloads through `Trainer`
 * on 1 and N workers (data-parallel fit, split predict).
 *   node [--experimental-wasm-relaxed-simd] --import tsx bench/workloads/convae.ts [--quick] [--build=auto|relaxed|simd|scalar] [--only=W1,W4]
 * Prints a RunnerResult (spec.ts) as JSON on its last line.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import * as cv from '../../ts/index.js';
import { FULL, QUICK, measure } from '../timing.js';
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
const be = await cv.loadBackend({ build: (arg('build') ?? 'auto') as cv.Build | 'auto' });
const timing = quick ? QUICK : FULL;

type Model = cv.StackedConvAutoencoder | cv.Classifier;

function model(id: WorkloadId): Model {
  if (id === 'W1') return new cv.StackedConvAutoencoder(be, [W1_BLOCK], INPUT_SHAPE.W1, 1);
  if (id === 'W2') return new cv.StackedConvAutoencoder(be, [W2_BLOCK], INPUT_SHAPE.W2, 1);
  const clf = cv.Classifier.fromBlocks(be, W3_BLOCKS, INPUT_SHAPE[id], W3_HEAD, 1);
  if (id === 'W4') {
    const w = w4Weights();
    for (const p of clf.params()) p.value.set(w[p.name]);
  }
  return clf;
}

async function inThread(id: WorkloadId): Promise<WorkloadResult> {
  const batch = BATCH[id];
  const m = model(id);
  const { x: xs, labels: ls } = inputs(id);
  const x = be.fromArray([batch, ...INPUT_SHAPE[id]], xs),
    labels = be.fromArray([batch], ls, 'u32');
  try {
    if (cv.isClassifying(m) && id === 'W4') {
      const rates = await measure(batch, () => m.logits(x), timing);
      return { workload: id, status: 'ok', batch, imagesPerSecond: rates, logits: [...m.logits(x).data] };
    }
    const opt = new cv.Optimizer(be, m.params(), { type: 'sgd', lr: LR });
    // The model's own task: the classifier's train step, or block 0 of the stack on raw images.
    const task = m.task({ layer: 0 });
    const step = () => task.step(x, labels);
    const rates = await measure(
      batch,
      () => {
        opt.zeroGrad();
        const loss = step();
        opt.step();
        return loss;
      },
      timing,
    );
    opt.dispose();
    return { workload: id, status: 'ok', batch, imagesPerSecond: rates };
  } finally {
    x.dispose();
    labels.dispose();
    m.dispose();
  }
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
      const m = model(id);
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

const rows: WorkloadResult[] = [];
for (const id of only) rows.push(await inThread(id));
const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const result: RunnerResult = {
  key: 'convae',
  library: 'convae',
  version,
  config: `${be.build} build, this thread`,
  threads: 1,
  rows,
};
const all = [result];
if (!process.argv.includes('--no-workers')) {
  // 1 worker too: the "1-worker figure" that N workers are compared with (same loop, same overheads).
  const n = Math.max(2, os.availableParallelism());
  const byCount = await withWorkers(only, [1, n]);
  for (const [k, workerRows] of byCount) {
    all.push({
      key: `convae-workers-${k}`,
      library: 'convae',
      version,
      config: `${be.build} build, ${k} worker${k > 1 ? 's' : ''} (Trainer)`,
      threads: k,
      rows: workerRows,
    });
  }
}
console.log(JSON.stringify(all));
