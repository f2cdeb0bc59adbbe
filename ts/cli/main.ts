#!/usr/bin/env node
/** `convae` command line: `convae train` runs the main job. */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BUILDS } from '../backend/loader.js';
import { ArgumentError, ConvaeError, quote } from '../errors.js';
import { MAX_KERNEL_THREADS, MAX_NEIGHBOURS, MAX_WORKERS } from '../limits.js';
import { anomaly } from './anomaly.js';
import { DETECT_IMAGES, detect, detectorConflict } from './detect.js';
import { DEFAULT_K } from '../anomaly/detector.js';
import { embeddings } from './embeddings.js';
import { features } from './features.js';
import { reason } from '../io/files.js';
import { exportCommand, importCommand } from './export.js';
import {
  dataOptions,
  decoderOption,
  FLAG_LIMITS as LIMITS,
  flagInteger,
  flagNumber,
  int,
  LIMIT_RULE,
  MAX_SEED,
  MODEL_HELP,
  QUIET_HELP,
  mapsArg,
  normalizeOption,
  patchOptions,
  registerDataCommands,
  fractionArg,
  trainNoiseArg,
  rateArg,
  SKIP_BAD_HELP,
  SPARSITY_HELP,
  STACK_MODEL_HELP,
  TRAIN_LIMIT_HELP,
  sparsityArg,
  WORKERS_HELP,
  workersArg,
} from './commands.js';
import { filtersFigure } from './filters-figure.js';
import { installInterruptHandler } from './interrupt.js';
import { paper } from './paper.js';
import { search } from './search.js';
import { FEW_LABELS, PRESETS, SMALL_DATA, train } from './train.js';
import { SATURATED } from './saturation-note.js';
import { ignoreClosedPipes } from './stdio.js';

ignoreClosedPipes();

/** `--shift` of train and paper, one bound: past a few pixels a shift moves much of a small image out of its frame. */
const shiftArg = int('--shift', 0, 8);

/**
 * When `train`'s few-labels defaults apply (FEW_LABELS): the pretraining ones with --labels or a small dataset
 * (SMALL_DATA), the fine-tuning ones with --stack too.
 */
const FEW_PRETRAIN = `with --labels under ${FEW_LABELS.below}, or a dataset under ${FEW_LABELS.below} training images (without --limit)`;
const FEW = `under ${FEW_LABELS.below} labelled images: with --labels or --stack, or a dataset that small (without --limit)`;

/** `train --stack` takes the architecture from the stack: these flags would silently not apply. */
const STACK_DECIDES = ['maps', 'kernel', 'noise', 'sparsity', 'decoder', 'pretrainEpochs', 'fromSearch', 'pretrain'];

// ts/cli/main.ts and dist/cli/main.js both sit two folders below package.json.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The bare `convae`'s first answer: what to type with a folder of one's own images (test/cli-basics.test.ts checks each). */
const START_HERE = [
  ['convae pretrain --data my-images --out stack', 'features without labels: a CAE stack'],
  ['convae encode --model stack --data my-images --out codes', 'the codes of every image'],
  ['convae reconstruct --model stack --data my-images --out reconstructions.png', 'images above their reconstructions'],
  ['convae features --model stack --data my-images', 'what each feature responds to'],
  ['convae denoise --model stack --data my-noisy-images --out denoised', 'every image cleaned by the stack, as a PNG'],
  [
    'convae similar --model stack --data my-images --picture similar.png',
    'the images most alike each image, by their codes: a CSV, and the picture',
  ],
  ['convae map --model stack --data my-images --out map', 'the images laid out in 2-D by their codes: map-images.png'],
  [
    'convae cluster --model stack --data my-images --k 10 --out clusters',
    'the images grouped by their codes: clusters.csv, and clusters.png with a row per group',
  ],
  ['convae train --data my-labelled-images --out run', 'a classifier (class sub-folders)'],
  ['convae detect --normal-data my-good-images --data my-new-images', 'an anomaly score and flag for every new image'],
  ['convae anomaly --data my-labelled-images --normal good', 'AUROC: sub-folder good normal, the others anomalies'],
  ['convae export --model run --format onnx --out onnx', 'for ONNX Runtime (or --format pytorch)'],
] as const;

const program = new Command('convae')
  .description(
    'Convolutional autoencoders (native or SIMD WebAssembly kernels): pretrain a CAE stack on MNIST or your own images, encode, reconstruct, find similar images, score anomalies, fine-tune a classifier, export to PyTorch or ONNX',
  )
  .version(version, '-V, --version', 'print the version of convae')
  .showHelpAfterError()
  .exitOverride()
  .addHelpText(
    'after',
    `\nWith your own images (a folder of PNG, JPEG or WebP files of any size):\n${START_HERE.map(
      ([cmd, what]) => `  ${cmd}\n      ${what}`,
    ).join('\n')}\n\n\`convae <command> --help\` lists a command's options and their defaults.`,
  );

