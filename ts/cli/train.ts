/**
 * The main job: greedy CAE pretraining on (Fashion-)MNIST, the classifier built
 * from the stack, fine-tuning, test error, and the model and pictures written
 * to an output folder.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { StackedConvAutoencoder, type BlockSpec } from '../model/autoencoder.js';
import type { Decoder } from './commands.js';
import { Classifier } from '../model/classifier.js';
import { saveModel } from '../model/serialize.js';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../train/checkpoint.js';
import { evaluateClassifier, evaluateTask } from '../train/evaluate.js';
import type { History } from '../train/fit.js';
import type { Runner } from '../train/runner.js';
import { createRunner, defaultParallelism, type Parallelism } from '../worker/runner.js';
import { readSearchBest } from './search.js';
import type { OptimizerSpec } from '../train/optimizer.js';
import { filterFigure, loadRenderer, lossChart, reconstructionFigure } from '../viz/render.js';
import { DataError, truncate } from '../errors.js';
import { checkOutDir, checkOutsideData } from './outdir.js';
import { makeDirs, writeAtomic, writeModelFiles } from '../io/files.js';
import { checkResumeFlags, onInterrupt, runFlags, writeRunFlags } from './resume.js';
import { Progress } from './progress.js';
import { rescaleIfSaturated, rescaleText, saturationNote } from './saturation-note.js';
import { limitImages, resolveTrainData } from './data.js';
import { checkImagesFit } from './fits.js';
import { describeFirstNoise, type FirstNoise, firstNoiseSpec } from './first-noise.js';
import { defaultArchitecture, RECONSTRUCTIONS_PNG, reconstructionLayout } from './pictures.js';
import { labelledSubset } from '../data/split.js';
import { defaultEpochs, FIRST_BLOCK_SPARSITY } from './paper-arch.js';
import { loadSaved, type Saved } from './saved.js';
import { deriveSeed } from '../util/rng.js';

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
  /**
   * Noise on the first CAE's input (denoising): a masking fraction (0: none), Gaussian noise (clipped to [0, 1]: the
   * images are pixels) or salt and pepper (default: `settingsFor`).
   */
  noise?: FirstNoise;
  /** k-sparse decoding of the first CAE: the fraction of each pooled map kept; 0 for none (default: `settingsFor`). */
  sparsity?: number;
  /** The CAEs' decoders: tied to the encoder's kernels or kernels of their own (default: `settingsFor`). */
  decoder?: Decoder;
  /** Random translations of the fine-tuning images, up to this many pixels; 0 for none (default: the preset's). */
  shift?: number;
  seed: number;
  out: string;
  limit?: number;
  /** Fine-tune on this many labelled training images (`labelledSubset`); pretraining still uses them all, without labels. */
  labels?: number;
  /** Start from the CAE stack saved in this folder (or this stack.json) instead of pretraining one. */
  stack?: string;
  /** Fine-tuning learning rate and head dropout (default: `settingsFor`). */
  lr?: number;
  dropout?: number;
  pretrain: boolean;
  /** Scale the conv layers down before fine-tuning when a pretrained block is saturated (`rescaleConvs`; default true). */
  rescale: boolean;
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

/** The first CAE's default masking noise (the main job's: the lower validation error, docs/paper-results.md). */
const NOISE = 0.3;

/**
 * Fewer labels than `below` (`--labels`): `convae paper`'s pretraining (a k-sparse first CAE,
 * untied decoders, 3 epochs per CAE), and fine-tuning at the learning rate and head dropout its
 * tuning chose for both initialisations at 100–1 000 MNIST labels, for about 150 000 images.
 * With 300 labels that pretraining is ahead of random initialisation in 10 seeds of 10, where the
 * main job's (30 % noise, tied) is behind (docs/paper-results.md). From `below` up, the preset's.
 */
export const FEW_LABELS = {
  below: 5000,
  pretrainEpochs: 3,
  noise: 0,
  sparsity: FIRST_BLOCK_SPARSITY.keep,
  decoder: 'untied',
  lr: 0.02,
  dropout: 0.5,
} as const;

