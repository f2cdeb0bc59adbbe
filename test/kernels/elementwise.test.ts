/**
 * Activations, dense/gemm, losses and optimizer updates against the f64
 * references (test/reference/elementwise.ts), over lengths below, at and above
 * the vector width; SIMD paths against their scalar twins.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import * as R from '../reference/elementwise.js';
import { dot, expectClose, numericGrad } from '../util/fd.js';
import { Rng } from '../util/rng.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { expectBitEqual, expectNear, round32 } from '../util/tensors.js';

const be = await backendUnderTest();
const rng = new Rng(31337);
const live: cv.Tensor[] = [];
const T = (shape: number[], v: ArrayLike<number>, dtype: cv.DType = 'f32') => {
  const t = be.fromArray(shape, v, dtype);
  live.push(t);
  return t;
};
const Z = (shape: number[]) => {
  const t = be.zeros(shape);
  live.push(t);
  return t;
};
afterAll(() => live.forEach((t) => t.dispose()));
const rand = (len: number, lo = -1, hi = 1) => round32(Array.from({ length: len }, () => rng.uniform(lo, hi)));
const LENGTHS = [1, 3, 4, 5, 7, 8, 9, 17, 1000];
const KINDS: cv.Activation[] = ['identity', 'relu', 'leakyRelu', 'tanh', 'sigmoid'];

/** Runs f with the SIMD path and with the scalar twins, returning the outputs each time. */
function twins<Tout>(f: () => Tout): [Tout, Tout] {
  const a = f();
  be.setForceScalar(true);
  try {
    return [a, f()];
  } finally {
    be.setForceScalar(false);
  }
}
/** simd: bit-identical; relaxed: FMA rounds differently, so within the tolerance used against the reference. */
const sameOrNear = (label: string, a: Float32Array, b: Float32Array, tol = 1e-6) =>
  BUILD === 'simd' ? expectBitEqual(label, a, b) : expectNear(label, a, b, tol, tol);

describe(`activation (${BUILD})`, () => {
  for (const kind of KINDS)
    for (const len of LENGTHS) {
      it(`${kind} len=${len}`, () => {
        const xv = rand(len, -6, 6);
        if (len > 3) {
          xv[0] = 0;
          xv[1] = -0;
          xv[2] = 40;
          xv[3] = -40;
        } // zero, signed zero, saturation
        const x = T([len], xv),
          y = Z([len]);
        const [ys, yScalar] = twins(() => cv.activation(kind, x, y, 0.1).toArray());
        expectNear('forward', ys, R.activationRef(kind, xv, 0.1), 3e-7, 3e-7);
        sameOrNear('forward twins', ys, yScalar);
        // In place gives the same result.
        const xy = T([len], xv);
        cv.activation(kind, xy, xy, 0.1);
        sameOrNear('in place', xy.data, y.data);

        const dyv = rand(len);
        const dy = T([len], dyv),
          dx = Z([len]);
        const [dxs, dxScalar] = twins(() => cv.activationBackward(kind, y, dy, dx, 0.1).toArray());
        expectNear('backward', dxs, R.activationBackwardRef(kind, Float64Array.from(y.data), dyv, 0.1), 1e-6, 1e-7);
        sameOrNear('backward twins', dxs, dxScalar);
        cv.activationBackward(kind, y, dy, dy, 0.1);
        sameOrNear('backward in place', dy.data, dx.data);
      });
    }

  it('NaN propagates through every activation', () => {
    const x = T([5], [NaN, 1, NaN, -1, NaN]),
      y = Z([5]);
    for (const kind of KINDS) {
      cv.activation(kind, x, y);
      expect(
        [0, 2, 4].map((i) => Number.isNaN(y.data[i])),
        kind,
      ).toEqual([true, true, true]);
    }
  });

  it('tanh and sigmoid agree with Math to 3e-7 over [-20, 20]', () => {
    const xv = round32(Array.from({ length: 40001 }, (_, i) => -20 + i * 0.001));
    const x = T([xv.length], xv),
      y = Z([xv.length]);
    for (const kind of ['tanh', 'sigmoid'] as const) {
      cv.activation(kind, x, y);
      expectNear(kind, y.data, R.activationRef(kind, xv), 0, 3e-7);
    }
  });
});

