/**
 * The score/training comparison of docs/anomaly.md on VALIDATION data only (held-out
 * training images): `npx tsx scripts/anomaly-select.ts mnist 2,5,8,9 small 1`
 * (dataset, normal classes, stack: small | smallnoise | wide, epochs per block).
 */
import { loadBackend } from '../ts/backend/backend.js';
import { loadMnist, loadFashionMnist } from '../ts/data/mnist.js';
import { oneClassRun, type ScoreSpec } from '../ts/anomaly/oneclass.js';
import type { BlockSpec } from '../ts/model/autoencoder.js';

const [dataset, classesArg, cfg, epochsArg] = process.argv.slice(2);
const be = await loadBackend();
const load = dataset === 'fashion' ? loadFashionMnist : loadMnist;
const train = await load({ split: 'train' });
const test = await load({ split: 'test' });
const configs: Record<string, BlockSpec[]> = {
  small: [
    { convs: [{ filters: 8, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
    { convs: [{ filters: 16, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
  ],
  smallnoise: [
    {
      convs: [{ filters: 8, kernel: 5 }],
      activation: 'tanh',
      pool: { kernel: 2 },
      noise: { type: 'mask', fraction: 0.3 },
    },
    { convs: [{ filters: 16, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
  ],
  wide: [
    {
      convs: [{ filters: 20, kernel: 5 }],
      activation: 'tanh',
      pool: { kernel: 2 },
      noise: { type: 'mask', fraction: 0.3 },
    },
    { convs: [{ filters: 50, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
  ],
};
const scores: ScoreSpec[] = [
  { type: 'reconstruction', depth: 1 },
  { type: 'reconstruction', depth: 2 },
  { type: 'neighbours', depth: 0, k: 1 },
  { type: 'neighbours', depth: 0, k: 5 },
  { type: 'neighbours', depth: 1, k: 1 },
  { type: 'neighbours', depth: 1, k: 5 },
  { type: 'neighbours', depth: 2, k: 1 },
  { type: 'neighbours', depth: 2, k: 5 },
];
const classes = classesArg.split(',').map(Number);
const sums: Record<string, number> = {};
for (const c of classes) {
  const r = await oneClassRun(be, train, test, c, {
    blocks: configs[cfg],
    epochs: Number(epochsArg ?? 2),
    batchSize: 32,
    optimizer: { type: 'adam', lr: 3e-3 },
    seed: 1,
    scores,
    ensemble: true,
    evaluate: 'validation',
  });
  console.log(
    `class ${c} (${r.trainImages} train, ${r.evaluated.normal}/${r.evaluated.anomalous} val) ${r.seconds.toFixed(1)} s: ` +
      r.results.map((x) => `${x.name} ${(100 * x.auroc).toFixed(1)}`).join('  '),
  );
  for (const x of r.results) sums[x.name] = (sums[x.name] ?? 0) + x.auroc / classes.length;
  r.stack.dispose();
}
console.log(
  `${cfg} mean: ` +
    Object.entries(sums)
      .map(([k, v]) => `${k} ${(100 * v).toFixed(2)}`)
      .join('  '),
);