/**
 * A dataset of fewer than `FEW_LABELS.below` training images (a folder of one's own, not MNIST cut by
 * `--limit`) trains like `--labels` at its size: the few-labels recipe, fine-tuning for about 150 000
 * images, and pretraining for about `pretrainImages` a CAE (what the preset's one epoch of MNIST is).
 * The preset's 1 + 8 epochs are a few dozen steps there: on a folder of 500 MNIST images (400 to
 * train on) they reached 89.8 % MNIST test accuracy, this 96.1 % (README *Your own images*).
 * Below `fewestScaled` images (the fewest labels the recipe was tuned at) the epochs stay those of
 * `fewestScaled`: a folder of 3 images asked for 50 000 fine-tuning epochs and 20 000 per CAE, a
 * checkpoint written after each, about 16 minutes of a loss already 0.
 */
export const SMALL_DATA = { pretrainImages: 60_000, fewestScaled: 100 } as const;

/**
 * Fine-tuning epochs between two checkpoints: about CHECKPOINT_IMAGES images (every epoch of MNIST), and never
 * more than the run has, so a short run still leaves one. A small dataset trains for many short epochs: a
 * checkpoint after each wrote 1 500 files of about 4 MB for a 100-image folder, while a resume from one a few
 * seconds older loses nothing (it continues bit for bit from whichever epoch it holds).
 */
export const CHECKPOINT_IMAGES = 5000;
export const checkpointEvery = (images: number, epochs: number): number =>
  Math.max(1, Math.min(epochs, Math.ceil(CHECKPOINT_IMAGES / Math.max(1, images))));

/**
 * What a run pretrains and fine-tunes with: the flags', else the defaults for its preset and
 * `labelled`, the number of labelled images when pretraining sees more (`--labels`, or every
 * training image with `--stack`, whose pretraining was done elsewhere) or when the whole dataset is
 * small (`pretrainSize`, its training images: SMALL_DATA); undefined otherwise.
 */
export function settingsFor(
  preset: (typeof PRESETS)[keyof typeof PRESETS],
  a: Pick<TrainArgs, 'pretrainEpochs' | 'noise' | 'sparsity' | 'decoder' | 'epochs' | 'lr' | 'dropout'>,
  labelled?: number,
  pretrainSize?: number,
): {
  pretrainEpochs: number;
  noise: FirstNoise;
  sparsity: number;
  decoder: Decoder;
  epochs: number;
  lr: number;
  dropout: number;
} {
  const few = labelled !== undefined && labelled < FEW_LABELS.below;
  const scaled = (n: number) => Math.max(n, SMALL_DATA.fewestScaled);
  return {
    pretrainEpochs:
      a.pretrainEpochs ??
      (!few
        ? preset.pretrainEpochs
        : Math.max(
            FEW_LABELS.pretrainEpochs,
            pretrainSize ? Math.round(SMALL_DATA.pretrainImages / scaled(pretrainSize)) : 0,
          )),
    noise: a.noise ?? (few ? FEW_LABELS.noise : NOISE),
    sparsity: a.sparsity ?? (few ? FEW_LABELS.sparsity : 0),
    decoder: a.decoder ?? (few ? FEW_LABELS.decoder : 'tied'),
    epochs:
      a.epochs ?? (labelled === undefined ? preset.epochs : Math.max(preset.epochs, defaultEpochs(scaled(labelled)))),
    lr: a.lr ?? (few ? FEW_LABELS.lr : preset.lr),
    dropout: a.dropout ?? (few ? FEW_LABELS.dropout : preset.dropout),
  };
}

/** The stack a run starts from: its own saved one when resuming, else the one `--stack` names; null: pretrain one. */
async function startingStack(a: TrainArgs, be: Awaited<ReturnType<typeof loadBackend>>): Promise<Saved | null> {
  if (a.resume) {
    const file = join(a.out, 'stack.json');
    if (!existsSync(file) || !existsSync(join(a.out, 'stack.safetensors')))
      throw new DataError(`nothing to resume in ${a.out}: ${file} cannot be read (run without --resume first)`);
    return loadSaved(be, file, 'stack');
  }
  if (a.stack === undefined) return null;
  return loadSaved(be, a.stack.endsWith('.json') ? a.stack : join(a.stack, 'stack.json'), 'stack', '--stack');
}

