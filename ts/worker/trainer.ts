/**
 * Training off the main thread. `Trainer.fit` has fit's options and results,
 * but the work happens in workers: the model travels in its saved form, the
 * dataset is shared (or moved, or copied), progress and checkpoints come back
 * as events, and the trained parameters are written into the caller's model
 * only when the job ends well (or is aborted, which ends at a completed step).
 *
 * With `workers: N > 1` the job is synchronous data-parallel SGD: every worker
 * holds a replica, computes the gradient of its part of each global batch, the
 * replicas average their gradients through shared memory (allreduce.ts) and
 * all take the same step. N workers on a batch of B train like one worker on B.
 */
import * as Comlink from 'comlink';
import type { Backend } from '../backend/backend.js';
import { type ImageDataset, splitIndices } from '../data/dataset.js';
import { ArgumentError, ModelError, WorkerError } from '../errors.js';
import type { Param } from '../model/layer.js';
import type { EncodeOptions, Embeddings, NeighbourOptions, Neighbours } from '../anomaly/embed.js';
import type { ProbeOptions } from '../anomaly/probe.js';
import type { ReconstructionOptions, ReconstructionScores, ReconstructThroughOptions } from '../anomaly/score.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import type { Classifying, Model } from '../model/model.js';
import { saveModel } from '../model/serialize.js';
import type { BatchInfo, FitOptions, History } from '../train/fit.js';
import { checkTrainerFitOptions } from '../train/options.js';
import type { Runner } from '../train/runner.js';
import { createShared, poisonShared } from './allreduce.js';
import { HeldModels } from './held.js';
import {
  encodePass,
  neighboursPass,
  type PassOptions,
  predictPass,
  reconstructionPass,
  reconstructPass,
} from './passes.js';
import { linearProbePass } from './probe.js';
import { WorkerPool, type PoolOptions } from './pool.js';
import type { FitEvents, FitJob } from './protocol.js';
import { canShareMemory, datasetWire, type DataMode } from './wire.js';
import { deriveSeed } from '../util/rng.js';

/** Options of `Trainer.create`: pool size, worker script URL, resource limits. */
export type TrainerOptions = PoolOptions;

/** Options of `Trainer.fit`: those of `fit`, plus which layer, how many workers and how the data reaches them. */
export interface TrainerFitOptions extends FitOptions {
  /** What to train (`model.task({ layer })`): for a CAE stack, the block to train on the codes of the ones below (default 0). */
  layer?: number;
  /** Data-parallel over this many workers (default: all of the trainer's). */
  workers?: number;
  /**
   * How the training set reaches the workers: 'share' (default where shared memory
   * exists: copied once into a SharedArrayBuffer, kept for later jobs on the same
   * dataset), 'transfer' (moved to the single worker: your dataset's buffers are
   * detached afterwards), or 'copy' (structured clone per worker).
   */
  data?: DataMode;
  /** Called with a copy of the parameters being trained every `snapshotEvery` batches and at each epoch's end (live filters, reconstructions). */
  onSnapshot?: (params: Record<string, Float32Array>, info: BatchInfo) => void;
  /** Batches between two `onSnapshot` calls, an integer ≥ 1; default 10. */
  snapshotEvery?: number;
  /**
   * How data-parallel workers average gradients: 'shared' (default where SharedArrayBuffer exists: shared
   * memory and a barrier) or 'messages' (transferred buffers between workers: works in any page, costs more per step).
   */
  allReduce?: 'shared' | 'messages';
}

/** What `Trainer.fit` resolves with: the history of the run. */
export interface TrainResult {
  /** Epochs, steps and how the run ended, as `fit` returns it. */
  history: History;
  /** The trained parameters by name (already written into the model). */
  params: Record<string, Float32Array>;
}

let nextJob = 1;

/** Training in Web Workers (Node: worker_threads): `fit` and `pretrain` with the options of `fit`, data-parallel over several workers, plus pause, resume and abort. */
export class Trainer implements Runner {
  /** Which model each worker holds for inference passes, so it is posted only when it changed. */
  private readonly held = new HeldModels();
  private readonly jobs = new Map<
    number,
    { workers: { api: { pause(id: number): void; resume(id: number): void } }[] }
  >();

  private constructor(
    /** The backend of the caller's models; the workers run its build. */
    readonly be: Backend,
    /** The workers; `dispose` terminates them. */
    readonly pool: WorkerPool,
  ) {}

  /** A trainer whose workers run the same build as `be` (a wasm module is shared, not recompiled; native: each worker loads the same addon). */
  static async create(be: Backend, opts: TrainerOptions = {}): Promise<Trainer> {
    return new Trainer(be, await WorkerPool.create(be.workerOptions, opts));
  }

  /** Number of workers. */
  get workers(): number {
    return this.pool.size;
  }

  get where(): string {
    return `${this.pool.size} worker${this.pool.size > 1 ? 's' : ''}`;
  }

