/**
 * How well a clustering agrees with known classes: the four numbers clustering papers report. All come from the
 * contingency table (images of each cluster in each class), so each is one pass over the images and one over the
 * table. The one-to-one matching behind `accuracy` is the `munkres` package's Hungarian algorithm: a small,
 * dependency-free, typed and maintained implementation (16 kB; 27 ms on a 1 000 × 1 000 table here), where
 * `linear-sum-assignment` would bring ml-matrix and the 5 MB ml-spectra-processing along.
 */
import { munkres } from 'munkres';
import { ArgumentError, quote } from '../errors.js';

/** Agreement of a clustering with classes, each in [0, 1] (ARI can be below 0: worse than chance), 1 when equal. */
export interface ClusterScores {
  /**
   * The share of images in a cluster matched to their class, under the best one-to-one matching of clusters to
   * classes (the Hungarian algorithm). With more clusters than classes the extra clusters match no class and
   * their images count as wrong; with fewer, the classes left unmatched do. So it rewards neither splitting nor
   * merging classes: compare `purity`, which lets several clusters take one class.
   */
  accuracy: number;
  /** Normalised mutual information, over the arithmetic mean of the two entropies (scikit-learn's default); 1 when both have a single group. */
  nmi: number;
  /** Adjusted Rand index (Hubert and Arabie): pair agreement, 0 for chance, 1 when equal up to the names. */
  ari: number;
  /** The share of images in their cluster's most common class: 1 when every cluster holds one class only. */
  purity: number;
}

/** Most distinct clusters and most distinct classes `clusterScores` compares (its table is clusters × classes). */
export const MAX_SCORED_GROUPS = 1000;

/**
 * The scores of `assignments` (one cluster per item) against `labels` (one class per item); both are integers
 * ≥ 0, named freely (only which items share one matters), at most MAX_SCORED_GROUPS distinct values each.
 */
export function clusterScores(assignments: ArrayLike<number>, labels: ArrayLike<number>): ClusterScores {
  const op = 'clusterScores';
  const clusters = groupsOf(op, 'assignments', assignments);
  const n = assignments.length;
  if (labels?.length !== n)
    throw new ArgumentError(op, 'labels', `must hold one class per item (${n}), got ${quote(labels?.length)}`);
  const classes = groupsOf(op, 'labels', labels);
  const [r, c] = [clusters.count, classes.count];
  const table = new Float64Array(r * c);
  for (let i = 0; i < n; i++) table[clusters.of[i]! * c + classes.of[i]!]! += 1;
  const rows = new Float64Array(r),
    cols = new Float64Array(c);
  for (let a = 0; a < r; a++)
    for (let b = 0; b < c; b++) {
      rows[a]! += table[a * c + b]!;
      cols[b]! += table[a * c + b]!;
    }
  // The same partition up to the names (one cell a row and a column): NMI and ARI are 1, not the sums' rounding of
  // it, which came out as 1.0000000000000004 or just under 1 for one equal pair in sixteen.
  let cells = 0;
  for (const x of table) if (x > 0) cells++;
  const equal = r === c && cells === r;
  return {
    accuracy: matchedShare(table, r, c, n),
    nmi: equal ? 1 : nmi(table, rows, cols, n),
    ari: equal ? 1 : ari(table, rows, cols, n),
    purity: purity(table, r, c, n),
  };
}

/**
 * @internal Each item's group as 0 … count − 1 (distinct values in order of first sight), after checking the
 * values: what `clusterCodes` checks its labels with before it clusters.
 */
export function groupsOf(op: string, arg: string, v: ArrayLike<number>): { of: Int32Array; count: number } {
  const n = v?.length;
  if (!(Number.isInteger(n) && n >= 1))
    throw new ArgumentError(op, arg, `must hold one integer per item, got ${quote(v)}`);
  const index = new Map<number, number>();
  // Grown as the values pass their check, not allocated from `length` first: an array-like claiming 2³³ items was
  // refused by a RangeError from the typed array, and 2³² items took 16 GB before the first was read.
  const of: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (!(Number.isInteger(x) && x! >= 0))
      throw new ArgumentError(op, arg, `holds ${quote(x)} at ${i}: groups are integers ≥ 0`);
    let g = index.get(x!);
    if (g === undefined) {
      g = index.size;
      if (g >= MAX_SCORED_GROUPS)
        throw new ArgumentError(op, arg, `holds more than ${MAX_SCORED_GROUPS} distinct values (MAX_SCORED_GROUPS)`);
      index.set(x!, g);
    }
    of.push(g);
  }
  return { of: Int32Array.from(of), count: index.size };
}

/** The largest total of table cells with no two in one row or one column, over n: munkres minimises, so max − cell. */
function matchedShare(table: Float64Array, r: number, c: number, n: number): number {
  const top = table.reduce((m, x) => Math.max(m, x), 0);
  const cost = Array.from({ length: r }, (_, a) => Array.from({ length: c }, (_, b) => top - table[a * c + b]!));
  let matched = 0;
  for (const [a, b] of munkres(cost)) matched += table[a * c + b]!;
  return matched / n;
}

function purity(table: Float64Array, r: number, c: number, n: number): number {
  let sum = 0;
  for (let a = 0; a < r; a++) {
    let m = 0;
    for (let b = 0; b < c; b++) m = Math.max(m, table[a * c + b]!);
    sum += m;
  }
  return sum / n;
}

const entropy = (counts: Float64Array, n: number) =>
  counts.reduce((h, x) => (x > 0 ? h - (x / n) * Math.log(x / n) : h), 0);

function nmi(table: Float64Array, rows: Float64Array, cols: Float64Array, n: number): number {
  const [hu, hv] = [entropy(rows, n), entropy(cols, n)];
  // One cluster and one class: the same partition (scikit-learn says 1 too); one side alone single: no information.
  if (hu === 0 && hv === 0) return 1;
  let mi = 0;
  const c = cols.length;
  for (let a = 0; a < rows.length; a++)
    for (let b = 0; b < c; b++) {
      const x = table[a * c + b]!;
      if (x > 0) mi += (x / n) * Math.log((n * x) / (rows[a]! * cols[b]!));
    }
  return Math.max(0, mi) / ((hu + hv) / 2);
}

const pairs = (x: number) => (x * (x - 1)) / 2;

function ari(table: Float64Array, rows: Float64Array, cols: Float64Array, n: number): number {
  const both = table.reduce((s, x) => s + pairs(x), 0);
  const [a, b] = [rows.reduce((s, x) => s + pairs(x), 0), cols.reduce((s, x) => s + pairs(x), 0)];
  const all = pairs(n);
  // (a + b)/2 ≥ √(ab) ≥ ab/all, equal only when both partitions are all singletons or both one group: equal
  // partitions whose index is 0/0, taken as 1 (as scikit-learn does). Compared as the exact integers they are.
  if (a === b && (a === 0 || a === all)) return 1;
  const expected = (a * b) / all;
  return (both - expected) / ((a + b) / 2 - expected);
}
