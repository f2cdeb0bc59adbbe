/**
 * The training loop shared by autoencoders and classifiers: seeded shuffling,
 * learning-rate schedule, validation, early stopping (keeping the best
 * weights), per-batch and per-epoch callbacks, and cancellation through an
 * AbortSignal between steps — the model then holds the weights of the last
 * completed step.
 */
import type { Backend } from '../backend/backend.js';
import { type ImageDataset, splitIndices } from '../data/dataset.js';
import { ArgumentError, NonFiniteError } from '../errors.js';
import type { Param } from '../model/layer.js';
import type { Task } from '../model/model.js';
import { yieldToEventLoop } from '../util/eventloop.js';
import { Rng } from '../util/rng.js';
import type { Checkpoint } from './checkpoint.js';
import { checkFit } from './options.js';
import { evaluateTask } from './evaluate.js';
import { Feeder } from './feeder.js';
import { Optimizer, scheduledLr, type OptimizerSpec, type Schedule } from './optimizer.js';
import { type Augment, drawShifts, shiftImages } from './augment.js';

export type { Task } from '../model/model.js';

/** What `onBatch` gets after each training step (`batch` counts from 1 within the epoch). */
export interface BatchInfo {
  /** The epoch, counted from 0. */
  epoch: number;
  /** The step within the epoch, 1 … batches. */
  batch: number;
  /** Steps per epoch: ⌈training images / batchSize⌉. */
  batches: number;
  /** The batch's mean loss (the task's: MSE 1/(2n) Σ (x − y)² for autoencoders, cross-entropy for classifiers). */
  loss: number;
  /** Training images seen so far in this epoch. */
  images: number;
  /** `images` over the seconds since the epoch began. */
  imagesPerSecond: number;
}

/** What `onEpoch` gets after each epoch: mean training loss, validation results, learning rate and speed. */
export interface EpochInfo {
  /** The epoch, counted from 0. */
  epoch: number;
  /** Mean training loss over the epoch's images (as the weights changed during it). */
  loss: number;
  /** Mean loss over the validation images after the epoch; absent without validation. */
  valLoss?: number;
  /** Fraction of validation images classified correctly, in [0, 1]; classifying tasks with validation only. */
  valAccuracy?: number;
  /** The epoch's scheduled learning rate (before `lrFactors`). */
  lr: number;
  /** Wall-clock seconds of the epoch's training steps, validation not included. */
  seconds: number;
  /** Training images over `seconds`. */
  imagesPerSecond: number;
}

/** Options of `fit` and `Trainer.fit`. */
export interface FitOptions {
  /** Passes over the training set. */
  epochs: number;
  /** Images per optimizer step (the last batch of an epoch may be smaller). */
  batchSize: number;
  /** SGD or Adam, with its learning rate and hyper-parameters. */
  optimizer: OptimizerSpec;
  /** Learning-rate schedule over the epochs; default constant. */
  schedule?: Schedule;
  /** Seed of the shuffling, of a fractional `validation` split and of `augment` (same seed, same weights); default 1. */
  seed?: number;
  /** A validation set, or the fraction of the training set to hold out (seeded by `seed`); default none. */
  validation?: ImageDataset | number;
  /** Stop when the validation loss has not improved by minDelta for `patience` epochs; the best weights are restored. */
  earlyStopping?: { patience: number; minDelta?: number };
  /** Called after each training step. */
  onBatch?: (info: BatchInfo) => void;
  /** Called after each epoch (after validation). */
  onEpoch?: (info: EpochInfo) => void;
  /** Aborting it stops training before the next batch; the history then says it was stopped. */
  signal?: AbortSignal;
  /** Called with a checkpoint after every `every` completed epochs (default 1); awaited before training goes on. */
  checkpoint?: { every?: number; save: (c: Checkpoint) => void | Promise<void> };
  /** Continue from a checkpoint of the same task and options: parameters, optimizer, data order and history. */
  resumeFrom?: Checkpoint;
  /**
   * Learning-rate factors by parameter-name prefix: `{ block0: 0.1 }` trains
   * every parameter whose name is `block0` or starts with `block0.` at a tenth
   * of the scheduled rate; 0 leaves them as they are. The longest matching
   * prefix wins; parameters no prefix names keep factor 1. Every prefix must
   * name at least one parameter of the task.
   */
  lrFactors?: Record<string, number>;
  /** Random translations of each training image (not of validation images). */
  augment?: Augment;
}

