/**
 * The linear probe's arithmetic: softmax regression on standardised features,
 * full-batch Adam, fixed L2, all in f64. It is deterministic, so
 * `linearProbeAccuracy`, the local runner and a worker give the same bits.
 *
 * Every value is computed as the first, plain version of this loop computed
 * it, to the last bit: each logit is one chain of multiply-adds along the
 * features from the bias, each gradient entry the sum over the vectors in
 * order of (p·x)/n. The speed comes from the loops around those chains only:
 * four vectors go through them together (in the logits, four independent
 * chains hide each other's latency, where one chain waits for its previous
 * sum; in the gradient, each entry is read and written once for the four),
 * row offsets and Adam's bias corrections are hoisted, and each class's
 * exponential is taken once. Dividing each term by n, rather than the sum
 * once, costs a division per term; it is what keeps the earlier results.
 */
import { throwIfAborted, yieldToEventLoop } from '../util/eventloop.js';
import type { Embeddings } from './embed.js';

/** A probe's checked hyper-parameters (`ProbeOptions` without the signal). */
export interface ProbeSpec {
  classes: number;
  steps: number;
  lr: number;
  weightDecay: number;
}

/** Milliseconds of steps between two breaks for the event loop (fit's pace). */
const YIELD_MS = 30;

/**
 * @internal A probe on `train` (checked arguments: labels in [0, classes), train and test of one width):
 * `step(t)` takes Adam step t (from 1), `accuracy` scores vectors. Holds train standardised (n·dim f64).
 */
export class LinearProbe {
  private readonly d: number;
  private readonly mean: Float64Array;
  private readonly inv: Float64Array;
  private readonly X: Float64Array;
  /** Row c: `d` weights, then the bias. */
  readonly W: Float64Array;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private readonly g: Float64Array;
  /** Four rows' logits, then their residuals p − onehot. */
  private readonly z: Float64Array;
  private readonly e: Float64Array;

