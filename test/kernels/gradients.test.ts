/**
 * Finite-difference gradient checks in f64. For each backward kernel: the loss
 * is L = Σ y²/2 of the op's f64 reference forward (so the upstream gradient
 * dy = y is not all ones); the kernel's analytic gradient (f32, wasm) must
 * match the central differences of L. Inputs are distinct so max-pooling has
 * no ties and its switches do not move within ±eps.
 */
import { afterAll, describe, it } from 'vitest';
import * as cv from '../../ts/index.js';
import * as RC from '../reference/conv.js';
import * as RE from '../reference/elementwise.js';
import * as RP from '../reference/pool.js';
import { dot, expectClose, numericGrad } from '../util/fd.js';
import { Rng } from '../util/rng.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { round32 } from '../util/tensors.js';

const be = await backendUnderTest();
const rng = new Rng(4242);
const live: cv.Tensor[] = [];
const T = (shape: number[], v: ArrayLike<number>, dtype: cv.DType = 'f32') => {
  const t = be.fromArray(shape, v, dtype);
  live.push(t);
  return t;
};
const Z = (shape: number[], dtype: cv.DType = 'f32') => {
  const t = be.zeros(shape, dtype);
  live.push(t);
  return t;
};
afterAll(() => live.forEach((t) => t.dispose()));
const half = (y: Float64Array) => 0.5 * dot(y, y);
const rand = (len: number, lo = -1, hi = 1) => round32(Array.from({ length: len }, () => rng.uniform(lo, hi)));
const RTOL = 2e-3,
  ATOL = 2e-4;

describe(`finite-difference gradients (${BUILD})`, () => {
  for (const [n, cIn, h, w, cOut, k, s, p] of [
    [2, 3, 6, 5, 4, 3, 1, 1],
    [1, 2, 7, 7, 5, 3, 2, 0],
    [2, 5, 5, 6, 3, 2, 3, 1],
  ]) {
    it(`conv2d x=[${n},${cIn},${h},${w}] w=[${cOut},${cIn},${k},${k}] s=${s} p=${p}: dx, dw, db`, () => {
      const xs = [n, cIn, h, w] as const,
        ws = [cOut, cIn, k, k] as const,
        o = { sh: s, sw: s, ph: p, pw: p };
      const xv = rand(n * cIn * h * w),
        wv = rand(cOut * cIn * k * k),
        bv = rand(cOut);
      const fwd = RC.conv2dRef(xv, xs, wv, ws, bv, o);
      const ys = [n, cOut, fwd.outH, fwd.outW];
      const x = T([...xs], xv),
        wt = T([...ws], wv),
        dy = T(ys, fwd.y);
      const dx = Z([...xs]),
        dw = Z([...ws]),
        db = Z([cOut]);
      const opts = { stride: s, padding: p };
      cv.conv2dBackwardInput(dy, wt, dx, opts);
      cv.conv2dBackwardWeight(x, dy, dw, opts);
      cv.biasBackward(dy, db);
      expectClose(
        dx.data,
        numericGrad((v) => half(RC.conv2dRef(v, xs, wv, ws, bv, o).y), xv),
        RTOL,
        ATOL,
        'dx',
      );
      expectClose(
        dw.data,
        numericGrad((v) => half(RC.conv2dRef(xv, xs, v, ws, bv, o).y), wv),
        RTOL,
        ATOL,
        'dw',
      );
      expectClose(
        db.data,
        numericGrad((v) => half(RC.conv2dRef(xv, xs, wv, ws, v, o).y), bv),
        RTOL,
        ATOL,
        'db',
      );
    });
  }

  for (const [n, cIn, h, w, cOut, k, s, p, op] of [
    [2, 4, 4, 3, 3, 3, 1, 0, 0],
    [1, 3, 3, 4, 2, 3, 2, 1, 1],
    [2, 2, 3, 3, 5, 2, 3, 0, 2],
  ]) {
    it(`conv_transpose2d x=[${n},${cIn},${h},${w}] w=[${cIn},${cOut},${k},${k}] s=${s} p=${p} op=${op}: dx, dw, db`, () => {
      const xs = [n, cIn, h, w] as const,
        ws = [cIn, cOut, k, k] as const,
        o = { sh: s, sw: s, ph: p, pw: p, oph: op, opw: op };
      const xv = rand(n * cIn * h * w),
        wv = rand(cIn * cOut * k * k),
        bv = rand(cOut);
      const fwd = RC.convTranspose2dRef(xv, xs, wv, ws, bv, o);
      const ys = [n, cOut, fwd.outH, fwd.outW];
      const x = T([...xs], xv),
        wt = T([...ws], wv),
        dy = T(ys, fwd.y);
      const dx = Z([...xs]),
        dw = Z([...ws]),
        db = Z([cOut]);
      const opts = { stride: s, padding: p, outputPadding: op };
      cv.convTranspose2dBackwardInput(dy, wt, dx, opts);
      cv.convTranspose2dBackwardWeight(x, dy, dw, opts);
      cv.biasBackward(dy, db);
      expectClose(
        dx.data,
        numericGrad((v) => half(RC.convTranspose2dRef(v, xs, wv, ws, bv, o).y), xv),
        RTOL,
        ATOL,
        'dx',
      );
      expectClose(
        dw.data,
        numericGrad((v) => half(RC.convTranspose2dRef(xv, xs, v, ws, bv, o).y), wv),
        RTOL,
        ATOL,
        'dw',
      );
      expectClose(
        db.data,
        numericGrad((v) => half(RC.convTranspose2dRef(xv, xs, wv, ws, v, o).y), bv),
        RTOL,
        ATOL,
        'db',
      );
    });
  }

  for (const [n, c, h, w, kk, s] of [
    [2, 3, 6, 6, 2, 2],
    [1, 2, 7, 5, 3, 2],
    [1, 2, 5, 5, 3, 1],
  ]) {
    it(`max_pool2d / max_unpool2d x=[${n},${c},${h},${w}] k=${kk} s=${s}${kk > s ? ' (overlapping)' : ''}`, () => {
      const planes = n * c,
        xv = round32(rng.distinct(planes * h * w, -2, 2));
      const fwd = RP.maxPool2dRef(xv, planes, h, w, kk, kk, s, s);
      const ys = [n, c, fwd.outH, fwd.outW];
      const sw = T(ys, fwd.switches, 'u32'),
        dy = T(ys, fwd.y),
        dx = Z([n, c, h, w]);
      cv.maxPool2dBackward(dy, sw, dx, { kernel: kk, stride: s });
      expectClose(
        dx.data,
        numericGrad((v) => half(RP.maxPool2dRef(v, planes, h, w, kk, kk, s, s).y), xv, 1e-6),
        RTOL,
        ATOL,
        'pool dx',
      );
      // Unpool: L = Σ u²/2 with u = unpool(x; switches fixed).
      const pv = rand(planes * fwd.outH * fwd.outW);
      const u = RP.maxUnpool2dRef(pv, fwd.switches, planes, fwd.outH, fwd.outW, h, w);
      const du = T([n, c, h, w], u),
        dp = Z(ys);
      cv.maxUnpool2dBackward(du, sw, dp, { kernel: kk, stride: s });
      expectClose(
        dp.data,
        numericGrad((v) => half(RP.maxUnpool2dRef(v, fwd.switches, planes, fwd.outH, fwd.outW, h, w)), pv),
        RTOL,
        ATOL,
        'unpool dx',
      );
    });
  }
});