program
  .command('train')
  .description(
    'greedy CAE pretraining on MNIST (or --data: your images), classifier fine-tuning, test error; writes the model and pictures',
  )
  .addOption(
    new Option('--dataset <name>', 'dataset (or --data, which takes any labelled images)')
      .choices(['mnist', 'fashion'])
      .default('mnist'),
  )
  .addOption(
    new Option('--preset <name>', 'default (≤ 10 min) or long').choices(['default', 'long']).default('default'),
  )
  .option(
    '--pretrain-epochs <n>',
    `epochs per CAE (default: from the preset; ${FEW_LABELS.pretrainEpochs} with --labels under ${FEW_LABELS.below}; for a dataset under ${FEW_LABELS.below} training images, about ${SMALL_DATA.pretrainImages} images (those of ${SMALL_DATA.fewestScaled} for fewer) and no fewer than ${FEW_LABELS.pretrainEpochs})`,
    int('--pretrain-epochs', 0),
  )
  .option(
    '--epochs <n>',
    `fine-tuning epochs (default: from the preset; with --labels or a dataset under ${FEW_LABELS.below} training images, about 150 000 images (those of ${SMALL_DATA.fewestScaled} for fewer) and no fewer than the preset)`,
    int('--epochs', 0),
  )
  .option('--batch <n>', 'mini-batch size', int('--batch'), 64)
  .option('--maps <a,b>', 'feature maps of the two CAEs (default 20,50 grey, 32,64 colour)', mapsArg)
  .option('--kernel <k>', 'filter size of both layers', int('--kernel', 1, 64), 5)
  .option(
    '--hidden <n>',
    'units of the hidden dense layer (default 500 grey, 256 colour)',
    int('--hidden', 1, LIMITS.hidden),
  )
  .option(
    '--noise <fraction>',
    `masking noise of the first CAE (denoising; the kept pixels rescaled), 0 for none; masking:f, the masking --add-noise draws (the kept pixels as they are), gaussian:σ, Gaussian noise clipped to [0, 1], or salt-pepper:f (a denoiser of that noise, for convae denoise) (default: 0.3; ${FEW_LABELS.noise} ${FEW_PRETRAIN})`,
    trainNoiseArg,
  )
  .option('--sparsity <keep>', `${SPARSITY_HELP} (default: 0; ${FEW_LABELS.sparsity} ${FEW_PRETRAIN})`, sparsityArg)
  .addOption(decoderOption(`tied; ${FEW_LABELS.decoder} ${FEW_PRETRAIN}`))
  .option(
    '--shift <px>',
    'random translations of the fine-tuning images, up to this many pixels; 0 for none, as for images a shift changes the meaning of (default: from the preset, 1)',
    shiftArg,
  )
  .option('--seed <n>', 'random seed', int('--seed', 0, MAX_SEED), 1)
  .option('--out <dir>', 'output folder', 'convae-out')
  .option('--limit <n>', TRAIN_LIMIT_HELP, int('--limit'))
  .option(
    '--labels <n>',
    `fine-tune on n labelled training images (seed --seed's subset, as \`convae paper\` draws it); pretraining still uses every training image, without labels. Under ${FEW_LABELS.below}, the defaults are \`convae paper\`'s: pretraining with a k-sparse first CAE and untied decoders, ${FEW_LABELS.pretrainEpochs} epochs per CAE; fine-tuning at learning rate ${FEW_LABELS.lr} with head dropout ${FEW_LABELS.dropout}`,
    int('--labels'),
  )
  .option(
    '--stack <dir>',
    'start from the CAE stack a `convae pretrain` or `convae train` run saved (its folder, or its stack.json) instead of pretraining one; the architecture and the input normalisation come from it, and the fine-tuning defaults from the number of labelled images, as with --labels',
  )
  .option(
    '--lr <rate>',
    `fine-tuning learning rate (default: the preset's, ${PRESETS.default.lr}; ${FEW_LABELS.lr} ${FEW})`,
    rateArg('--lr'),
  )
  .option(
    '--dropout <fraction>',
    `head dropout (default: the preset's; ${FEW_LABELS.dropout} ${FEW})`,
    fractionArg('--dropout'),
  )
  .option('--no-pretrain', 'skip CAE pretraining (random initialisation)')
  .option(
    '--no-rescale',
    `keep a saturated stack's weights as they are for fine-tuning (default: when over ${100 * SATURATED} % of a CAE's codes sit in tanh's flat tails, its conv layers are scaled down to a pre-activation std of 1)`,
  )
  .option('--resume', 'continue an interrupted run in --out (its stack.* and finetune-checkpoint.safetensors)', false)
  .addOption(
    new Option('--build <name>', 'kernel build (native: the Node addon)').choices(['auto', ...BUILDS]).default('auto'),
  )
  .option(
    '--workers <n>',
    'data-parallel worker threads (default: the cores); 0 trains on this thread',
    int('--workers', 0, MAX_WORKERS),
  )
  .option(
    '--threads <n>',
    'kernel threads of each worker, or of this thread with --workers 0 (native build only; default 1)',
    int('--threads', 1, MAX_KERNEL_THREADS),
  )
  .option('--from-search <file>', 'take the first CAE block from a `convae search` result (search.json)')
  .option('-q, --quiet', QUIET_HELP, false)
  .action(async (o, cmd: Command) => {
    if (o.stack !== undefined)
      for (const name of STACK_DECIDES)
        if (cmd.getOptionValueSource(name) === 'cli') {
          const flag = cmd.options.find((f) => f.attributeName() === name)!.long!;
          throw new ArgumentError('convae train', '--stack', `cannot be combined with ${flag}: the stack decides it`);
        }
    await train({
      fromSearch: o.fromSearch,
      dataset: o.dataset,
      data: o.data,
      size: o.size,
      channels: o.channels,
      skipBad: o.skipBad,
      preset: o.preset,
      pretrainEpochs: o.pretrainEpochs,
      epochs: o.epochs,
      batch: o.batch,
      maps: o.maps,
      kernel: o.kernel,
      hidden: o.hidden,
      noise: o.noise,
      sparsity: o.sparsity,
      decoder: o.decoder,
      shift: o.shift,
      seed: o.seed,
      out: o.out,
      limit: o.limit,
      labels: o.labels,
      stack: o.stack,
      lr: o.lr,
      dropout: o.dropout,
      pretrain: o.pretrain,
      rescale: o.rescale,
      resume: o.resume,
      build: o.build,
      workers: o.workers,
      threads: o.threads,
      quiet: o.quiet,
    });
  });