  /**
   * Trains `model.task({ layer })` in workers and writes the result into the
   * model (a classifier trains as a whole; a CAE stack trains block `layer`).
   * Rejects with a typed error (the worker's own, or WorkerError if a worker
   * died); the model is then unchanged.
   */
  async fit(model: Model, data: ImageDataset, opts: TrainerFitOptions): Promise<TrainResult> {
    checkTrainerFitOptions(model, data, opts, this.pool.size);
    const n = opts.workers ?? this.pool.size;
    if (!Number.isInteger(n) || n < 1 || n > this.pool.size)
      throw new ArgumentError(
        'Trainer.fit',
        'workers',
        `must be an integer in [1, ${this.pool.size}] (the trainer's workers), got ${n}`,
      );
    const reduce = opts.allReduce ?? (canShareMemory() ? 'shared' : 'messages');
    if (reduce === 'shared' && !canShareMemory()) {
      throw new ArgumentError(
        'Trainer.fit',
        'allReduce',
        "'shared' needs SharedArrayBuffer; in a browser serve the page cross-origin isolated (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp), or use 'messages'",
      );
    }
    const mode: DataMode = opts.data ?? (canShareMemory() ? 'share' : 'copy');
    if (mode === 'transfer' && n > 1)
      throw new ArgumentError(
        'Trainer.fit',
        'data',
        "'transfer' moves the dataset to one worker; data-parallel training shares it ('share')",
      );

    if (typeof model?.task !== 'function' || typeof model.toJSON !== 'function')
      throw new ArgumentError('Trainer.fit', 'model', 'must be a convae model (one of the registered kinds)');
    const task = opts.layer === undefined ? {} : { layer: opts.layer };
    // The kind checks the spec here, on the caller's thread, before any worker is busy.
    const params: Param[] = model.task(task).params();
    if (opts.signal?.aborted)
      return { history: { epochs: [], aborted: true, stoppedEarly: false, steps: 0 }, params: {} };

    const floats = params.reduce((s, p) => s + p.value.size, 0);
    const saved = saveModel(model);
    const {
      onBatch,
      onEpoch,
      onSnapshot,
      snapshotEvery,
      signal,
      checkpoint,
      resumeFrom,
      validation,
      layer: _l,
      workers: _w,
      data: _d,
      allReduce: _a,
      ...rest
    } = opts;
    if (onSnapshot && !(Number.isInteger(snapshotEvery ?? 10) && (snapshotEvery ?? 10) >= 1))
      throw new ArgumentError('Trainer.fit', 'snapshotEvery', `must be an integer ≥ 1, got ${snapshotEvery}`);
    const val =
      validation === undefined || typeof validation === 'number'
        ? undefined
        : datasetWire(validation, mode === 'transfer' ? 'copy' : mode).wire;
    // A fraction is split here, once, as index lists over the shared dataset (the workers copy nothing).
    const split =
      typeof validation === 'number' ? splitIndices(data.length, validation, (rest.seed ?? 1) + 7919) : undefined;
    const train = datasetWire(data, mode);
    const base: FitJob = {
      model: saved,
      task,
      data: train.wire,
      validation: val,
      split,
      options: {
        ...rest,
        checkpointEvery: checkpoint ? (checkpoint.every ?? 1) : undefined,
        snapshotEvery: onSnapshot ? (snapshotEvery ?? 10) : undefined,
      },
      resumeFrom,
    };
    const events: FitEvents = {
      batches: (list) => list.forEach((i) => onBatch?.(i)),
      epoch: (i) => onEpoch?.(i),
      checkpoint: async (c) => {
        await checkpoint?.save(c);
      },
      snapshot: (p, i) => onSnapshot?.(p, i),
      flush: () => {},
    };

    const { workers, release } = await this.pool.acquire(n);
    const id = nextJob++;
    const shared = n > 1 && reduce === 'shared' ? createShared(n, floats) : undefined;
    // Without shared memory: one channel per pair of replicas; ports[i][j] is replica i's end towards j.
    const ports: (MessagePort | null)[][] = Array.from({ length: n }, () => new Array(n).fill(null));
    if (n > 1 && !shared) {
      for (let i = 0; i < n; i++)
        for (let j = i + 1; j < n; j++) {
          const c = new MessageChannel();
          ports[i][j] = c.port1;
          ports[j][i] = c.port2;
        }
    }
    const channel = new MessageChannel();
    Comlink.expose(events, channel.port1);
    const onAbort = () => workers.forEach((w) => w.call(() => w.api.abort(id)).catch(() => {}));
    signal?.addEventListener('abort', onAbort);
    this.jobs.set(id, {
      workers: workers.map((w) => ({
        api: { pause: (j) => void w.api.pause(j).catch(() => {}), resume: (j) => void w.api.resume(j).catch(() => {}) },
      })),
    });
    try {
      const calls = workers.map((w, i) => {
        const own = ports[i].filter((p): p is MessagePort => !!p);
        const job: FitJob =
          n === 1
            ? base
            : { ...base, replica: { index: i, count: n, floats, ...(shared ? { shared } : { ports: ports[i] }) } };
        const transfer: Transferable[] = [...own, ...(i === 0 ? [channel.port2, ...train.transfer] : [])];
        const port = i === 0 ? channel.port2 : null;
        const p = w.call(() => w.api.fit(id, Comlink.transfer(job, transfer), port));
        // One failure stops the others at their next barrier (or message wait) instead of leaving them waiting.
        p.catch(() => {
          if (shared) poisonShared(shared);
          workers.forEach((o) => o !== w && o.call(() => o.api.poison(id)).catch(() => {}));
        });
        return p;
      });
      const settled = await Promise.allSettled(calls);
      const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
      if (failures.length) {
        throw failures.find((e) => !(e instanceof WorkerError && e.failure === 'peer-failed')) ?? failures[0];
      }
      const result = (settled[0] as PromiseFulfilledResult<{ params: Record<string, Float32Array>; history: History }>)
        .value;
      for (const p of params) {
        const v = result.params[p.name];
        if (!v || v.length !== p.value.size)
          throw new ModelError(p.name, 'the worker returned no trained values for this parameter');
      }
      for (const p of params) p.value.set(result.params[p.name]);
      return result;
    } finally {
      // The pool first: nothing a caller's signal does may keep the workers from it.
      channel.port1.close();
      this.jobs.delete(id);
      release();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Logits (and predicted classes) of a classifying model for every image of `data`,
   * split across `workers` (default: all) that each run whole batches of `batchSize` (default 256, or as many as fit when fewer do).
   */
  predict(
    model: Model & Classifying,
    data: ImageDataset,
    opts: PassOptions & { batchSize?: number } = {},
  ): Promise<{ logits: Float32Array; classes: Uint32Array }> {
    return predictPass(this.pool, this.held, model, data, opts);
  }

  /** `encode` in the workers (each takes whole batches): the same codes as on this thread, bit for bit. */
  encode(
    stack: StackedConvAutoencoder,
    data: ImageDataset,
    opts: EncodeOptions & PassOptions = {},
  ): Promise<Embeddings> {
    return encodePass(this.pool, this.held, stack, data, opts);
  }

  /** `reconstructionScores` in the workers: the same scores and maps as on this thread, bit for bit. */
  reconstructionScores(
    stack: StackedConvAutoencoder,
    data: ImageDataset,
    opts: ReconstructionOptions & PassOptions = {},
  ): Promise<ReconstructionScores> {
    return reconstructionPass(this.pool, this.held, stack, data, opts);
  }

  /** `reconstructThrough` in the workers (each takes whole batches): the same reconstructions as on this thread, bit for bit. */
  reconstructThrough(
    stack: StackedConvAutoencoder,
    data: ImageDataset,
    opts: ReconstructThroughOptions & PassOptions = {},
  ): Promise<Float32Array> {
    return reconstructPass(this.pool, this.held, stack, data, opts);
  }

  /** `nearestNeighbours` in the workers (queries split by whole batches, the reference shared). */
  nearestNeighbours(
    reference: Embeddings,
    query: Embeddings,
    k: number,
    opts: NeighbourOptions & PassOptions = {},
  ): Promise<Neighbours> {
    return neighboursPass(this.pool, this.held, reference, query, k, opts);
  }

  /**
   * `linearProbeAccuracy` in one worker: the same accuracy, bit for bit, while this thread stays free.
   * Memory: the vectors of `train` and `test` are copied here and the copies moved (transferred) to the
   * worker, with the labels copied as bytes; the caller's arrays are neither detached nor changed. The worker
   * holds the copies and train and test standardised (f64: 12 bytes a value in all) until the call ends, and
   * keeps nothing. `opts.signal` stops it between steps: the promise rejects with the signal's reason and the
   * worker goes back to the pool.
   */
  linearProbeAccuracy(
    train: Embeddings,
    trainLabels: ArrayLike<number>,
    test: Embeddings,
    testLabels: ArrayLike<number>,
    opts?: ProbeOptions,
  ): Promise<number> {
    return linearProbePass(this.pool, nextJob++, train, trainLabels, test, testLabels, opts);
  }

  /** Greedy layer-wise pretraining of every block of `stack` in turn (seed + k for block k); stops early when aborted. */
  async pretrain(
    stack: Model & { readonly blocks: readonly unknown[] },
    data: ImageDataset,
    opts: Omit<TrainerFitOptions, 'layer'>,
  ): Promise<History[]> {
    const out: History[] = [];
    for (let k = 0; k < stack.blocks.length; k++) {
      const { history } = await this.fit(stack, data, { ...opts, layer: k, seed: deriveSeed(opts.seed ?? 1, k) });
      out.push(history);
      if (history.aborted) break;
    }
    return out;
  }

  /** Holds every running job of this trainer before its next step. */
  pause(): void {
    for (const [id, j] of this.jobs) j.workers[0].api.pause(id);
  }

  /** Lets the jobs `pause` held go on. */
  resume(): void {
    for (const [id, j] of this.jobs) j.workers[0].api.resume(id);
  }

  /** Terminates the workers; running jobs reject with WorkerError('terminated'). */
  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}