describe(`finite-difference gradients, dense / activations / losses (${BUILD})`, () => {
  it('dense x=[3,7] w=[5,7]: dx, dw, db', () => {
    const xs = [3, 7] as const,
      ws = [5, 7] as const;
    const xv = rand(21),
      wv = rand(35),
      bv = rand(5);
    const y = RE.denseRef(xv, xs, wv, ws, bv);
    const x = T([3, 7], xv),
      w = T([5, 7], wv),
      dy = T([3, 5], y);
    const dx = Z([3, 7]),
      dw = Z([5, 7]),
      db = Z([5]);
    cv.denseBackwardInput(dy, w, dx);
    cv.denseBackwardWeight(x, dy, dw);
    cv.biasBackward(dy, db);
    expectClose(
      dx.data,
      numericGrad((v) => half(RE.denseRef(v, xs, wv, ws, bv)), xv),
      RTOL,
      ATOL,
      'dx',
    );
    expectClose(
      dw.data,
      numericGrad((v) => half(RE.denseRef(xv, xs, v, ws, bv)), wv),
      RTOL,
      ATOL,
      'dw',
    );
    expectClose(
      db.data,
      numericGrad((v) => half(RE.denseRef(xv, xs, wv, ws, v)), bv),
      RTOL,
      ATOL,
      'db',
    );
  });

  for (const kind of ['identity', 'relu', 'leakyRelu', 'tanh', 'sigmoid'] as const) {
    it(`activation ${kind}: dx from the output y`, () => {
      // Keep inputs away from 0 so relu's kink is not inside ±eps.
      const xv = round32(Array.from({ length: 23 }, () => rng.uniform(0.05, 2.5) * (rng.next() < 0.5 ? -1 : 1)));
      const x = T([23], xv),
        y = Z([23]);
      cv.activation(kind, x, y, 0.2);
      const dy = T([23], RE.activationRef(kind, xv, 0.2)),
        dx = Z([23]);
      cv.activationBackward(kind, y, dy, dx, 0.2);
      expectClose(
        dx.data,
        numericGrad((v) => half(RE.activationRef(kind, v, 0.2)), xv),
        RTOL,
        ATOL,
        kind,
      );
    });
  }

  it('mse_loss and softmax_cross_entropy gradients', () => {
    const pv = rand(19),
      tv = rand(19),
      p = T([19], pv),
      t = T([19], tv),
      g = Z([19]);
    cv.mseLoss(p, t, g);
    expectClose(
      g.data,
      numericGrad((v) => RE.mseLossRef(v, tv).loss, pv),
      RTOL,
      1e-7,
      'mse',
    );
    const lv = rand(12, -3, 3),
      lab = [2, 0, 3],
      lg = T([3, 4], lv),
      labels = T([3], lab, 'u32'),
      gl = Z([3, 4]);
    cv.softmaxCrossEntropy(lg, labels, gl);
    expectClose(
      gl.data,
      numericGrad((v) => RE.softmaxCrossEntropyRef(v, [3, 4], lab).loss, lv),
      RTOL,
      1e-6,
      'softmax ce',
    );
  });
});