/**
 * @internal One replica of synchronous data-parallel training (ts/worker): every
 * replica walks the same global batches in the same order, computes gradients
 * on its part of each, and `allReduce` makes all replicas hold the same
 * gradient of the mean loss over the whole batch, so they take the same step.
 */
export interface ReplicaSync {
  readonly index: number;
  readonly count: number;
  /**
   * Replaces each parameter's gradient (of the mean over this replica's `part`
   * images) by the gradient of the mean over the `total` images of the global
   * batch, and sums `scalars` over replicas. `stop` is the leader's (replica 0)
   * wish to stop; the returned `stop` is the leader's, the same on every replica.
   */
  allReduce(
    params: readonly Param[],
    part: number,
    total: number,
    scalars: readonly number[],
    stop: boolean,
  ): Reduced | Promise<Reduced>;
}

export interface Reduced {
  sums: number[];
  stop: boolean;
}

/** @internal fit's options as the worker drives it. */
export interface ReplicaFitOptions extends FitOptions {
  sync?: ReplicaSync;
  /**
   * A split made once by the caller (Trainer: `validation` as a fraction):
   * the images of `data` to train on and to validate on, by index. The
   * replicas share the dataset and these lists; nothing is copied.
   */
  split?: { train: Uint32Array; validation: Uint32Array };
  /** Awaited before every step when it returns a promise (pausing). */
  gate?: () => Promise<void> | null;
}

/** The replica's contiguous part of a batch: images [⌊i·n/N⌋, ⌊(i+1)·n/N⌋). */
export function shardRange(n: number, index: number, count: number): [number, number] {
  return [Math.floor((index * n) / count), Math.floor(((index + 1) * n) / count)];
}

/** The result of a training run: one entry per epoch, and how it ended. */
export interface History {
  /** One entry per completed epoch, a resumed run's earlier ones included. */
  epochs: EpochInfo[];
  /** True when the signal stopped training. */
  aborted: boolean;
  /** True when early stopping ended training (best weights restored). */
  stoppedEarly: boolean;
  /** Optimizer steps taken, a resumed run's earlier ones included. */
  steps: number;
}

/** Validation over every replica's share of the set, summed so all replicas see the same numbers. */
async function evaluateReplicated(
  be: Backend,
  task: Task,
  data: ImageDataset,
  indices: Uint32Array | null,
  sync: ReplicaSync | undefined,
): Promise<{ loss: number; accuracy?: number }> {
  const all = indices ?? identity(data.length);
  if (!sync) return evaluateTask(be, task, data, { indices: all });
  const [s, e] = shardRange(all.length, sync.index, sync.count);
  let loss = 0,
    correct = 0,
    hasAcc = 0;
  if (e > s) {
    const r = evaluateTask(be, task, data, { indices: all.subarray(s, e) });
    loss = r.loss * (e - s);
    if (r.correct !== undefined) {
      correct = r.correct;
      hasAcc = 1;
    }
  }
  const { sums } = await sync.allReduce([], 0, 1, [loss, correct, hasAcc], false);
  return { loss: sums[0] / all.length, accuracy: sums[2] > 0 ? sums[1] / all.length : undefined };
}

const identity = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);

/** Trains `task` on `data` on this thread: seeded shuffling, optimizer and schedule, validation, early stopping, callbacks, abort signal and checkpoints. Resolves with the history. */
export async function fit(be: Backend, task: Task, data: ImageDataset, opts: FitOptions): Promise<History> {
  checkFit(task, data, opts);
  return train(be, task, data, opts);
}

