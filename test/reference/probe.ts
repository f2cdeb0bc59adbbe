/**
 * The linear probe written out as its textbook definition, on arrays of rows:
 * standardise with the training set's mean and (population) standard
 * deviation, then full-batch Adam on the softmax cross-entropy plus ½·wd·‖W‖²
 * (bias not decayed). The order of every sum is stated, because the probe's
 * results are meant to be reproducible to the bit: a logit is the bias plus
 * the products in feature order, a gradient entry the sum over the vectors in
 * order of (p·x)/n.
 */

export interface ReferenceProbe {
  /** weights[c][j], j < dim; then bias[c]. */
  weights: number[][];
  bias: number[];
  accuracy: number;
}

const rows = (v: Float32Array, n: number, dim: number) =>
  Array.from({ length: n }, (_, i) => Array.from(v.subarray(i * dim, (i + 1) * dim)));

export function referenceProbe(
  train: { vectors: Float32Array; n: number; dim: number },
  trainLabels: ArrayLike<number>,
  test: { vectors: Float32Array; n: number; dim: number },
  testLabels: ArrayLike<number>,
  o: { classes: number; steps: number; lr: number; weightDecay: number },
): ReferenceProbe {
  const { n, dim } = train,
    C = o.classes;
  const raw = rows(train.vectors, n, dim);
  const mean = Array.from({ length: dim }, (_, j) => raw.reduce((s, x) => s + x[j] / n, 0));
  const sd = Array.from({ length: dim }, (_, j) => raw.reduce((s, x) => s + (x[j] - mean[j]) ** 2 / n, 0));
  const scale = sd.map((v) => (v > 1e-12 ? 1 / Math.sqrt(v) : 0));
  const standard = (x: number[]) => x.map((v, j) => (v - mean[j]) * scale[j]);
  const X = raw.map(standard);
  const W = Array.from({ length: C }, () => new Array<number>(dim).fill(0)),
    b = new Array<number>(C).fill(0);
  const logits = (x: number[]) =>
    W.map((w, c) => {
      let s = b[c];
      for (let j = 0; j < dim; j++) s += w[j] * x[j];
      return s;
    });
  // Adam's moments, per weight and per bias.
  const mW = W.map((w) => w.map(() => 0)),
    vW = W.map((w) => w.map(() => 0)),
    mb = b.map(() => 0),
    vb = b.map(() => 0);
  const adam = (value: number, grad: number, m: number[], v: number[], k: number, t: number) => {
    m[k] = 0.9 * m[k] + 0.1 * grad;
    v[k] = 0.999 * v[k] + 0.001 * grad * grad;
    return value - (o.lr * (m[k] / (1 - 0.9 ** t))) / (Math.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8);
  };
  for (let t = 1; t <= o.steps; t++) {
    // P[i][c] = softmax(logits)[c] − [label = c]
    const P = X.map((x, i) => {
      const z = logits(x);
      const top = Math.max(...z);
      const e = z.map((v) => Math.exp(v - top));
      let sum = 0;
      for (const v of e) sum += v;
      return e.map((v, c) => v / sum - (trainLabels[i] === c ? 1 : 0));
    });
    for (let c = 0; c < C; c++) {
      for (let j = 0; j < dim; j++) {
        let g = 0;
        for (let i = 0; i < n; i++) g += (P[i][c] * X[i][j]) / n;
        const w = mW[c];
        W[c][j] = adam(W[c][j], g + o.weightDecay * W[c][j], w, vW[c], j, t);
      }
      let g = 0;
      for (let i = 0; i < n; i++) g += P[i][c] / n;
      b[c] = adam(b[c], g, mb, vb, c, t);
    }
  }
  let right = 0;
  rows(test.vectors, test.n, dim).forEach((x, i) => {
    const z = logits(standard(x));
    // The first of equal logits wins.
    if (z.indexOf(Math.max(...z)) === testLabels[i]) right++;
  });
  return { weights: W, bias: b, accuracy: right / test.n };
}
