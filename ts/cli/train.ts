/**
 * The main job: greedy CAE pretraining on (Fashion-)MNIST, the classifier built
 * from the stack, fine-tuning, test error, and the model and pictures written
 * to an output folder.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { StackedConvAutoencoder, type BlockSpec } from '../model/autoencoder.js';
import type { Decoder } from './commands.js';
import { Classifier } from '../model/classifier.js';
import { loadModel, saveModel } from '../model/serialize.js';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../train/checkpoint.js';
import { evaluateClassifier, evaluateTask } from '../train/evaluate.js';
import type { History } from '../train/fit.js';
import type { Runner } from '../train/runner.js';
import { createRunner, defaultParallelism, type Parallelism } from '../worker/runner.js';
import { readSearchBest } from './search.js';
import type { OptimizerSpec } from '../train/optimizer.js';
import { filterFigure, lossChart, reconstructionFigure } from '../viz/render.js';
import { DataError } from '../errors.js';
import { checkOutDir, writeAtomic } from './outdir.js';
import { checkResumeFlags, onInterrupt, runFlags, writeRunFlags } from './resume.js';
import { Progress } from './progress.js';
import { saturationNote } from './saturation-note.js';
import { resolveTrainData } from './data.js';
import { defaultArchitecture } from './pictures.js';

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
  /** k-sparse decoding of the first CAE: the fraction of each pooled map kept; 0 for none. */
  sparsity: number;
  /** The CAEs' decoders: tied to the encoder's kernels or kernels of their own. */
  decoder: Decoder;
  /** Random translations of the fine-tuning images, up to this many pixels; 0 for none (default: the preset's). */
  shift?: number;
  seed: number;
  out: string;
  limit?: number;
  pretrain: boolean;
  /** Continue an interrupted run in `out`: its saved stack and last fine-tuning checkpoint. */
  resume: boolean;
  build: Build | 'auto';
  /** Data-parallel workers (default: defaultParallelism); 0 trains on this thread. */
  workers?: number;
  /** Kernel threads of each worker, or of this thread with 0 workers (native only; default: defaultParallelism). */
  threads?: number;
  /** The first CAE block as `convae search` ranked best (its search.json). */
  fromSearch?: string;
  quiet: boolean;
}

/**
 * The presets (measured times and errors are in the README). `shift`: random
 * translations of the fine-tuning images by up to that many pixels (chosen on
 * held-out training images, docs/paper-results.md).
 */
export const PRESETS = {
  default: { pretrainEpochs: 1, epochs: 8, lr: 0.05, dropout: 0, shift: 1 },
  long: { pretrainEpochs: 2, epochs: 20, lr: 0.05, dropout: 0.3, shift: 1 },
} as const;

export async function train(a: TrainArgs): Promise<{ testError: number }> {
  const log = (s: string) => a.quiet || console.log(s);
  await checkOutDir(a.out);
  const preset = PRESETS[a.preset];
  const pretrainEpochs = a.pretrainEpochs ?? preset.pretrainEpochs;
  const epochs = a.epochs ?? preset.epochs;
  const t0 = performance.now();
  const be = await loadBackend({ build: a.build });
  const d = await defaultParallelism(be);
  const workers = a.workers ?? d.workers,
    threads = a.threads ?? (a.workers === undefined ? d.threads : 1);
  // In the workers (data-parallel) or, with --workers 0, on this thread: the same loop and options either way.
  const runner = await createRunner(be, { workers, threads });
  const stopInterrupt = onInterrupt(a.out);
  try {
    return await trainWith(a, be, runner, { workers, threads }, log, pretrainEpochs, epochs, preset, t0);
  } finally {
    stopInterrupt();
    await runner.dispose();
  }
}

