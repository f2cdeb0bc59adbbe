/**
 * convae's side of `npm run bench`: W1–W4 through the public model API
 * (ConvAutoencoder / Classifier trainStep, Optimizer), one training step =
 * zeroGrad + trainStep + optimizer.step as ts/train/fit.ts does it; W4 is
 * Classifier.logits on a batch of 256. Then, when ts/worker/trainer.ts exports
 * `Trainer`, the same workloads on N workers (data-parallel fit, split predict).
 *   node [--experimental-wasm-relaxed-simd] --import tsx bench/workloads/convae.ts [--quick] [--build=auto|relaxed|simd|scalar] [--only=W1,W4]
 * Prints a RunnerResult (spec.ts) as JSON on its last line.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import * as cv from '../../ts/index.js';
import { FULL, QUICK, measure } from '../timing.js';
import { W1_BLOCK, W2_BLOCK, W3_BLOCKS, W3_HEAD } from './convae-net.js';
import { BATCH, INPUT_SHAPE, LR, WORKLOAD_IDS, inputs, w4Weights, type RunnerResult, type WorkloadId, type WorkloadResult } from './spec.js';

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
  const x = be.fromArray([batch, ...INPUT_SHAPE[id]], xs), labels = be.fromArray([batch], ls, 'u32');
  try {
    if (m instanceof cv.Classifier && id === 'W4') {
      const rates = await measure(batch, () => m.logits(x), timing);
      return { workload: id, status: 'ok', batch, imagesPerSecond: rates, logits: [...m.logits(x).data] };
    }
    const opt = new cv.Optimizer(be, m.params(), { type: 'sgd', lr: LR });
    const step = m instanceof cv.Classifier ? () => m.trainStep(x, labels) : () => m.blocks[0].trainStep(x);
    const rates = await measure(batch, () => {
      opt.zeroGrad();
      const loss = step();
      opt.step();
      return loss;
    }, timing);
    opt.dispose();
    return { workload: id, status: 'ok', batch, imagesPerSecond: rates };
  } finally {
    x.dispose();
    labels.dispose();
    m.dispose();
  }
}

/** N workers through Trainer (ts/worker/trainer.ts, issue 4), if that module exists. */
async function withWorkers(ids: WorkloadId[], n: number, trainerSize: number): Promise<WorkloadResult[]> {
  let TrainerClass: typeof cv.Trainer | undefined;
  try {
    TrainerClass = (await import('../../ts/worker/trainer.js')).Trainer;
  } catch {
    /* not there yet */
  }
  if (!TrainerClass) return ids.map((workload) => ({ workload, status: 'skipped', reason: 'pending (issue 4)' }));
  const trainer = await TrainerClass.create(be, { size: trainerSize });
  const out: WorkloadResult[] = [];
  try {
    for (const id of ids) {
      const batch = BATCH[id];
      // An epoch of `steps` global batches per sample (the Trainer's own epoch timing, every all-reduce included).
      const steps = id === 'W4' ? (quick ? 2 : 8) : quick ? 4 : 24;
      const { x, labels } = inputs(id, batch * steps);
      const data = cv.ImageDataset.fromFloat32(x, INPUT_SHAPE[id], Uint8Array.from(labels), 10);
      const m = model(id);
      const rates: number[] = [];
      const repeats = quick ? 1 : 5;
      for (let r = 0; r <= repeats; r++) {
        if (m instanceof cv.Classifier && id === 'W4') {
          const t = performance.now();
          await trainer.predict(m, data, { workers: n, batchSize: batch });
          if (r > 0) rates.push(data.length / ((performance.now() - t) / 1000));
        } else {
          const { history } = await trainer.fit(m, data, { epochs: 1, batchSize: batch, optimizer: { type: 'sgd', lr: LR }, workers: n, seed: r, layer: 0 });
          if (r > 0) rates.push(history.epochs[0].imagesPerSecond);
        }
      }
      m.dispose();
      out.push({
        workload: id, status: 'ok', batch, imagesPerSecond: rates,
        note: id === 'W4' ? `Trainer.predict over ${data.length} images split across the workers, batches of ${batch}` : `Trainer.fit epochs of ${steps} steps, global batch ${batch} split across the workers`,
      });
    }
  } finally {
    await trainer.dispose();
  }
  return out;
}

const rows: WorkloadResult[] = [];
for (const id of only) rows.push(await inThread(id));
const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const result: RunnerResult = { key: 'convae', library: 'convae', version, config: `${be.build} build, this thread`, threads: 1, rows };
const all = [result];
if (!process.argv.includes('--no-workers')) {
  // 1 worker too: the "1-worker figure" that N workers are compared with (same loop, same overheads).
  const n = Math.max(2, os.availableParallelism());
  for (const k of [1, n]) {
    all.push({ key: `convae-workers-${k}`, library: 'convae', version, config: `${be.build} build, ${k} worker${k > 1 ? 's' : ''} (Trainer)`, threads: k, rows: await withWorkers(only, k, n) });
  }
}
console.log(JSON.stringify(all));
