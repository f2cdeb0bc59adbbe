/**
 * Anomaly scores of images under a CAE stack trained on normal images only.
 *
 * - Reconstruction: the image goes up through `depth` blocks and back down
 *   through their decoders (each max-unpool uses the switches its own pool
 *   just stored); the score is the mean squared error over the pixels, the
 *   map is the per-pixel squared error.
 * - Nearest neighbours: the mean Euclidean distance from the image's code at
 *   `depth` to its `k` nearest codes of the normal training images.
 */
import type { Backend } from '../backend/backend.js';
import { checkResultFloats, type ImageDataset } from '../data/dataset.js';
import { ArgumentError, quote } from '../errors.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import {
  checkDepth,
  checkImages,
  encode,
  forEachBatch,
  nearestNeighbours,
  stackBatch,
  type Embeddings,
  type Neighbours,
} from './embed.js';
import { optionsOf } from '../util/options.js';

/** Options of `reconstructionScores`. */
export interface ReconstructionOptions {
  /** Blocks encoded and decoded (1 … the stack's length); default 1. */
  depth?: number;
  /** Also return the per-pixel squared errors (n × C·H·W floats). */
  maps?: boolean;
  /** Images per forward pass, in [1, 65536]; default 256, or as many as fit when fewer do. */
  batchSize?: number;
}

/** Result of `reconstructionScores`. */
export interface ReconstructionScores {
  /** Per-image mean squared error over its pixels. */
  scores: Float64Array;
  /** Per-pixel squared error (x − x̂)², NCHW, when asked for. */
  maps?: Float32Array;
}

/** Reconstruction through the first `depth` blocks and back: n × C·H·W floats in the input's layout. */
export function reconstructThrough(
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  depth: number,
  batchSize?: number,
): Float32Array {
  const op = 'reconstructThrough';
  const c = checkReconstructThrough(op, stack, data, { depth, batchSize });
  return reconstructRange(stack, data, c.depth, c.batchSize, 0, data.length);
}

/** Options of `Runner.reconstructThrough`: `reconstructThrough`'s depth and batch size, by name. */
export type ReconstructThroughOptions = Pick<ReconstructionOptions, 'depth' | 'batchSize'>;

/**
 * @internal Checks `reconstructThrough`'s arguments before anything is allocated; returns the depth (default 1) and
 * batch size to run with, as `checkEncode` and `checkReconstruction` do.
 */
export function checkReconstructThrough(
  op: string,
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  opts: ReconstructThroughOptions,
): { depth: number; batchSize: number } {
  const depth = checkDepth(op, stack, opts.depth ?? 1, 1);
  checkImages(op, stack, data);
  const batchSize = stackBatch(op, stack, depth, data.length, opts.batchSize, true);
  checkResultFloats(op, 'data', data.length, data.imageSize, 'reconstructions');
  return { depth, batchSize };
}

/**
 * @internal Reconstructions of images [start, end) (checked arguments), in batches of `batchSize` from `start`: what
 * `reconstructThrough` and each worker run, so that a split at batch boundaries gives the same floats.
 */
export function reconstructRange(
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  depth: number,
  batchSize: number,
  start: number,
  end: number,
): Float32Array {
  const size = data.imageSize;
  const out = new Float32Array((end - start) * size);
  forEachBatch(
    stack.be,
    data,
    batchSize,
    (x, s) => {
      let h = stack.encodeThrough(depth, x);
      for (let k = depth - 1; k >= 0; k--) h = stack.blocks[k].decode(h);
      out.set(h.data, (s - start) * size);
    },
    start,
    end,
  );
  return out;
}

/** Per-image reconstruction error through the first `depth` blocks of the stack (optionally per-pixel maps). */
export function reconstructionScores(
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  options?: ReconstructionOptions,
): ReconstructionScores {
  const opts = optionsOf('reconstructionScores', options);
  const { depth, batchSize } = checkReconstruction('reconstructionScores', stack, data, opts);
  return reconstructionRange(stack, data, depth, batchSize, opts.maps === true, 0, data.length);
}

/** Checks `reconstructionScores`' arguments; returns the depth and batch size. */
export function checkReconstruction(
  op: string,
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  options: ReconstructionOptions | null | undefined,
): { depth: number; batchSize: number } {
  const opts = optionsOf(op, options);
  const depth = checkDepth(op, stack, opts.depth ?? 1, 1);
  checkImages(op, stack, data);
  const batchSize = stackBatch(op, stack, depth, data.length, opts.batchSize, true);
  if (opts.maps === true) checkResultFloats(op, 'maps', data.length, data.imageSize, 'per-pixel maps');
  return { depth, batchSize };
}

/**
 * @internal Scores (and maps) of images [start, end) (checked arguments), in
 * batches of `batchSize` from `start`: what `reconstructionScores` and each worker run.
 */
export function reconstructionRange(
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  depth: number,
  batchSize: number,
  withMaps: boolean,
  start: number,
  end: number,
): ReconstructionScores {
  const size = data.imageSize;
  const scores = new Float64Array(end - start);
  const maps = withMaps ? new Float32Array((end - start) * size) : undefined;
  forEachBatch(
    stack.be,
    data,
    batchSize,
    (x, s, b) => {
      let h = stack.encodeThrough(depth, x);
      for (let k = depth - 1; k >= 0; k--) h = stack.blocks[k].decode(h);
      const xs = x.data,
        y = h.data;
      for (let i = 0; i < b; i++) {
        let sum = 0;
        const o = (s - start + i) * size;
        for (let t = i * size; t < (i + 1) * size; t++) {
          const e = (xs[t] - y[t]) ** 2;
          sum += e;
          if (maps) maps[o + t - i * size] = e;
        }
        scores[s - start + i] = sum / size;
      }
    },
    start,
    end,
  );
  return maps ? { scores, maps } : { scores };
}

/** Options of `neighbourScores`. */
export interface NeighbourScoreOptions {
  /** Neighbours averaged (default 1). */
  k?: number;
  /** Query = reference: leave each vector's own row out (scores of the training codes themselves). */
  skipSelf?: boolean;
}

/** Mean distance of each query vector to its k nearest reference vectors. */
export function neighbourScores(
  be: Backend,
  reference: Embeddings,
  query: Embeddings,
  options?: NeighbourScoreOptions,
): Float64Array {
  const opts = optionsOf('neighbourScores', options);
  const k = opts.k ?? 1;
  if (!Number.isInteger(k) || k < 1)
    throw new ArgumentError('neighbourScores', 'k', `must be an integer ≥ 1, got ${quote(k)}`);
  return meanDistances(nearestNeighbours(be, reference, query, k, { skipSelf: opts.skipSelf }));
}

/** Each query's mean distance to its k neighbours (the neighbour score). */
export function meanDistances(nn: Neighbours): Float64Array {
  const k = nn.k,
    n = nn.distances.length / k;
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += nn.distances[i * k + p];
    scores[i] = s / k;
  }
  return scores;
}

/** Codes at `depth` of the normal training images: the reference set of a neighbour score. */
export function referenceCodes(stack: StackedConvAutoencoder, normal: ImageDataset, depth: number): Embeddings {
  return encode(stack, normal, { depth });
}
