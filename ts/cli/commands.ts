/** The commands on any data (`pretrain`, `reconstruct`, `encode`, `predict`, `evaluate`) and the `--data` options every command shares. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ConvaeError } from '../errors.js';
import { MAX_DENOISE_TILES, MAX_NEIGHBOURS, MAX_PATCHES, MAX_SPATIAL_SIZE, MAX_WORKERS } from '../limits.js';
import { MAX_CLUSTERS, MAX_RESTARTS } from '../anomaly/cluster.js';
import { MAX_K_CANDIDATES } from '../anomaly/clustercount.js';
import { MAX_MAP_DIMS, MAX_MAP_NEIGHBOURS } from '../anomaly/map.js';
import { BUILDS } from '../backend/loader.js';
import { assess } from './assess.js';
import { AUTO_K, cluster, type KChoice, MAX_PER_CLUSTER } from './cluster.js';
import { parseSize } from './data.js';
import { encode } from './encode.js';
import { MAX_MAP_IMAGES, map } from './map.js';
import { PREDICTION_COLUMNS, predict } from './predict.js';
import { pretrain } from './pretrain.js';
import { RECONSTRUCT_OUT, RECONSTRUCTIONS_PNG } from './pictures.js';
import { reconstruct } from './reconstruct.js';
import { similar } from './similar.js';
import { denoise } from './denoise.js';
import type { FirstNoise } from './first-noise.js';
import { type ImageNoise, MAX_NOISE_STD } from '../data/imagenoise.js';

/**
 * Every numeric flag's value goes through here. `Number` alone reads '' and ' ' as 0 (so `--seed ''`
 * would silently be seed 0) and takes '0x10', '0b11' and 'Infinity'; only plain decimal notation is
 * a number, anything else is NaN, which every range check below refuses.
 */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
export const flagNumber = (v: string): number => (DECIMAL.test(v) ? Number(v) : Number.NaN);

/**
 * An integer flag's value: digits with an optional sign, anything else NaN. `flagNumber` would take '1e3' and '5.0':
 * a count written as a float is more likely a slip (`--seed 1.5e1`, `--epochs 2.`) than a wish, and what the
 * help text shows and `convae` writes back (run.json, the --resume line) is digits.
 */
const DIGITS_ONLY = /^[+-]?\d+$/;
export const flagInteger = (v: string): number => (DIGITS_ONLY.test(v) ? Number(v) : Number.NaN);

/** Upper bounds of the size flags (a typo like --maps 1000000000 is a usage error, not an allocation). */
export const FLAG_LIMITS = { count: 1e9, maps: 4096, hidden: 65536 };

