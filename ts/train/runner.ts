/**
 * One interface for "work here" and "work in workers": training (`fit`), the
 * passes over many images that anomaly scores and embeddings make (`encode`,
 * `reconstructionScores`, `reconstructThrough`, `nearestNeighbours`) and the linear probe of
 * embeddings (`linearProbeAccuracy`). This thread
 * (threadRunner) and the Trainer (ts/worker) both implement it, so the CLI and
 * user code choose with one option (`createRunner` in ts/worker/runner.ts)
 * instead of two code paths. Both give the same results: the workers split the
 * images at batch boundaries and run the same batches as this thread, so
 * codes, scores and neighbours are equal bit for bit; the probe is one
 * deterministic f64 computation, run whole by one thread or one worker.
 */
import {
  checkEncode,
  checkNeighbours,
  codeSize,
  encodeRange,
  type EncodeOptions,
  type Embeddings,
  type NeighbourOptions,
  type Neighbours,
  neighbourRows,
} from '../anomaly/embed.js';
import {
  checkReconstructThrough,
  checkReconstruction,
  reconstructionRange,
  reconstructRange,
  type ReconstructionOptions,
  type ReconstructionScores,
  type ReconstructThroughOptions,
} from '../anomaly/score.js';
import { linearProbeRun } from '../anomaly/linearprobe.js';
import { checkLinearProbe, type ProbeOptions } from '../anomaly/probe.js';
import type { Backend } from '../backend/backend.js';
import type { ImageDataset } from '../data/dataset.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import type { Model, TaskSpec } from '../model/model.js';
import { type FitOptions, fit, type History } from './fit.js';
import { optionsOf } from '../util/options.js';

/** Training options plus the task to train (e.g. `layer` of a stack). */
export type RunOptions = FitOptions & TaskSpec;

/** Runs training and passes over many images on this thread or on workers; `dispose` ends any workers. */
export interface Runner {
  /** Where the work runs ('this thread', '2 workers'). */
  readonly where: string;
  /** Trains `model.task({ layer })` on `data`; the trained values end in the model. */
  fit(model: Model, data: ImageDataset, opts: RunOptions): Promise<{ history: History }>;
  /** The codes of every image after `depth` blocks (default: all), one flat vector per image: `encode`'s result. */
  encode(stack: StackedConvAutoencoder, data: ImageDataset, opts?: EncodeOptions): Promise<Embeddings>;
  /** Per-image reconstruction error through `depth` blocks (and per-pixel maps): `reconstructionScores`' result. */
  reconstructionScores(
    stack: StackedConvAutoencoder,
    data: ImageDataset,
    opts?: ReconstructionOptions,
  ): Promise<ReconstructionScores>;
  /** Every image's reconstruction through `depth` blocks (default 1), n × C·H·W floats: `reconstructThrough`'s result. */
  reconstructThrough(
    stack: StackedConvAutoencoder,
    data: ImageDataset,
    opts?: ReconstructThroughOptions,
  ): Promise<Float32Array>;
  /** The `k` nearest reference vectors of every query vector: `nearestNeighbours`' result. */
  nearestNeighbours(reference: Embeddings, query: Embeddings, k: number, opts?: NeighbourOptions): Promise<Neighbours>;
  /** The accuracy on `test` of a softmax probe trained on `train`: `linearProbeAccuracy`'s result; `opts.signal` stops it between steps. */
  linearProbeAccuracy(
    train: Embeddings,
    trainLabels: ArrayLike<number>,
    test: Embeddings,
    testLabels: ArrayLike<number>,
    opts?: ProbeOptions,
  ): Promise<number>;
  /** Ends its workers, if any (their running calls reject with WorkerError); do not use the runner afterwards. */
  dispose(): Promise<void>;
}

/**
 * Training and inference on this thread. `threads`: the kernel threads each
 * call may use during `fit` and the inference passes (`Backend.setThreads`;
 * the backend's own setting is restored afterwards); default: the backend's
 * setting as it is.
 */
export function threadRunner(be: Backend, threads?: number): Runner {
  if (threads !== undefined) be.checkThreads(threads);
  // `await` inside the try: the setting must outlive an async `f`.
  const withThreads = async <T>(f: () => T | Promise<T>): Promise<T> => {
    if (threads === undefined) return f();
    const before = be.threads;
    be.setThreads(threads);
    try {
      return await f();
    } finally {
      be.setThreads(before);
    }
  };
  return {
    where: `this thread${threads && threads > 1 ? `, ${threads} kernel threads` : ''}`,
    async fit(model, data, { layer, ...opts }) {
      const task = model.task(layer === undefined ? {} : { layer });
      return withThreads(async () => ({ history: await fit(be, task, data, opts) }));
    },
    async encode(stack, data, opts = {}) {
      const { depth, batchSize } = checkEncode('Runner.encode', stack, data, opts);
      const vectors = await withThreads(() => encodeRange(stack, data, depth, batchSize, 0, data.length));
      return { vectors, n: data.length, dim: codeSize(stack, depth) };
    },
    async reconstructionScores(stack, data, options) {
      const op = 'Runner.reconstructionScores';
      const opts = optionsOf(op, options);
      const { depth, batchSize } = checkReconstruction(op, stack, data, opts);
      return withThreads(() => reconstructionRange(stack, data, depth, batchSize, opts.maps === true, 0, data.length));
    },
    async reconstructThrough(stack, data, options) {
      const op = 'Runner.reconstructThrough';
      const opts = optionsOf(op, options);
      const { depth, batchSize } = checkReconstructThrough(op, stack, data, opts);
      return withThreads(() => reconstructRange(stack, data, depth, batchSize, 0, data.length));
    },
    async nearestNeighbours(reference, query, k, options) {
      const op = 'Runner.nearestNeighbours';
      const opts = optionsOf(op, options);
      const { batchSize } = checkNeighbours(op, reference, query, k, opts);
      return withThreads(() =>
        neighbourRows(be, reference, query.vectors, k, opts.skipSelf === true ? 0 : -1, batchSize),
      );
    },
    async linearProbeAccuracy(train, trainLabels, test, testLabels, options) {
      const op = 'Runner.linearProbeAccuracy';
      const { spec, signal } = checkLinearProbe(op, train, trainLabels, test, testLabels, options);
      return linearProbeRun(train, trainLabels, test, testLabels, spec, signal);
    },
    dispose: async () => {},
  };
}
