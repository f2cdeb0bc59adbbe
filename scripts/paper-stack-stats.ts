/**
 * What a pretrained stack of `convae paper` holds, next to the same network at
 * random initialisation (docs/paper-results.md, section 6, "Tied and untied
 * decoders"): per block the RMS of every weight, how many of its codes sit
 * in tanh's flat tails (`codeSaturation`: |code| > 0.95, slope under a tenth), the
 * reconstruction error, and a linear probe of the codes from 1 000 labelled
 * images. Images: training images 50 000–51 999 for the statistics, the probe
 * trains on 1 000 of images 0–49 999 and scores 5 000 of 50 000–59 999 — never
 * the test set (the stacks saw these images, without labels, in pretraining).
 *
 *   nice -n 10 npx tsx scripts/paper-stack-stats.ts fashion OUT/stack-seed1.json [more stacks …]
 */
import { readFileSync } from 'node:fs';
import { loadBackend } from '../ts/backend/backend.js';
import { loadFashionMnist, loadMnist } from '../ts/data/mnist.js';
import { StackedConvAutoencoder } from '../ts/model/autoencoder.js';
import { loadModel } from '../ts/model/serialize.js';
import { encode } from '../ts/anomaly/embed.js';
import { linearProbeAccuracy } from '../ts/anomaly/probe.js';
import { codeSaturation } from '../ts/anomaly/saturation.js';
import { evaluateTask } from '../ts/train/evaluate.js';
import { stackLayerTask } from '../ts/model/tasks.js';
import { Rng } from '../ts/util/rng.js';

const [dataName, ...files] = process.argv.slice(2);
if (!['mnist', 'fashion'].includes(dataName) || files.length === 0)
  throw new Error('usage: paper-stack-stats.ts mnist|fashion STACK.json …');
const be = await loadBackend({ build: 'simd' });
const all = dataName === 'fashion' ? await loadFashionMnist({ split: 'train' }) : await loadMnist({ split: 'train' });
const range = (a: number, n: number) => Uint32Array.from({ length: n }, (_, i) => a + i);
const stats = all.subset(range(50000, 2000));
const probeVal = all.subset(range(50000, 5000));
const labelled = all.subset(new Rng(1007).permutation(50000).subarray(0, 1000));

function describe(stack: StackedConvAutoencoder): Record<string, unknown>[] {
  return stack.blocks.map((b, k) => {
    const rms = Object.fromEntries(
      b
        .params()
        .filter((p) => p.name.endsWith('weight'))
        .map((p) => {
          const w = p.value.data;
          return [p.name, +Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length).toFixed(3)];
        }),
    );
    const saturated = codeSaturation(stack, stats, { depth: k + 1 });
    const tr = encode(stack, labelled, { depth: k + 1 }),
      va = encode(stack, probeVal, { depth: k + 1 });
    return {
      block: k,
      weightRms: rms,
      saturated: saturated === null ? null : +(100 * saturated).toFixed(1),
      recon: +evaluateTask(be, stackLayerTask(stack, k), stats).loss.toFixed(5),
      probeError: +(100 * (1 - linearProbeAccuracy(tr, labelled.labels!, va, probeVal.labels!))).toFixed(2),
    };
  });
}

for (const file of files) {
  const json = readFileSync(file, 'utf8');
  const { model: stack } = loadModel(be, json, readFileSync(file.replace(/\.json$/, '.safetensors')), {
    kind: 'stack',
  });
  const random = new StackedConvAutoencoder(be, stack.specs, stack.inputShape, stack.seed);
  console.log(JSON.stringify({ file, pretrained: describe(stack), random: describe(random) }));
  random.dispose();
  stack.dispose();
}