  constructor(
    private readonly train: Embeddings,
    private readonly labels: ArrayLike<number>,
    private readonly spec: ProbeSpec,
  ) {
    const { n, dim: d, vectors } = train;
    this.d = d;
    // The training vectors' statistics (constant features stay 0).
    const mean = new Float64Array(d),
      inv = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0, o = i * d; j < d; j++) mean[j] += vectors[o + j] / n;
    for (let i = 0; i < n; i++) for (let j = 0, o = i * d; j < d; j++) inv[j] += (vectors[o + j] - mean[j]) ** 2 / n;
    for (let j = 0; j < d; j++) inv[j] = inv[j] > 1e-12 ? 1 / Math.sqrt(inv[j]) : 0;
    this.mean = mean;
    this.inv = inv;
    this.X = this.standardised(train);
    const size = spec.classes * (d + 1);
    this.W = new Float64Array(size);
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
    this.g = new Float64Array(size);
    this.z = new Float64Array(4 * spec.classes);
    this.e = new Float64Array(spec.classes);
  }

  private standardised(x: Embeddings): Float64Array {
    const d = this.d,
      { mean, inv } = this,
      out = new Float64Array(x.n * d);
    for (let i = 0; i < x.n; i++)
      for (let j = 0, o = i * d; j < d; j++) out[o + j] = (x.vectors[o + j] - mean[j]) * inv[j];
    return out;
  }

  /**
   * The logits of rows [i, i + rows) of `X` (rows 1 or 4) into `z`, row after row: per class, the bias plus the
   * weights' products in feature order. Four rows' chains of one class advance together.
   */
  private logits(X: Float64Array, i: number, rows: number): Float64Array {
    const { W, z, d } = this,
      C = this.spec.classes,
      D = d + 1;
    if (rows === 4) {
      const x0 = i * d,
        x1 = x0 + d,
        x2 = x1 + d,
        x3 = x2 + d;
      for (let c = 0; c < C; c++) {
        const r = c * D;
        let s0 = W[r + d],
          s1 = s0,
          s2 = s0,
          s3 = s0;
        for (let j = 0; j < d; j++) {
          const w = W[r + j];
          s0 += w * X[x0 + j];
          s1 += w * X[x1 + j];
          s2 += w * X[x2 + j];
          s3 += w * X[x3 + j];
        }
        z[c] = s0;
        z[C + c] = s1;
        z[2 * C + c] = s2;
        z[3 * C + c] = s3;
      }
      return z;
    }
    for (let c = 0, xo = i * d; c < C; c++) {
      const r = c * D;
      let s = W[r + d];
      for (let j = 0; j < d; j++) s += W[r + j] * X[xo + j];
      z[c] = s;
    }
    return z;
  }

  /** Turns row `k`'s logits in `z` into p − onehot(label) in place: the softmax with its largest logit first taken out. */
  private residual(k: number, label: number): void {
    const { z, e } = this,
      C = this.spec.classes,
      o = k * C;
    let mx = -Infinity;
    for (let c = 0; c < C; c++) mx = Math.max(mx, z[o + c]);
    let sum = 0;
    for (let c = 0; c < C; c++) {
      e[c] = Math.exp(z[o + c] - mx);
      sum += e[c];
    }
    for (let c = 0; c < C; c++) z[o + c] = e[c] / sum - (label === c ? 1 : 0);
  }

  /**
   * Adds rows [i, i + rows)' terms (p·x)/n to the gradient, row after row for each entry: with four rows, each
   * entry is read and written once for the four (the sums' order is the same).
   */
  private gradient(i: number, rows: number): void {
    const { X, g, z: P, d } = this,
      C = this.spec.classes,
      D = d + 1,
      n = this.train.n;
    if (rows === 4) {
      const x0 = i * d,
        x1 = x0 + d,
        x2 = x1 + d,
        x3 = x2 + d;
      for (let c = 0; c < C; c++) {
        const p0 = P[c],
          p1 = P[C + c],
          p2 = P[2 * C + c],
          p3 = P[3 * C + c],
          r = c * D;
        for (let j = 0; j < d; j++)
          g[r + j] =
            g[r + j] + (p0 * X[x0 + j]) / n + (p1 * X[x1 + j]) / n + (p2 * X[x2 + j]) / n + (p3 * X[x3 + j]) / n;
        g[r + d] = g[r + d] + p0 / n + p1 / n + p2 / n + p3 / n;
      }
      return;
    }
    for (let c = 0, xo = i * d; c < C; c++) {
      const p = P[c],
        r = c * D;
      for (let j = 0; j < d; j++) g[r + j] += (p * X[xo + j]) / n;
      g[r + d] += p / n;
    }
  }

  /** Adam step `t` (counted from 1) on the full batch. */
  step(t: number): void {
    const { W, m, v, g, d, labels } = this,
      { classes: C, lr, weightDecay: wd } = this.spec,
      n = this.train.n,
      D = d + 1;
    g.fill(0);
    for (let i = 0; i < n; ) {
      const rows = i + 4 <= n ? 4 : 1;
      this.logits(this.X, i, rows);
      for (let k = 0; k < rows; k++) this.residual(k, labels[i + k]);
      this.gradient(i, rows);
      i += rows;
    }
    const b1 = 1 - 0.9 ** t,
      b2 = 1 - 0.999 ** t;
    for (let c = 0; c < C; c++)
      for (let j = 0, r = c * D; j <= d; j++) {
        const q = r + j;
        // L2 on the weights, not on the bias.
        const gq = j < d ? g[q] + wd * W[q] : g[q];
        m[q] = 0.9 * m[q] + 0.1 * gq;
        v[q] = 0.999 * v[q] + 0.001 * gq * gq;
        W[q] -= (lr * (m[q] / b1)) / (Math.sqrt(v[q] / b2) + 1e-8);
      }
  }

  /** Fraction of `test` whose largest logit (the first of equals) is its label. */
  accuracy(test: Embeddings, testLabels: ArrayLike<number>): number {
    const Xt = this.standardised(test),
      C = this.spec.classes;
    let right = 0;
    for (let i = 0; i < test.n; ) {
      const rows = i + 4 <= test.n ? 4 : 1,
        z = this.logits(Xt, i, rows);
      for (let k = 0; k < rows; k++, i++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (z[k * C + c] > z[k * C + best]) best = c;
        if (best === testLabels[i]) right++;
      }
    }
    return right / test.n;
  }
}

/** @internal `linearProbeAccuracy` on checked arguments, every step at once on this thread. */
export function linearProbeSteps(
  train: Embeddings,
  trainLabels: ArrayLike<number>,
  test: Embeddings,
  testLabels: ArrayLike<number>,
  spec: ProbeSpec,
): number {
  const probe = new LinearProbe(train, trainLabels, spec);
  for (let t = 1; t <= spec.steps; t++) probe.step(t);
  return probe.accuracy(test, testLabels);
}

/**
 * @internal The same accuracy, with a break for the event loop every ~30 ms of steps; rejects with the
 * signal's reason before the first allocation when it is aborted already, else at the first step after it
 * aborts. What the local runner and a worker run.
 */
export async function linearProbeRun(
  train: Embeddings,
  trainLabels: ArrayLike<number>,
  test: Embeddings,
  testLabels: ArrayLike<number>,
  spec: ProbeSpec,
  signal?: AbortSignal,
): Promise<number> {
  throwIfAborted(signal);
  const probe = new LinearProbe(train, trainLabels, spec);
  let rested = performance.now();
  for (let t = 1; t <= spec.steps; t++) {
    if (performance.now() - rested > YIELD_MS) {
      await yieldToEventLoop();
      rested = performance.now();
    }
    throwIfAborted(signal);
    probe.step(t);
  }
  return probe.accuracy(test, testLabels);
}