const list =
  <T>(name: string, parse: (s: string) => T, ok: (v: T) => boolean, hint: string) =>
  (v: string) => {
    const out = v.split(',').map((s) => parse(s.trim()));
    if (!out.length || !out.every(ok)) throw new InvalidArgumentError(`${name} takes a comma-separated list: ${hint}`);
    return distinct(name, out);
  };
/**
 * A value listed twice is refused: `paper --sizes 50,50` gave each of its rows twice and counted each seed's
 * difference twice ("0 of 2 seeds" from one seed); in the other lists a repeat trains the same thing again.
 */
function distinct<T>(name: string, values: T[]): T[] {
  const seen = new Set<string>();
  for (const v of values) {
    const key = String(v);
    if (seen.has(key)) throw new InvalidArgumentError(`${name} lists ${key.slice(0, 40)} twice: give each value once`);
    seen.add(key);
  }
  return values;
}
const ACTIVATIONS = ['tanh', 'relu', 'sigmoid', 'leakyRelu', 'identity'];

program
  .command('search')
  .description(
    'the tuning step: train candidate first-layer CAE blocks in parallel workers and rank them by validation reconstruction error',
  )
  .addOption(new Option('--dataset <name>', 'dataset').choices(['mnist', 'fashion']).default('mnist'))
  .option(
    '--maps <list>',
    'feature maps to try',
    list(
      '--maps',
      flagInteger,
      (x) => Number.isInteger(x) && x >= 1 && x <= LIMITS.maps,
      `integers in [1, ${LIMITS.maps}], e.g. 8,20,32`,
    ),
    [8, 20, 32],
  )
  .option(
    '--kernels <list>',
    'filter sizes to try',
    list('--kernels', flagInteger, (x) => Number.isInteger(x) && x >= 1 && x <= 28, 'integers in [1, 28], e.g. 3,5,7'),
    [3, 5, 7, 9],
  )
  .option(
    '--activations <list>',
    'activations to try',
    list('--activations', String, (x) => ACTIVATIONS.includes(x), ACTIVATIONS.join(', ')),
    ['tanh'],
  )
  .option(
    '--lr <list>',
    'Adam learning rates to try',
    list('--lr', flagNumber, (x) => x > 0 && Number.isFinite(x), 'positive finite numbers, e.g. 1e-3,3e-3'),
    [3e-3],
  )
  .option(
    '--noise <list>',
    'masking-noise fractions to try',
    list('--noise', flagNumber, (x) => x >= 0 && x < 1, 'fractions in [0, 1), e.g. 0,0.3'),
    [0, 0.3],
  )
  .option('--untied', 'also try untied decoders', false)
  .option('--epochs <n>', 'epochs per candidate', int('--epochs'), 1)
  .option('--batch <n>', 'mini-batch size', int('--batch'), 64)
  .option('--limit <n>', `training images used, 10 % of them for validation: ${LIMIT_RULE}`, int('--limit'), 10000)
  .option('--random <n>', 'try n random combinations instead of the whole grid', int('--random'))
  .option('--workers <n>', 'candidates trained at once (default: the cores)', int('--workers', 1, MAX_WORKERS))
  .option('--seed <n>', 'random seed', int('--seed', 0, MAX_SEED), 1)
  .option('--out <dir>', 'output folder (search.md, search.json)', 'convae-out')
  .addOption(
    new Option('--build <name>', 'kernel build (native: the Node addon)').choices(['auto', ...BUILDS]).default('auto'),
  )
  .option('-q, --quiet', QUIET_HELP, false)
  .action(async (o) => {
    await search({
      dataset: o.dataset,
      data: o.data,
      size: o.size,
      channels: o.channels,
      patches: o.patches,
      patchScale: o.patchScale,
      skipBad: o.skipBad,
      maps: o.maps,
      kernels: o.kernels,
      activations: o.activations,
      lrs: o.lr,
      noise: o.noise,
      untied: o.untied,
      epochs: o.epochs,
      batch: o.batch,
      limit: o.limit,
      random: o.random,
      workers: o.workers,
      seed: o.seed,
      out: o.out,
      build: o.build,
      quiet: o.quiet,
    });
  });