async function trainWith(
  a: TrainArgs,
  be: Awaited<ReturnType<typeof loadBackend>>,
  runner: Runner,
  par: Parallelism,
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
  const shift = a.shift ?? preset.shift;
  const flags = runFlags(
    { ...a, dataset: a.data ?? a.dataset, maps, hidden, shift: shift === preset.shift ? undefined : shift },
    pretrainEpochs,
    epochs,
  );
  if (a.resume) await checkResumeFlags(a.out, flags);
  log(
    `convae ${source.name}: ${trainSet.length} training and ${testSet.length} test images; kernels: ${be.build} build; ${par.workers ? `${par.workers} data-parallel worker${par.workers > 1 ? 's' : ''}` : 'this thread'}${par.threads > 1 ? `, ${par.threads} kernel threads${par.workers ? ' each' : ''}` : ''}`,
  );

  const common = { activation: 'tanh', pool: { kernel: 2 }, tied: a.decoder !== 'untied' } as const;
  const blocks: BlockSpec[] = [
    // Masking noise by default: the lower validation error; --sparsity gives stroke-like filters (docs/paper-results.md).
    {
      ...common,
      convs: [{ filters: maps[0], kernel: a.kernel }],
      noise: a.noise > 0 ? { type: 'mask', fraction: a.noise } : null,
      sparsity: a.sparsity > 0 ? { keep: a.sparsity } : null,
    },
    { ...common, convs: [{ filters: maps[1], kernel: a.kernel }] },
  ];
  if (a.fromSearch) {
    blocks[0] = await readSearchBest(a.fromSearch);
    log(`first CAE block from ${a.fromSearch}: ${JSON.stringify(blocks[0])}`);
  }
  let stack = new StackedConvAutoencoder(be, blocks, trainSet.shape, a.seed);
  const curves: { name: string; values: number[] }[] = [];
  const reconMse: number[] = [];
  const saturated: (number | null)[] = [];
  const histories: Record<string, History> = {};
  await mkdir(a.out, { recursive: true });
  if (!a.resume) await writeRunFlags(a.out, flags);
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
    const loaded = loadModel(be, json, await read(join(a.out, 'stack.safetensors')), {
      source: join(a.out, 'stack'),
      kind: 'stack',
    });
    stack.dispose();
    stack = loaded.model;
    // Interrupted during the first fine-tuning epoch: the stack is saved, no checkpoint yet.
    resumeFrom = existsSync(ckptFile) ? decodeCheckpoint(await read(ckptFile), ckptFile) : undefined;
    log(
      `resuming: pretrained stack from ${a.out}/stack.*, ${resumeFrom ? `fine-tuning from epoch ${resumeFrom.epoch + 1} (${ckptFile})` : 'fine-tuning from the start (no checkpoint yet)'}`,
    );
    for (let k = 0; k < stack.blocks.length; k++) {
      reconMse.push(evaluateTask(be, stack.task({ layer: k }), testSet).loss);
      saturated.push(saturationNote(stack, k, testSet).share);
    }
  } else if (a.pretrain) {
    for (let k = 0; k < stack.blocks.length; k++) {
      const bar = new Progress(`pretrain CAE ${k + 1}/${stack.blocks.length}`, pretrainEpochs, a.quiet);
      const { history: h } = await runner.fit(stack, trainSet, {
        layer: k,
        epochs: pretrainEpochs,
        batchSize: a.batch,
        seed: a.seed + k,
        optimizer: { type: 'adam', lr: 3e-3 },
        onBatch: (b) => bar.batch(b),
        onEpoch: (e) => bar.epoch(e),
      });
      bar.stop();
      histories[`cae${k}`] = h;
      const mse = evaluateTask(be, stack.task({ layer: k }), testSet).loss;
      reconMse.push(mse);
      const note = saturationNote(stack, k, testSet);
      saturated.push(note.share);
      curves.push(bar.series(`CAE ${k + 1} train MSE`)); // every batch: a 1-epoch run is a curve, not a dot
      log(`CAE ${k + 1}: reconstruction MSE on the test images ${mse.toFixed(5)}${note.text}`);
      if (note.warning && !a.quiet) console.error(note.warning);
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
      saturatedCodes: saturated,
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
  const { history: h } = await runner.fit(clf, trainSet, {
    epochs,
    batchSize: a.batch,
    seed: a.seed,
    optimizer: opt,
    schedule: { type: 'cosine', epochs, minFactor: 0.02 },
    augment: shift ? { shift } : undefined,
    onBatch: (b) => bar.batch(b),
    onEpoch: (e) => bar.epoch(e),
    checkpoint: { save: (c) => writeAtomic(ckptFile, encodeCheckpoint(c)) },
    resumeFrom,
  });
  bar.stop();
  histories.classifier = h;
  curves.push(bar.series('classifier train loss'));
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
    shift,
    reconstructionMse: reconMse,
    saturatedCodes: saturated,
    testError: ev.error,
    seconds,
    build: be.build,
    workers: par.workers,
    threads: par.threads,
    blocks,
  };
  const saved = saveModel(clf, training);
  await writeAtomic(join(a.out, 'classifier.json'), saved.json);
  await writeAtomic(join(a.out, 'classifier.safetensors'), saved.weights);
  for (const [k, b] of stack.blocks.entries()) {
    const w = b.convs[0].weight.value;
    const title = `CAE ${k + 1}: ${k ? 'filters' : 'first-layer filters'}`;
    await writeAtomic(
      join(a.out, `filters-block${k + 1}.png`),
      filterFigure(w.data, w.shape as [number, number, number, number], { title }).png,
    );
  }
  // Originals next to their reconstructions by the first CAE.
  const n = 16,
    sample = testSet.take(n);
  const x = be.fromArray([n, ...sample.shape], sample.images);
  const y = stack.blocks[0].reconstruct(x);
  await writeAtomic(
    join(a.out, 'reconstructions.png'),
    reconstructionFigure(sample.images, y.toArray(), [n, ...sample.shape] as [number, number, number, number], {
      title: 'Test images and their reconstructions by the first CAE',
      by: 'CAE 1',
    }).png,
  );
  x.dispose();
  const chart = lossChart(curves, { logY: true, title: 'convae training loss (per batch)' }); // loss.png is drawn from loss.svg
  await writeAtomic(join(a.out, 'loss.png'), chart.png);
  await writeAtomic(join(a.out, 'loss.svg'), chart.svg);
  await writeAtomic(
    join(a.out, 'report.json'),
    JSON.stringify(
      {
        ...training,
        flags,
        resumedFromEpoch: a.resume ? (resumeFrom?.epoch ?? 0) : null,
        confusion: ev.confusion,
        histories,
      },
      null,
      2,
    ),
  );
  log(
    `wrote the model (classifier.json + classifier.safetensors, stack.*), filters, reconstructions and loss curves to ${a.out}/`,
  );
  stack.dispose();
  clf.dispose();
  return { testError: ev.error };
}
