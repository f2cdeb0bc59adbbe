/**
 * Data-parallel scaling: images/s of training against the number of workers,
 * for pretraining the first CAE layer and fine-tuning the CNN at MNIST shapes
 * (batch 64), in one run:
 *   npm run bench:workers [-- --quick]
 * Each sample is one epoch over the images (the epoch time the leader reports,
 * every all-reduce included), every epoch of a 3-epoch fit call but the first;
 * the configurations take turns, round after round, so that a drift of the
 * machine's speed touches them alike. "this thread" is fit() without workers;
 * "by messages" is the all-reduce used where SharedArrayBuffer is missing.
 */
import os from 'node:os';
import { loadBackend } from '../ts/backend/backend.js';
import { loadMnist } from '../ts/data/mnist.js';
import { StackedConvAutoencoder, type BlockSpec } from '../ts/model/autoencoder.js';
import { Classifier } from '../ts/model/classifier.js';
import type { Model } from '../ts/model/model.js';
import type { OptimizerSpec } from '../ts/train/optimizer.js';
import { threadRunner } from '../ts/train/runner.js';
import { Trainer } from '../ts/worker/trainer.js';

const quick = process.argv.includes('--quick');
const be = await loadBackend();
const cores = os.availableParallelism();
const counts = [...new Set([1, 2, cores])].filter((n) => n <= Math.max(2, cores));
const images = quick ? 1024 : 3200,
  repeats = quick ? 1 : 4;
const batchArg = process.argv.find((a) => a.startsWith('--batch='));
const batchSizes = batchArg ? batchArg.slice(8).split(',').map(Number) : [64, 128];
const data = await loadMnist({ split: 'train', limit: images });
const blocks: BlockSpec[] = [
  { convs: [{ filters: 20, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
  { convs: [{ filters: 50, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
];
const trainer = await Trainer.create(be, { size: Math.max(...counts) });

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
type Work = { name: string; model: () => Model; optimizer: OptimizerSpec };
const works: Work[] = [
  {
    name: 'pretrain CAE 1 (1→20, 5×5, tanh, pool 2)',
    model: () => new StackedConvAutoencoder(be, blocks, data.shape, 1),
    optimizer: { type: 'adam', lr: 1e-3 },
  },
  {
    name: 'fine-tune CNN (20, 50 maps, dense 500, 10)',
    model: () => Classifier.fromBlocks(be, blocks, data.shape, { hidden: [500], classes: 10 }, 1),
    optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 },
  },
];

console.log(
  `convae data-parallel scaling — ${os.cpus()[0]?.model ?? 'cpu'} (${cores} cores), Node ${process.version}, ${be.build} build, ${images} MNIST images per epoch`,
);
const rows: string[] = [
  '| workload | global batch | workers | images/s median (min–max) | × 1 worker |',
  '|---|---|---|---|---|',
];
for (const batchSize of batchSizes)
  for (const w of works) {
    const rates = new Map<string, number[]>();
    const model = w.model();
    const opt = w.optimizer;
    const here = threadRunner(be);
    // Rounds of (this thread, each worker variant), so that a drift of the machine's speed touches
    // every figure alike; each sample is an epoch of a fit call after its first (start-up, workers' skew).
    const variants = [
      ...counts.map((n) => ({ n, allReduce: 'shared' as const, label: `${n}` })),
      { n: 2, allReduce: 'messages' as const, label: '2 (all-reduce by messages)' },
    ];
    rates.set('this thread', []);
    for (const v of variants) rates.set(v.label, []);
    for (let r = 0; r <= repeats; r++) {
      const { history: h } = await here.fit(model, data, { epochs: 3, batchSize, optimizer: opt, seed: r, layer: 0 });
      if (r > 0) rates.get('this thread')!.push(...h.epochs.slice(1).map((e) => e.imagesPerSecond));
      for (const { n, allReduce, label } of variants) {
        const { history } = await trainer.fit(model, data, {
          epochs: 3,
          batchSize,
          optimizer: opt,
          seed: r,
          workers: n,
          layer: 0,
          allReduce,
        });
        if (r > 0) rates.get(label)!.push(...history.epochs.slice(1).map((e) => e.imagesPerSecond));
      }
    }
    const one = median(rates.get('1')!);
    for (const [k, v] of rates) {
      const line = `| ${w.name} | ${batchSize} | ${k} | ${median(v).toFixed(0)} (${Math.min(...v).toFixed(0)}–${Math.max(...v).toFixed(0)}) | ${(median(v) / one).toFixed(2)} |`;
      rows.push(line);
      console.log(line);
    }
    model.dispose();
  }
await trainer.dispose();
if (process.argv.includes('--markdown')) console.log(`\n${rows.join('\n')}`);
