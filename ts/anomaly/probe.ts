/**
 * How good is a code for a small classifier: k-nearest-neighbour accuracy and
 * linear-probe accuracy (multinomial logistic regression on standardised
 * features, full-batch Adam, fixed L2) from a few labelled vectors.
 */
import type { Backend } from '../backend/backend.js';
import { ArgumentError, quote } from '../errors.js';
import { MAX_RESULT_FLOATS, MAX_TENSOR_ELEMENTS } from '../limits.js';
import type { Runner } from '../train/runner.js';
import {
  checkEmbeddings,
  checkFiniteEmbeddings,
  type Embeddings,
  type Neighbours,
  nearestNeighbours,
} from './embed.js';
import { checkSignal } from '../train/options.js';
import { throwIfAborted } from '../util/eventloop.js';
import { knownFields, optionsOf } from '../util/options.js';
import { linearProbeSteps, type ProbeSpec } from './linearprobe.js';

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
      throw new ArgumentError(op, arg, `label ${i} is ${quote(labels[i])}, not an integer in [0, ${classes})`);
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
  /**
   * Aborting it stops the probe before its next step; the call then throws (rejects) with the signal's
   * `reason` (by default a DOMException named 'AbortError'). `linearProbeAccuracy` holds its thread until it
   * ends, so only a signal aborted before the call stops it; `linearProbeAccuracyOn` stops between steps.
   */
  signal?: AbortSignal;
}

const PROBE_KEYS = ['classes', 'steps', 'lr', 'weightDecay', 'signal'];
/** Most full-batch steps of the linear probe (each runs over every vector; the default is 150). */
const MAX_PROBE_STEPS = 100_000;

/** @internal Checks a linear probe's arguments, before anything is allocated or sent; returns its hyper-parameters. */
export function checkLinearProbe(
  op: string,
  train: Embeddings,
  trainLabels: ArrayLike<number>,
  test: Embeddings,
  testLabels: ArrayLike<number>,
  options: ProbeOptions | null | undefined,
): { spec: ProbeSpec; signal: AbortSignal | undefined } {
  const opts = optionsOf(op, options);
  checkEmbeddings(op, 'train', train);
  checkEmbeddings(op, 'test', test);
  knownFields(op, 'options', opts, PROBE_KEYS);
  const C = classesOf(op, opts.classes ?? 10);
  // Steps run one after the other, each over every vector: 10⁹ steps of 20 vectors never ended.
  const steps = opts.steps ?? 150;
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1 || steps > MAX_PROBE_STEPS)
    throw new ArgumentError(op, 'steps', `must be an integer in [1, ${MAX_PROBE_STEPS}], got ${quote(steps)}`);
  const lr = numberOf(op, 'lr', opts.lr ?? 0.01, 0, true),
    wd = numberOf(op, 'weightDecay', opts.weightDecay ?? 1e-3, 0, false);
  checkSignal(op, opts.signal);
  checkLabels(op, 'trainLabels', trainLabels, train.n, C);
  checkLabels(op, 'testLabels', testLabels, test.n, C);
  if (test.dim !== train.dim) throw new ArgumentError(op, 'test', `has ${test.dim} features, train ${train.dim}`);
  const d = train.dim;
  // Besides the caller's arrays the probe holds train and test standardised as doubles (a worker also its float
  // copies): bounded as a result, a double counting twice. Checked before the values are read.
  const values = (train.n + test.n) * d;
  if (2 * values > MAX_RESULT_FLOATS)
    throw new ArgumentError(
      op,
      'train',
      `and test hold (${train.n} + ${test.n}) vectors × ${d} features = ${values} values; standardised as doubles they are ${2 * values} floats, more than ${MAX_RESULT_FLOATS} (MAX_RESULT_FLOATS): probe fewer vectors`,
    );
  checkFiniteEmbeddings(op, 'train', train);
  checkFiniteEmbeddings(op, 'test', test);
  if (C * (d + 1) > MAX_TENSOR_ELEMENTS)
    throw new ArgumentError(
      op,
      'classes',
      `${C} × (${d} features + 1) weights are more than ${MAX_TENSOR_ELEMENTS} (MAX_TENSOR_ELEMENTS)`,
    );
  return { spec: { classes: C, steps, lr, weightDecay: wd }, signal: opts.signal };
}

/**
 * Trains softmax regression on `train` (standardised with its statistics, full-batch Adam from zero weights,
 * L2 on the weights) and returns the accuracy on `test`. Deterministic f64 arithmetic: the same inputs give
 * the same accuracy on any thread. Runs on this thread without a break; `linearProbeAccuracyOn` does not.
 */
export function linearProbeAccuracy(
  train: Embeddings,
  trainLabels: ArrayLike<number>,
  test: Embeddings,
  testLabels: ArrayLike<number>,
  options?: ProbeOptions,
): number {
  const { spec, signal } = checkLinearProbe('linearProbeAccuracy', train, trainLabels, test, testLabels, options);
  throwIfAborted(signal);
  return linearProbeSteps(train, trainLabels, test, testLabels, spec);
}

/**
 * `linearProbeAccuracy` on `runner`: the same accuracy, bit for bit. On a `Trainer` it runs in one worker and
 * this thread stays free (the vectors and labels are copied for the worker, the caller's arrays are left as they
 * are); on this thread it takes a break for the event loop every ~30 ms. `options.signal` stops it between
 * steps: the promise then rejects with the signal's reason.
 */
export async function linearProbeAccuracyOn(
  runner: Runner,
  train: Embeddings,
  trainLabels: ArrayLike<number>,
  test: Embeddings,
  testLabels: ArrayLike<number>,
  options?: ProbeOptions,
): Promise<number> {
  checkLinearProbe('linearProbeAccuracy', train, trainLabels, test, testLabels, options);
  return runner.linearProbeAccuracy(train, trainLabels, test, testLabels, options);
}
