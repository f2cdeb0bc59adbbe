/**
 * Double-precision references for the element-wise and small ops: activations,
 * dense (Linear), losses and optimizer steps. Plain loops, textbook formulas.
 */

function fail(msg: string): never {
  throw new Error(`reference: ${msg}`);
}

function expectLen(name: string, a: ArrayLike<number>, len: number): void {
  if (a.length !== len) fail(`${name} has length ${a.length}, expected ${len}`);
}

// ---------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------

export type ActivationKind = 'identity' | 'relu' | 'leakyRelu' | 'tanh' | 'sigmoid';

/**
 * y = f(x) element-wise:
 * - identity: x
 * - relu: max(0, x) (`Math.max`: NaN stays NaN, −0 → +0)
 * - leakyRelu: x > 0 ? x : alpha·x
 * - tanh: Math.tanh(x)
 * - sigmoid: 1 / (1 + exp(−x))
 */
export function activationRef(kind: ActivationKind, x: Float64Array, alpha = 0.01): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    switch (kind) {
      case 'identity':
        y[i] = v;
        break;
      case 'relu':
        y[i] = Math.max(0, v);
        break;
      case 'leakyRelu':
        y[i] = v > 0 ? v : alpha * v;
        break;
      case 'tanh':
        y[i] = Math.tanh(v);
        break;
      case 'sigmoid':
        y[i] = 1 / (1 + Math.exp(-v));
        break;
    }
  }
  return y;
}

/**
 * dx = dy · f'(x), with f' written in terms of the forward OUTPUT y:
 * identity 1; relu y > 0 ? 1 : 0; leakyRelu y > 0 ? 1 : alpha (y > 0 ⇔ x > 0
 * for alpha ≥ 0); tanh 1 − y²; sigmoid y·(1 − y).
 * For relu / leakyRelu the product is written as a select (`y > 0 ? dy : 0`,
 * `y > 0 ? dy : alpha·dy`), identical for finite dy.
 *
 * # Shapes
 * y, dy and the returned dx have the same length.
 */
export function activationBackwardRef(
  kind: ActivationKind,
  y: Float64Array,
  dy: Float64Array,
  alpha = 0.01,
): Float64Array {
  expectLen('activationBackward dy', dy, y.length);
  const dx = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    const g = dy[i];
    switch (kind) {
      case 'identity':
        dx[i] = g;
        break;
      case 'relu':
        dx[i] = v > 0 ? g : 0;
        break;
      case 'leakyRelu':
        dx[i] = v > 0 ? g : alpha * g;
        break;
      case 'tanh':
        dx[i] = g * (1 - v * v);
        break;
      case 'sigmoid':
        dx[i] = g * (v * (1 - v));
        break;
    }
  }
  return dx;
}

// ---------------------------------------------------------------------------
// Dense (PyTorch Linear): y = x · Wᵀ + b
// ---------------------------------------------------------------------------

export type Shape2 = readonly [number, number];

/**
 * y[n,o] = b[o] + Σ_i x[n,i] · w[o,i].
 *
 * # Shapes
 * x `[N, in]`, w `[out, in]`, bias `[out]` or null, y `[N, out]`.
 */
export function denseRef(
  x: Float64Array,
  xShape: Shape2,
  w: Float64Array,
  wShape: Shape2,
  bias: Float64Array | null,
): Float64Array {
  const [N, I] = xShape;
  const [O, Iw] = wShape;
  if (Iw !== I) fail(`dense: weight in ${Iw} != input features ${I}`);
  expectLen('dense x', x, N * I);
  expectLen('dense w', w, O * I);
  if (bias !== null) expectLen('dense bias', bias, O);
  const y = new Float64Array(N * O);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      let s = bias === null ? 0 : bias[o];
      for (let i = 0; i < I; i++) s += x[n * I + i] * w[o * I + i];
      y[n * O + o] = s;
    }
  }
  return y;
}

/**
 * dx[n,i] = Σ_o dy[n,o] · w[o,i]  (dy · W).
 *
 * # Shapes
 * dy `[N, out]`, w `[out, in]`, returns dx `[N, in]` (xShape = [N, in]).
 */
export function denseBackwardInputRef(dy: Float64Array, xShape: Shape2, w: Float64Array, wShape: Shape2): Float64Array {
  const [N, I] = xShape;
  const [O, Iw] = wShape;
  if (Iw !== I) fail(`dense backward input: weight in ${Iw} != input features ${I}`);
  expectLen('dense dy', dy, N * O);
  expectLen('dense w', w, O * I);
  const dx = new Float64Array(N * I);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < I; i++) {
      let s = 0;
      for (let o = 0; o < O; o++) s += dy[n * O + o] * w[o * I + i];
      dx[n * I + i] = s;
    }
  }
  return dx;
}

/**
 * dw[o,i] = Σ_n dy[n,o] · x[n,i]  (dyᵀ · x). The bias gradient is
 * `biasBackwardRef(dy, N, out, 1)` from ./conv.js.
 *
 * # Shapes
 * x `[N, in]`, dy `[N, out]`, returns dw `[out, in]`.
 */
