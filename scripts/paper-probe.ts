/**
 * A cheap look at what pretraining gives the classifier, before fine-tuning
 * (docs/paper-results.md "Why pretraining does not pay"): pretrain a stack variant on
 * unlabelled training images, then the linear-probe accuracy of its codes at
 * every depth, from `labels` labelled images, on held-out training images
 * 50 000–54 999 (never the test set) — next to the same network's codes at
 * random initialisation.
 *
 *   nice -n 10 npx tsx scripts/paper-probe.ts '{"unlabelled":10000,"epochs":[5,5],"blocks":[{"noise":{"type":"mask","fraction":0.5}}]}'
 */
import { loadBackend } from '../ts/backend/backend.js';
import { loadMnist, loadFashionMnist } from '../ts/data/mnist.js';
import { type BlockSpec, StackedConvAutoencoder } from '../ts/model/autoencoder.js';
import { encode } from '../ts/anomaly/embed.js';
import { linearProbeAccuracy } from '../ts/anomaly/probe.js';
import { evaluateTask } from '../ts/train/evaluate.js';
import { fit } from '../ts/train/fit.js';
import { stackLayerTask } from '../ts/model/tasks.js';
import { Rng } from '../ts/util/rng.js';
import { ARCHITECTURES, type ArchName } from '../ts/cli/paper-arch.js';

interface Config {
  data?: 'mnist' | 'fashion';
  seed?: number;
  labels?: number;
  arch?: ArchName;
  blocks?: Partial<BlockSpec>[];
  unlabelled?: number;
  epochs?: number[];
  lr?: number;
  /** Also probe the randomly initialised network. */
  random?: boolean;
}
const cfg: Config = JSON.parse(process.argv[2] ?? '{}');
const seed = cfg.seed ?? 1;
const blocks: BlockSpec[] = ARCHITECTURES[cfg.arch ?? 'small'].blocks.map((b, k) => ({
  ...b,
  ...(cfg.blocks?.[k] ?? {}),
}));
const t0 = performance.now();
const be = await loadBackend({ build: 'simd' });
const all = cfg.data === 'fashion' ? await loadFashionMnist({ split: 'train' }) : await loadMnist({ split: 'train' });
const val = all.subset(Uint32Array.from({ length: 5000 }, (_, i) => 50000 + i));
const labelled = all.subset(
  new Rng(seed * 7 + (cfg.labels ?? 1000)).permutation(50000).subarray(0, cfg.labels ?? 1000),
);

async function probe(stack: StackedConvAutoencoder): Promise<number[]> {
  const out: number[] = [];
  for (let d = 1; d <= stack.blocks.length; d++) {
    const tr = encode(stack, labelled, { depth: d }),
      va = encode(stack, val, { depth: d });
    out.push(+(100 * (1 - linearProbeAccuracy(tr, labelled.labels!, va, val.labels!))).toFixed(2));
  }
  return out;
}

const result: Record<string, unknown> = { cfg };
if (cfg.random) {
  const r = new StackedConvAutoencoder(be, blocks, all.shape, seed);
  result.randomProbeError = await probe(r);
  r.dispose();
}
const stack = new StackedConvAutoencoder(be, blocks, all.shape, seed);
const unl = all.take(cfg.unlabelled ?? 10000);
const recon: number[] = [];
for (let k = 0; k < stack.blocks.length; k++) {
  const epochs = cfg.epochs ?? [1];
  await fit(be, stackLayerTask(stack, k), unl, {
    epochs: epochs[k] ?? epochs[epochs.length - 1],
    batchSize: 64,
    seed: seed * 10 + k,
    optimizer: { type: 'adam', lr: cfg.lr ?? 3e-3 },
  });
  recon.push(+evaluateTask(be, stackLayerTask(stack, k), val.take(2000)).loss.toFixed(5));
}
result.probeError = await probe(stack);
result.recon = recon;
// Weight scale next to Glorot's: a pretrained layer far larger saturates tanh, far smaller learns slowly.
result.weightRms = stack.blocks.map((b) => {
  const w = b.convs[0].weight.value.data;
  return +Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length).toFixed(4);
});
result.seconds = +((performance.now() - t0) / 1000).toFixed(0);
console.log(JSON.stringify(result));
stack.dispose();
