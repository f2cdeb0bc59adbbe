/**
 * The one-class protocol of Ruff et al. 2018 (Deep One-Class Classification):
 * train on the training images of one class only, score images of every
 * class, normal = that class, anomaly = the others; report AUROC.
 *
 * Held-out data, so that no choice looks at the test set: a fraction of the
 * normal class's training images is kept out of training (normal validation:
 * it fits thresholds and normalises scores), and the other classes' training
 * images give the anomalous validation images. `evaluate: 'validation'` scores
 * normal validation against anomalous validation (the data every choice of
 * score and training was made on); `'test'` scores the test set.
 */
import type { Backend } from '../backend/backend.js';
import { checkResultFloats, ImageDataset } from '../data/dataset.js';
import { ArgumentError, DataError, quote } from '../errors.js';
import { MAX_NEIGHBOURS } from '../limits.js';
import { type ConvAutoencoder, StackedConvAutoencoder, type BlockSpec } from '../model/autoencoder.js';
import { plannedCodeSizes } from '../model/plan.js';
import { fit } from '../train/fit.js';
import { auroc, averagePrecision } from '../train/metrics.js';
import type { OptimizerSpec } from '../train/optimizer.js';
import { type Runner, threadRunner } from '../train/runner.js';
import { stackLayerFootprint, stackLayerTask } from '../model/tasks.js';
import { type BatchOverflow, batchOverflow } from '../model/model.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { encode, type Embeddings } from './embed.js';
import { meanDistances, neighbourScores, reconstructionScores } from './score.js';

/** A score of an image: reconstruction error through `depth` blocks, or distance to the normal training codes at `depth`. */
export type ScoreSpec = { type: 'reconstruction'; depth: number } | { type: 'neighbours'; depth: number; k: number };

/**
 * `spec` checked against a stack of `blocks` blocks (and, for a neighbour
 * score, `references` reference images when known): what the scoring would
 * refuse, refused before a stack is trained or an image encoded. Returns a
 * copy holding the score's fields only.
 */
export function checkScoreSpec(op: string, arg: string, spec: unknown, blocks: number, references?: number): ScoreSpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    throw new ArgumentError(op, arg, `must be { type, depth[, k] }, got ${quote(spec)}`);
  const s = spec as { type?: unknown; depth?: unknown; k?: unknown };
  if (s.type !== 'reconstruction' && s.type !== 'neighbours')
    throw new ArgumentError(op, `${arg}.type`, `must be 'reconstruction' or 'neighbours', got ${quote(s.type)}`);
  // A reconstruction needs a decoder to go back through; a neighbour score may compare the pixels themselves.
  const min = s.type === 'reconstruction' ? 1 : 0;
  if (typeof s.depth !== 'number' || !Number.isInteger(s.depth) || s.depth < min || s.depth > blocks)
    throw new ArgumentError(
      op,
      `${arg}.depth`,
      `must be an integer in [${min}, ${blocks}] for a ${s.type} score on ${blocks} blocks, got ${quote(s.depth)}`,
    );
  if (s.type === 'neighbours') {
    const max = Math.min(references ?? MAX_NEIGHBOURS, MAX_NEIGHBOURS);
    if (typeof s.k !== 'number' || !Number.isInteger(s.k) || s.k < 1 || s.k > max) {
      const range =
        max === MAX_NEIGHBOURS
          ? `an integer in [1, ${MAX_NEIGHBOURS}] (MAX_NEIGHBOURS)`
          : `an integer in [1, ${max}] (the normal training images)`;
      throw new ArgumentError(op, `${arg}.k`, `must be ${range}, got ${quote(s.k)}`);
    }
  }
  // A copy of the fields a score has: the caller's object may hold others, or change later.
  return s.type === 'neighbours'
    ? { type: 'neighbours', depth: s.depth, k: s.k as number }
    : { type: 'reconstruction', depth: s.depth };
}

export const scoreName = (s: ScoreSpec): string =>
  s.type === 'reconstruction' ? `recon@${s.depth}` : `knn${s.k}@${s.depth}`;

/** Options of `oneClassRun`: the stack, its training and the scores to report. */
export interface OneClassOptions {
  /** The stack to train, one block after the other (greedy), on the normal training images. */
  blocks: readonly BlockSpec[];
  /** Epochs of each block's training. */
  epochs: number;
  /** Images per step. */
  batchSize: number;
  /** The optimizer of each block's training. */
  optimizer: OptimizerSpec;
  /** Seed of the split, the stack's initialisation and each block's data order: an integer in [0, 2^32). */
  seed: number;
  /** Fraction of the normal class's training images held out (default 0.1). */
  validationFraction?: number;
  /** Anomalous validation images drawn from the other classes' training images (default 2000). */
  anomalousValidation?: number;
  /** Scores computed (each gets its AUROC); the first is the headline one. */
  scores: readonly ScoreSpec[];
  /** Also report the sum of every score standardised on the normal validation images (z-scores). */
  ensemble?: boolean;
  /** What is scored: normal against anomalous validation images (for choices), or the test set (to report). */
  evaluate: 'validation' | 'test';
  /** Normal images used at most (quick runs): a seeded sample of the class's, before the held-out fraction. */
  limit?: number;
  /** Where the images are encoded and scored (default: this thread); training stays on this thread. */
  runner?: Runner;
}