describe(`dense and gemm (${BUILD})`, () => {
  for (const [n, inp, out] of [
    [1, 1, 1],
    [3, 5, 7],
    [4, 8, 4],
    [9, 17, 13],
    [64, 800, 10],
    [2, 33, 65],
  ]) {
    it(`dense x=[${n},${inp}] w=[${out},${inp}]`, () => {
      const xs = [n, inp] as const,
        ws = [out, inp] as const;
      const xv = rand(n * inp),
        wv = rand(out * inp),
        bv = rand(out);
      const x = T([n, inp], xv),
        w = T([out, inp], wv),
        b = T([out], bv),
        y = Z([n, out]);
      const tol = 3e-7 * Math.sqrt(inp) * 4 + 1e-6;
      const [ys, ysc] = twins(() => cv.dense(x, w, b, y).toArray());
      expectNear('forward', ys, R.denseRef(xv, xs, wv, ws, bv), tol, tol);
      sameOrNear('forward twins', ys, ysc, tol);
      const dyv = rand(n * out),
        dy = T([n, out], dyv),
        dx = Z([n, inp]);
      cv.denseBackwardInput(dy, w, dx);
      expectNear('backward input', dx.data, R.denseBackwardInputRef(dyv, xs, wv, ws), tol, tol);
      const dw0 = rand(out * inp),
        dw = T([out, inp], dw0);
      cv.denseBackwardWeight(x, dy, dw);
      const refDw = R.denseBackwardWeightRef(xv, xs, dyv, ws);
      expectNear(
        'backward weight (+=)',
        dw.data,
        refDw.map((v, i) => v + dw0[i]),
        tol,
        tol,
      );
    });
  }

  for (const [m, n, k] of [
    [1, 1, 1],
    [4, 8, 3],
    [5, 9, 17],
    [13, 7, 300],
    [33, 65, 129],
    [256, 64, 64],
  ])
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      it(`gemm m=${m} n=${n} k=${k} transA=${ta} transB=${tb}`, () => {
        const av = rand(m * k),
          bv = rand(k * n);
        const a = T(ta ? [k, m] : [m, k], av),
          b = T(tb ? [n, k] : [k, n], bv);
        const A = (i: number, p: number) => (ta ? av[p * m + i] : av[i * k + p]);
        const B = (p: number, j: number) => (tb ? bv[j * k + p] : bv[p * n + j]);
        const ref = new Float64Array(m * n);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < k; p++) s += A(i, p) * B(p, j);
            ref[i * n + j] = s;
          }
        const c0 = rand(m * n),
          c = T([m, n], c0);
        const tol = 1e-6 * Math.sqrt(k) + 1e-6;
        const [cs, csc] = twins(() => cv.gemm(a, b, c, { transA: ta, transB: tb }).toArray());
        expectNear('c = a·b', cs, ref, tol, tol);
        sameOrNear('twins', cs, csc, tol);
        c.set(c0);
        cv.gemm(a, b, c, { transA: ta, transB: tb, accumulate: true });
        expectNear(
          'c += a·b',
          c.data,
          ref.map((v, i) => v + c0[i]),
          tol,
          tol,
        );
      });
    }
});

describe(`losses (${BUILD})`, () => {
  for (const len of LENGTHS) {
    it(`mse_loss len=${len}`, () => {
      const pv = rand(len),
        tv = rand(len);
      const p = T([len], pv),
        t = T([len], tv),
        g = Z([len]);
      const ref = R.mseLossRef(pv, tv);
      const [l1, l2] = twins(() => cv.mseLoss(p, t, g));
      expect(l1).toBeCloseTo(ref.loss, 6);
      if (BUILD === 'simd') expect(l1).toBe(l2);
      expectNear('grad', g.data, ref.grad, 1e-6, 1e-9);
      expect(cv.mseLoss(p, t)).toBe(l1); // without a gradient buffer
    });
  }

  for (const [n, k] of [
    [1, 2],
    [3, 10],
    [5, 3],
    [64, 10],
    [7, 17],
  ]) {
    it(`softmax_cross_entropy logits=[${n},${k}]`, () => {
      const lv = rand(n * k, -8, 8),
        lab = Array.from({ length: n }, () => rng.int(0, k - 1));
      const logits = T([n, k], lv),
        labels = T([n], lab, 'u32'),
        g = Z([n, k]);
      const ref = R.softmaxCrossEntropyRef(lv, [n, k], lab);
      const loss = cv.softmaxCrossEntropy(logits, labels, g);
      expect(loss).toBeCloseTo(ref.loss, 5);
      expectNear('grad', g.data, ref.grad, 1e-5, 1e-7);
      // Finite differences of the reference loss, independent of its analytic gradient.
      expectClose(
        g.data,
        numericGrad((v) => R.softmaxCrossEntropyRef(v, [n, k], lab).loss, lv),
        1e-3,
        1e-6,
        'grad vs FD',
      );
    });
  }

  it('softmax_cross_entropy stays finite for huge logits', () => {
    const logits = T([2, 3], [1000, -1000, 0, 88, 89, 90]),
      labels = T([2], [1, 2], 'u32');
    const loss = cv.softmaxCrossEntropy(logits, labels);
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeCloseTo(
      R.softmaxCrossEntropyRef(Float64Array.from([1000, -1000, 0, 88, 89, 90]), [2, 3], [1, 2]).loss,
      3,
    );
  });

  it('MSE of the reference is 1/(2n) Σ (x − y)² (a hand example)', () => {
    const p = T([4], [1, 2, 3, 4]),
      t = T([4], [1, 0, 3, 8]);
    expect(cv.mseLoss(p, t)).toBe((0 + 4 + 0 + 16) / 8);
    expect(dot([1], [1])).toBe(1);
  });
});