const numbers = (name: string, ok: (x: number) => boolean, hint: string) => list(name, flagNumber, ok, hint);

program
  .command('paper')
  .description(
    'Masci et al. 2011: CNN on 1k/10k/50k labelled images, random vs CAE-pretrained init, both tuned alike on validation data; paired differences over seeds',
  )
  .option(
    '--sizes <list>',
    'labelled set sizes',
    (v) => {
      const s = v.split(',').map((x) => flagInteger(x.trim()));
      if (!s.length || !s.every((x) => Number.isInteger(x) && x >= 10 && x <= 60000))
        throw new InvalidArgumentError('--sizes takes integers in [10, 60000], e.g. 1000,10000,50000');
      return distinct('--sizes', s);
    },
    [1000, 10000, 50000],
  )
  .option('--seeds <n>', 'seeds per cell', int('--seeds', 1, 1000), 5)
  .option('--seed-offset <n>', 'first seed (seeds N … N+k−1)', int('--seed-offset', 0, 2 ** 31 - 1), 1)
  .addOption(
    new Option(
      '--arch <name>',
      "network: small (today's default), small-relu (the same with relu units) or masci (the paper's)",
    )
      .choices(['small', 'small-relu', 'masci'])
      .default('small'),
  )
  .addOption(
    new Option('--first-cae <kind>', "the first CAE's regulariser: k-sparse decoder, or 30 % masking noise as `train`")
      .choices(['ksparse', 'noise'])
      .default('ksparse'),
  )
  .addOption(decoderOption())
  .option('--pretrain-epochs <n>', 'epochs per CAE (default 3)', int('--pretrain-epochs', 0, 1000))
  .option('--unlabelled <n>', 'unlabelled images for pretraining', int('--unlabelled'), 60000)
  .option(
    '--lrs <list>',
    'fine-tuning learning rates tried (both initialisations)',
    numbers('--lrs', (x) => x > 0 && x < 10, 'numbers in (0, 10), e.g. 0.02,0.05'),
    [0.02, 0.05],
  )
  .option(
    '--epochs <list>',
    'fine-tuning epochs per labelled-set size, as size:epochs (others: 150 000 images, at least 10 epochs)',
    (v) => {
      const out: Record<number, number> = {};
      const parts = v.split(',').map((part) => part.split(':').map((x) => flagInteger(x.trim())));
      for (const pair of parts) {
        const [size, e] = pair;
        if (
          !(
            pair.length === 2 &&
            Number.isInteger(size) &&
            size! >= 10 &&
            size! <= 60000 &&
            Number.isInteger(e) &&
            e! >= 1 &&
            e! <= 100000
          )
        )
          throw new InvalidArgumentError('--epochs takes size:epochs pairs, e.g. 1000:150,10000:30,50000:12');
        out[size!] = e!;
      }
      distinct(
        '--epochs',
        parts.map(([size]) => size),
      );
      return out;
    },
    { 1000: 150, 10000: 30, 50000: 12 },
  )
  .option(
    '--epoch-factors <list>',
    'fractions of those epochs tried',
    numbers('--epoch-factors', (x) => x > 0 && x <= 1, 'numbers in (0, 1], e.g. 0.5,1'),
    [0.5, 1],
  )
  .option(
    '--dropouts <list>',
    'head dropout rates tried (0: none)',
    numbers('--dropouts', (x) => x >= 0 && x < 1, 'fractions in [0, 1), e.g. 0,0.5'),
    [0, 0.5],
  )
  .option(
    '--conv-factors <list>',
    'learning-rate factors of the conv blocks tried (1: one rate for the whole network)',
    numbers('--conv-factors', (x) => x > 0 && x <= 1, 'numbers in (0, 1], e.g. 1,0.1'),
    [1],
  )
  .option(
    '--tune-seeds <n>',
    'the first n seeds choose the settings on their validation splits',
    int('--tune-seeds', 1, 1000),
    1,
  )
  .option(
    '--validation <fraction>',
    'fraction of each labelled subset held out for tuning',
    (v) => {
      const f = flagNumber(v);
      if (!(f > 0 && f < 1)) throw new InvalidArgumentError('--validation must be a fraction in (0, 1)');
      return f;
    },
    0.2,
  )
  .option(
    '--shift <px>',
    'random translations of the fine-tuning images, up to this many pixels (both initialisations); 0 for none',
    shiftArg,
    1,
  )
  .option(
    '--rescale',
    `when over ${100 * SATURATED} % of a pretrained CAE's codes sit in tanh's flat tails, scale the conv layers down to a pre-activation std of 1 before fine-tuning, as \`convae train\` does`,
    false,
  )
  .option('--workers <n>', 'data-parallel workers; 0 trains on this thread', int('--workers', 0, MAX_WORKERS), 0)
  .option('--resume', 'reuse the runs and stacks an interrupted run with the same settings left in --out', false)
  .option('--limit <n>', TRAIN_LIMIT_HELP, int('--limit'))
  .option('--out <dir>', 'output folder', 'convae-out')
  .addOption(
    new Option('--build <name>', 'kernel build (native: the Node addon)').choices(['auto', ...BUILDS]).default('auto'),
  )
  .option('-q, --quiet', 'print only the table', false)
  .action(async (o) => {
    await paper({
      data: o.data,
      size: o.size,
      channels: o.channels,
      skipBad: o.skipBad,
      sizes: o.sizes,
      seeds: o.seeds,
      seedOffset: o.seedOffset,
      arch: o.arch,
      firstCae: o.firstCae,
      decoder: o.decoder,
      pretrainEpochs: o.pretrainEpochs,
      unlabelled: o.unlabelled,
      lrs: o.lrs,
      epochs: o.epochs,
      epochFactors: o.epochFactors,
      dropouts: o.dropouts,
      convFactors: o.convFactors,
      tuneSeeds: o.tuneSeeds,
      validation: o.validation,
      shift: o.shift,
      rescale: o.rescale,
      workers: o.workers,
      resume: o.resume,
      limit: o.limit,
      out: o.out,
      build: o.build,
      quiet: o.quiet,
    });
  });

