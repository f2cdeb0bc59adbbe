/**
 * The main job: greedy CAE pretraining on (Fashion-)MNIST, the classifier built
 * from the stack, fine-tuning, test error, and the model and pictures written
 * to an output folder.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import type { ImageDataset } from '../data/dataset.js';
import { StackedConvAutoencoder, type BlockSpec } from '../model/autoencoder.js';
import { Classifier } from '../model/classifier.js';
import { loadModel, saveModel } from '../model/serialize.js';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../train/checkpoint.js';
import { evaluateTask, fit, type FitOptions, type History } from '../train/fit.js';
import { defaultWorkers } from '../worker/pool.js';
import { Trainer } from '../worker/trainer.js';
import { readSearchBest } from './search.js';
import type { OptimizerSpec } from '../train/optimizer.js';
import { classifierTask, stackLayerTask } from '../train/tasks.js';
import { writePng } from '../viz/png.js';
import { lossCurve, reconstructionGrid } from '../viz/raster.js';
import { lossCurveSvg } from '../viz/svg.js';
import { DataError } from '../errors.js';
import { evaluateClassifier } from './evaluate.js';
import { Progress } from './progress.js';
import { resolveTrainData } from './data.js';
import { defaultArchitecture, filterPicture } from './pictures.js';

export interface TrainArgs {
  dataset: 'mnist' | 'fashion';
  /** `--data`: overrides `dataset` (see cli/data.ts for what it takes). */
  data?: string;
  /** `--size` / `--channels` of an image folder. */
  size?: [number, number];
  channels?: 1 | 3;
  /** Skip image files that cannot be decoded. */
  skipBad?: boolean;
  preset: 'default' | 'long';
  pretrainEpochs?: number;
  epochs?: number;
  batch: number;
  /** Default: from the input (defaultArchitecture in cli/pictures.ts). */
  maps?: [number, number];
  kernel: number;
  hidden?: number;
  /** Masking-noise fraction of the first CAE (denoising); 0 for none. */
  noise: number;
  seed: number;
  out: string;
  limit?: number;
  pretrain: boolean;
  /** Continue an interrupted run in `out`: its saved stack and last fine-tuning checkpoint. */
  resume: boolean;
  build: Build | 'auto';
  /** Data-parallel workers (default: the machine's cores); 0 trains on this thread. */
  workers?: number;
  /** The first CAE block as `convae search` ranked best (its search.json). */
  fromSearch?: string;
  quiet: boolean;
}

/** The presets (measured times and errors are in the README). */
export const PRESETS = {
  default: { pretrainEpochs: 1, epochs: 8, lr: 0.05, dropout: 0 },
  long: { pretrainEpochs: 2, epochs: 20, lr: 0.05, dropout: 0.3 },
} as const;

export async function train(a: TrainArgs): Promise<{ testError: number }> {
  const log = (s: string) => a.quiet || console.log(s);
  const preset = PRESETS[a.preset];
  const pretrainEpochs = a.pretrainEpochs ?? preset.pretrainEpochs;
  const epochs = a.epochs ?? preset.epochs;
  const t0 = performance.now();
  const be = await loadBackend({ build: a.build });
  const workers = a.workers ?? (await defaultWorkers());
  const trainer = workers > 0 ? await Trainer.create(be, { size: workers }) : null;
  /** Trains in the workers (data-parallel) or, with --workers 0, on this thread: the same loop and options either way. */
  const run = async (
    model: StackedConvAutoencoder | Classifier,
    layer: number,
    data: ImageDataset,
    o: FitOptions,
  ): Promise<History> => {
    if (trainer) return (await trainer.fit(model, data, { ...o, layer })).history;
    return fit(be, model instanceof Classifier ? classifierTask(model) : stackLayerTask(model, layer), data, o);
  };
  try {
    return await trainWith(a, be, run, workers, log, pretrainEpochs, epochs, preset, t0);
  } finally {
    await trainer?.dispose();
  }
}

type Run = (
  model: StackedConvAutoencoder | Classifier,
  layer: number,
  data: ImageDataset,
  o: FitOptions,
) => Promise<History>;

