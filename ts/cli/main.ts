#!/usr/bin/env node
/** `convae` command line: `convae train` runs the main job. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConvaeError } from '../errors.js';
import { paper } from './paper.js';
import { train } from './train.js';

const int = (name: string, min = 1) => (v: string) => {
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
  .addOption(new Option('--preset <name>', 'default (≤ 10 min) or long').choices(['default', 'long']).default('default'))
  .option('--pretrain-epochs <n>', 'epochs per CAE layer (default: from the preset)', int('--pretrain-epochs', 0))
  .option('--epochs <n>', 'fine-tuning epochs (default: from the preset)', int('--epochs', 0))
  .option('--batch <n>', 'mini-batch size', int('--batch'), 64)
  .option('--maps <a,b>', 'feature maps of the two CAE layers', (v) => {
    const m = v.split(',').map(Number);
    if (m.length !== 2 || !m.every((x) => Number.isInteger(x) && x >= 1)) throw new InvalidArgumentError('--maps takes two integers, e.g. 20,50');
    return m as [number, number];
  }, [20, 50] as [number, number])
  .option('--kernel <k>', 'filter size of both layers', int('--kernel'), 5)
  .option('--hidden <n>', 'units of the hidden dense layer', int('--hidden'), 500)
  .option('--noise <fraction>', 'masking noise of the first CAE (denoising), 0 for none', (v) => {
    const f = Number(v);
    if (!(f >= 0 && f < 1)) throw new InvalidArgumentError('--noise must be a fraction in [0, 1)');
    return f;
  }, 0.3)
  .option('--seed <n>', 'random seed', int('--seed', 0), 1)
  .option('--out <dir>', 'output folder', 'convae-out')
  .option('--limit <n>', 'use only the first n training images (quick runs)', int('--limit'))
  .option('--no-pretrain', 'skip CAE pretraining (random initialisation)')
  .option('--resume', 'continue an interrupted run in --out (its stack.* and finetune-checkpoint.safetensors)', false)
  .addOption(new Option('--build <name>', 'wasm build').choices(['auto', 'relaxed', 'simd', 'scalar']).default('auto'))
  .option('--workers <n>', 'worker threads (not implemented yet: trains on this thread)', int('--workers'))
  .option('-q, --quiet', 'print nothing but errors', false)
  .action(async (o) => {
    await train({
      dataset: o.dataset, preset: o.preset, pretrainEpochs: o.pretrainEpochs, epochs: o.epochs, batch: o.batch, maps: o.maps,
      kernel: o.kernel, hidden: o.hidden, noise: o.noise, seed: o.seed, out: o.out, limit: o.limit, pretrain: o.pretrain, resume: o.resume, build: o.build,
      workers: o.workers, quiet: o.quiet,
    });
  });

program
  .command('paper')
  .description('Masci et al. 2011: CNN on 1k/10k/50k labelled MNIST images, random vs CAE-pretrained init, mean ± std over seeds')
  .option('--sizes <list>', 'labelled set sizes', (v) => {
    const s = v.split(',').map(Number);
    if (!s.length || !s.every((x) => Number.isInteger(x) && x >= 10 && x <= 60000)) throw new InvalidArgumentError('--sizes takes integers in [10, 60000], e.g. 1000,10000,50000');
    return s;
  }, [1000, 10000, 50000])
  .option('--seeds <n>', 'seeds per cell', int('--seeds'), 3)
  .option('--pretrain-epochs <n>', 'epochs per CAE layer', int('--pretrain-epochs'), 1)
  .option('--images-per-run <n>', 'images seen by each fine-tuning run (epochs = this / size)', int('--images-per-run'), 150000)
  .option('--unlabelled <n>', 'unlabelled images for pretraining', int('--unlabelled'), 60000)
  .option('--out <dir>', 'output folder', 'convae-out')
  .addOption(new Option('--build <name>', 'wasm build').choices(['auto', 'relaxed', 'simd', 'scalar']).default('auto'))
  .option('-q, --quiet', 'print only the table', false)
  .action(async (o) => {
    await paper({ sizes: o.sizes, seeds: o.seeds, pretrainEpochs: o.pretrainEpochs, imagesPerRun: o.imagesPerRun, unlabelled: o.unlabelled, out: o.out, build: o.build, quiet: o.quiet });
  });

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
