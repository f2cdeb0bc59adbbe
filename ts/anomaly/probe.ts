/**
 * How good is a code for a small classifier: k-nearest-neighbour accuracy and
 * linear-probe accuracy (multinomial logistic regression on standardised
 * features, full-batch Adam, fixed L2) from a few labelled vectors.
 */
import type { Backend } from '../backend/backend.js';
import { ArgumentError, quote } from '../errors.js';
import { MAX_TENSOR_ELEMENTS } from '../limits.js';
import type { Runner } from '../train/runner.js';
import { checkEmbeddings, type Embeddings, type Neighbours, nearestNeighbours } from './embed.js';
import { knownFields, optionsOf } from '../util/options.js';
import { linearProbeSteps } from './linearprobe.js';

/** The most classes a probe takes: as many as an ImageDataset's byte labels can name. */
const MAX_PROBE_CLASSES = 256;

/**
 * `classes` of a probe: an integer in [1, 256]. Before, any value was taken: 10¹⁰ was a RangeError from the
 * vote or weight array, 2.5 or '3' ran on.
 */
function classesOf(op: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_PROBE_CLASSES)
    throw new ArgumentError(op, 'classes', `must be an integer in [1, ${MAX_PROBE_CLASSES}], got ${quote(v)}`);
  return v;
}

/** A finite number ≥ `min` (> `min` when `open`). */
function numberOf(op: string, arg: string, v: unknown, min: number, open: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (open ? v <= min : v < min))
    throw new ArgumentError(op, arg, `must be a finite number ${open ? '>' : '≥'} ${min}, got ${quote(v)}`);
  return v;
}

function checkLabels(op: string, arg: string, labels: ArrayLike<number>, n: number, classes: number): void {
  if (!labels || labels.length !== n) throw new ArgumentError(op, arg, `must hold ${n} labels, got ${labels?.length}`);
  for (let i = 0; i < n; i++)
    if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] >= classes)
      throw new ArgumentError(op, arg, `label ${i} is ${labels[i]}, not in [0, ${classes})`);
}

/** Options of `knnAccuracy`. */
export interface KnnOptions {
  /** Neighbours that vote (default 1). */
  k?: number;
  /** Labels lie in [0, classes), classes in [1, 256] (default 10). */
  classes?: number;
}

function checkKnn(
  train: Embeddings,
  trainLabels: ArrayLike<number>,
  test: Embeddings,
  testLabels: ArrayLike<number>,
  options: KnnOptions | null | undefined,
): { k: number; classes: number } {
  const op = 'knnAccuracy';
  const opts = optionsOf(op, options);
  checkEmbeddings(op, 'train', train);
  checkEmbeddings(op, 'test', test);
  const k = opts.k ?? 1,
    classes = classesOf(op, opts.classes ?? 10);
  checkLabels(op, 'trainLabels', trainLabels, train.n, classes);
  checkLabels(op, 'testLabels', testLabels, test.n, classes);
  return { k, classes };
}

/** Fraction of `test` whose k nearest `train` vectors vote its label (a tie goes to the class of the nearer neighbour). */
export function knnAccuracy(
  be: Backend,
  train: Embeddings,
  trainLabels: ArrayLike<number>,
  test: Embeddings,
  testLabels: ArrayLike<number>,
  opts: KnnOptions = {},
): number {
  const { k, classes } = checkKnn(train, trainLabels, test, testLabels, opts);
  return voteAccuracy(nearestNeighbours(be, train, test, k), trainLabels, testLabels, classes);
}

/** `knnAccuracy` with the neighbour search on `runner` (in workers: the same neighbours, the same accuracy). */
export async function knnAccuracyOn(
  runner: Runner,
  train: Embeddings,
  trainLabels: ArrayLike<number>,
  test: Embeddings,
  testLabels: ArrayLike<number>,
  opts: KnnOptions = {},
): Promise<number> {
  const { k, classes } = checkKnn(train, trainLabels, test, testLabels, opts);
  return voteAccuracy(await runner.nearestNeighbours(train, test, k), trainLabels, testLabels, classes);
}

function voteAccuracy(
  nn: Neighbours,
  trainLabels: ArrayLike<number>,
  testLabels: ArrayLike<number>,
  classes: number,
): number {
  const k = nn.k,
    n = testLabels.length;
  let right = 0;
  const votes = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    votes.fill(0);
    // 1 per vote, minus a rank-dependent epsilon: nearer neighbours win ties.
    for (let p = 0; p < k; p++) votes[trainLabels[nn.indices[i * k + p]]] += 1 - p * 1e-6;
    let best = 0;
    for (let c = 1; c < classes; c++) if (votes[c] > votes[best]) best = c;
    if (best === testLabels[i]) right++;
  }
  return right / n;
}

/** Options of the linear (softmax-regression) probe. */
export interface ProbeOptions {
  /** Number of classes, in [1, 256]; labels must lie in [0, classes). Default 10. */
  classes?: number;
  /** Full-batch steps, in [1, 100 000] (default 150). */
  steps?: number;
  /** Adam learning rate (default 0.01). */
  lr?: number;
  /** L2 penalty on the weights (default 1e-3). */
  weightDecay?: number;
}

const PROBE_KEYS = ['classes', 'steps', 'lr', 'weightDecay'];
/** Most full-batch steps of the linear probe (it runs them without a break on this thread; the default is 150). */
const MAX_PROBE_STEPS = 100_000;

/** Trains softmax regression on `train` and returns the accuracy on `test`. */
export function linearProbeAccuracy(
  train: Embeddings,
  trainLabels: ArrayLike<number>,
  test: Embeddings,
  testLabels: ArrayLike<number>,
  options?: ProbeOptions,
): number {
  const op = 'linearProbeAccuracy';
  const opts = optionsOf(op, options);
  checkEmbeddings(op, 'train', train);
  checkEmbeddings(op, 'test', test);
  knownFields(op, 'options', opts, PROBE_KEYS);
  const C = classesOf(op, opts.classes ?? 10);
  // Steps run one after the other on this thread, each over every vector: 10⁹ steps of 20 vectors never ended.
  const steps = opts.steps ?? 150;
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1 || steps > MAX_PROBE_STEPS)
    throw new ArgumentError(op, 'steps', `must be an integer in [1, ${MAX_PROBE_STEPS}], got ${quote(steps)}`);
  const lr = numberOf(op, 'lr', opts.lr ?? 0.01, 0, true),
    wd = numberOf(op, 'weightDecay', opts.weightDecay ?? 1e-3, 0, false);
  checkLabels(op, 'trainLabels', trainLabels, train.n, C);
  checkLabels(op, 'testLabels', testLabels, test.n, C);
  if (test.dim !== train.dim) throw new ArgumentError(op, 'test', `has ${test.dim} features, train ${train.dim}`);
  const d = train.dim;
  if (C * (d + 1) > MAX_TENSOR_ELEMENTS)
    throw new ArgumentError(
      op,
      'classes',
      `${C} × (${d} features + 1) weights are more than ${MAX_TENSOR_ELEMENTS} (MAX_TENSOR_ELEMENTS)`,
    );
  return linearProbeSteps(train, trainLabels, test, testLabels, { classes: C, steps, lr, weightDecay: wd });
}
