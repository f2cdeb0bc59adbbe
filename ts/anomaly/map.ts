/**
 * A 2-D map of codes (`convae map`): UMAP (umap-js) lays the codes out so that each stays near its nearest codes.
 * The exact nearest neighbours UMAP starts from come from the runner (`nearestNeighbours`, in its workers, with the
 * kernels), not from umap-js's own search, which is approximate and runs in plain JavaScript on this thread. With
 * labels, `neighbourAgreement` says how much of the codes' neighbourhoods the map keeps. umap-js is imported only
 * when a map is made, as the ONNX packages are only by `exportOnnx`.
 */
import { ArgumentError, quote } from '../errors.js';
import type { Runner } from '../train/runner.js';
import { knownFields, optionsOf } from '../util/options.js';
import { Rng } from '../util/rng.js';
import { codeCopies, gatherRows } from './copies.js';
import {
  checkEmbeddings,
  checkFiniteEmbeddings,
  checkNeighbourSizes,
  type Embeddings,
  type Neighbours,
} from './embed.js';

/** Options of `mapCodes`. */
export interface MapOptions {
  /** Neighbours each code is kept near (UMAP's n_neighbors; the code itself counts as one), 2 to 200; default 15. */
  neighbours?: number;
  /** How tightly the map may pack codes (UMAP's min_dist), 0 to 1; default 0.1. */
  minDist?: number;
  /**
   * Seed of the layout, 0 to 2³² − 1: the same codes and seed give the same map in one JavaScript engine (Chromium
   * lays out another from the same codes and seed than Node 20: umap-js's arithmetic, not the codes). Default 1.
   */
  seed?: number;
  /** One class per code: the agreement of the codes' and the map's neighbourhoods is measured. */
  labels?: ArrayLike<number>;
  /**
   * Dimensions of the map (UMAP's n_components), 1 to MAX_MAP_DIMS; default 2, a picture. More keep more of the
   * codes' neighbourhoods for what comes next: `convae cluster --umap 10` clusters the codes in a 10-D map.
   */
  dims?: number;
}

/** What `mapCodes` gives. */
export interface CodeMap {
  /** `dims` floats per code, in the order of the codes: x0, y0, x1, y1, … in a 2-D map. */
  points: Float32Array;
  /** Floats per point: the `dims` asked for. */
  dims: number;
  /**
   * With labels: the share of each code's `neighbours` nearest others that have its class, averaged
   * (`neighbourAgreement`), among the codes and among the map's points; null without labels.
   */
  agreement: { codes: number; map: number } | null;
}

/** The most neighbours a map keeps each code near. */
export const MAX_MAP_NEIGHBOURS = 200;
/** The most dimensions of a map: beyond a few tens UMAP's layout only costs more. */
export const MAX_MAP_DIMS = 64;

/**
 * The codes laid out in `dims` dimensions by UMAP, from their exact nearest neighbours found on `runner`. Exact copies
 * of a code (equal floats) get its point: the distinct codes are laid out, so the map of a list with copies is the
 * map of its distinct codes (in order of first appearance), each copy at its original's point. There must be more
 * distinct codes than `neighbours`.
 */
export async function mapCodes(runner: Runner, codes: Embeddings, opts?: MapOptions): Promise<CodeMap> {
  const op = 'mapCodes';
  const o = optionsOf(op, opts);
  // umap-js spells it nNeighbors: a misspelt option would give a map with the default without a word.
  knownFields(op, 'options', o, ['neighbours', 'minDist', 'seed', 'labels', 'dims']);
  const neighbours = o.neighbours ?? 15;
  const minDist = o.minDist ?? 0.1;
  const seed = o.seed ?? 1;
  const dims = o.dims ?? 2;
  if (!(Number.isInteger(neighbours) && neighbours >= 2 && neighbours <= MAX_MAP_NEIGHBOURS))
    throw new ArgumentError(
      op,
      'neighbours',
      `must be an integer in [2, ${MAX_MAP_NEIGHBOURS}], got ${quote(neighbours)}`,
    );
  if (!(typeof minDist === 'number' && minDist >= 0 && minDist <= 1))
    throw new ArgumentError(op, 'minDist', `must be a number in [0, 1], got ${quote(minDist)}`);
  // The layout's stream is seeded modulo 2³²: seed 2³² gave the map of seed 0, as clusterCodes refuses it.
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 2 ** 32 - 1))
    throw new ArgumentError(op, 'seed', `must be an integer in [0, 4294967295], got ${quote(seed)}`);
  if (!(Number.isInteger(dims) && dims >= 1 && dims <= MAX_MAP_DIMS))
    throw new ArgumentError(op, 'dims', `must be an integer in [1, ${MAX_MAP_DIMS}], got ${quote(dims)}`);
  // The codes checked here, not by the runner's search: its refusal named Runner.nearestNeighbours' "reference".
  checkEmbeddings(op, 'codes', codes);
  const { n, dim } = codes;
  if (n <= neighbours)
    throw new ArgumentError(op, 'codes', `needs more codes than neighbours (${neighbours}), got ${quote(n)}`);
  checkNeighbourSizes(op, n, n, dim, neighbours);
  const labels = o.labels;
  if (labels !== undefined && labels?.length !== n)
    throw new ArgumentError(op, 'labels', `must hold one label per code (${n}), got ${quote(labels?.length)}`);
  if (labels !== undefined) checkLabels(op, labels);
  checkFiniteEmbeddings(op, 'codes', codes);
  checkDistanceRange(op, codes);
  // Each distinct code laid out once, every copy then put at its original's place (copies.ts says why).
  const copies = codeCopies(codes);
  const m = copies.first.length;
  if (m <= neighbours)
    throw new ArgumentError(
      op,
      'codes',
      `needs more distinct codes than neighbours (${neighbours}), got ${n} codes, ${m} distinct (the others exact copies of them)`,
    );
  const distinct = m === n ? codes : { vectors: gatherRows(codes.vectors, dim, copies.first), n: m, dim };
  const near = await runner.nearestNeighbours(distinct, distinct, neighbours, { skipSelf: true });
  const laid = await layout(distinct, near, neighbours, minDist, seed, dims);
  const points = m === n ? laid : gatherRows(laid, dims, copies.of);
  if (!labels) return { points, dims, agreement: null };
  // The agreement is every code's, copies counted: a copy's nearest others are its copies.
  const inCodes = m === n ? near : await runner.nearestNeighbours(codes, codes, neighbours, { skipSelf: true });
  const map = { vectors: points, n, dim: dims };
  const inMap = await runner.nearestNeighbours(map, map, neighbours, { skipSelf: true });
  return {
    points,
    dims,
    agreement: { codes: neighbourAgreement(inCodes, labels), map: neighbourAgreement(inMap, labels) },
  };
}

