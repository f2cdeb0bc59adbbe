/**
 * Clusters of codes (`convae cluster`): k-means (Lloyd's algorithm) from k-means++ starts, the best of several.
 *
 * Written here rather than taken from npm: ml-kmeans, the maintained candidate, wants the codes as number[][] (a
 * 2.5-fold copy), runs its distances in plain JavaScript on this thread, starts once per call and keeps an empty
 * cluster's old centre; on 60 000 × 800 codes it took 24 s and 1.1 GB for one start. Here the assignment step, k
 * centroids against every code, is one gemm per batch on the runner (`nearestNeighbours`, in its workers, with the
 * kernels), and the rest is a few loops: k-means++ draws its starts with float64 distances on this thread (one new
 * centre at a time is n·dim work, as cheap as sending the codes to the workers), and each update sums the codes of
 * every cluster in float64.
 *
 * The runner gives the same neighbours in workers as on this thread, bit for bit, and the draws come from one
 * seeded stream, so the same seed gives the same clusters either way.
 */
import { ArgumentError, quote } from '../errors.js';
import type { Runner } from '../train/runner.js';
import { knownFields, optionsOf } from '../util/options.js';
import { Rng } from '../util/rng.js';
import { type ClusterScores, clusterScores, groupsOf } from './clusterscores.js';
import { gatherRows } from './copies.js';
import { checkEmbeddings, checkFiniteEmbeddings, checkNeighbourSizes, type Embeddings } from './embed.js';

/** Options of `clusterCodes`. */
export interface ClusterOptions {
  /** Clusters, 2 to MAX_CLUSTERS, and at most the number of codes. */
  k: number;
  /** Seed of the k-means++ starts: the same codes and seed give the same clusters. Default 1. */
  seed?: number;
  /** k-means++ starts, each run to convergence; the one of lowest inertia is kept. 1 to MAX_RESTARTS, default 4. */
  restarts?: number;
  /** Most assignment steps of each start, 1 to MAX_ITERATIONS; default 300. */
  maxIterations?: number;
  /** One class per code (integers ≥ 0): the clusters are scored against them (`clusterScores`). */
  labels?: ArrayLike<number>;
  /**
   * k rows of `dim` finite floats to start from instead of k-means++ draws (to go on from known centres, or to
   * compare runs from one start); then one run is made, and `restarts` above 1 is refused.
   */
  start?: Float32Array;
}

/** What `clusterCodes` gives, for the start of lowest inertia. */
export interface Clustering {
  /** Each code's cluster, 0 to k − 1: its nearest centroid (ties to the lower cluster). */
  assignments: Int32Array;
  /**
   * k rows of `dim` floats, the centres the assignments were made to: the means of their clusters when the run
   * converged (summed in float64, stored in float32).
   */
  centroids: Float32Array;
  /** Each code's Euclidean distance to its centroid. */
  distances: Float32Array;
  /** Σ distance²: what k-means minimises. */
  inertia: number;
  /** Assignment steps run (the last one, when converged, changed nothing). */
  iterations: number;
  /** Whether the assignments stopped changing within `maxIterations`. */
  converged: boolean;
  /** Codes in each cluster; 0 only in degenerate cases, such as codes that hold fewer than k distinct vectors. */
  sizes: Int32Array;
  /** The k centroids this run started from (`dim` floats each): the codes k-means++ drew, or `start`. */
  start: Float32Array;
  /** With `labels`: how the clusters agree with the classes; null without. */
  scores: ClusterScores | null;
}

/** Most clusters `clusterCodes` makes (and `convae cluster` draws, one row each). */
export const MAX_CLUSTERS = 200;
/** Most k-means++ starts. */
export const MAX_RESTARTS = 100;
/** Most assignment steps of one start. */
export const MAX_ITERATIONS = 10_000;

/**
 * k-means on `codes`: `restarts` k-means++ starts, each iterated (assign every code to its nearest centroid on
 * `runner`, move each centroid to the mean of its codes) until the assignments stop changing or `maxIterations`;
 * the start of lowest inertia is kept (the first of equals). A cluster left empty by a step takes the code farthest
 * from its centroid (among codes whose cluster keeps another) before the centroids move, as scikit-learn re-seeds
 * one: an empty cluster would otherwise keep its old centre and the run end with fewer than k.
 */
export async function clusterCodes(runner: Runner, codes: Embeddings, opts: ClusterOptions): Promise<Clustering> {
  const op = 'clusterCodes';
  const o = optionsOf(op, opts);
  knownFields(op, 'options', o, ['k', 'seed', 'restarts', 'maxIterations', 'labels', 'start']);
  const { k, seed = 1, maxIterations = 300, labels, start } = o;
  const restarts = o.restarts ?? (start ? 1 : 4);
  const ranges: [string, unknown, number, number][] = [
    ['k', k, 2, MAX_CLUSTERS],
    ['seed', seed, 0, 2 ** 32 - 1],
    ['restarts', restarts, 1, MAX_RESTARTS],
    ['maxIterations', maxIterations, 1, MAX_ITERATIONS],
  ];
  for (const [arg, v, lo, hi] of ranges)
    if (!(Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi))
      throw new ArgumentError(op, arg, `must be an integer in [${lo}, ${hi}], got ${quote(v)}`);
  checkEmbeddings(op, 'codes', codes);
  const { n, dim } = codes;
  if (k! > n) throw new ArgumentError(op, 'k', `must be at most the number of codes (${n}), got ${k}`);
  if (labels !== undefined) {
    if (labels?.length !== n)
      throw new ArgumentError(op, 'labels', `must hold one class per code (${n}), got ${quote(labels?.length)}`);
    groupsOf(op, 'labels', labels);
  }
  checkNeighbourSizes(op, n, k!, dim, 2);
  if (start !== undefined) {
    if (restarts !== 1)
      throw new ArgumentError(
        op,
        'restarts',
        `must be 1 with start (each would begin at start), got ${quote(restarts)}`,
      );
    if (!(start instanceof Float32Array && start.length === k! * dim))
      throw new ArgumentError(op, 'start', `must be a Float32Array of k·dim = ${k! * dim} floats, got ${quote(start)}`);
    checkFiniteEmbeddings(op, 'start', { vectors: start, n: k!, dim });
  }
  checkFiniteEmbeddings(op, 'codes', codes);
  const rng = new Rng(seed);
  let best: Omit<Clustering, 'scores'> | null = null;
  for (let r = 0; r < restarts; r++) {
    const from = start ? start.slice() : gatherRows(codes.vectors, codes.dim, kMeansPlusPlus(codes, k!, rng));
    const run = await lloyd(runner, codes, k!, from, maxIterations);
    if (!best || run.inertia < best.inertia) best = run;
  }
  return { ...best!, scores: labels ? clusterScores(best!.assignments, labels) : null };
}