program
  .command('filters-figure')
  .description(
    "Masci et al. 2011's filter figure: 20 first-layer 7×7 filters of the paper's four CAEs (plain, 50 % noise, max-pool, max-pool + 30 % noise) and convae's k-sparse one, in one picture",
  )
  .option('--epochs <n>', 'epochs of each CAE', int('--epochs'), 2)
  .option('--limit <n>', TRAIN_LIMIT_HELP, int('--limit'))
  .option('--maps <n>', 'filters of each CAE', int('--maps', 1, LIMITS.maps), 20)
  .option('--kernel <k>', 'filter size', int('--kernel', 1, 28), 7)
  .option('--lr <rate>', 'Adam learning rate', rateArg('--lr'), 3e-3)
  .option('--seed <n>', 'random seed', int('--seed', 0, MAX_SEED), 1)
  .option('--out <dir>', 'output folder (filters-figure.png, filters-figure.svg)', 'convae-out')
  .addOption(
    new Option('--build <name>', 'kernel build (native: the Node addon)').choices(['auto', ...BUILDS]).default('auto'),
  )
  .option('-q, --quiet', QUIET_HELP, false)
  .action(async (o) => {
    await filtersFigure({
      data: o.data,
      epochs: o.epochs,
      limit: o.limit,
      maps: o.maps,
      kernel: o.kernel,
      lr: o.lr,
      seed: o.seed,
      out: o.out,
      build: o.build,
      quiet: o.quiet,
    });
  });