async function trainWith(
  a: TrainArgs,
  be: Awaited<ReturnType<typeof loadBackend>>,
  run: Run,
  workers: number,
  log: (s: string) => void,
  pretrainEpochs: number,
  epochs: number,
  preset: (typeof PRESETS)[keyof typeof PRESETS],
  t0: number,
): Promise<{ testError: number }> {
  const source = await resolveTrainData({
    data: a.data ?? a.dataset,
    size: a.size,
    channels: a.channels,
    limit: a.limit,
    seed: a.seed,
    skipBad: a.skipBad,
  });
  const { train: trainSet, test: testSet, classes } = source;
  if (!trainSet.labels || !testSet.labels)
    throw new DataError(
      `${source.name} has no labels (no class sub-folders): \`convae train\` fine-tunes a classifier; use \`convae pretrain --data …\` to train the CAE stack alone`,
    );
  const arch = defaultArchitecture(trainSet.shape);
  const maps = a.maps ?? arch.maps,
    hidden = a.hidden ?? arch.hidden;
  log(
    `convae ${source.name}: ${trainSet.length} training and ${testSet.length} test images; kernels: ${be.build} build; ${workers ? `${workers} data-parallel worker${workers > 1 ? 's' : ''}` : 'this thread'}`,
  );

  const blocks: BlockSpec[] = [
    // Masking noise makes the first layer's filters strokes and edges instead of near-random blotches.
    {
      convs: [{ filters: maps[0], kernel: a.kernel }],
      activation: 'tanh',
      pool: { kernel: 2 },
      noise: a.noise > 0 ? { type: 'mask', fraction: a.noise } : null,
    },
    { convs: [{ filters: maps[1], kernel: a.kernel }], activation: 'tanh', pool: { kernel: 2 } },
  ];
  if (a.fromSearch) {
    blocks[0] = await readSearchBest(a.fromSearch);
    log(`first CAE block from ${a.fromSearch}: ${JSON.stringify(blocks[0])}`);
  }
  let stack = new StackedConvAutoencoder(be, blocks, trainSet.shape, a.seed);
  const curves: { name: string; values: number[] }[] = [];
  const reconMse: number[] = [];
  const histories: Record<string, History> = {};
  await mkdir(a.out, { recursive: true });
  /** Writes beside and renames, so a crash never leaves a half-written file over a good one. */
  const writeAtomic = async (file: string, data: string | Uint8Array) => {
    await writeFile(`${file}.tmp`, data);
    await rename(`${file}.tmp`, file);
  };
  const ckptFile = join(a.out, 'finetune-checkpoint.safetensors');
  let resumeFrom: Checkpoint | undefined;

  if (a.resume) {
    const read = async (file: string) => {
      try {
        return await readFile(file);
      } catch {
        throw new DataError(`nothing to resume in ${a.out}: ${file} cannot be read (run without --resume first)`);
      }
    };
    const json = (await read(join(a.out, 'stack.json'))).toString('utf8');
    const loaded = loadModel(be, json, await read(join(a.out, 'stack.safetensors')), join(a.out, 'stack'));
    if (!(loaded.model instanceof StackedConvAutoencoder))
      throw new DataError(`${a.out}/stack.json is not a CAE stack`);
    stack.dispose();
    stack = loaded.model;
    resumeFrom = decodeCheckpoint(await read(ckptFile), ckptFile);
    log(
      `resuming: pretrained stack from ${a.out}/stack.*, fine-tuning from epoch ${resumeFrom.epoch + 1} (${ckptFile})`,
    );
    for (let k = 0; k < stack.blocks.length; k++)
      reconMse.push(evaluateTask(be, stackLayerTask(stack, k), testSet).loss);
  } else if (a.pretrain) {
    for (let k = 0; k < stack.blocks.length; k++) {
      const bar = new Progress(`pretrain CAE ${k + 1}/${stack.blocks.length}`, pretrainEpochs, a.quiet);
      const h = await run(stack, k, trainSet, {
        epochs: pretrainEpochs,
        batchSize: a.batch,
        seed: a.seed + k,
        optimizer: { type: 'adam', lr: 3e-3 },
        onBatch: (b) => bar.batch(b),
        onEpoch: (e) => bar.epoch(e),
      });
      bar.stop();
      histories[`cae${k}`] = h;
      const mse = evaluateTask(be, stackLayerTask(stack, k), testSet).loss;
      reconMse.push(mse);
      curves.push({ name: `CAE ${k + 1} train MSE`, values: h.epochs.map((e) => e.loss) });
      log(`CAE ${k + 1}: reconstruction MSE on the test images ${mse.toFixed(5)}`);
    }
  }
  if (!a.resume) {
    // Saved as soon as it is trained: an interrupted fine-tuning never costs the pretraining.
    const savedStack = saveModel(stack, {
      kind: 'pretrained stack',
      dataset: source.name,
      classes,
      seed: a.seed,
      pretrained: a.pretrain,
      pretrainEpochs,
      reconstructionMse: reconMse,
    });
    await writeAtomic(join(a.out, 'stack.json'), savedStack.json);
    await writeAtomic(join(a.out, 'stack.safetensors'), savedStack.weights);
  }

  const clf = Classifier.fromStack(
    stack,
    { hidden: [hidden], classes: trainSet.numClasses ?? 10, dropout: preset.dropout },
    a.seed,
  );
  const opt: OptimizerSpec = { type: 'sgd', lr: preset.lr, momentum: 0.9, weightDecay: 1e-4 };
  const bar = new Progress('fine-tune', epochs, a.quiet);
  const h = await run(clf, 0, trainSet, {
    epochs,
    batchSize: a.batch,
    seed: a.seed,
    optimizer: opt,
    schedule: { type: 'cosine', epochs, minFactor: 0.02 },
    onBatch: (b) => bar.batch(b),
    onEpoch: (e) => bar.epoch(e),
    checkpoint: { save: (c) => writeAtomic(ckptFile, encodeCheckpoint(c)) },
    resumeFrom,
  });
  bar.stop();
  histories.classifier = h;
  curves.push({ name: 'classifier train loss', values: h.epochs.map((e) => e.loss) });
  const ev = evaluateClassifier(be, clf, testSet);
  const seconds = (performance.now() - t0) / 1000;
  log(
    `test error ${(100 * ev.error).toFixed(2)} % on ${testSet.length} test images (accuracy ${(100 * (1 - ev.error)).toFixed(2)} %), ${seconds.toFixed(0)} s in all`,
  );

  const training = {
    dataset: source.name,
    classes,
    preset: a.preset,
    pretrainEpochs,
    epochs,
    batch: a.batch,
    seed: a.seed,
    optimizer: opt,
    reconstructionMse: reconMse,
    testError: ev.error,
    seconds,
    build: be.build,
    workers,
    blocks,
  };
  const saved = saveModel(clf, training);
  await writeAtomic(join(a.out, 'classifier.json'), saved.json);
  await writeAtomic(join(a.out, 'classifier.safetensors'), saved.weights);
  for (const [k, b] of stack.blocks.entries()) {
    const w = b.convs[0].weight.value;
    await writePng(
      join(a.out, `filters-block${k + 1}.png`),
      filterPicture(w.data, w.shape as [number, number, number, number]),
    );
  }
  // Originals next to their reconstructions by the first CAE.
  const n = 16,
    sample = testSet.take(n);
  const x = be.fromArray([n, ...sample.shape], sample.images);
  const y = stack.blocks[0].reconstruct(x);
  await writePng(
    join(a.out, 'reconstructions.png'),
    reconstructionGrid(sample.images, y.toArray(), [n, ...sample.shape] as [number, number, number, number], {
      scale: 3,
      columns: 8,
    }),
  );
  x.dispose();
  await writePng(join(a.out, 'loss.png'), lossCurve(curves, { logY: true }));
  await writeFile(join(a.out, 'loss.svg'), lossCurveSvg(curves, { logY: true, title: 'convae training loss' }));
  await writeFile(
    join(a.out, 'report.json'),
    JSON.stringify({ ...training, confusion: ev.confusion, histories }, null, 2),
  );
  log(
    `wrote the model (classifier.json + classifier.safetensors, stack.*), filters, reconstructions and loss curves to ${a.out}/`,
  );
  stack.dispose();
  clf.dispose();
  return { testError: ev.error };
}