/**
 * k-means++ (Arthur and Vassilvitskii 2007): the first centre a uniform draw, each next one a code drawn with
 * probability proportional to its squared distance to the nearest centre so far. When every code sits on a chosen
 * centre (fewer distinct codes than k), the next is any code not chosen yet.
 */
function kMeansPlusPlus(codes: Embeddings, k: number, rng: Rng): Int32Array {
  const { n, dim, vectors: v } = codes;
  const chosen = new Int32Array(k);
  const taken = new Uint8Array(n);
  const d2 = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  chosen[0] = rng.int(n);
  taken[chosen[0]!] = 1;
  for (let c = 1; c < k; c++) {
    const p = chosen[c - 1]! * dim;
    let total = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let t = 0; t < dim; t++) s += (v[i * dim + t]! - v[p + t]!) ** 2;
      if (s < d2[i]!) d2[i] = s;
      total += d2[i]!;
    }
    let pick = -1;
    if (total > 0) {
      const target = rng.next() * total;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        if (d2[i] === 0) continue;
        pick = i; // the last code with weight stands in when rounding leaves the sum short of the target
        sum += d2[i]!;
        if (sum > target) break;
      }
    } else {
      do pick = rng.int(n);
      while (taken[pick]);
    }
    chosen[c] = pick;
    taken[pick] = 1;
  }
  return chosen;
}

/** Lloyd's iterations from the centroids `start`; the centroids returned are those of the last assignment. */
async function lloyd(
  runner: Runner,
  codes: Embeddings,
  k: number,
  start: Float32Array,
  maxIterations: number,
): Promise<Omit<Clustering, 'scores'>> {
  const { n, dim } = codes;
  let centroids = start;
  let assignments = new Int32Array(n).fill(-1);
  const distances = new Float32Array(n);
  let iterations = 0;
  let converged = false;
  for (;;) {
    // The search's neighbour is the nearest centroid by float64 distances, ties to the lower cluster: a code near
    // the border of two clusters goes where exact distances send it.
    const near = await runner.nearestNeighbours({ vectors: centroids, n: k, dim }, codes, 1);
    iterations++;
    const next = new Int32Array(near.indices);
    distances.set(near.distances);
    let changed = false;
    for (let i = 0; i < n && !changed; i++) changed = next[i] !== assignments[i];
    assignments = next;
    if (!changed) {
      converged = true;
      break;
    }
    if (iterations >= maxIterations) break;
    centroids = means(codes, k, reseeded(assignments, distances, k));
  }
  const sizes = new Int32Array(k);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    sizes[assignments[i]!]! += 1;
    inertia += distances[i]! * distances[i]!;
  }
  return { assignments, centroids, distances, inertia, iterations, converged, sizes, start };
}

/**
 * The assignments with every empty cluster given a code: in cluster order, the code farthest from its centroid
 * (ties to the lower index) among those not moved yet whose cluster keeps another code. A copy when one moves.
 */
function reseeded(assignments: Int32Array, distances: Float32Array, k: number): Int32Array {
  const sizes = new Int32Array(k);
  for (const c of assignments) sizes[c]! += 1;
  if (!sizes.includes(0)) return assignments;
  const out = assignments.slice();
  const order = Array.from(out.keys()).sort((a, b) => distances[b]! - distances[a]! || a - b);
  let next = 0;
  for (let c = 0; c < k; c++) {
    if (sizes[c]! > 0) continue;
    while (next < order.length && sizes[out[order[next]!]!]! < 2) next++;
    if (next === order.length) break; // fewer codes than clusters: cannot happen after the k ≤ n check
    const i = order[next++]!;
    sizes[out[i]!]! -= 1;
    out[i] = c;
    sizes[c] = 1;
  }
  return out;
}

/** Each cluster's mean, summed in float64; a cluster with no code (only when no code could move) keeps 0s. */
function means(codes: Embeddings, k: number, assignments: Int32Array): Float32Array {
  const { n, dim, vectors } = codes;
  const sums = new Float64Array(k * dim);
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = assignments[i]!;
    counts[c]! += 1;
    for (let t = 0; t < dim; t++) sums[c * dim + t]! += vectors[i * dim + t]!;
  }
  const out = new Float32Array(k * dim);
  for (let c = 0; c < k; c++)
    if (counts[c]) for (let t = 0; t < dim; t++) out[c * dim + t] = sums[c * dim + t]! / counts[c]!;
  return out;
}