// --data for the three main commands, and the commands that work on any data (cli/commands.ts).
for (const name of ['train', 'search', 'paper']) dataOptions(program.commands.find((c) => c.name() === name)!);
patchOptions(program.commands.find((c) => c.name() === 'search')!);
dataOptions(program.commands.find((c) => c.name() === 'filters-figure')!, null, false);
registerDataCommands(program);

/** `--fpr` of anomaly and detect: the share of held-out normal images the threshold lets above it. */
const fprArg = (v: string): number => {
  const f = flagNumber(v);
  if (!(f > 0 && f < 1)) throw new InvalidArgumentError('--fpr must be in (0, 1)');
  return f;
};

const anomalyCommand = program
  .command('anomaly')
  .description(
    'one-class anomaly detection (Ruff et al. 2018): train on one class, score the test set, AUROC; --all-classes writes the table',
  )
  .addOption(
    new Option('--dataset <name>', 'dataset (or --data, which takes any labelled images)').choices([
      'mnist',
      'fashion',
    ]),
  )
  .option('--normal <class>', 'the normal class: an index or a class name (an image folder: a sub-folder name)')
  .option('--all-classes', 'run every class as the normal one', false)
  .option('--seeds <n>', 'seeds per class', int('--seeds'), 3)
  .option('--epochs <n>', 'epochs per CAE', int('--epochs', 0), 1)
  .option('--batch <n>', 'mini-batch size', int('--batch'), 32)
  .addOption(new Option('--score <kind>', 'anomaly score').choices(['knn', 'reconstruction']).default('knn'))
  .option('--k <n>', 'neighbours averaged by the knn score', int('--k', 1, MAX_NEIGHBOURS), 5)
  .option('--depth <n>', 'blocks under the score (default: 2 for knn, 1 for reconstruction)', int('--depth', 0))
  .option('--fpr <rate>', 'false-positive rate of the threshold, fitted on held-out normal images', fprArg, 0.05)
  .addOption(
    new Option('--evaluate <set>', 'score the test set, or held-out training images under every candidate score')
      .choices(['test', 'validation'])
      .default('test'),
  )
  .option(
    '--limit <n>',
    `quick runs: at most n normal training images per class (each run's own seeded sample of the class), and max(500, 10n) test images: ${LIMIT_RULE}`,
    int('--limit'),
  )
  .option('--out <dir>', 'output folder', 'convae-out/anomaly')
  .addOption(
    new Option('--build <name>', 'kernel build (native: the Node addon)').choices(['auto', ...BUILDS]).default('auto'),
  )
  .option('--workers <n>', WORKERS_HELP, workersArg)
  .option('-q, --quiet', QUIET_HELP, false)
  .action(async (o) => {
    if (!o.allClasses && o.normal === undefined)
      throw new ArgumentError('convae anomaly', '--normal', 'is needed (or --all-classes)');
    if (o.data !== undefined && o.dataset !== undefined)
      throw new ArgumentError('convae anomaly', '--dataset', 'and --data name the data twice: give one');
    await anomaly({
      data: o.data ?? o.dataset ?? 'mnist',
      size: o.size,
      channels: o.channels,
      skipBad: o.skipBad,
      normal: o.allClasses ? null : [o.normal],
      seeds: o.seeds,
      epochs: o.epochs,
      batch: o.batch,
      score: o.score,
      k: o.k,
      depth: o.depth,
      fpr: o.fpr,
      evaluate: o.evaluate,
      limit: o.limit,
      out: o.out,
      build: o.build,
      workers: o.workers,
      quiet: o.quiet,
    });
  });
dataOptions(anomalyCommand);

/** `detect --detector` scores with a saved detector: the flags of a training run would silently not apply. */
const DETECTOR_DECIDES = ['normalData', 'save', 'epochs', 'batch', 'k', 'fpr', 'normalize', 'seed', 'size', 'channels'];

