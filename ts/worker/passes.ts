/**
 * Inference passes of the Trainer over many images — predict, encode,
 * reconstruction scores, nearest neighbours — split across its workers. Each
 * worker takes a contiguous run of whole batches (`batchShards`), so it runs
 * exactly the batches this thread would: the results equal this thread's bit
 * for bit. Models stay in the workers between passes (HeldModels); datasets
 * and reference vectors are shared (SharedArrayBuffer) where possible.
 */
import * as Comlink from 'comlink';
import {
  checkEncode,
  checkNeighbours,
  codeSize,
  type EncodeOptions,
  type Embeddings,
  type NeighbourOptions,
  type Neighbours,
} from '../anomaly/embed.js';
import {
  checkReconstructThrough,
  checkReconstruction,
  type ReconstructThroughOptions,
  type ReconstructionOptions,
  type ReconstructionScores,
} from '../anomaly/score.js';
import { checkResultFloats, type ImageDataset } from '../data/dataset.js';
import { defaultBatch } from '../train/evaluate.js';
import { ArgumentError } from '../errors.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import { type Classifying, isClassifying, type Model } from '../model/model.js';
import { argmaxRows } from '../train/evaluate.js';
import type { HeldModels } from './held.js';
import type { WorkerPool } from './pool.js';
import type { ApplyOp, ApplyResult, ModelRef } from './protocol.js';
import type { WorkerHandle } from './spawn.js';
import { canShareMemory, type DataMode, type DatasetWire, datasetWire } from './wire.js';
import { optionsOf } from '../util/options.js';

/** Where a pass runs: how many of the trainer's workers (default all) and how the images reach them. */
export interface PassOptions {
  /** Workers to split the images over, in [1, the trainer's]; default all (fewer when there are fewer batches). */
  workers?: number;
  /** 'share' (default where shared memory exists) or 'copy'. */
  data?: Exclude<DataMode, 'transfer'>;
}

/**
 * Contiguous runs of whole batches for `parts` workers: [start, end) image ranges
 * starting at multiples of `batchSize`, none empty (fewer parts when there are fewer batches).
 */
export function batchShards(n: number, batchSize: number, parts: number): [number, number][] {
  const nb = Math.ceil(n / batchSize),
    p = Math.min(parts, nb);
  return Array.from({ length: p }, (_, i) => [
    Math.floor((i * nb) / p) * batchSize,
    Math.min(n, Math.floor(((i + 1) * nb) / p) * batchSize),
  ]);
}

function workerCount(op: string, pool: WorkerPool, workers: number | undefined): number {
  const n = workers ?? pool.size;
  if (!Number.isInteger(n) || n < 1 || n > pool.size)
    throw new ArgumentError(op, 'workers', `must be an integer in [1, ${pool.size}], got ${workers}`);
  return n;
}

/** Runs `job(worker, shard)` on one worker per shard; a failed worker forgets its model. */
async function onShards<T>(
  pool: WorkerPool,
  held: HeldModels,
  shards: [number, number][],
  job: (w: WorkerHandle, start: number, end: number) => Promise<T>,
): Promise<T[]> {
  const { workers, release } = await pool.acquire(shards.length);
  try {
    return await Promise.all(
      workers.map((w, i) =>
        w
          .call(() => job(w, shards[i][0], shards[i][1]))
          .catch((e) => {
            held.forget(w);
            throw e;
          }),
      ),
    );
  } finally {
    release();
  }
}

/** An image pass with a model held by the workers: each worker gets the model (if it lacks it), the dataset and its shard. */
async function modelPass<T>(
  pool: WorkerPool,
  held: HeldModels,
  model: Model,
  data: ImageDataset,
  batchSize: number,
  opts: PassOptions,
  op: string,
  call: (
    w: WorkerHandle,
    job: ModelRef & { data: DatasetWire; start: number; end: number; batchSize: number },
  ) => Promise<T>,
): Promise<T[]> {
  const n = workerCount(op, pool, opts.workers);
  const mode = opts.data ?? (canShareMemory() ? 'share' : 'copy');
  if (mode !== 'share' && mode !== 'copy')
    throw new ArgumentError(op, 'data', `must be 'share' or 'copy', got ${String(mode)}`);
  const { wire } = datasetWire(data, mode);
  const refs = held.refs(model);
  return onShards(pool, held, batchShards(data.length, batchSize, n), (w, start, end) =>
    call(w, { ...refs(w), data: wire, start, end, batchSize }),
  );
}

export function checkPassBatch(op: string, b: unknown): number {
  if (typeof b !== 'number' || !Number.isInteger(b) || b < 1 || b > 65536)
    throw new ArgumentError(op, 'batchSize', `must be an integer in [1, 65536], got ${String(b)}`);
  return b;
}

/** @internal Logits and classes of a classifying model for every image. */
export async function predictPass(
  pool: WorkerPool,
  held: HeldModels,
  model: Model & Classifying,
  data: ImageDataset,
  options: PassOptions & { batchSize?: number },
): Promise<{ logits: Float32Array; classes: Uint32Array }> {
  const op = 'Trainer.predict';
  const opts = optionsOf(op, options);
  if (typeof model?.toJSON !== 'function' || !isClassifying(model))
    throw new ArgumentError(op, 'model', 'must be a model that scores classes (a Classifier)');
  const batchSize = checkPassBatch(op, opts.batchSize ?? defaultBatch(model, 256));
  checkResultFloats(op, 'data', data.length, model.classes, 'logits');
  const parts = await modelPass(pool, held, model, data, batchSize, opts, op, (w, job) => w.api.predict(job));
  const k = model.classes,
    logits = new Float32Array(data.length * k);
  let off = 0;
  for (const p of parts) {
    logits.set(p, off);
    off += p.length;
  }
  return { logits, classes: argmaxRows(logits, k) };
}