export async function train(a: TrainArgs): Promise<{ testError: number }> {
  const log = (s: string) => a.quiet || console.log(s);
  loadRenderer(); // the run ends by drawing its pictures: without a renderer, stop before anything is trained
  await checkOutsideData(
    'convae train',
    [{ flag: '--out', path: a.out, folder: true }],
    [{ flag: '--data', spec: a.data }],
  );
  await checkOutDir(a.out);
  // Checked before the backend, the workers and the data are loaded: a damaged file stops the run at once.
  const searched =
    a.fromSearch !== undefined && !a.resume && a.stack === undefined ? await readSearchBest(a.fromSearch) : undefined;
  const preset = PRESETS[a.preset];
  const t0 = performance.now();
  const be = await loadBackend({ build: a.build });
  // Read before any worker starts: a stack that cannot be used stops the run here.
  const from = await startingStack(a, be);
  try {
    const d = await defaultParallelism(be);
    const workers = a.workers ?? d.workers,
      threads = a.threads ?? (a.workers === undefined ? d.threads : 1);
    // In the workers (data-parallel) or, with --workers 0, on this thread: the same loop and options either way.
    const runner = await createRunner(be, { workers, threads });
    const stopInterrupt = onInterrupt(a.out, 'The pretrained stack and the last fine-tuning epoch are saved');
    try {
      return await trainWith(a, be, runner, { workers, threads }, log, preset, t0, from, searched);
    } finally {
      stopInterrupt();
      await runner.dispose();
    }
  } finally {
    from?.dispose();
  }
}

