/**
 * The experiment of Masci et al. 2011 (Table 1 there): a CNN trained on 1 000,
 * 10 000 and 50 000 labelled MNIST images, from random initialisation vs
 * initialised by a CAE stack pretrained (without labels) on all 60 000
 * training images; test error mean ± std over seeds.
 *
 * Every run sees about the same number of images (`--images-per-run`), so
 * small labelled sets get more epochs; both initialisations get the same schedule.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { StackedConvAutoencoder, type BlockSpec } from '../model/autoencoder.js';
import { Classifier } from '../model/classifier.js';
import { fit } from '../train/fit.js';
import { classifierTask, stackLayerTask } from '../model/tasks.js';
import { Rng } from '../util/rng.js';
import { resolveTrainData } from './data.js';
import { evaluateClassifier } from './evaluate.js';

export interface PaperArgs {
  sizes: number[];
  seeds: number;
  pretrainEpochs: number;
  imagesPerRun: number;
  /** Unlabelled images for pretraining (the first n of the training set); 60 000 in the paper. */
  unlabelled: number;
  out: string;
  build: Build | 'auto';
  quiet: boolean;
  /** `--data` (cli/data.ts); default mnist. Needs labels. */
  data?: string;
  size?: [number, number];
  channels?: 1 | 3;
}

const BLOCKS: BlockSpec[] = [
  { convs: [{ filters: 20, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
  { convs: [{ filters: 50, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
];

const meanStd = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const s = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : 0;
  return { m, s };
};

export async function paper(a: PaperArgs): Promise<string> {
  const log = (s: string) => a.quiet || console.log(s);
  const t0 = performance.now();
  const be = await loadBackend({ build: a.build });
  const { train, test } = await resolveTrainData({ data: a.data ?? 'mnist', size: a.size, channels: a.channels });
  const errors: Record<string, { random: number[]; pretrained: number[] }> = {};
  for (const size of a.sizes) errors[size] = { random: [], pretrained: [] };

  for (let seed = 1; seed <= a.seeds; seed++) {
    const stack = new StackedConvAutoencoder(be, BLOCKS, train.shape, seed);
    const unlabelled = train.take(Math.min(a.unlabelled, train.length));
    for (let k = 0; k < stack.blocks.length; k++) {
      await fit(be, stackLayerTask(stack, k), unlabelled, {
        epochs: a.pretrainEpochs,
        batchSize: 64,
        seed: seed * 10 + k,
        optimizer: { type: 'adam', lr: 1e-3 },
      });
    }
    for (const size of a.sizes) {
      const labelled = train.subset(new Rng(seed * 7 + size).permutation(train.length).subarray(0, size));
      const epochs = Math.max(1, Math.round(a.imagesPerRun / size));
      for (const init of ['random', 'pretrained'] as const) {
        const head = { hidden: [500], classes: train.numClasses ?? 10 };
        const clf =
          init === 'random'
            ? Classifier.fromBlocks(be, BLOCKS, train.shape, head, seed)
            : Classifier.fromStack(stack, head, seed);
        await fit(be, classifierTask(clf), labelled, {
          epochs,
          batchSize: 64,
          seed,
          optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 1e-4 },
          schedule: { type: 'cosine', epochs, minFactor: 0.02 },
        });
        const err = evaluateClassifier(be, clf, test).error;
        errors[size][init].push(err);
        clf.dispose();
        log(`seed ${seed}, ${size} labelled, ${init} init: test error ${(100 * err).toFixed(2)} % (${epochs} epochs)`);
      }
    }
    stack.dispose();
  }

  const rows = a.sizes.map((size) => {
    const r = meanStd(errors[size].random),
      p = meanStd(errors[size].pretrained);
    const helps = p.m + p.s < r.m - r.s ? 'yes' : p.m < r.m ? 'slightly (within 1 std)' : 'no';
    return `| ${size} | ${(100 * r.m).toFixed(2)} ± ${(100 * r.s).toFixed(2)} | ${(100 * p.m).toFixed(2)} ± ${(100 * p.s).toFixed(2)} | ${helps} |`;
  });
  const minutes = (performance.now() - t0) / 60000;
  const md = [
    '# CAE pretraining vs random initialisation (Masci et al. 2011, MNIST)',
    '',
    `Test error (%) on the 10 000 MNIST test images, mean ± std over ${a.seeds} seeds. CNN: conv 20×5×5 tanh, pool 2, conv 50×5×5 tanh, pool 2, dense 500 relu, dense 10.`,
    `Pretraining: greedy, ${a.pretrainEpochs} epoch(s) per CAE on ${Math.min(a.unlabelled, 60000)} training images, no labels. Fine-tuning: SGD + momentum 0.9, cosine schedule, about ${a.imagesPerRun} images per run. ${be.build} build, ${minutes.toFixed(1)} min in all.`,
    '',
    '| labelled images | random init | CAE-pretrained init | pretraining helps? |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  await mkdir(a.out, { recursive: true });
  await writeFile(join(a.out, 'paper.md'), md);
  await writeFile(join(a.out, 'paper.json'), JSON.stringify({ ...a, errors }, null, 2));
  console.log(a.quiet ? md : `\n${md}`);
  return md;
}