/** AUROC and average precision of one anomaly score on the evaluated images. */
export interface ScoreResult {
  /** `recon@<depth>`, `knn<k>@<depth>`, or `ensemble`. */
  name: string;
  /** Area under the ROC curve, anomalies as positives: 0.5 is chance, 1 a perfect ranking. */
  auroc: number;
  /** Average precision, anomalies as positives. */
  averagePrecision: number;
}

/** Result of `oneClassRun`; the caller owns (and disposes) `stack`. */
export interface OneClassResult {
  /** The normal class. */
  normal: number;
  /** `OneClassOptions.seed`. */
  seed: number;
  /** One per asked score, in order, then `ensemble` when asked for (and more than one score). */
  results: ScoreResult[];
  /** Normal images the stack trained on. */
  trainImages: number;
  /** Normal and anomalous images scored. */
  evaluated: { normal: number; anomalous: number };
  /** Wall-clock seconds of the whole run (training and scoring). */
  seconds: number;
  /** The trained stack, now the caller's to dispose. */
  stack: StackedConvAutoencoder;
  /** The evaluated images (`data`), their labels (1 = anomaly) and their scores under the first score, aligned. */
  headline: { scores: Float64Array; labels: Uint8Array; data: ImageDataset };
}

function indicesWhere(labels: Uint8Array, pred: (l: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++) if (pred(labels[i])) out.push(i);
  return out;
}

/** The one-class split of a labelled training set: normal training images, held-out normal images, anomalous validation images. */
export interface OneClassSplit {
  /** The normal class's training images left after the held-out fraction. */
  train: ImageDataset;
  /** The held-out normal images (thresholds, score normalisation, validation). */
  normalValidation: ImageDataset;
  /** A random sample of the other classes' training images. */
  anomalousValidation: ImageDataset;
}

/**
 * The normal class's training images minus a held-out fraction, that fraction, and a sample of the other classes.
 * `limit`: a seeded sample of at most this many (and at least 2) of the class's images, drawn before the split; a
 * folder lists a class alphabetically, so its first files may all be alike (every `a*.png`).
 */
export function oneClassSplit(
  data: ImageDataset,
  normal: number,
  seed: number,
  fraction = 0.1,
  anomalous = 2000,
  limit?: number,
): OneClassSplit {
  const op = 'oneClassSplit';
  if (!data.labels || data.numClasses === undefined) throw new DataError(`${op}: the dataset needs labels`);
  if (!Number.isInteger(normal) || normal < 0 || normal >= data.numClasses)
    throw new ArgumentError(op, 'normal', `must be a class in [0, ${data.numClasses}), got ${normal}`);
  if (!(fraction > 0 && fraction < 1)) throw new ArgumentError(op, 'fraction', `must be in (0, 1), got ${fraction}`);
  const rng = new Rng(seed * 7919 + normal);
  let normals = indicesWhere(data.labels, (l) => l === normal);
  // From the split's own rng, and only when it drops images: without a limit (or one that keeps the whole class)
  // the split is the one it always was.
  if (limit !== undefined && Math.max(2, limit) < normals.length) {
    const all = normals;
    normals = Array.from(rng.permutation(all.length).subarray(0, Math.max(2, limit)), (i) => all[i]!).sort(
      (a, b) => a - b,
    );
  }
  const others = indicesWhere(data.labels, (l) => l !== normal);
  const nVal = Math.round(normals.length * fraction);
  if (nVal < 1 || nVal >= normals.length || !others.length)
    throw new DataError(
      `${op}: class ${normal} has ${normals.length} images and there are ${others.length} others; too few to split`,
    );
  const p = rng.permutation(normals.length);
  const val = Array.from(p.subarray(0, nVal), (i) => normals[i]).sort((a, b) => a - b);
  const tr = Array.from(p.subarray(nVal), (i) => normals[i]).sort((a, b) => a - b);
  const q = rng.permutation(others.length);
  const anom = Array.from(q.subarray(0, Math.min(anomalous, others.length)), (i) => others[i]).sort((a, b) => a - b);
  return { train: data.subset(tr), normalValidation: data.subset(val), anomalousValidation: data.subset(anom) };
}

