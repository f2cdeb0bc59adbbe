/**
 * Choosing k (`convae cluster --k auto`): `clusterCodes` for every k of a range, each scored by its mean silhouette
 * (`silhouetteScore`, on one seeded sample of the codes for every k, so the scores compare), and the k of the
 * highest kept. The silhouette is the usual label-free choice (scikit-learn's examples use it) and is honest about
 * what it measures: how apart the clusters lie in the space k-means ran in, not how many classes the images have.
 * On the MNIST test set in the 10-D map it prefers fewer clusters than the ten digits, because 4s and 9s (and 3s, 5s
 * and 8s) touch there (docs/anomaly.md gives the table).
 */
import { ArgumentError, quote } from '../errors.js';
import type { Runner } from '../train/runner.js';
import { knownFields, optionsOf } from '../util/options.js';
import { type Clustering, clusterCodes, MAX_CLUSTERS } from './cluster.js';
import { codeCopies } from './copies.js';
import { checkEmbeddings, checkFiniteEmbeddings, type Embeddings } from './embed.js';
import {
  defaultSilhouetteSample,
  MAX_SILHOUETTE_SAMPLE,
  sampledClusters,
  sampledSilhouette,
  silhouetteSample,
} from './silhouette.js';

/** Most values of k one `chooseClusterCount` tries. */
export const MAX_K_CANDIDATES = 50;

/** Options of `chooseClusterCount`. */
export interface ClusterCountOptions {
  /** Smallest k tried, ≥ 2. */
  from: number;
  /**
   * Largest k tried, at most MAX_CLUSTERS, fewer than the distinct codes (exact copies are one point) and the
   * silhouette's sample, and at most MAX_K_CANDIDATES − 1 above `from`.
   */
  to: number;
  /** Seed of the k-means++ starts (the same for every k) and of the silhouette's sample. Default 1. */
  seed?: number;
  /** k-means++ starts for each k (`clusterCodes`' `restarts`). Default 4. */
  restarts?: number;
  /** Codes the silhouettes are computed on (`silhouetteScore`'s `sample`). */
  sample?: number;
  /** One class per code: the chosen clustering (and each row) is scored against them. */
  labels?: ArrayLike<number>;
  /** Called after each k, to say how far the search is. */
  onK?: (row: ClusterCountRow) => void;
}

/** One k tried. */
export interface ClusterCountRow {
  /** The number of clusters. */
  k: number;
  /** k-means' inertia (Σ distance²) of the best start. */
  inertia: number;
  /**
   * Mean silhouette of that clustering; NaN when the silhouette's codes (its sample) all fall in one of its
   * clusters, where it is undefined: such a k is never chosen.
   */
  silhouette: number;
  /** With labels: the clustering's NMI against them (for the report; never used to choose). */
  nmi?: number;
}

/** What `chooseClusterCount` found: the chosen k's clustering and every k's row, in order of k. */
export interface ClusterCount {
  /** The k of the highest silhouette (the smaller k of equals). */
  k: number;
  /** `clusterCodes`' result at that k. */
  clustering: Clustering;
  /** Every k tried, in order. */
  rows: ClusterCountRow[];
}

/** Tries k = from … to on `codes` (see the file's comment) and keeps the k of the highest mean silhouette. */
export async function chooseClusterCount(
  runner: Runner,
  codes: Embeddings,
  opts: ClusterCountOptions,
): Promise<ClusterCount> {
  const op = 'chooseClusterCount';
  const o = optionsOf(op, opts);
  knownFields(op, 'options', o, ['from', 'to', 'seed', 'restarts', 'sample', 'labels', 'onK']);
  checkEmbeddings(op, 'codes', codes);
  const { from, to, seed = 1, restarts = 4, labels, onK } = o;
  const sample = o.sample ?? defaultSilhouetteSample(codes.dim);
  if (!(Number.isInteger(sample) && sample >= 2 && sample <= MAX_SILHOUETTE_SAMPLE))
    throw new ArgumentError(op, 'sample', `must be an integer in [2, ${MAX_SILHOUETTE_SAMPLE}], got ${quote(sample)}`);
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 2 ** 32 - 1))
    throw new ArgumentError(op, 'seed', `must be an integer in [0, 2^32 − 1], got ${quote(seed)}`);
  if (!(typeof from === 'number' && Number.isInteger(from) && from >= 2))
    throw new ArgumentError(op, 'from', `must be an integer ≥ 2, got ${quote(from)}`);
  checkFiniteEmbeddings(op, 'codes', codes);
  // Copies are one point to k-means: k clusters need k distinct codes, and a silhouette of k needs more.
  const distinct = codeCopies(codes).first.length;
  if (distinct === 1)
    throw new ArgumentError(
      op,
      'codes',
      `are all equal (${codes.n} copies of one code): no clusters to choose between`,
    );
  const top = Math.min(MAX_CLUSTERS, from + MAX_K_CANDIDATES - 1, distinct - 1, sample - 1);
  if (!(typeof to === 'number' && Number.isInteger(to) && to > from && to <= top))
    throw new ArgumentError(
      op,
      'to',
      `must be an integer in ${top > from ? `[${from + 1}, ${top}]` : `above from (${from}) and at most ${top}: none is`} (at most ${MAX_K_CANDIDATES} values of k, at most ${MAX_CLUSTERS}, fewer than the distinct codes (${distinct}${distinct < codes.n ? ` of ${codes.n}` : ''}) and the silhouette's sample), got ${quote(to)}`,
    );
  if (onK !== undefined && typeof onK !== 'function')
    throw new ArgumentError(op, 'onK', `must be a function, got ${quote(onK)}`);
  const rows: ClusterCountRow[] = [];
  let best: { k: number; clustering: Clustering; silhouette: number } | null = null;
  // The codes every k's silhouette is computed on. A cluster of a few far codes (an outlier alone at k 2) can be
  // missed by the sample, which then falls in one cluster: that k's silhouette is undefined, not the run's end
  // (it was silhouetteScore's error, thrown after the clustering, about `assignments` the caller never gave).
  // Drawn once: the draw silhouetteScore makes with this sample and seed, so each k's score is the one it gives.
  const at = silhouetteSample(codes.n, sample, seed);
  for (let k = from; k <= to; k++) {
    const c = await clusterCodes(runner, codes, { k, seed, restarts, ...(labels ? { labels } : {}) });
    const silhouette =
      sampledClusters(c.assignments, at).m < 2 ? Number.NaN : sampledSilhouette(codes, c.assignments, at);
    const row: ClusterCountRow = { k, inertia: c.inertia, silhouette, ...(c.scores ? { nmi: c.scores.nmi } : {}) };
    rows.push(row);
    onK?.(row);
    if (!Number.isNaN(silhouette) && (!best || silhouette > best.silhouette)) best = { k, clustering: c, silhouette };
  }
  if (!best)
    throw new ArgumentError(
      op,
      'codes',
      `at every k of ${from}-${to} the ${at.length} codes the silhouette is computed on fall in one cluster (all but a few codes are copies of one): no k to choose between`,
    );
  return { k: best.k, clustering: best.clustering, rows };
}