/** The full CAE step of the seed: conv → tanh → pool → unpool → tied deconv → sigmoid → MSE. */
describe(`a whole CAE step with tied weights (${BUILD})`, () => {
  it('dW (encoder + decoder use), db, dc match finite differences of the f64 pipeline', () => {
    const n = 2,
      C = 2,
      S = 8,
      K = 3,
      k = 3,
      oh = S - k + 1,
      ph = oh / 2;
    const xs = [n, C, S, S] as const,
      ws = [K, C, k, k] as const,
      zero = { sh: 1, sw: 1, ph: 0, pw: 0 };
    const xv = round32(Array.from({ length: n * C * S * S }, () => rng.uniform(0, 1)));
    const wv = rand(K * C * k * k).map((v) => v * 0.7),
      bv = rand(K).map((v) => v * 0.1),
      cvv = rand(C).map((v) => v * 0.1);
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    const loss = (W: Float64Array, b: Float64Array, c: Float64Array) => {
      const h = RC.conv2dRef(xv, xs, W, ws, b, zero).y.map(Math.tanh);
      const pool = RP.maxPool2dRef(h, n * K, oh, oh, 2, 2, 2, 2);
      const up = RP.maxUnpool2dRef(pool.y, pool.switches, n * K, ph, ph, oh, oh);
      const y = RC.convTranspose2dRef(up, [n, K, oh, oh], W, ws, c, { ...zero, oph: 0, opw: 0 }).y.map(sigmoid);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += (xv[i] - y[i]) ** 2;
      return s / (2 * y.length);
    };

    // The same step with the kernels, as a model layer will run it.
    const x = T([...xs], xv),
      W = T([...ws], wv),
      b = T([K], bv),
      c = T([C], cvv);
    const h = Z([n, K, oh, oh]),
      p = Z([n, K, ph, ph]),
      sw = Z([n, K, ph, ph], 'u32'),
      up = Z([n, K, oh, oh]);
    const y = Z([...xs]),
      dy = Z([...xs]),
      dup = Z([n, K, oh, oh]),
      dp = Z([n, K, ph, ph]),
      dh = Z([n, K, oh, oh]);
    const dW = Z([...ws]),
      db = Z([K]),
      dc = Z([C]);
    cv.conv2d(x, W, b, h);
    cv.activation('tanh', h, h);
    cv.maxPool2d(h, p, sw);
    cv.maxUnpool2d(p, sw, up);
    cv.convTranspose2d(up, W, c, y);
    cv.activation('sigmoid', y, y);
    const L = cv.mseLoss(y, x, dy);
    cv.activationBackward('sigmoid', y, dy, dy);
    cv.biasBackward(dy, dc);
    cv.convTranspose2dBackwardWeight(up, dy, dW);
    cv.convTranspose2dBackwardInput(dy, W, dup);
    cv.maxUnpool2dBackward(dup, sw, dp);
    cv.maxPool2dBackward(dp, sw, dh);
    cv.activationBackward('tanh', h, dh, dh);
    cv.biasBackward(dh, db);
    cv.conv2dBackwardWeight(x, dh, dW);

    expectClose([L], [loss(wv, bv, cvv)], 1e-5, 1e-7, 'loss');
    expectClose(
      dW.data,
      numericGrad((v) => loss(v, bv, cvv), wv, 1e-6),
      2e-3,
      1e-6,
      'dW',
    );
    expectClose(
      db.data,
      numericGrad((v) => loss(wv, v, cvv), bv, 1e-6),
      2e-3,
      1e-6,
      'db',
    );
    expectClose(
      dc.data,
      numericGrad((v) => loss(wv, bv, v), cvv, 1e-6),
      2e-3,
      1e-6,
      'dc',
    );
  });
});