const detectCommand = program
  .command('detect')
  .description(
    'an anomaly detector from normal images alone: train a small CAE stack on --normal-data, fit a threshold on a held-out fifth of them, score every image of --data (CSV: file,score,anomalous); --save DIR keeps the detector, --detector DIR scores with it later without training',
  )
  .option(
    '--normal-data <spec>',
    'images of what is normal, to train a detector on: a folder of PNG/JPEG/WebP files (sub-folders allowed, labels ignored), or mnist, fashion, cifar10:DIR, idx:DIR',
  )
  .option(
    '--detector <dir>',
    'score with the detector `convae detect --save` wrote in this folder instead of training one: the same scores, --data resized (and normalised) as its training images were; the training flags (--normal-data, --save, --epochs, --batch, --k, --fpr, --normalize, --seed, --size, --channels) are refused with it',
  )
  .option(
    '--save <dir>',
    'folder to keep the trained detector in (detector.json, detector.safetensors; a detector already there is replaced whole or not at all)',
  )
  .option('--epochs <n>', `epochs per CAE (default: about ${DETECT_IMAGES} images' worth, 1 to 100)`, int('--epochs'))
  .option('--batch <n>', 'mini-batch size', int('--batch'), 32)
  .option(
    '--k <n>',
    `the score: mean distance to the k nearest normal codes (default: ${DEFAULT_K}, or the normal training images when fewer)`,
    int('--k', 1, MAX_NEIGHBOURS),
  )
  .option('--fpr <rate>', 'share of the held-out normal images the threshold lets above it', fprArg, 0.05)
  .addOption(normalizeOption())
  .option('--seed <n>', 'random seed (the split, the initialisation, the data order)', int('--seed', 0, MAX_SEED), 1)
  .addOption(new Option('--format <f>', 'output format').choices(['csv', 'json']).default('csv'))
  .option('--out <file>', 'file written (default: stdout; the summary goes to stderr)')
  .addOption(
    new Option('--build <name>', 'kernel build (native: the Node addon)').choices(['auto', ...BUILDS]).default('auto'),
  )
  .option('--workers <n>', WORKERS_HELP, workersArg)
  .option('-q, --quiet', QUIET_HELP, false)
  .action(async (o, cmd: Command) => {
    if (o.detector !== undefined)
      for (const name of DETECTOR_DECIDES)
        if (cmd.getOptionValueSource(name) === 'cli') {
          throw detectorConflict(cmd.options.find((f) => f.attributeName() === name)!.long!);
        }
    if (o.data === undefined) throw new ArgumentError('convae detect', '--data', 'is needed: the images to score');
    await detect({
      normalData: o.normalData,
      detector: o.detector,
      save: o.save,
      data: o.data,
      size: o.size,
      channels: o.channels,
      skipBad: o.skipBad,
      normalize: o.normalize,
      epochs: o.epochs,
      batch: o.batch,
      k: o.k,
      fpr: o.fpr,
      seed: o.seed,
      format: o.format,
      out: o.out,
      build: o.build,
      workers: o.workers,
      quiet: o.quiet,
    });
  });
dataOptions(detectCommand);

program
  .command('features')
  .description(
    'what each feature responds to: the test images that activate it most and the deconvnet projection of that activation, PNG per block',
  )
  .requiredOption('--model <dir>', STACK_MODEL_HELP)
  .addOption(
    new Option(
      '--dataset <name>',
      'images searched: the test split (default: mnist; or --data, which takes any images)',
    ).choices(['mnist', 'fashion']),
  )
  .option(
    '--data <spec>',
    "images searched: mnist, fashion, cifar10:DIR, idx:DIR, or a folder of PNG/JPEG/WebP files, resized to the model's input",
  )
  .option('--skip-bad', SKIP_BAD_HELP, false)
  .option('--block <n>', 'only this block (1-based; default all)', int('--block'))
  .option('--top <n>', 'images per feature', int('--top'), 8)
  .option('--limit <n>', `images searched: ${LIMIT_RULE}`, int('--limit'), 2000)
  .option('--out <dir>', 'output folder (default: the model folder)')
  .addOption(
    new Option('--build <name>', 'kernel build (native: the Node addon)').choices(['auto', ...BUILDS]).default('auto'),
  )
  .option('-q, --quiet', QUIET_HELP, false)
  .action(async (o) => {
    if (o.data !== undefined && o.dataset !== undefined)
      throw new ArgumentError('convae features', '--dataset', 'and --data name the data twice: give one');
    await features({
      model: o.model,
      data: o.data ?? o.dataset ?? 'mnist',
      skipBad: o.skipBad,
      block: o.block === undefined ? undefined : o.block - 1,
      top: o.top,
      limit: o.limit,
      out: o.out,
      build: o.build,
      quiet: o.quiet,
    });
  });