/**
 * Codes whose squared length reaches 2¹²⁶ are refused: their distances reach 2⁶⁴, beyond the scale umap-js's
 * smoothing finds for each code (64 doublings from 1), so the map would be drawn from wrong weights without a word.
 * (Codes of 1e30 once also got the neighbours of others, when the search ranked by float32 dot products.)
 */
function checkDistanceRange(op: string, codes: Embeddings): void {
  const { n, dim, vectors: v } = codes;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = i * dim; t < (i + 1) * dim; t++) s += v[t]! * v[t]!;
    if (s >= 2 ** 126)
      throw new ArgumentError(
        op,
        'codes',
        `vector ${i} has squared length ${s.toPrecision(3)}, beyond the float32 distance search (2¹²⁶ ≈ 8.5e37): scale the codes down`,
      );
  }
}

/**
 * UMAP's layout: each code's neighbour list is itself (distance 0, as umap-js's own search returns it) and its
 * `k − 1` nearest others.
 */
async function layout(codes: Embeddings, near: Neighbours, k: number, minDist: number, seed: number, dims: number) {
  const { UMAP } = await import('umap-js');
  const { n, dim, vectors } = codes;
  const indices: number[][] = [];
  const distances: number[][] = [];
  for (let i = 0; i < n; i++) {
    indices.push([i, ...near.indices.subarray(i * k, i * k + k - 1)]);
    distances.push([0, ...near.distances.subarray(i * k, i * k + k - 1)]);
  }
  const rng = new Rng(seed);
  const umap = new UMAP({ nComponents: dims, nNeighbors: k, minDist, random: () => rng.next() });
  umap.setPrecomputedKNN(indices, distances);
  // With the neighbours given, umap-js reads only the number of rows of its input (views, not copies).
  const rows = Array.from({ length: n }, (_, i) => vectors.subarray(i * dim, (i + 1) * dim)) as unknown as number[][];
  const y = await umap.fitAsync(rows);
  const points = new Float32Array(dims * n);
  for (let i = 0; i < n; i++) for (let t = 0; t < dims; t++) points[dims * i + t] = y[i]![t]!;
  return points;
}

/** The mean over queries of the share of their neighbours in `near` that have their label (queries = references). */
export function neighbourAgreement(near: Neighbours, labels: ArrayLike<number>): number {
  const op = 'neighbourAgreement';
  checkLabels(op, labels);
  const n = labels.length;
  const k = near?.k;
  if (!(Number.isInteger(k) && k >= 1 && near.indices?.length === n * k))
    throw new ArgumentError(
      op,
      'near',
      `must hold k ≥ 1 neighbours of each of the ${n} labelled queries, got k ${quote(k)} and ${quote(near?.indices?.length)} indices`,
    );
  for (const j of near.indices)
    if (!(Number.isInteger(j) && j >= 0 && j < n))
      throw new ArgumentError(op, 'near', `holds neighbour ${quote(j)}: indices are references, 0 to ${n - 1}`);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let same = 0;
    for (let r = 0; r < k; r++) same += labels[near.indices[i * k + r]!] === labels[i] ? 1 : 0;
    sum += same / k;
  }
  return sum / n;
}

/** Classes as integers: NaN never equals itself, so NaN labels would count as no agreement at all. */
function checkLabels(op: string, labels: ArrayLike<number>): void {
  const n = labels?.length;
  if (!(Number.isInteger(n) && n >= 1))
    throw new ArgumentError(op, 'labels', `must hold one class per code, got ${quote(labels)}`);
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (!(Number.isInteger(l) && l! >= 0))
      throw new ArgumentError(op, 'labels', `label ${i} is ${quote(l)}: classes are integers ≥ 0`);
  }
}