async function applyPass(
  pool: WorkerPool,
  held: HeldModels,
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  batchSize: number,
  op: string,
  apply: ApplyOp,
  opts: PassOptions,
): Promise<ApplyResult[]> {
  return modelPass(pool, held, stack, data, batchSize, opts, op, (w, job) => w.api.apply({ ...job, op: apply }));
}

/** @internal `encode` in workers. */
export async function encodePass(
  pool: WorkerPool,
  held: HeldModels,
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  options: EncodeOptions & PassOptions,
): Promise<Embeddings> {
  const op = 'Trainer.encode';
  const opts = optionsOf(op, options);
  const { depth, batchSize } = checkEncode(op, stack, data, opts);
  const dim = codeSize(stack, depth);
  const parts = await applyPass(pool, held, stack, data, batchSize, op, { type: 'encode', depth }, opts);
  return {
    vectors: joined(
      parts.map((p) => p.codes!),
      data.length * dim,
    ),
    n: data.length,
    dim,
  };
}

/** The workers' parts, in image order, as one array of `total` floats. */
function joined(parts: Float32Array[], total: number): Float32Array {
  const out = new Float32Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** @internal `reconstructionScores` in workers. */
export async function reconstructionPass(
  pool: WorkerPool,
  held: HeldModels,
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  options: ReconstructionOptions & PassOptions,
): Promise<ReconstructionScores> {
  const op = 'Trainer.reconstructionScores';
  const opts = optionsOf(op, options);
  const { depth, batchSize } = checkReconstruction(op, stack, data, opts);
  const withMaps = opts.maps === true;
  const parts = await applyPass(
    pool,
    held,
    stack,
    data,
    batchSize,
    op,
    { type: 'reconstruction', depth, maps: withMaps },
    opts,
  );
  const scores = new Float64Array(data.length);
  const maps = withMaps ? new Float32Array(data.length * data.imageSize) : undefined;
  let off = 0;
  for (const p of parts) {
    scores.set(p.scores!, off);
    if (maps) maps.set(p.maps!, off * data.imageSize);
    off += p.scores!.length;
  }
  return maps ? { scores, maps } : { scores };
}

/** @internal `reconstructThrough` in workers. */
export async function reconstructPass(
  pool: WorkerPool,
  held: HeldModels,
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  options: ReconstructThroughOptions & PassOptions,
): Promise<Float32Array> {
  const op = 'Trainer.reconstructThrough';
  const opts = optionsOf(op, options);
  const { depth, batchSize } = checkReconstructThrough(op, stack, data, opts);
  const parts = await applyPass(pool, held, stack, data, batchSize, op, { type: 'reconstruct', depth }, opts);
  return joined(
    parts.map((p) => p.reconstructions!),
    data.length * data.imageSize,
  );
}

/** Reference sets copied to shared memory once (a detector's reference codes are reused for every score). */
const sharedVectors = new WeakMap<Float32Array, Float32Array>();

function shareVectors(v: Float32Array, share: boolean): Float32Array {
  if (!share || v.buffer instanceof SharedArrayBuffer) return v;
  let s = sharedVectors.get(v);
  if (!s) {
    s = new Float32Array(new SharedArrayBuffer(v.byteLength));
    s.set(v);
    sharedVectors.set(v, s);
  }
  return s;
}

/** @internal `nearestNeighbours` in workers: each takes whole gemm batches of the queries; the reference is shared. */
export async function neighboursPass(
  pool: WorkerPool,
  held: HeldModels,
  reference: Embeddings,
  query: Embeddings,
  k: number,
  options: NeighbourOptions & PassOptions,
): Promise<Neighbours> {
  const op = 'Trainer.nearestNeighbours';
  const opts = optionsOf(op, options);
  const { batchSize } = checkNeighbours(op, reference, query, k, opts);
  const n = workerCount(op, pool, opts.workers);
  const share = (opts.data ?? (canShareMemory() ? 'share' : 'copy')) === 'share';
  const ref = { vectors: shareVectors(reference.vectors, share), n: reference.n, dim: reference.dim };
  const dim = query.dim;
  // Shared, the queries are copied once and kept with their array, as the reference is: k-means asks again with the
  // same codes every step (`clusterCodes`), and a self-search's queries are its reference.
  const shared = share ? shareVectors(query.vectors, true) : null;
  const parts = await onShards(pool, held, batchShards(query.n, batchSize, n), (w, start, end) => {
    const queries = shared ? shared.subarray(start * dim, end * dim) : query.vectors.slice(start * dim, end * dim);
    const job = { reference: ref, queries, k, selfOffset: opts.skipSelf === true ? start : -1, batchSize };
    return w.api.neighbours(shared ? job : Comlink.transfer(job, [queries.buffer]));
  });
  const indices = new Int32Array(query.n * k),
    distances = new Float32Array(query.n * k);
  let off = 0;
  for (const p of parts) {
    indices.set(p.indices, off);
    distances.set(p.distances, off);
    off += p.indices.length;
  }
  return { indices, distances, k };
}