/** Both datasets' images in one (normal first), with labels 0 = normal, 1 = anomaly. */
function concat(normal: ImageDataset, anomalous: ImageDataset): { data: ImageDataset; labels: Uint8Array } {
  const images = new Float32Array(normal.images.length + anomalous.images.length);
  images.set(normal.images);
  images.set(anomalous.images, normal.images.length);
  const labels = new Uint8Array(normal.length + anomalous.length).fill(1, normal.length);
  const l = new Uint8Array(labels.length);
  if (normal.labels) l.set(normal.labels);
  if (anomalous.labels) l.set(anomalous.labels, normal.length);
  return { data: ImageDataset.fromFloat32(images, normal.shape, l, normal.numClasses), labels };
}

/** Standardises `s` by the mean and standard deviation of `ref` (the normal validation scores). */
function standardise(s: Float64Array, ref: Float64Array): Float64Array {
  let m = 0;
  for (const v of ref) m += v;
  m /= ref.length;
  let v2 = 0;
  for (const v of ref) v2 += (v - m) ** 2;
  const sd = Math.sqrt(v2 / ref.length) || 1;
  return s.map((v) => (v - m) / sd);
}

/**
 * Greedy training of `blocks` (planned or built) with `images` per batch: null when every block's batch fits,
 * else the overflow of the block that holds the fewest (its `most` fits them all). `fit` would refuse that block
 * only when its turn came, after the blocks below it had trained.
 */
export function stackBatchOverflow(
  blocks: readonly ConvAutoencoder[],
  inputShape: readonly number[],
  images: number,
): BatchOverflow | null {
  let worst: BatchOverflow | null = null;
  for (let k = 0; k < blocks.length; k++) {
    const over = batchOverflow(images, stackLayerFootprint(blocks, k, inputShape));
    if (over && (!worst || over.most < worst.most)) worst = over;
  }
  return worst;
}

/**
 * The codes a neighbour score encodes (the most images of one encode × the code size at its depth) within
 * MAX_RESULT_FLOATS, from the planned stack (nothing allocated): before, `encode` refused them after the stack had
 * trained for minutes.
 */
function checkCodeSizes(
  be: Backend,
  op: string,
  opts: Pick<OneClassOptions, 'blocks' | 'scores'>,
  inputShape: readonly number[],
  images: number,
): void {
  const sizes = plannedCodeSizes(be, opts.blocks, inputShape);
  opts.scores.forEach((s, i) => {
    if (s.type === 'neighbours') checkResultFloats(op, `scores[${i}].depth`, images, sizes[s.depth], 'codes');
  });
}

/** Builds a stack and trains its blocks greedily, one after the other, on `train`. */
export async function trainStack(
  be: Backend,
  train: ImageDataset,
  opts: Pick<OneClassOptions, 'blocks' | 'epochs' | 'batchSize' | 'optimizer' | 'seed'>,
): Promise<StackedConvAutoencoder> {
  const stack = new StackedConvAutoencoder(be, opts.blocks, train.shape, opts.seed);
  try {
    // Every block's batch before the first trains (fit checks each block only when it comes to it).
    const b = opts.batchSize;
    if (Number.isInteger(b) && b >= 1) {
      const images = Math.min(b, train.length);
      const over = stackBatchOverflow(stack.blocks, stack.inputShape, images);
      if (over) throw new ArgumentError('trainStack', 'batchSize', `of ${images} images ${over.why}`);
    }
    for (let k = 0; k < stack.blocks.length; k++) {
      await fit(be, stackLayerTask(stack, k), train, {
        epochs: opts.epochs,
        batchSize: opts.batchSize,
        seed: deriveSeed(opts.seed, k, 31),
        optimizer: opts.optimizer,
      });
    }
  } catch (e) {
    stack.dispose();
    throw e;
  }
  return stack;
}

/** Scores of `data` under `spec` (neighbour scores need the normal training codes at each depth). */
export function scoreWith(
  stack: StackedConvAutoencoder,
  spec: ScoreSpec,
  data: ImageDataset,
  reference: (depth: number) => Embeddings,
): Float64Array {
  if (spec.type === 'reconstruction') return reconstructionScores(stack, data, { depth: spec.depth }).scores;
  return neighbourScores(stack.be, reference(spec.depth), encode(stack, data, { depth: spec.depth }), { k: spec.k });
}

/** `scoreWith` on a runner (encoding, neighbours and reconstructions in its workers). */
export async function scoreOn(
  runner: Runner,
  stack: StackedConvAutoencoder,
  spec: ScoreSpec,
  data: ImageDataset,
  reference: (depth: number) => Promise<Embeddings>,
): Promise<Float64Array> {
  if (spec.type === 'reconstruction')
    return (await runner.reconstructionScores(stack, data, { depth: spec.depth })).scores;
  const query = await runner.encode(stack, data, { depth: spec.depth });
  return meanDistances(await runner.nearestNeighbours(await reference(spec.depth), query, spec.k));
}

