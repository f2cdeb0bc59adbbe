/**
 * Exact copies among rows of floats (codes, or images as the stack reads them): rows whose floats are all equal
 * (0 and −0 alike) are one. UMAP cannot lay out copies: each copy's nearest others are its copies at distance 0, so
 * it pulls them apart like any neighbours and the map shows a blob where there is one point (8 copies of one image
 * became 4 clusters). `mapCodes` lays out each distinct code once and puts every copy at its original's place, as
 * umap-learn's `unique=True` does, and a clustering then weighs a point by its copies; `convae cluster` counts the
 * distinct images to refuse a k that no clustering of them can have.
 *
 * Each row's bits are hashed and rows of one hash compared float by float: one index per row and one per distinct
 * row beside the rows themselves, whatever the number of copies.
 */
import type { Embeddings } from './embed.js';

/** The distinct rows of a list, in order of first appearance, and which one each row is. */
export interface Copies {
  /** For each row, its distinct row's number, 0 … `first.length` − 1. */
  of: Int32Array;
  /** The first row of each distinct row, ascending. */
  first: Int32Array;
}

/** Which of `n` rows of `dim` floats (row i read by `row(i)`) are exact copies of an earlier one. */
export function findCopies(n: number, dim: number, row: (i: number) => Float32Array): Copies {
  const of = new Int32Array(n);
  const first: number[] = [];
  // The chains of distinct rows by hash: head[hash] is the latest, next[d] the one before d.
  const head = new Map<number, number>();
  const next: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = row(i);
    const h = hashRow(v, dim);
    let d = head.get(h) ?? -1;
    while (d >= 0 && !equalRows(v, row(first[d]!), dim)) d = next[d]!;
    if (d < 0) {
      d = first.length;
      first.push(i);
      next.push(head.get(h) ?? -1);
      head.set(h, d);
    }
    of[i] = d;
  }
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
