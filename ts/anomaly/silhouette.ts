/**
 * How well separated a clustering is, without classes: the mean silhouette (Rousseeuw 1987), which `convae cluster
 * --k auto` maximises to choose k. Each code's silhouette is (b − a) / max(a, b), a its mean Euclidean distance to
 * the other codes of its cluster and b the smallest mean distance to another cluster's; 0 for a code alone in its
 * cluster (scikit-learn's convention). It needs every pairwise distance, so above `sample` codes it is computed on a
 * seeded sample of them, as scikit-learn's `silhouette_score(sample_size=…)` does: the sample's distances only,
 * in float64 on this thread. The default sample keeps the work near 10⁹ multiply-adds whatever the code size.
 */
import { ArgumentError, quote } from '../errors.js';
import { knownFields, optionsOf } from '../util/options.js';
import { Rng } from '../util/rng.js';
import { groupsOf } from './clusterscores.js';
import { checkEmbeddings, checkFiniteEmbeddings, type Embeddings } from './embed.js';

/** Options of `silhouetteScore`. */
export interface SilhouetteOptions {
  /**
   * Codes the score is computed on, 2 to MAX_SILHOUETTE_SAMPLE: all of them when there are no more, else a seeded
   * sample. Default: up to 4 000, fewer for long codes (1 581 for codes of 800 floats).
   */
  sample?: number;
  /** Seed of the sample. Default 1. */
  seed?: number;
}

/** Most codes `silhouetteScore` compares pairwise (its work grows as their square). */
export const MAX_SILHOUETTE_SAMPLE = 20_000;

/** The default sample: 4 000 codes, or as many as keep sample² · dim / 2 near 10⁹. */
export function defaultSilhouetteSample(dim: number): number {
  return Math.max(2, Math.min(4000, Math.floor(Math.sqrt(2e9 / dim))));
}

/**
 * The mean silhouette of `assignments` (one cluster per code, integers ≥ 0) over `codes`, in [−1, 1]: near 1 when
 * the clusters are compact and far apart, near 0 when they touch. The sample (or all codes) must fall in at least
 * two clusters and fewer clusters than codes, else the silhouette is undefined and an ArgumentError says so.
 */
export function silhouetteScore(
  codes: Embeddings,
  assignments: ArrayLike<number>,
  opts: SilhouetteOptions = {},
): number {
  const op = 'silhouetteScore';
  const o = optionsOf(op, opts);
  knownFields(op, 'options', o, ['sample', 'seed']);
  checkEmbeddings(op, 'codes', codes);
  const { n, dim } = codes;
  if (assignments?.length !== n)
    throw new ArgumentError(
      op,
      'assignments',
      `must hold one cluster per code (${n}), got ${quote(assignments?.length)}`,
    );
  const { sample = defaultSilhouetteSample(dim), seed = 1 } = o;
  if (!(Number.isInteger(sample) && sample >= 2 && sample <= MAX_SILHOUETTE_SAMPLE))
    throw new ArgumentError(op, 'sample', `must be an integer in [2, ${MAX_SILHOUETTE_SAMPLE}], got ${quote(sample)}`);
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 2 ** 32 - 1))
    throw new ArgumentError(op, 'seed', `must be an integer in [0, 2^32 − 1], got ${quote(seed)}`);
  // The checked copy is read from here on: a getter or proxy could answer a second read otherwise.
  const groups = groupsOf(op, 'assignments', assignments).of;
  checkFiniteEmbeddings(op, 'codes', codes);
  const at = silhouetteSample(n, sample, seed);
  const s = at.length;
  const { m } = sampledClusters(groups, at);
  if (m < 2 || m >= s)
    throw new ArgumentError(
      op,
      'assignments',
      `the ${s === n ? '' : 'sampled '}${s} codes fall in ${m} cluster(s); a silhouette needs 2 to ${s - 1}`,
    );
  return sampledSilhouette(codes, groups, at);
}

/**
 * The mean silhouette of the checked `assignments` over the codes `at` (`silhouetteSample`), which fall in 2 to
 * `at.length` − 1 clusters: `silhouetteScore`'s sum, for a caller that scores many clusterings on one sample.
 */
export function sampledSilhouette(codes: Embeddings, assignments: ArrayLike<number>, at: Uint32Array): number {
  const { dim, vectors: v } = codes;
  const s = at.length;
  const { of, m } = sampledClusters(assignments, at);
  const size = new Float64Array(m);
  for (let i = 0; i < s; i++) size[of[i]!]! += 1;
  // sums[i·m + c]: Σ of code i's distances to the sampled codes of cluster c.
  const sums = new Float64Array(s * m);
  for (let i = 0; i < s; i++) {
    const pi = at[i]! * dim;
    for (let j = i + 1; j < s; j++) {
      const pj = at[j]! * dim;
      let d2 = 0;
      for (let t = 0; t < dim; t++) {
        const d = v[pi + t]! - v[pj + t]!;
        d2 += d * d;
      }
      const d = Math.sqrt(d2);
      sums[i * m + of[j]!]! += d;
      sums[j * m + of[i]!]! += d;
    }
  }
  let total = 0;
  for (let i = 0; i < s; i++) {
    const own = of[i]!;
    if (size[own] === 1) continue;
    const a = sums[i * m + own]! / (size[own]! - 1);
    let b = Number.POSITIVE_INFINITY;
    for (let c = 0; c < m; c++) if (c !== own) b = Math.min(b, sums[i * m + c]! / size[c]!);
    const top = Math.max(a, b);
    total += top > 0 ? (b - a) / top : 0;
  }
  return total / s;
}

/** The codes `silhouetteScore` compares, ascending: all `n` when there are no more than `sample`, else a seeded sample. */
export function silhouetteSample(n: number, sample: number, seed: number): Uint32Array {
  return n <= sample
    ? Uint32Array.from({ length: n }, (_, i) => i)
    : new Rng(seed).permutation(n).subarray(0, sample).sort();
}

/** The clusters of the codes at `at`, renamed 0 … m − 1 in order of first appearance, and m. */
export function sampledClusters(assignments: ArrayLike<number>, at: Uint32Array): { of: Int32Array; m: number } {
  const names = new Map<number, number>();
  const of = new Int32Array(at.length);
  for (let i = 0; i < at.length; i++) {
    const c = assignments[at[i]!]!;
    if (!names.has(c)) names.set(c, names.size);
    of[i] = names.get(c)!;
  }
  return { of, m: names.size };
}