/** One run of the one-class protocol for class `normal`: trains a stack, scores validation or test, reports AUROC per score. */
export async function oneClassRun(
  be: Backend,
  trainSet: ImageDataset,
  testSet: ImageDataset,
  normal: number,
  opts: OneClassOptions,
): Promise<OneClassResult> {
  const op = 'oneClassRun';
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts))
    throw new ArgumentError(op, 'opts', `must be an object, got ${quote(opts)}`);
  if (!Array.isArray(opts.blocks) || opts.blocks.length === 0)
    throw new ArgumentError(op, 'blocks', `must be a non-empty list of blocks, got ${quote(opts.blocks)}`);
  if (!Array.isArray(opts.scores) || opts.scores.length === 0)
    throw new ArgumentError(op, 'scores', `must name at least one score, got ${quote(opts.scores)}`);
  // Each spec against the stack it will score, before the minutes of training rather than after them.
  opts.scores.forEach((s, i) => checkScoreSpec(op, `scores[${i}]`, s, opts.blocks.length));
  if (opts.evaluate !== 'validation' && opts.evaluate !== 'test')
    throw new ArgumentError(op, 'evaluate', `must be 'validation' or 'test', got ${quote(opts.evaluate)}`);
  const t0 = performance.now();
  const split = oneClassSplit(
    trainSet,
    normal,
    opts.seed,
    opts.validationFraction ?? 0.1,
    opts.anomalousValidation ?? 2000,
    opts.limit,
  );
  let evaluated: { data: ImageDataset; labels: Uint8Array };
  if (opts.evaluate === 'validation') evaluated = concat(split.normalValidation, split.anomalousValidation);
  else {
    if (!testSet.labels) throw new DataError('oneClassRun: the test set needs labels');
    const labels = testSet.labels.map((l) => (l === normal ? 0 : 1));
    evaluated = { data: testSet, labels };
  }
  // k against the reference images too, now that the split says how many there are.
  opts.scores.forEach((s, i) => checkScoreSpec(op, `scores[${i}]`, s, opts.blocks.length, split.train.length));
  const encoded = [
    split.train.length,
    evaluated.data.length,
    ...(opts.ensemble ? [split.normalValidation.length] : []),
  ];
  checkCodeSizes(be, op, opts, trainSet.shape, Math.max(...encoded));
  const stack = await trainStack(be, split.train, opts);
  try {
    return await scoreRun(be, stack, split, evaluated, normal, opts, t0);
  } catch (e) {
    stack.dispose();
    throw e;
  }
}

async function scoreRun(
  be: Backend,
  stack: StackedConvAutoencoder,
  split: OneClassSplit,
  evaluated: { data: ImageDataset; labels: Uint8Array },
  normal: number,
  opts: OneClassOptions,
  t0: number,
): Promise<OneClassResult> {
  const runner = opts.runner ?? threadRunner(be);
  const refs = new Map<number, Promise<Embeddings>>();
  const reference = (d: number) => {
    if (!refs.has(d)) refs.set(d, runner.encode(stack, split.train, { depth: d }));
    return refs.get(d)!;
  };
  const results: ScoreResult[] = [];
  const all: { eval: Float64Array; val: Float64Array }[] = [];
  let headline: Float64Array | null = null;
  for (const spec of opts.scores) {
    const s = await scoreOn(runner, stack, spec, evaluated.data, reference);
    headline ??= s;
    results.push({
      name: scoreName(spec),
      auroc: auroc(s, evaluated.labels),
      averagePrecision: averagePrecision(s, evaluated.labels),
    });
    if (opts.ensemble)
      all.push({ eval: s, val: await scoreOn(runner, stack, spec, split.normalValidation, reference) });
  }
  if (opts.ensemble && all.length > 1) {
    const sum = new Float64Array(evaluated.labels.length);
    for (const a of all) standardise(a.eval, a.val).forEach((v, i) => (sum[i] += v));
    results.push({
      name: 'ensemble',
      auroc: auroc(sum, evaluated.labels),
      averagePrecision: averagePrecision(sum, evaluated.labels),
    });
  }
  return {
    normal,
    seed: opts.seed,
    results,
    trainImages: split.train.length,
    evaluated: {
      normal: evaluated.labels.length - evaluated.labels.reduce((a, b) => a + b, 0),
      anomalous: evaluated.labels.reduce((a, b) => a + b, 0),
    },
    seconds: (performance.now() - t0) / 1000,
    stack,
    headline: { scores: headline!, labels: evaluated.labels, data: evaluated.data },
  };
}
