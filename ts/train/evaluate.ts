/**
 * The one evaluation and prediction module: the loss of a task over a
 * dataset, accuracy and confusion matrix for classifying tasks, logits and
 * their argmax. fit (validation), the Trainer and its workers (predict) and
 * the CLI all use these. Batches are gathered straight into a wasm tensor.
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/memory.js';
import { checkResultFloats, type ImageDataset } from '../data/dataset.js';
import { ArgumentError, DataError } from '../errors.js';
import { type Classifying, fittingBatch, type Model, type Task } from '../model/model.js';
import { Feeder } from './feeder.js';

/** Index of the largest value of each row of `[n, k]` logits (the first wins ties; NaN never wins). */
export function argmaxRows(logits: Tensor | Float32Array, k?: number): Uint32Array {
  const d = logits instanceof Float32Array ? logits : logits.data;
  const cols = logits instanceof Float32Array ? k! : logits.shape[1];
  const n = d.length / cols,
    out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < cols; j++) if (d[i * cols + j] > d[i * cols + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** Rows: true class; columns: predicted class. */
export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>, k: number): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < predictions.length; i++) m[labels[i]][predictions[i]]++;
  return m;
}

/** Result of `evaluateTask`. */
export interface Evaluation {
  /** Mean loss over the images. */
  loss: number;
  /** Images evaluated. */
  images: number;
  /** Fraction classified correctly, in [0, 1]: classifying tasks on labelled data only. */
  accuracy?: number;
  /** Images classified correctly (with `accuracy`). */
  correct?: number;
  /** With `confusion: k`: rows true class, columns predicted. */
  confusion?: number[][];
}

/** Options of `evaluateTask`. */
export interface EvaluateOptions {
  /** Images per forward pass; default 256, or fewer when a batch of 256 would not fit (`Task.footprint`). */
  batchSize?: number;
  /** Images of `data` to evaluate, by index (default: all, in order). */
  indices?: ArrayLike<number>;
  /** Number of classes: also build the confusion matrix. */
  confusion?: number;
}

/** `preferred` images per batch, or as many as fit in a batch of `model` when fewer (a model kind without tasks: `preferred`). */
export function defaultBatch(model: Partial<Model>, preferred: number): number {
  const f = typeof model.task === 'function' ? model.task().footprint?.() : undefined;
  return fittingBatch('predict', f, Number.POSITIVE_INFINITY, undefined, preferred, 'this model');
}

/** Loss (and accuracy, confusion) of a task over a dataset, in batches, without training. */
export function evaluateTask(be: Backend, task: Task, data: ImageDataset, opts: EvaluateOptions = {}): Evaluation {
  const given = opts.batchSize;
  if (given !== undefined && (!Number.isInteger(given) || given < 1))
    throw new ArgumentError('evaluate', 'batchSize', `must be an integer ≥ 1, got ${given}`);
  const n = opts.indices ? opts.indices.length : data.length;
  // fit's validation takes no batch size: 256 images of a large model failed after an epoch of training.
  const batchSize = fittingBatch('evaluate', task.footprint?.(), n, given, 256, 'this model');
  const feeder = new Feeder(be, data);
  const confusion = opts.confusion ? confusionMatrix([], [], opts.confusion) : undefined;
  let loss = 0,
    correct = 0,
    classified = false;
  try {
    for (let s = 0; s < n; s += batchSize) {
      const e = Math.min(n, s + batchSize);
      const { x, y, labels } = feeder.feed(opts.indices ?? null, s, e, task.needsLabels);
      const r = task.evaluate(x, y);
      loss += r.loss * (e - s);
      if (r.predictions && labels) {
        classified = true;
        for (let i = 0; i < r.predictions.length; i++) {
          if (r.predictions[i] === labels[i]) correct++;
          if (confusion) confusion[labels[i]][r.predictions[i]]++;
        }
      }
    }
  } finally {
    feeder.dispose();
  }
  return {
    loss: loss / n,
    images: n,
    ...(classified ? { accuracy: correct / n, correct } : {}),
    ...(confusion ? { confusion } : {}),
  };
}

/** Test error, loss and confusion matrix of a classifying model on labelled data, `batchSize` images a pass (default 500, fewer when a batch of 500 would not fit). */
export function evaluateClassifier(
  be: Backend,
  model: Model & Classifying,
  data: ImageDataset,
  batchSize?: number,
): { error: number; loss: number; accuracy: number; confusion: number[][] } {
  if (!data.labels) throw new DataError('evaluation needs labels');
  const r = evaluateTask(be, model.task(), data, {
    batchSize: batchSize ?? defaultBatch(model, 500),
    confusion: model.classes,
  });
  return { error: 1 - r.accuracy!, loss: r.loss, accuracy: r.accuracy!, confusion: r.confusion! };
}

/** Logits of images [start, end) of `data`, [end − start, classes] row-major, in batches (eval mode). */
export function predictLogits(
  be: Backend,
  model: Classifying,
  data: ImageDataset,
  start = 0,
  end = data.length,
  batchSize = defaultBatch(model as Partial<Model>, 256),
): Float32Array {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ArgumentError('predict', 'batchSize', `must be an integer ≥ 1, got ${batchSize}`);
  checkResultFloats('predict', 'data', end - start, model.classes, 'logits');
  const k = model.classes,
    out = new Float32Array((end - start) * k);
  const feeder = new Feeder(be, data);
  try {
    for (let s = start; s < end; s += batchSize) {
      const e = Math.min(end, s + batchSize);
      const { x } = feeder.feed(null, s, e, false);
      out.set(model.logits(x).data, (s - start) * k);
    }
  } finally {
    feeder.dispose();
  }
  return out;
}

/** Logits and predicted classes of every image of `data`. */
export function predict(
  be: Backend,
  model: Classifying,
  data: ImageDataset,
  batchSize = defaultBatch(model as Partial<Model>, 256),
): { logits: Float32Array; classes: Uint32Array } {
  const logits = predictLogits(be, model, data, 0, data.length, batchSize);
  return { logits, classes: argmaxRows(logits, model.classes) };
}
