#!/usr/bin/env node
/** `convae` command line: `convae train` runs the main job. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConvaeError } from '../errors.js';
import { dataOptions, registerDataCommands } from './commands.js';
import { paper } from './paper.js';
import { search } from './search.js';
import { train } from './train.js';

const int =
  (name: string, min = 1) =>
  (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };

const program = new Command('convae')
  .description('Convolutional autoencoders on SIMD WebAssembly: pretrain a CAE stack, fine-tune it as a classifier')
  .showHelpAfterError()
  .exitOverride();

program
  .command('train')
  .description('greedy CAE pretraining on MNIST, classifier fine-tuning, test error; writes the model and pictures')
  .addOption(new Option('--dataset <name>', 'dataset').choices(['mnist', 'fashion']).default('mnist'))
  .addOption(
    new Option('--preset <name>', 'default (≤ 10 min) or long').choices(['default', 'long']).default('default'),
  )
  .option('--pretrain-epochs <n>', 'epochs per CAE layer (default: from the preset)', int('--pretrain-epochs', 0))
  .option('--epochs <n>', 'fine-tuning epochs (default: from the preset)', int('--epochs', 0))
  .option('--batch <n>', 'mini-batch size', int('--batch'), 64)
  .option('--maps <a,b>', 'feature maps of the two CAE layers (default 20,50 grey, 32,64 colour)', (v) => {
    const m = v.split(',').map(Number);
    if (m.length !== 2 || !m.every((x) => Number.isInteger(x) && x >= 1))
      throw new InvalidArgumentError('--maps takes two integers, e.g. 20,50');
    return m as [number, number];
  })
  .option('--kernel <k>', 'filter size of both layers', int('--kernel'), 5)
  .option('--hidden <n>', 'units of the hidden dense layer (default 500 grey, 256 colour)', int('--hidden'))
  .option(
    '--noise <fraction>',
    'masking noise of the first CAE (denoising), 0 for none',
    (v) => {
      const f = Number(v);
      if (!(f >= 0 && f < 1)) throw new InvalidArgumentError('--noise must be a fraction in [0, 1)');
      return f;
    },
    0.3,
  )
  .option('--seed <n>', 'random seed', int('--seed', 0), 1)
  .option('--out <dir>', 'output folder', 'convae-out')
  .option('--limit <n>', 'use only the first n training images (quick runs)', int('--limit'))
  .option('--no-pretrain', 'skip CAE pretraining (random initialisation)')
  .option('--resume', 'continue an interrupted run in --out (its stack.* and finetune-checkpoint.safetensors)', false)
  .addOption(new Option('--build <name>', 'wasm build').choices(['auto', 'relaxed', 'simd', 'scalar']).default('auto'))
  .option(
    '--workers <n>',
    'data-parallel worker threads (default: the cores); 0 trains on this thread',
    int('--workers', 0),
  )
  .option('--from-search <file>', 'take the first CAE block from a `convae search` result (search.json)')
  .option('-q, --quiet', 'print nothing but errors', false)
  .action(async (o) => {
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
      seed: o.seed,
      out: o.out,
      limit: o.limit,
      pretrain: o.pretrain,
      resume: o.resume,
      build: o.build,
      workers: o.workers,
      quiet: o.quiet,
    });
  });

const list =
  <T>(name: string, parse: (s: string) => T, ok: (v: T) => boolean, hint: string) =>
  (v: string) => {
    const out = v.split(',').map((s) => parse(s.trim()));
    if (!out.length || !out.every(ok)) throw new InvalidArgumentError(`${name} takes a comma-separated list: ${hint}`);
    return out;
  };
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
    list('--maps', Number, (x) => Number.isInteger(x) && x >= 1, 'integers ≥ 1, e.g. 8,20,32'),
    [8, 20, 32],
  )
  .option(
    '--kernels <list>',
    'filter sizes to try',
    list('--kernels', Number, (x) => Number.isInteger(x) && x >= 1 && x <= 28, 'integers in [1, 28], e.g. 3,5,7'),
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
    list('--lr', Number, (x) => x > 0, 'positive numbers, e.g. 1e-3,3e-3'),
    [3e-3],
  )
  .option(
    '--noise <list>',
    'masking-noise fractions to try',
    list('--noise', Number, (x) => x >= 0 && x < 1, 'fractions in [0, 1), e.g. 0,0.3'),
    [0, 0.3],
  )
  .option('--untied', 'also try untied decoders', false)
  .option('--epochs <n>', 'epochs per candidate', int('--epochs'), 1)
  .option('--batch <n>', 'mini-batch size', int('--batch'), 64)
  .option('--limit <n>', 'images used (10 % of them for validation)', int('--limit'), 10000)
  .option('--random <n>', 'try n random combinations instead of the whole grid', int('--random'))
  .option('--workers <n>', 'candidates trained at once (default: the cores)', int('--workers'))
  .option('--seed <n>', 'random seed', int('--seed', 0), 1)
  .option('--out <dir>', 'output folder (search.md, search.json)', 'convae-out')
  .addOption(new Option('--build <name>', 'wasm build').choices(['auto', 'relaxed', 'simd', 'scalar']).default('auto'))
  .option('-q, --quiet', 'print nothing but errors', false)
  .action(async (o) => {
    await search({
      dataset: o.dataset,
      data: o.data,
      size: o.size,
      channels: o.channels,
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

program
  .command('paper')
  .description(
    'Masci et al. 2011: CNN on 1k/10k/50k labelled MNIST images, random vs CAE-pretrained init, mean ± std over seeds',
  )
  .option(
    '--sizes <list>',
    'labelled set sizes',
    (v) => {
      const s = v.split(',').map(Number);
      if (!s.length || !s.every((x) => Number.isInteger(x) && x >= 10 && x <= 60000))
        throw new InvalidArgumentError('--sizes takes integers in [10, 60000], e.g. 1000,10000,50000');
      return s;
    },
    [1000, 10000, 50000],
  )
  .option('--seeds <n>', 'seeds per cell', int('--seeds'), 3)
  .option('--pretrain-epochs <n>', 'epochs per CAE layer', int('--pretrain-epochs'), 1)
  .option(
    '--images-per-run <n>',
    'images seen by each fine-tuning run (epochs = this / size)',
    int('--images-per-run'),
    150000,
  )
  .option('--unlabelled <n>', 'unlabelled images for pretraining', int('--unlabelled'), 60000)
  .option('--out <dir>', 'output folder', 'convae-out')
  .addOption(new Option('--build <name>', 'wasm build').choices(['auto', 'relaxed', 'simd', 'scalar']).default('auto'))
  .option('-q, --quiet', 'print only the table', false)
  .action(async (o) => {
    await paper({
      data: o.data,
      size: o.size,
      channels: o.channels,
      sizes: o.sizes,
      seeds: o.seeds,
      pretrainEpochs: o.pretrainEpochs,
      imagesPerRun: o.imagesPerRun,
      unlabelled: o.unlabelled,
      out: o.out,
      build: o.build,
      quiet: o.quiet,
    });
  });

// --data for the three main commands, and the commands that work on any data (cli/commands.ts).
for (const name of ['train', 'search', 'paper']) dataOptions(program.commands.find((c) => c.name() === name)!);
registerDataCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const err = e as { code?: string; exitCode?: number; message: string };
  if (err.code?.startsWith('commander.')) process.exit(err.exitCode ?? 2);
  if (e instanceof ConvaeError) {
    console.error(`convae: ${err.message}`);
    process.exit(1);
  }
  throw e;
}