program
  .command('embeddings')
  .description(
    'k-NN and linear-probe accuracy of the codes at every depth from 1 000 labels on MNIST, against raw pixels and a random encoder',
  )
  .option('--model <dir>', `${STACK_MODEL_HELP} (default: train a stack here)`)
  .option(
    '--labels <n>',
    "labelled training images (a seeded draw from MNIST's training split)",
    int('--labels', 10, 60000), // MNIST's training split: more would be the same 60 000 without a word
    1000,
  )
  .option(
    '--unlabelled <n>',
    "unlabelled images for the stack trained here (the first n of MNIST's training split)",
    int('--unlabelled', 1, 60000),
    20000,
  )
  .option('--epochs <n>', 'epochs per CAE of the stack trained here', int('--epochs', 0), 1)
  .option(
    '--test-limit <n>',
    "test images scored: the first n of MNIST's test split (default all)",
    int('--test-limit'),
  )
  .option('--seed <n>', 'random seed', int('--seed', 0, MAX_SEED), 1)
  .option('--out <dir>', 'output folder', 'convae-out/embeddings')
  .addOption(
    new Option('--build <name>', 'kernel build (native: the Node addon)').choices(['auto', ...BUILDS]).default('auto'),
  )
  .option('--workers <n>', WORKERS_HELP, workersArg)
  .option('-q, --quiet', QUIET_HELP, false)
  .action(async (o) => {
    await embeddings({
      workers: o.workers,
      model: o.model,
      labels: o.labels,
      unlabelled: o.unlabelled,
      epochs: o.epochs,
      testLimit: o.testLimit,
      seed: o.seed,
      out: o.out,
      build: o.build,
      quiet: o.quiet,
    });
  });

program
  .command('export')
  .description('write a trained model for PyTorch (model.py + safetensors) or ONNX (model.onnx, encoder.onnx)')
  .requiredOption('--model <path>', `${MODEL_HELP} (the classifier when the folder holds both)`)
  .addOption(new Option('--format <name>', 'target').choices(['pytorch', 'onnx']).makeOptionMandatory())
  .requiredOption('--out <dir>', 'output folder')
  .option('-q, --quiet', QUIET_HELP, false)
  .action((o) => exportCommand(o));

program
  .command('import')
  .description('read a PyTorch state dict (safetensors: exported or nn.Sequential names) into a convae model')
  .requiredOption('--from <file>', 'the safetensors file')
  .requiredOption('--arch <file>', 'the convae model JSON (model.json of the export folder)')
  .requiredOption('--out <dir>', 'output folder (<kind>.json + <kind>.safetensors)')
  .option('-q, --quiet', QUIET_HELP, false)
  .action((o) => importCommand(o));

// After a usage error, the command's usage line and where its options are, not the whole help:
// the line that says what is wrong stays in view, and the output stays short.
// Commander's own error line quotes the value given: control characters in it are written as escapes, as in the
// commands' errors (a value holding a newline split the line; an escape sequence reached the terminal).
const usageErrors = {
  outputError: (s: string, write: (s: string) => void) =>
    write(s.startsWith('error:') ? `${escapeControl(s.replace(/\n$/, ''))}\n` : s),
};
program.configureOutput(usageErrors);
for (const c of program.commands) {
  c.configureOutput(usageErrors);
  c.showHelpAfterError(`Usage: convae ${c.name()} ${c.usage()}\n(convae ${c.name()} --help lists the options)\n`);
}

/** Control characters as their escapes (\n, \t, \u001b, \u007f): an error stays one line and cannot drive the terminal. */
function escapeControl(s: string): string {
  return Array.from(s, (c) => (c < ' ' ? JSON.stringify(c).slice(1, -1) : c === '\x7f' ? '\\u007f' : c)).join('');
}

try {
  // A bare `convae` is a question, not a mistake: help on stdout, exit 0.
  if (process.argv.length <= 2) {
    program.outputHelp();
    process.exit(0);
  }
  // Every command, not only those that can resume: any may be writing a file when Ctrl-C comes.
  installInterruptHandler();
  await program.parseAsync(process.argv);
} catch (e) {
  const err = e as { code?: string; exitCode?: number; message: string };
  if (err.code?.startsWith('commander.')) process.exit(err.exitCode ?? 2);
  if (e instanceof ConvaeError) {
    // Library messages may carry the prefix already; a command's own ("convae detect: --k …") needs none.
    // Control characters written as escapes: a path holding a newline (--data $'a\nb') split the one error line.
    const m = escapeControl(err.message.replace(/^convae: /, ''));
    console.error(/^convae [a-z-]+: /.test(m) ? m : `convae: ${m}`);
    process.exit(1);
  }
  // A file-system failure outside the checked writes (a PNG, a read): one line, no stack trace.
  const sys = e as { code?: unknown; path?: unknown; syscall?: unknown };
  if (typeof sys.code === 'string' && /^E[A-Z]+$/.test(sys.code)) {
    console.error(`convae: ${sys.syscall ?? 'file'} ${quote(String(sys.path ?? ''))}: ${reason(e)}`);
    process.exit(1);
  }
  throw e;
}