/** @internal fit, as one replica of data-parallel training when `opts.sync` is given. */
export async function fitReplica(
  be: Backend,
  task: Task,
  data: ImageDataset,
  opts: ReplicaFitOptions,
): Promise<History> {
  checkFit(task, data, opts, { replica: true });
  return train(be, task, data, opts);
}

async function train(be: Backend, task: Task, data: ImageDataset, opts: ReplicaFitOptions): Promise<History> {
  const sync = opts.sync;
  if (!Number.isInteger(opts.epochs) || opts.epochs < 0)
    throw new ArgumentError('fit', 'epochs', `must be an integer ≥ 0, got ${opts.epochs}`);
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
    throw new ArgumentError('fit', 'batchSize', `must be an integer ≥ 1, got ${opts.batchSize}`);
  // Training images by index into `data` (null: all); validation likewise, over `validation` (default: `data`).
  let trainIdx: Uint32Array | null = null,
    valIdx: Uint32Array | null = null,
    validation: ImageDataset | undefined;
  if (opts.split) {
    ({ train: trainIdx, validation: valIdx } = opts.split);
    validation = data;
  } else if (typeof opts.validation === 'number') {
    ({ train: trainIdx, validation: valIdx } = splitIndices(data.length, opts.validation, (opts.seed ?? 1) + 7919));
    validation = data;
  } else validation = opts.validation;
  if (opts.earlyStopping && !validation) throw new ArgumentError('fit', 'earlyStopping', 'needs validation data');
  const trainLength = trainIdx ? trainIdx.length : data.length;

  const params = task.params();
  const optimizer = new Optimizer(be, params, opts.optimizer, opts.lrFactors);
  const shift = opts.augment?.shift ?? 0;
  const tmp = shift > 0 ? new Float32Array(data.imageSize) : null;
  const rng = new Rng(opts.seed ?? 1);
  const feeder = new Feeder(be, data);
  const history: History = { epochs: [], aborted: false, stoppedEarly: false, steps: 0 };
  let best = Infinity,
    bestWeights: Float32Array[] | null = null,
    sinceBest = 0;
  const batches = Math.ceil(trainLength / opts.batchSize);
  let startEpoch = 0,
    stopped = false;
  // Everything after the optimizer's creation runs under the finally that frees it (a refused resumeFrom included).
  try {
    if (opts.resumeFrom) {
      const c = opts.resumeFrom;
      for (const p of params) {
        const v = c.params[p.name];
        if (!v || v.length !== p.value.size)
          throw new ArgumentError(
            'fit',
            'resumeFrom',
            `has no parameter '${p.name}' of ${p.value.size} values: not a checkpoint of this model`,
          );
      }
      for (const p of params) p.value.set(c.params[p.name]);
      optimizer.importState(c.optimizer, c.optimizerSteps);
      rng.state = c.rngState;
      if (c.modelRng && task.setRandomState) task.setRandomState(c.modelRng);
      history.steps = c.steps;
      // Not push(...c.history): 300 000 epochs as arguments overflowed the call stack (a RangeError).
      history.epochs = c.history.slice();
      startEpoch = c.epoch;
      if (opts.earlyStopping && c.earlyStopping) {
        const e = c.earlyStopping;
        best = e.best;
        sinceBest = e.sinceBest;
        if (e.bestParams) {
          const bp = e.bestParams;
          for (const p of params) {
            if (bp[p.name]?.length !== p.value.size)
              throw new ArgumentError(
                'fit',
                'resumeFrom',
                `its best weights have no parameter '${p.name}' of ${p.value.size} values`,
              );
          }
          bestWeights = params.map((p) => Float32Array.from(bp[p.name]));
        }
      }
    }
    // Replicas start from the same generators (a resume restores the leader's): each moves to its own streams.
    if (sync && sync.index > 0) task.reseed?.(sync.index);
    for (let epoch = startEpoch; epoch < opts.epochs; epoch++) {
      const lr = scheduledLr(opts.optimizer.lr, epoch, opts.schedule);
      const t0 = performance.now();
      let sum = 0,
        seen = 0,
        batch = 0,
        lastYield = t0;
      // The epoch's order (the same permutation ImageDataset.batches would draw), as indices into `data`.
      const order = rng.permutation(trainLength);
      if (trainIdx) for (let j = 0; j < order.length; j++) order[j] = trainIdx[order[j]];
      // Moves from a stream of their own per epoch: the data order is the one without augmentation, and a resumed run draws the same.
      const augRng = new Rng(opts.seed ?? 1);
      augRng.reseed(0x5a17 + epoch);
      for (let start = 0; start < trainLength; start += opts.batchSize) {
        const size = Math.min(opts.batchSize, trainLength - start);
        const wait = opts.gate?.();
        if (wait) await wait;
        if (!sync && opts.signal?.aborted) break;
        // A replica gathers only its own part of the global batch.
        const [s, e] = sync ? shardRange(size, sync.index, sync.count) : [0, size];
        optimizer.zeroGrad();
        // Drawn for the whole global batch, by every replica, so each moves its images the way one thread would.
        const shifts = tmp ? drawShifts(size, shift, augRng) : null;
        let loss = 0;
        if (e > s) {
          const { x, y } = feeder.feed(order, start + s, start + e, task.needsLabels);
          if (shifts) shiftImages(x.data, x.shape as [number, number, number, number], shifts, s, tmp!);
          loss = task.step(x, y);
        }
        if (sync) {
          // The stop decision and the non-finite check use reduced values, so every replica leaves at the same step.
          const r = await sync.allReduce(params, e - s, size, [loss * (e - s)], !!opts.signal?.aborted);
          if (r.stop) {
            stopped = true;
            break;
          }
          loss = r.sums[0] / size;
        }
        if (!Number.isFinite(loss)) throw new NonFiniteError('fit', 'loss', history.steps, loss);
        optimizer.step(lr);
        history.steps++;
        sum += loss * size;
        seen += size;
        batch++;
        const now = performance.now();
        opts.onBatch?.({ epoch, batch, batches, loss, images: seen, imagesPerSecond: seen / ((now - t0) / 1000) });
        if (now - lastYield > 30) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
      }
      if (stopped || (!sync && opts.signal?.aborted)) {
        history.aborted = true;
        break;
      }
      const seconds = (performance.now() - t0) / 1000;
      const info: EpochInfo = { epoch, loss: sum / seen, lr, seconds, imagesPerSecond: seen / seconds };
      if (validation) {
        const v = await evaluateReplicated(be, task, validation, valIdx, sync);
        info.valLoss = v.loss;
        info.valAccuracy = v.accuracy;
      }
      history.epochs.push(info);
      opts.onEpoch?.(info);
      if (opts.earlyStopping && info.valLoss !== undefined) {
        if (info.valLoss < best - (opts.earlyStopping.minDelta ?? 0)) {
          best = info.valLoss;
          sinceBest = 0;
          bestWeights = params.map((p) => p.value.toArray());
        } else if (++sinceBest >= opts.earlyStopping.patience) {
          history.stoppedEarly = true;
          break;
        }
      }
      if (opts.checkpoint && (epoch + 1) % (opts.checkpoint.every ?? 1) === 0) {
        await opts.checkpoint.save({
          epoch: epoch + 1,
          steps: history.steps,
          rngState: rng.state,
          optimizerSteps: optimizer.steps,
          modelRng: task.randomState?.(),
          params: Object.fromEntries(params.map((p) => [p.name, p.value.toArray()])),
          optimizer: optimizer.exportState(),
          history: [...history.epochs],
          earlyStopping: opts.earlyStopping
            ? {
                best,
                sinceBest,
                ...(bestWeights
                  ? { bestParams: Object.fromEntries(params.map((p, i) => [p.name, bestWeights![i]])) }
                  : {}),
              }
            : undefined,
        });
      }
      await yieldToEventLoop();
    }
    if (history.stoppedEarly && bestWeights) params.forEach((p, i) => p.value.set(bestWeights![i]));
  } finally {
    feeder.dispose();
    optimizer.dispose();
  }
  return history;
}