async function trainWith(
  a: TrainArgs,
  be: Awaited<ReturnType<typeof loadBackend>>,
  runner: Runner,
  par: Parallelism,
  log: (s: string) => void,
  preset: (typeof PRESETS)[keyof typeof PRESETS],
  t0: number,
  from: Saved | null,
  searched: BlockSpec | undefined,
): Promise<{ testError: number }> {
  // A saved stack decides the input: its normalisation, and an image folder's size and channels unless given.
  const input = from?.input ?? { normalize: 'none' as const };
  const source = await resolveTrainData({
    data: a.data ?? a.dataset,
    size: a.size,
    channels: a.channels,
    folderShape: from?.inputShape,
    limit: a.limit,
    seed: a.seed,
    skipBad: a.skipBad,
    ...(input.normalize !== 'none' ? input : {}),
  });
  const { train: trainSet, test: testSet, classes } = source;
  if (!trainSet.labels || !testSet.labels)
    throw new DataError(
      `${source.name} has no labels${source.unlabelled ? `: ${source.unlabelled}.` : ' (no class sub-folders):'} \`convae train\` fine-tunes a classifier; use \`convae pretrain --data …\` to train the CAE stack alone`,
    );
  if (from && from.inputShape.join() !== trainSet.shape.join())
    throw new DataError(
      `${a.resume ? `the stack saved in ${a.out}` : `--stack ${a.stack!.slice(0, 160)}`} takes [${from.inputShape.join(',')}] images; ${source.name.slice(0, 160)} has [${trainSet.shape.join(',')}]`,
    );
  if (a.labels !== undefined && a.labels > trainSet.length)
    throw new DataError(
      `--labels ${a.labels}: ${source.name.slice(0, 160)} has only ${trainSet.length} training images`,
    );
  // Pretraining sees every training image (no labels needed); fine-tuning only the labelled subset.
  const labelled = a.labels === undefined ? trainSet : labelledSubset(trainSet, a.labels, a.seed);
  // A small dataset of one's own (not MNIST cut short by --limit, which asks for a quick run).
  const small =
    a.labels === undefined && a.stack === undefined && a.limit === undefined && trainSet.length < FEW_LABELS.below;
  const set = small
    ? settingsFor(preset, a, trainSet.length, trainSet.length)
    : settingsFor(preset, a, a.labels ?? (a.stack !== undefined ? trainSet.length : undefined));
  const { pretrainEpochs, epochs, lr, dropout } = set;
  const arch = defaultArchitecture(trainSet.shape);
  const maps = a.maps ?? arch.maps,
    hidden = a.hidden ?? arch.hidden;
  const shift = a.shift ?? preset.shift;
  const flags = runFlags(
    // lr and dropout as given (null: the defaults, which --preset and --labels decide), so older runs still resume.
    {
      ...a,
      ...set,
      lr: a.lr,
      dropout: a.dropout,
      dataset: a.data ?? a.dataset,
      maps,
      hidden,
      shift: shift === preset.shift ? undefined : shift,
    },
    pretrainEpochs,
    epochs,
  );
  if (a.resume) await checkResumeFlags(a.out, flags);
  log(
    `convae ${source.name}: ${trainSet.length} training and ${testSet.length} test images; kernels: ${be.build} build; ${par.workers ? `${par.workers} data-parallel worker${par.workers > 1 ? 's' : ''}` : 'this thread'}${par.threads > 1 ? `, ${par.threads} kernel threads${par.workers ? ' each' : ''}` : ''}`,
  );
  if (a.labels !== undefined || a.stack !== undefined || small) {
    const first =
      [set.sparsity > 0 && `k-sparse, keeps ${set.sparsity}`, describeFirstNoise(set.noise)]
        .filter(Boolean)
        .join(' + ') || 'plain';
    const pre = `; pretraining on all of them, without labels: ${pretrainEpochs} epochs per CAE, ${set.decoder} decoders, first CAE ${first}`;
    log(
      `${small ? `a small dataset (under ${FEW_LABELS.below} training images), trained as with --labels` : 'labels'}: fine-tuning on ${a.labels === undefined ? `all ${trainSet.length}` : `${labelled.length} of the ${trainSet.length}`} training images${a.labels === undefined ? '' : ` (seed ${a.seed}'s subset)`}, ${epochs} epochs at learning rate ${lr}, head dropout ${dropout}${from || !a.pretrain ? '' : pre}`,
    );
  }

  // A loaded stack is owned by `from` (train() disposes it); one made here, by this function.
  const blocks: BlockSpec[] = from ? [...from.stack!.specs] : blocksFor(a, set, maps, searched, log);
  if (!from)
    checkImagesFit(
      be,
      'convae train',
      blocks,
      trainSet.shape,
      { flag: '--data', name: source.name },
      'a smaller --kernel',
    );
  const stack = from?.stack ?? new StackedConvAutoencoder(be, blocks, trainSet.shape, a.seed);
  const curves: { name: string; values: number[] }[] = [];
  const reconMse: number[] = [];
  const saturated: (number | null)[] = [];
  const histories: Record<string, History> = {};
  await makeDirs(a.out);
  if (!a.resume) await writeRunFlags(a.out, flags);
  const ckptFile = join(a.out, 'finetune-checkpoint.safetensors');
  let resumeFrom: Checkpoint | undefined;

  if (from) {
    if (a.resume) {
      // Interrupted during the first fine-tuning epoch: the stack is saved, no checkpoint yet.
      resumeFrom = existsSync(ckptFile) ? decodeCheckpoint(await readFile(ckptFile), ckptFile) : undefined;
      log(
        `resuming: pretrained stack from ${a.out}/stack.*, ${resumeFrom ? `fine-tuning from epoch ${resumeFrom.epoch + 1} (${ckptFile})` : 'fine-tuning from the start (no checkpoint yet)'}`,
      );
    } else log(`pretrained stack from ${a.stack}: ${stack.blocks.length} CAEs, no pretraining here`);
    for (let k = 0; k < stack.blocks.length; k++) {
      reconMse.push(evaluateTask(be, stack.task({ layer: k }), testSet).loss);
      const note = saturationNote(stack, k, trainSet);
      saturated.push(note.share);
      if (!a.resume) log(`CAE ${k + 1}: reconstruction MSE on the test images ${reconMse[k].toFixed(5)}${note.text}`);
    }
  } else if (a.pretrain) {
    for (let k = 0; k < stack.blocks.length; k++) {
      const bar = new Progress(`pretrain CAE ${k + 1}/${stack.blocks.length}`, pretrainEpochs, a.quiet);
      const { history: h } = await runner.fit(stack, trainSet, {
        layer: k,
        epochs: pretrainEpochs,
        batchSize: a.batch,
        seed: deriveSeed(a.seed, k),
        optimizer: { type: 'adam', lr: 3e-3 },
        onBatch: (b) => bar.batch(b),
        onEpoch: (e) => bar.epoch(e),
      });
      bar.stop();
      histories[`cae${k}`] = h;
      const mse = evaluateTask(be, stack.task({ layer: k }), testSet).loss;
      reconMse.push(mse);
      const note = saturationNote(stack, k, trainSet);
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
      ...(a.stack ? { from: a.stack } : { pretrainEpochs }),
      ...inputRecord(input),
      reconstructionMse: reconMse,
      saturatedCodes: saturated,
    });
    await writeModelFiles(join(a.out, 'stack'), savedStack);
  }

  const clf = Classifier.fromStack(stack, { hidden: [hidden], classes: trainSet.numClasses ?? 10, dropout }, a.seed);
  // A checkpoint's weights would replace the scaled ones; a resume without one scales as the first run did.
  if (a.rescale && !resumeFrom) {
    const r = rescaleIfSaturated(clf, saturated, trainSet);
    if (r.blocks.length) log(`${rescaleText(r)} (--no-rescale keeps them)`);
  }
  const opt: OptimizerSpec = { type: 'sgd', lr, momentum: 0.9, weightDecay: 1e-4 };
  const bar = new Progress('fine-tune', epochs, a.quiet);
  const { history: h } = await runner.fit(clf, labelled, {
    epochs,
    batchSize: a.batch,
    seed: a.seed,
    optimizer: opt,
    schedule: { type: 'cosine', epochs, minFactor: 0.02 },
    augment: shift ? { shift } : undefined,
    onBatch: (b) => bar.batch(b),
    onEpoch: (e) => bar.epoch(e),
    checkpoint: {
      every: checkpointEvery(labelled.length, epochs),
      save: (c) => writeAtomic(ckptFile, encodeCheckpoint(c)),
    },
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
    dropout,
    labels: labelled.length,
    stack: a.stack ?? null,
    ...inputRecord(input),
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
  await writeModelFiles(join(a.out, 'classifier'), saved);
  for (const [k, b] of stack.blocks.entries()) {
    const w = b.convs[0].weight.value;
    const title = `CAE ${k + 1}: ${k ? 'filters' : 'first-layer filters'}`;
    await writeAtomic(
      join(a.out, `filters-block${k + 1}.png`),
      filterFigure(w.data, w.shape as [number, number, number, number], { title }).png,
    );
  }
  // Originals next to their reconstructions by the first CAE: up to 16, as many as a small folder's test set holds
  // (a folder under 78 images ended the run here with a shape error, its model saved but no report); of a folder,
  // whose test images are in class order, a sample of its classes as --limit takes it (limitImages).
  const [, imageH, imageW] = testSet.shape;
  const layout = reconstructionLayout(testSet.length, imageH, imageW, 3);
  if (layout) {
    const sample = limitImages(testSet, source.name, layout.count, a.seed),
      n = sample.length;
    const x = be.fromArray([n, ...sample.shape], sample.images);
    const y = stack.blocks[0].reconstruct(x);
    await writeAtomic(
      join(a.out, RECONSTRUCTIONS_PNG),
      reconstructionFigure(sample.images, y.toArray(), [n, ...sample.shape] as [number, number, number, number], {
        title: 'Test images and their reconstructions by the first CAE',
        by: 'CAE 1',
        scale: layout.scale,
        columns: layout.columns,
        // Normalised input (a --stack's) spreads around 0, as `convae pretrain` draws it.
        range: input.normalize !== 'none' ? [-3, 3] : [0, 1],
      }).png,
    );
    x.dispose();
  } else
    log(
      `${RECONSTRUCTIONS_PNG} left out: images of ${imageH}×${imageW} are too large to draw with their reconstructions`,
    );
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
  if (!from) stack.dispose();
  clf.dispose();
  return { testError: ev.error };
}

/** The two CAE blocks a run pretrains: its flags and defaults, the first block `searched` (`--from-search`) if given. */
function blocksFor(
  a: TrainArgs,
  set: ReturnType<typeof settingsFor>,
  maps: [number, number],
  searched: BlockSpec | undefined,
  log: (s: string) => void,
): BlockSpec[] {
  const common = { activation: 'tanh', pool: { kernel: 2 }, tied: set.decoder !== 'untied' } as const;
  const blocks: BlockSpec[] = [
    // Masking noise by default: the lower validation error; --sparsity gives stroke-like filters (docs/paper-results.md).
    {
      ...common,
      convs: [{ filters: maps[0], kernel: a.kernel }],
      // blocksFor builds the blocks of a run without a saved stack: its images are pixels.
      noise: firstNoiseSpec(set.noise, true),
      sparsity: set.sparsity > 0 ? { keep: set.sparsity } : null,
    },
    { ...common, convs: [{ filters: maps[1], kernel: a.kernel }] },
  ];
  if (searched) {
    blocks[0] = searched;
    // readSearchBest checked the block against the schema, but a valid one may still list 256 convolutions.
    log(truncate(`first CAE block from ${a.fromSearch}: ${JSON.stringify(searched)}`));
  }
  return blocks;
}

/** How the input was normalised, as a saved model records it (nothing for plain pixels). */
function inputRecord(input: Saved['input']) {
  if (input.normalize === 'none') return {};
  const w = input.whitening;
  return { normalize: input.normalize, ...(w ? { whitening: { ...w, kernel: Array.from(w.kernel) } } : {}) };
}