describe(`optimizers (${BUILD})`, () => {
  for (const len of LENGTHS)
    for (const nesterov of [false, true]) {
      it(`sgd_step len=${len} momentum=0.9 wd=1e-3 nesterov=${nesterov}, 3 steps`, () => {
        const pv = rand(len),
          vv = new Float64Array(len);
        const p = T([len], pv),
          v = Z([len]);
        const ref = Float64Array.from(pv);
        for (let s = 0; s < 3; s++) {
          const gv = rand(len),
            g = T([len], gv);
          cv.sgdStep(p, g, v, { lr: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov });
          R.sgdStepRef(ref, gv, vv, { lr: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov });
        }
        expectNear('params', p.data, ref, 1e-5, 1e-6);
        expectNear('velocity', v.data, vv, 1e-5, 1e-6);
      });
    }

  for (const len of LENGTHS) {
    it(`adam_step len=${len} (AdamW, wd=0.01), 4 steps`, () => {
      const pv = rand(len);
      const p = T([len], pv),
        m = Z([len]),
        v = Z([len]);
      const ref = Float64Array.from(pv),
        mr = new Float64Array(len),
        vr = new Float64Array(len);
      for (let step = 1; step <= 4; step++) {
        const gv = rand(len),
          g = T([len], gv);
        const o = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step };
        cv.adamStep(p, g, m, v, o);
        R.adamStepRef(ref, gv, mr, vr, o);
      }
      expectNear('params', p.data, ref, 1e-5, 1e-6);
      expectNear('m', m.data, mr, 1e-5, 1e-7);
      expectNear('v', v.data, vr, 1e-5, 1e-8);
    });
  }

  it('SIMD optimizer paths equal their scalar twins', () => {
    const len = 1003,
      pv = rand(len),
      gv = rand(len);
    const run = () => {
      const p = T([len], pv),
        g = T([len], gv),
        v = Z([len]),
        m = Z([len]),
        a = Z([len]);
      cv.sgdStep(p, g, v, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true });
      cv.adamStep(p, g, m, a, { lr: 1e-3, step: 1, weightDecay: 0.1 });
      return p.toArray();
    };
    const [s, sc] = twins(run);
    sameOrNear('sgd+adam', s, sc);
  });
});

describe(`axpby (${BUILD})`, () => {
  for (const len of LENGTHS) {
    it(`axpby len=${len}: against f64, symmetric bit for bit (both replicas of a data-parallel step agree), SIMD = scalar twin`, () => {
      const xv = rand(len),
        yv = rand(len, -3, 3),
        a = 0.40625,
        b = 0.59375;
      const run = (first: ArrayLike<number>, wa: number, second: ArrayLike<number>, wb: number) => {
        const x = T([len], first),
          y = T([len], second);
        cv.axpby(x, wa, y, wb);
        return x.toArray();
      };
      const got = run(xv, a, yv, b);
      expectNear(
        'axpby',
        got,
        xv.map((v, i) => a * v + b * yv[i]),
        1e-6,
        1e-6,
      );
      expectBitEqual('axpby symmetric', got, run(yv, b, xv, a));
      const [s, sc] = twins(() => run(xv, a, yv, b));
      expectBitEqual('axpby twins', s, sc);
    });
  }
  it('axpby refuses sizes that differ and an output that is its input', () => {
    const x = T([5], rand(5)),
      y = T([4], rand(4));
    expect(() => cv.axpby(x, 1, y, 1)).toThrow(cv.ShapeError);
    expect(() => cv.axpby(x, 1, x, 1)).toThrow();
  });
});
