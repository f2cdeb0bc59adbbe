/** Labelled vectors for the probes: Gaussian clusters around seeded centres, overlapping as much as asked. */
import { Rng } from './rng.js';

export interface Labelled {
  e: { vectors: Float32Array; n: number; dim: number };
  labels: Uint8Array;
}

/**
 * `n` vectors of `dim` features in `classes` clusters: centre·`separation` + N(0, 1) noise per feature, labels
 * drawn uniformly. A small separation gives accuracies well inside (0, 1), which a changed bit can move.
 */
export function clusters(seed: number, n: number, dim: number, classes: number, separation: number): Labelled {
  const rng = new Rng(seed);
  const centres = Float32Array.from({ length: classes * dim }, () => rng.normal());
  const vectors = new Float32Array(n * dim),
    labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(0, classes - 1);
    labels[i] = c;
    for (let j = 0; j < dim; j++) vectors[i * dim + j] = separation * centres[c * dim + j] + rng.normal();
  }
  return { e: { vectors, n, dim }, labels };
}