export function denseBackwardWeightRef(
  x: Float64Array,
  xShape: Shape2,
  dy: Float64Array,
  wShape: Shape2,
): Float64Array {
  const [N, I] = xShape;
  const [O, Iw] = wShape;
  if (Iw !== I) fail(`dense backward weight: weight in ${Iw} != input features ${I}`);
  expectLen('dense x', x, N * I);
  expectLen('dense dy', dy, N * O);
  const dw = new Float64Array(O * I);
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < I; i++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dy[n * O + o] * x[n * I + i];
      dw[o * I + i] = s;
    }
  }
  return dw;
}

// ---------------------------------------------------------------------------
// Losses
// ---------------------------------------------------------------------------

export interface LossResult {
  loss: number;
  /** d loss / d pred (or d loss / d logits), same length as the input. */
  grad: Float64Array;
}

/**
 * Mean squared error over all n = pred.length elements:
 *   loss = 1/(2n) · Σ (target − pred)²,  grad = (pred − target) / n.
 * loss = 0 and an empty grad when n = 0.
 */
export function mseLossRef(pred: Float64Array, target: Float64Array): LossResult {
  expectLen('mse target', target, pred.length);
  const n = pred.length;
  const grad = new Float64Array(n);
  if (n === 0) return { loss: 0, grad };
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = target[i] - pred[i];
    s += d * d;
    grad[i] = (pred[i] - target[i]) / n;
  }
  return { loss: s / (2 * n), grad };
}

/**
 * Softmax cross-entropy averaged over the N rows:
 *   p[r,·] = softmax(logits[r,·]),  loss = (1/N) Σ_r −log p[r, label_r],
 *   grad[r,j] = (p[r,j] − [j = label_r]) / N.
 * −log p[r,l] is computed as logsumexp(logits[r,·]) − logits[r,l], with the row
 * max subtracted inside the exp (the usual overflow guard; mathematically a no-op).
 *
 * # Shapes
 * logits `[N, K]`, labels `[N]` (integers in [0, K)), grad `[N, K]`.
 */
export function softmaxCrossEntropyRef(logits: Float64Array, shape: Shape2, labels: ArrayLike<number>): LossResult {
  const [N, K] = shape;
  expectLen('softmaxCrossEntropy logits', logits, N * K);
  expectLen('softmaxCrossEntropy labels', labels, N);
  const grad = new Float64Array(N * K);
  if (N === 0 || K === 0) return { loss: 0, grad };
  let total = 0;
  for (let r = 0; r < N; r++) {
    const label = labels[r];
    if (!Number.isInteger(label) || label < 0 || label >= K) fail(`label ${label} of row ${r} not in [0, ${K})`);
    let m = -Infinity;
    for (let j = 0; j < K; j++) m = Math.max(m, logits[r * K + j]);
    let sumExp = 0;
    for (let j = 0; j < K; j++) sumExp += Math.exp(logits[r * K + j] - m);
    const logSumExp = m + Math.log(sumExp);
    total += logSumExp - logits[r * K + label];
    for (let j = 0; j < K; j++) {
      const p = Math.exp(logits[r * K + j] - m) / sumExp;
      grad[r * K + j] = (p - (j === label ? 1 : 0)) / N;
    }
  }
  return { loss: total / N, grad };
}

// ---------------------------------------------------------------------------
// Optimizer steps (mutate p and their state buffers in place; g is read only)
// ---------------------------------------------------------------------------

export interface SgdOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

/**
 * One PyTorch `torch.optim.SGD` step (dampening 0), element-wise:
 *   d = g + wd·p
 *   v = momentum·v + d
 *   d' = nesterov ? d + momentum·v : v
 *   p = p − lr·d'
 * `v` starts at zero; then the first step gives v = d, as PyTorch's
 * `buf = d.clone()`. With momentum 0, v = d and d' = d (plain SGD).
 * Mutates `p` and `v`; `g` is not modified.
 */
export function sgdStepRef(p: Float64Array, g: Float64Array, v: Float64Array, o: SgdOptions): void {
  expectLen('sgd g', g, p.length);
  expectLen('sgd v', v, p.length);
  for (let i = 0; i < p.length; i++) {
    const d = g[i] + o.weightDecay * p[i];
    v[i] = o.momentum * v[i] + d;
    const step = o.nesterov ? d + o.momentum * v[i] : v[i];
    p[i] = p[i] - o.lr * step;
  }
}

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay (AdamW). */
  weightDecay: number;
  /** 1-based number of this step (1 on the first call), for bias correction. */
  step: number;
}

/**
 * One PyTorch `torch.optim.AdamW` step, element-wise (t = step):
 *   p = p − lr·wd·p
 *   m = β1·m + (1 − β1)·g
 *   v = β2·v + (1 − β2)·g²
 *   m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
 *   p = p − lr·m̂ / (√v̂ + eps)
 * Mutates `p`, `m`, `v`; `g` is not modified.
 */
export function adamStepRef(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, o: AdamOptions): void {
  expectLen('adam g', g, p.length);
  expectLen('adam m', m, p.length);
  expectLen('adam v', v, p.length);
  if (!Number.isInteger(o.step) || o.step < 1) fail(`adam step ${o.step} must be an integer ≥ 1`);
  const bc1 = 1 - o.beta1 ** o.step;
  const bc2 = 1 - o.beta2 ** o.step;
  for (let i = 0; i < p.length; i++) {
    p[i] = p[i] - o.lr * o.weightDecay * p[i];
    m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
    v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];
    const mHat = m[i] / bc1;
    const vHat = v[i] / bc2;
    p[i] = p[i] - (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
  }
}
