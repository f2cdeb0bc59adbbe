/**
 * Exact copies among rows of floats (codes, or images as the stack reads them): rows whose floats are all equal
 * (0 and −0 alike) are one. UMAP cannot lay out copies: each copy's nearest others are its copies at distance 0, so
 * it pulls them apart like any neighbours and the map shows a blob where there is one point (8 copies of one image
 * became 4 clusters). `mapCodes` lays out each distinct code once and puts every copy at its original's place, as
 * umap-learn's `unique=True` does, and a clustering then weighs a point by its copies; `convae cluster` counts the
 * distinct images to refuse a k that no clustering of them can have.
 *
 * Each row's bits are hashed and each row compared with the distinct rows of its hash before it: one index per row
 * and one per distinct row beside the rows themselves. FNV-1a is no defence against rows made to share a hash (a
 * folder of 16 384 distinct images of one hash took 134 million row reads, 5.8 s, growing as n²): once a hash holds
 * more than MAX_CHAIN distinct rows, the rows are sorted by hash and floats instead (n log n comparisons; copies end
 * up side by side), which a list of few distinct rows in many copies would pay for with a slower sort of equal rows.
 */
import type { Embeddings } from './embed.js';

/** The distinct rows of a list, in order of first appearance, and which one each row is. */
export interface Copies {
  /** For each row, its distinct row's number, 0 … `first.length` − 1. */
  of: Int32Array;
  /** The first row of each distinct row, ascending. */
  first: Int32Array;
}

/** Distinct rows of one hash compared with a row before the rows are sorted instead (`findCopies`). */
const MAX_CHAIN = 16;

/** Which of `n` rows of `dim` floats (row i read by `row(i)`) are exact copies of an earlier one. */
export function findCopies(n: number, dim: number, row: (i: number) => Float32Array): Copies {
  const hash = new Uint32Array(n);
  for (let i = 0; i < n; i++) hash[i] = hashRow(row(i), dim);
  return byChains(n, dim, row, hash) ?? bySort(n, dim, row, hash);
}

/** `findCopies` along chains of the distinct rows of one hash; null when one holds more than MAX_CHAIN. */
function byChains(n: number, dim: number, row: (i: number) => Float32Array, hash: Uint32Array): Copies | null {
  const of = new Int32Array(n);
  const first: number[] = [];
  // head[hash] is the latest distinct row of the hash, next[d] the one before d, length[d] d's place in the chain.
  const head = new Map<number, number>();
  const next: number[] = [];
  const length: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = row(i);
    const h = hash[i]!;
    const top = head.get(h) ?? -1;
    let d = top;
    while (d >= 0 && !equalRows(v, row(first[d]!), dim)) d = next[d]!;
    if (d < 0) {
      const at = top < 0 ? 1 : length[top]! + 1;
      if (at > MAX_CHAIN) return null;
      d = first.length;
      first.push(i);
      next.push(top);
      length.push(at);
      head.set(h, d);
    }
    of[i] = d;
  }
  return { of, first: Int32Array.from(first) };
}

/** `findCopies` by sorting the rows by hash, then floats, then index: each run of copies starts with its first row. */
function bySort(n: number, dim: number, row: (i: number) => Float32Array, hash: Uint32Array): Copies {
  const order = Int32Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => hash[a]! - hash[b]! || compareRows(row(a), row(b), dim) || a - b,
  );
  // rep[i]: the first row of i's copies (≤ i), the one before it in `order` when that is a copy.
  const rep = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k]!,
      p = k > 0 ? order[k - 1]! : -1;
    rep[i] = p >= 0 && hash[p] === hash[i] && equalRows(row(p), row(i), dim) ? rep[p]! : i;
  }
  const of = new Int32Array(n);
  const first: number[] = [];
  for (let i = 0; i < n; i++) of[i] = rep[i] === i ? first.push(i) - 1 : of[rep[i]!]!;
  return { of, first: Int32Array.from(first) };
}

/** `findCopies` of a list of codes. */
export function codeCopies(codes: Embeddings): Copies {
  const { n, dim, vectors } = codes;
  return findCopies(n, dim, (i) => vectors.subarray(i * dim, (i + 1) * dim));
}

/** FNV-1a over the floats' bits, −0 read as 0 so that rows equal as floats hash alike. */
function hashRow(v: Float32Array, dim: number): number {
  const bits = new Uint32Array(v.buffer, v.byteOffset, dim);
  let h = 0x811c9dc5;
  for (let t = 0; t < dim; t++) {
    const b = bits[t] === 0x80000000 ? 0 : bits[t]!;
    h = Math.imul(h ^ (b & 0xffff), 0x01000193);
    h = Math.imul(h ^ (b >>> 16), 0x01000193);
  }
  return h >>> 0;
}

/**
 * A total order of rows for the sort: by their floats (0 and −0 alike), NaN after every number and equal to NaN (the
 * order needs it; `equalRows` keeps a row with NaN apart from every other).
 */
function compareRows(a: Float32Array, b: Float32Array, dim: number): number {
  for (let t = 0; t < dim; t++) {
    const x = a[t]!,
      y = b[t]!;
    if (x < y) return -1;
    if (x > y) return 1;
    if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) return Number.isNaN(x) ? 1 : -1;
  }
  return 0;
}

function equalRows(a: Float32Array, b: Float32Array, dim: number): boolean {
  for (let t = 0; t < dim; t++) if (a[t] !== b[t]) return false;
  return true;
}

/** The rows `at` of `n`·`dim` floats, one after another. */
export function gatherRows(vectors: Float32Array, dim: number, at: Int32Array): Float32Array {
  const out = new Float32Array(at.length * dim);
  for (const [r, i] of at.entries()) out.set(vectors.subarray(i * dim, (i + 1) * dim), r * dim);
  return out;
}