/** An integer flag in [min, max] (the max keeps sizes far from what wasm memory can hold). */
export const int =
  (name: string, min = 1, max = FLAG_LIMITS.count) =>
  (v: string): number => {
    const n = flagInteger(v);
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], in digits`);
    return n;
  };

/** The largest seed a flag takes: the random streams are seeded with 32 bits. */
export const MAX_SEED = 2 ** 32 - 1;

/** `--workers` of the commands that encode or score many images: 0 (this thread) to 256. */
export const workersArg = int('--workers', 0, MAX_WORKERS);

/** `--k` of cluster: a number of clusters, `auto` (AUTO_K) or a range `a-b` to choose from by silhouette. */
export const clusterCountArg = (v: string): KChoice => {
  if (v === 'auto') return 'auto';
  const range = /^(\d+)-(\d+)$/.exec(v);
  if (!range) {
    const k = flagInteger(v);
    if (!(Number.isSafeInteger(k) && k >= 2 && k <= MAX_CLUSTERS))
      throw new InvalidArgumentError(`--k must be an integer in [2, ${MAX_CLUSTERS}] in digits, auto, or a range a-b`);
    return k;
  }
  const [from, to] = [Number(range[1]), Number(range[2])];
  if (!(from >= 2 && to > from && to <= MAX_CLUSTERS && to - from < MAX_K_CANDIDATES))
    throw new InvalidArgumentError(
      `--k a-b must have 2 ≤ a < b ≤ ${MAX_CLUSTERS} and at most ${MAX_K_CANDIDATES} values, e.g. 5-15`,
    );
  return { from, to };
};

/** `--maps <a,b>` of train and pretrain: the feature maps of the two CAEs. */
export const mapsArg = (v: string): [number, number] => {
  const m = v.split(',').map((x) => flagInteger(x.trim()));
  if (m.length !== 2 || !m.every((x) => Number.isInteger(x) && x >= 1 && x <= FLAG_LIMITS.maps))
    throw new InvalidArgumentError(`--maps takes two integers in [1, ${FLAG_LIMITS.maps}], e.g. 20,50`);
  return m as [number, number];
};

/**
 * A flag that takes one of a few integers. Commander's `argParser` replaces the parser `choices`
 * installs, so `.choices([...]).argParser(Number)` would let any value through.
 */
const intChoice = (flags: string, description: string, values: readonly string[]) =>
  new Option(flags, description).choices(values).argParser((v: string) => {
    if (!values.includes(v)) throw new InvalidArgumentError(`Allowed choices are ${values.join(', ')}.`);
    return Number(v);
  });

const size = (v: string) => {
  try {
    return parseSize(v);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof ConvaeError ? e.message : String(e));
  }
};

/** A fraction flag in [0, 1) (masking noise, dropout). */
export const fractionArg =
  (name: string) =>
  (v: string): number => {
    const f = flagNumber(v);
    if (!(f >= 0 && f < 1)) throw new InvalidArgumentError(`${name} must be a fraction in [0, 1)`);
    return f;
  };

/**
 * `--noise` of train and pretrain: a masking fraction in [0, 1) (0: none; the kept pixels rescaled), `masking:f`
 * (f in [0, 1): `--add-noise`'s masking, the kept pixels as they are), `gaussian:σ` (σ in (0, MAX_NOISE_STD]) or
 * `salt-pepper:f` (f in (0, 1)): the first CAE learns to remove the noise it is trained with (README "Denoising").
 */
export const trainNoiseArg = (v: string): FirstNoise => {
  const m = /^(gaussian|masking|salt-pepper):(.*)$/.exec(v);
  if (m?.[1] === 'salt-pepper') {
    const f = flagNumber(m[2]!);
    if (f > 0 && f < 1) return { type: 'salt-pepper', fraction: f };
    throw new InvalidArgumentError('--noise salt-pepper:f takes a fraction f in (0, 1), in digits');
  }
  if (m?.[1] !== 'gaussian') {
    const f = flagNumber(m ? m[2]! : v);
    if (f >= 0 && f < 1) return m && f > 0 ? { type: 'masking', fraction: f } : f;
    throw new InvalidArgumentError(
      '--noise takes a masking fraction in [0, 1) (or masking:f), gaussian:σ or salt-pepper:f, e.g. 0.3 or gaussian:0.3',
    );
  }
  const s = flagNumber(m[2]!);
  if (!(s > 0 && s <= MAX_NOISE_STD))
    throw new InvalidArgumentError(`--noise gaussian:σ takes σ in (0, ${MAX_NOISE_STD}], in digits`);
  return { type: 'gaussian', std: s };
};

/** `--add-noise masking:0.5 | gaussian:0.3 | salt-pepper:0.2`: a fraction of the values, or Gaussian noise's σ. */
export function noiseArg(v: string): ImageNoise {
  const m = /^(masking|gaussian|salt-pepper):(.*)$/.exec(v);
  const x = m ? flagNumber(m[2]!) : Number.NaN;
  if (m?.[1] === 'gaussian') {
    if (x >= 0 && x <= MAX_NOISE_STD) return { type: 'gaussian', std: x };
    throw new InvalidArgumentError(`--add-noise gaussian:σ takes σ in [0, ${MAX_NOISE_STD}], in digits`);
  }
  if (m && x >= 0 && x <= 1) return { type: m[1] as 'masking' | 'salt-pepper', fraction: x };
  throw new InvalidArgumentError(
    '--add-noise takes masking:f, salt-pepper:f (f a fraction in [0, 1]) or gaussian:σ, e.g. masking:0.5',
  );
}

/** A learning-rate flag in (0, 1). */
export const rateArg =
  (name: string) =>
  (v: string): number => {
    const f = flagNumber(v);
    if (!(f > 0 && f < 1)) throw new InvalidArgumentError(`${name} must be a number in (0, 1)`);
    return f;
  };

/** A flag in [0, 1]. */
export const unitArg =
  (name: string) =>
  (v: string): number => {
    const f = flagNumber(v);
    if (!(f >= 0 && f <= 1)) throw new InvalidArgumentError(`${name} must be a number in [0, 1]`);
    return f;
  };

/** `--sparsity <keep>`: the k-sparse decoder of the first CAE keeps this fraction of each pooled map; 0 for none. */
export const sparsityArg = (v: string): number => {
  const f = flagNumber(v);
  if (!(f >= 0 && f <= 1)) throw new InvalidArgumentError('--sparsity must be a fraction in [0, 1] (0: none)');
  return f;
};

export const SPARSITY_HELP =
  'k-sparse decoder of the first CAE: it reconstructs from the largest fraction of each pooled map (stroke-like filters; docs/paper-results.md); 0 for none';

/** What `--decoder` takes: decoders tied to their encoders' kernels (`BlockSpec.tied`, the method's default) or with kernels of their own. */
export type Decoder = 'tied' | 'untied';

/**
 * `--decoder tied|untied` of train, pretrain and paper. `defaultsTo`: the default told in the help
 * instead of a value (train decides it from its other flags); without it, 'tied'.
 */
export const decoderOption = (defaultsTo?: string) => {
  const o = new Option(
    '--decoder <kind>',
    `the CAEs' decoders: tied to the encoder's kernels, or kernels of their own${defaultsTo ? ` (default: ${defaultsTo})` : ''}`,
  ).choices(['tied', 'untied']);
  return defaultsTo ? o : o.default('tied');
};

/** `--normalize none|contrast|whiten` of pretrain and detect (a saved model or detector records it; its users apply it). */
export const normalizeOption = () =>
  new Option(
    '--normalize <how>',
    'input normalisation: contrast = each image minus its mean, over its standard deviation; whiten = contrast, then a local ZCA whitening fitted on the training images',
  )
    .choices(['none', 'contrast', 'whiten'])
    .default('none');

/** Help of `--workers` for the commands that encode or score many images. */
export const WORKERS_HELP = 'worker threads that encode and score (default: the cores); 0 = this thread, same results';

/**
 * How `--limit n` picks its n images, told alike by every command: the one rule of `limitSample` (ts/cli/data.ts).
 * An image folder's files are in class order, so its first n would be its first classes.
 */
export const LIMIT_RULE =
  'the first ones of mnist, fashion, cifar10 or idx data; of an image folder, a seeded sample in proportion to its classes';

/** `--limit` of the commands that train (train, pretrain, paper, filters-figure). */
export const TRAIN_LIMIT_HELP = `use n training images (quick runs): ${LIMIT_RULE}; the test set shrinks too, to max(1000, n/6) images (an image folder's held-out fifth stays whole)`;

/** `--limit` of the commands that apply a saved model: the same images for each of them (seed 1). */
const APPLY_LIMIT_HELP = `only n images: ${LIMIT_RULE} (for one n, the same images in predict, evaluate, encode, similar, features, reconstruct and denoise)`;

/** `-q, --quiet` of every command that has it (paper's prints its table still). */
export const QUIET_HELP = 'print nothing but errors';

const DATA_HELP =
  'images: mnist, fashion, cifar10:DIR, idx:DIR, or a folder of PNG/JPEG/WebP files (class sub-folders give labels)';

/** `--skip-bad` of every command that reads image folders. */
export const SKIP_BAD_HELP =
  'skip image files that cannot be decoded (listed on stderr, with -q too: they are missing from the results) instead of stopping';

/** `--model` of the commands that take any saved model (`loadSaved`): a folder, or one model's JSON. */
export const MODEL_HELP =
  'a model folder (as train, pretrain, embeddings or import write it: classifier.*, stack.*), or one model .json';

/** `--model` of the commands that need the CAE stack of a folder (`loadStackDirInput`). */
export const STACK_MODEL_HELP =
  'a model folder (as train, pretrain or embeddings write it): its stack.json + stack.safetensors';

/** `--data`, `--size`, `--channels`, `--skip-bad` (data = null: no default, the command's `--dataset` applies). */
export function dataOptions(cmd: Command, fallback: string | null = null, folderShape = true): Command {
  cmd.option('--data <spec>', DATA_HELP, fallback ?? undefined);
  if (folderShape)
    cmd
      .option('--size <HxW>', 'size image-folder files are resized to (default 32x32 colour, 28x28 grey)', size)
      .addOption(
        intChoice('--channels <n>', 'channels of image-folder images: 3 = RGB (the default), 1 = grey', ['1', '3']),
      )
      .option('--skip-bad', SKIP_BAD_HELP, false);
  return cmd;
}

/**
 * `--patches N` and `--patch-scale S` of the commands that train a stack from images (pretrain, search): N random
 * windows of --size from each image of a folder at its own resolution. Not `train` (its classifier would be applied by
 * predict and evaluate to whole images resized to the patch size, which it never saw), nor the commands that apply a
 * saved model (they give a result per image).
 */
export function patchOptions(cmd: Command): Command {
  return cmd
    .option(
      '--patches <n>',
      'of a folder of images: train on n random windows of --size from each image, at its own resolution (scaled by --patch-scale), instead of each whole image resized; placed by --seed; a fifth of the images is held out with all their patches (--limit then counts training patches)',
      int('--patches', 1, MAX_PATCHES),
    )
    .option(
      '--patch-scale <s>',
      'with --patches: scale each image by s in (0, 1] first (Lanczos 3), so that fewer windows are smooth (default 1)',
      (v: string) => {
        const f = flagNumber(v);
        if (!(f > 0 && f <= 1)) throw new InvalidArgumentError('--patch-scale must be a number in (0, 1]');
        return f;
      },
    );
}

const build = () =>
  new Option('--build <name>', 'kernel build (native: the Node addon)').choices(['auto', ...BUILDS]).default('auto');

const shared = (o: Record<string, unknown>) => ({
  data: o.data as string,
  size: o.size as [number, number] | undefined,
  channels: o.channels as 1 | 3 | undefined,
  skipBad: o.skipBad as boolean | undefined,
  limit: o.limit as number | undefined,
  build: o.build as 'auto',
});

export function registerDataCommands(program: Command): void {
  patchOptions(
    dataOptions(
      program
        .command('pretrain')
        .description('greedy CAE pretraining alone (no labels needed); writes stack.*, filters and reconstructions'),
      'mnist',
    ),
  )
    .option('--epochs <n>', 'epochs per CAE', int('--epochs'), 1)
    .option('--batch <n>', 'mini-batch size', int('--batch'), 64)
    .option('--maps <a,b>', 'feature maps of the two CAEs (default 20,50 grey, 32,64 colour)', mapsArg)
    .addOption(intChoice('--layers <n>', 'CAEs stacked', ['1', '2']).default(2))
    .option('--kernel <k>', 'filter size', int('--kernel'), 5)
    .option('--padding <p>', "zero padding of the convolutions: pixels, or 'same' (keeps the size)", (v) => {
      if (v === 'same') return v;
      const n = flagInteger(v);
      if (!Number.isInteger(n) || n < 0 || n > 64)
        throw new InvalidArgumentError("--padding takes an integer in [0, 64] or 'same'");
      return n;
    })
    .addOption(
      new Option('--activation <name>', 'encoder activation')
        .choices(['tanh', 'relu', 'leakyRelu', 'sigmoid'])
        .default('tanh'),
    )
    .option('--pool <k>', 'max-pooling window and stride', (v) => {
      const n = flagInteger(v);
      if (!Number.isInteger(n) || n < 1 || n > 16) throw new InvalidArgumentError('--pool takes an integer in [1, 16]');
      return n;
    })
    .addOption(normalizeOption())
    .option(
      '--noise <fraction>',
      'masking noise of the first CAE (a denoising CAE; the kept pixels rescaled), 0 for none; or masking:f, the masking --add-noise draws (the kept pixels as they are, unless --normalize), gaussian:σ, Gaussian noise (clipped to [0, 1] unless --normalize), or salt-pepper:f, a fraction of the values set to 0 or 1 (a denoiser of that noise, for convae denoise)',
      trainNoiseArg,
      0.3,
    )
    .option('--sparsity <keep>', SPARSITY_HELP, sparsityArg, 0)
    .addOption(decoderOption())
    .option('--lr <rate>', 'Adam learning rate', rateArg('--lr'), 3e-3)
    .option('--limit <n>', TRAIN_LIMIT_HELP, int('--limit'))
    .option('--seed <n>', 'random seed', int('--seed', 0, MAX_SEED), 1)
    .option('--out <dir>', 'output folder', 'convae-out')
    .addOption(build())
    .option('-q, --quiet', QUIET_HELP, false)
    .action(async (o) => {
      await pretrain({
        ...shared(o),
        epochs: o.epochs,
        batch: o.batch,
        maps: o.maps,
        layers: o.layers,
        kernel: o.kernel,
        padding: o.padding,
        activation: o.activation,
        pool: o.pool,
        normalize: o.normalize,
        noise: o.noise,
        sparsity: o.sparsity,
        decoder: o.decoder,
        lr: o.lr,
        seed: o.seed,
        out: o.out,
        quiet: o.quiet,
        patches: o.patches,
        patchScale: o.patchScale,
      });
    });

  const modelOpt = (cmd: Command, folders = "folders are resized to the model's input") =>
    cmd
      .requiredOption('--model <path>', MODEL_HELP)
      .requiredOption('--data <spec>', `${DATA_HELP}; ${folders}`)
      .option('--skip-bad', SKIP_BAD_HELP, false)
      .addOption(build())
      .option('-q, --quiet', QUIET_HELP, false);

  modelOpt(
    program
      .command('reconstruct')
      .description('a PNG of images above their reconstructions by the first CAE, and its reconstruction MSE'),
  )
    .option('--out <file>', `PNG written (${RECONSTRUCTIONS_PNG}, as train and pretrain name theirs)`, RECONSTRUCT_OUT)
    .option('--count <n>', `images shown: ${LIMIT_RULE}, as --limit of the other commands`, int('--count'), 32)
    .option('--columns <n>', 'pairs per row', int('--columns'), 8)
    .option('--scale <n>', 'pixels per image pixel', int('--scale'), 3)
    .action(async (o) => {
      const r = await reconstruct({
        ...shared(o),
        model: o.model,
        out: o.out,
        count: o.count,
        columns: o.columns,
        scale: o.scale,
      });
      if (!o.quiet) console.log(`wrote ${o.out}: ${r.count} images, reconstruction MSE ${r.mse.toFixed(5)}`);
    });

  modelOpt(
    program.command('encode').description('codes of every image (safetensors) and a CSV of their files and labels'),
  )
    .option('--out <dir>', 'folder for codes.safetensors and codes.csv', 'convae-out/codes')
    .option('--depth <n>', 'blocks the images go through (default: all, the deepest code)', int('--depth'))
    .option('--limit <n>', APPLY_LIMIT_HELP, int('--limit'))
    .option('--workers <n>', WORKERS_HELP, workersArg)
    .action(async (o) => {
      const r = await encode({ ...shared(o), model: o.model, out: o.out, workers: o.workers, depth: o.depth });
      if (!o.quiet)
        console.log(`wrote ${o.out}/codes.safetensors ([${r.count},${r.codeShape.join(',')}]) and codes.csv`);
    });

  modelOpt(
    program
      .command('predict')
      .description(
        `the class of every image, as CSV (columns ${PREDICTION_COLUMNS.join(',')}: class_index and class are the predicted class, label and label_name the true one when the data has labels) or JSON (the same fields)`,
      ),
  )
    .addOption(new Option('--format <f>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('--out <file>', 'file written (default: stdout)')
    .option('--limit <n>', APPLY_LIMIT_HELP, int('--limit'))
    .action(async (o) => {
      await predict({ ...shared(o), model: o.model, format: o.format, out: o.out, quiet: o.quiet });
    });

  modelOpt(
    program
      .command('similar')
      .description(
        'image search by code distance: the --k nearest images of --data to each image of --query (default: each image of --data, among the others), as CSV or JSON',
      ),
  )
    .option('--query <spec>', 'the images to find neighbours of (a folder or any --data spec; default: --data itself)')
    .option('--k <n>', 'neighbours per query', int('--k', 1, MAX_NEIGHBOURS), 5)
    .option(
      '--depth <n>',
      'blocks the images go through (default: all, the deepest code; 0: the pixels, to compare with)',
      int('--depth', 0),
    )
    .addOption(new Option('--format <f>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('--out <file>', 'file written (default: stdout): query,rank,file,distance')
    .option('--picture <file>', 'also a PNG: each query, then its neighbours, nearest first')
    .option('--rows <n>', `queries drawn in --picture: ${LIMIT_RULE}, as --limit`, int('--rows'), 16)
    .option('--scale <n>', 'pixels per image pixel in --picture', int('--scale'), 3)
    .option('--limit <n>', `only n images of --data and of --query: ${LIMIT_RULE}`, int('--limit'))
    .option('--workers <n>', WORKERS_HELP, workersArg)
    .action(async (o) => {
      await similar({
        ...shared(o),
        model: o.model,
        query: o.query,
        k: o.k,
        depth: o.depth,
        format: o.format,
        out: o.out,
        picture: o.picture,
        rows: o.rows,
        scale: o.scale,
        workers: o.workers,
        quiet: o.quiet,
      });
    });

  modelOpt(
    program
      .command('map')
      .description(
        'a 2-D map of the images by their codes (UMAP): map.csv (file,x,y,label,label_name), map.png (one dot per image, coloured by class) and map-images.png (images at their places)',
      ),
  )
    .option(
      '--depth <n>',
      'blocks the images go through (default: all, the deepest code; 0: the pixels)',
      int('--depth', 0),
    )
    .option(
      '--neighbours <n>',
      'neighbours UMAP keeps each image near (its n_neighbors)',
      int('--neighbours', 2, 200),
      15,
    )
    .option('--min-dist <d>', "UMAP's min_dist: how tightly it may pack images, 0 to 1", unitArg('--min-dist'), 0.1)
    .option('--seed <n>', 'random seed of the layout', int('--seed', 0, MAX_SEED), 1)
    .option('--limit <n>', `only n images: ${LIMIT_RULE}`, int('--limit'))
    .option(
      '--thumbnails <n>',
      `images drawn at their places in map-images.png (${LIMIT_RULE}, as --limit); 0 for none`,
      int('--thumbnails', 0, 2000),
      200,
    )
    .option('--out <dir>', 'folder for map.csv, map.png and map-images.png', 'convae-out/map')
    .option('--workers <n>', WORKERS_HELP, workersArg)
    .action(async (o) => {
      await map({
        ...shared(o),
        model: o.model,
        depth: o.depth,
        neighbours: o.neighbours,
        minDist: o.minDist,
        thumbnails: o.thumbnails,
        seed: o.seed,
        out: o.out,
        workers: o.workers,
        quiet: o.quiet,
      });
    });

  modelOpt(
    program
      .command('cluster')
      .description(
        'the images grouped by their codes (UMAP, then k-means): clusters.csv (file,cluster,distance,label,label_name), clusters.png (a row per cluster, its images nearest the centre) and clusters.json; with labels, accuracy, NMI and ARI against the classes',
      ),
  )
    .option(
      '--k <n|auto|a-b>',
      `clusters, 2 to ${MAX_CLUSTERS}; auto: each k of ${AUTO_K.from}-${AUTO_K.to} (or of a-b, at most ${MAX_K_CANDIDATES} values) is tried and the k of the highest mean silhouette kept (k-scores.csv lists them)`,
      clusterCountArg,
      10,
    )
    .option(
      '--depth <n>',
      'blocks the images go through (default: all, the deepest code; 0: the pixels)',
      int('--depth', 0),
    )
    .option(
      '--restarts <n>',
      'k-means++ starts, each run until it converges; the one of lowest inertia is kept',
      int('--restarts', 1, MAX_RESTARTS),
      4,
    )
    .option(
      '--umap <dims>',
      `lay the codes out in this many dimensions by UMAP first, and cluster the map (at most ${MAX_MAP_IMAGES} images); 0: k-means on the codes themselves`,
      int('--umap', 0, MAX_MAP_DIMS),
      10,
    )
    .option(
      '--neighbours <n>',
      'with --umap: neighbours UMAP keeps each image near (its n_neighbors)',
      int('--neighbours', 2, MAX_MAP_NEIGHBOURS),
      15,
    )
    .option('--seed <n>', 'random seed of the map and the starts', int('--seed', 0, MAX_SEED), 1)
    .option('--limit <n>', `only n images: ${LIMIT_RULE}`, int('--limit'))
    .option(
      '--per-cluster <n>',
      "images drawn in each cluster's row of clusters.png, those nearest its centre",
      int('--per-cluster', 1, MAX_PER_CLUSTER),
      10,
    )
    .option(
      '--out <dir>',
      'folder for clusters.csv, clusters.png and clusters.json (and k-scores.csv)',
      'convae-out/cluster',
    )
    .option('--workers <n>', WORKERS_HELP, workersArg)
    .action(async (o) => {
      await cluster({
        ...shared(o),
        model: o.model,
        k: o.k,
        depth: o.depth,
        restarts: o.restarts,
        umap: o.umap,
        neighbours: o.neighbours,
        seed: o.seed,
        perCluster: o.perCluster,
        out: o.out,
        workers: o.workers,
        quiet: o.quiet,
      });
    });

  modelOpt(
    program
      .command('denoise')
      .description(
        "each image cleaned by the stack: up through --depth blocks and back down, written as a PNG under OUT/images/ (grey or RGB as the model's channels), with OUT/denoise.csv; an image folder's files at their own size (reconstructed from overlapping tiles of the model's input size, laid by --stride and --window; --resize: resized to it instead), the fixed-format sets at theirs (the model's); --add-noise corrupts clean images first and measures (MSE and PSNR in the CSV, comparison.png)",
      ),
    "a folder's files are read at their own size (--resize: resized to the model's input)",
  )
    .requiredOption(
      '--out <dir>',
      "folder for images/ (the denoised PNGs: a folder's relative names, or <index>.png), denoise.csv and comparison.png",
    )
    .option(
      '--depth <n>',
      'blocks the images go up and back down through (1: best against the noise the stack was trained with; 2 smooths more, for other noise)',
      int('--depth'),
      1,
    )
    .option(
      '--add-noise <kind:amount>',
      "take the images as clean and corrupt them first: masking:f (a fraction f of the values set to 0), gaussian:σ (clipped to [0, 1]) or salt-pepper:f (f of the values set to 0 or 1); the CSV then gives each image's MSE and PSNR, noisy and denoised, and comparison.png shows clean, noisy and denoised images",
      noiseArg,
    )
    .option('--seed <n>', 'seed of --add-noise', int('--seed', 0, MAX_SEED), 1)
    .option(
      '--resize',
      "resize an image folder's files to the model's input size (scaled to cover, centre-cropped, as the other commands read them) and write them at that size, instead of denoising each at its own size (an image folder only: the fixed-format sets are the model's size)",
      false,
    )
    .option(
      '--stride <n>',
      `an image folder's files at their own size: pixels between neighbouring tiles, 1 to the model's input side (default: half of it; smaller is slower and rarely better, docs/denoise.md); an image of more than ${MAX_DENOISE_TILES} tiles (MAX_DENOISE_TILES, 6–13 minutes on 2 cores) is refused before any file is decoded`,
      int('--stride', 1, MAX_SPATIAL_SIZE),
    )
    .addOption(
      new Option(
        '--window <kind>',
        "an image folder's files at their own size: how overlapping tiles are blended, hann (raised cosine, the default) or flat (averaged)",
      ).choices(['hann', 'flat']),
    )
    .option('--limit <n>', APPLY_LIMIT_HELP, int('--limit'))
    .option('--workers <n>', WORKERS_HELP, workersArg)
    .action(async (o) => {
      const r = await denoise({
        ...shared(o),
        model: o.model,
        out: o.out,
        depth: o.depth,
        addNoise: o.addNoise,
        noiseSeed: o.seed,
        resize: o.resize,
        stride: o.stride,
        window: o.window,
        workers: o.workers,
        quiet: o.quiet,
      });
      if (o.quiet) return;
      const psnr =
        r.noisy && r.denoised
          ? `; mean PSNR noisy ${r.noisy.psnr.toFixed(2)} dB → denoised ${r.denoised.psnr.toFixed(2)} dB (MSE ${r.noisy.mse.toFixed(5)} → ${r.denoised.mse.toFixed(5)})`
          : '';
      console.log(`wrote ${r.files.length} images to ${o.out}/images and ${o.out}/denoise.csv${psnr}`);
    });

  modelOpt(
    program
      .command('evaluate')
      .description('reconstruction MSE of each CAE, accuracy and confusion matrix of the classifier'),
  )
    .option('--out <file>', 'also write the report as JSON')
    .option('--limit <n>', APPLY_LIMIT_HELP, int('--limit'))
    .action(async (o) => {
      await assess({ ...shared(o), model: o.model, out: o.out, quiet: o.quiet });
    });
}
