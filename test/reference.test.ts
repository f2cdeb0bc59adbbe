/**
 * Self-checks of the f64 references in test/reference/, with no wasm involved:
 * every backward reference is compared to central finite differences of its
 * forward reference, transposed ops are checked as adjoints of the ops they
 * transpose, and a few tiny cases are worked out by hand in comments.
 * The kernel tests then trust these references.
 */
import { describe, it, expect } from 'vitest';
import { Rng, distinctMargin } from './util/rng.js';
import { numericGrad, expectClose, compare, dot } from './util/fd.js';
import {
  type Shape4,
  conv2dRef,
  conv2dBackwardInputRef,
  conv2dBackwardWeightRef,
  biasBackwardRef,
  convTranspose2dRef,
  convTranspose2dBackwardInputRef,
  convTranspose2dBackwardWeightRef,
  fullConvFlippedRef,
} from './reference/conv.js';
import { maxPool2dRef, maxPool2dBackwardRef, maxUnpool2dRef, maxUnpool2dBackwardRef } from './reference/pool.js';
import {
  type ActivationKind,
  activationRef,
  activationBackwardRef,
  denseRef,
  denseBackwardInputRef,
  denseBackwardWeightRef,
  mseLossRef,
  softmaxCrossEntropyRef,
  sgdStepRef,
  adamStepRef,
} from './reference/elementwise.js';

// Analytic vs finite-difference gradients, both f64. The losses below are
// quadratic (or piecewise quadratic) in the perturbed variable, where the
// central difference is exact up to rounding, so these are tight.
const RTOL = 1e-6;
const ATOL = 1e-8;

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
/** L = Σ y²/2, so dL/dy = y (not all ones: every output weighs differently). */
const halfSumSq = (y: Float64Array) => dot(y, y) / 2;
const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

interface ConvCase {
  x: Shape4;
  w: Shape4;
  s: [number, number];
  p: [number, number];
}
const convLabel = (c: ConvCase) => `x=${fmt(c.x)} w=${fmt(c.w)} s=${fmt(c.s)} p=${fmt(c.p)}`;
const convParams = (c: ConvCase) => ({ sh: c.s[0], sw: c.s[1], ph: c.p[0], pw: c.p[1] });

const CONV_CASES: ConvCase[] = [
  { x: [1, 1, 5, 5], w: [1, 1, 3, 3], s: [1, 1], p: [0, 0] },
  { x: [2, 3, 7, 6], w: [4, 3, 3, 3], s: [2, 2], p: [1, 1] },
  { x: [2, 2, 8, 8], w: [2, 2, 4, 4], s: [2, 2], p: [1, 1] },
  { x: [1, 2, 6, 7], w: [3, 2, 2, 3], s: [2, 1], p: [1, 0] },
  // stride 3 leaves the last input row unused (its gradient must be 0).
  { x: [1, 1, 6, 6], w: [1, 1, 3, 3], s: [3, 3], p: [1, 1] },
  { x: [1, 3, 4, 5], w: [2, 3, 1, 1], s: [2, 2], p: [0, 0] },
];

describe('reference conv2d', () => {
  // (g) A hand-computed example.
  it('x=[1,1,3,3] w=[1,1,2,2] s=1 p=0 bias=0.5: hand-computed', () => {
    // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,2],[3,4]], b = 0.5, output 2×2:
    // y00 = 1·1 + 2·2 + 4·3 + 5·4 + 0.5 = 1 + 4 + 12 + 20 + 0.5 = 37.5
    // y01 = 2·1 + 3·2 + 5·3 + 6·4 + 0.5 = 2 + 6 + 15 + 24 + 0.5 = 47.5
    // y10 = 4·1 + 5·2 + 7·3 + 8·4 + 0.5 = 4 + 10 + 21 + 32 + 0.5 = 67.5
    // y11 = 5·1 + 6·2 + 8·3 + 9·4 + 0.5 = 5 + 12 + 24 + 36 + 0.5 = 77.5
    const x = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = Float64Array.from([1, 2, 3, 4]);
    const r = conv2dRef(x, [1, 1, 3, 3], w, [1, 1, 2, 2], Float64Array.from([0.5]), { sh: 1, sw: 1, ph: 0, pw: 0 });
    expect([r.outH, r.outW]).toEqual([2, 2]);
    expect(Array.from(r.y)).toEqual([37.5, 47.5, 67.5, 77.5]);
  });

  it('x=[1,1,3,3] w=[1,1,2,2] s=2 p=1: hand-computed', () => {
    // Same x, w; no bias. outH = floor((3 + 2 − 2)/2) + 1 = 2. Output (i,j)
    // reads rows 2i−1, 2i and cols 2j−1, 2j; row/col −1 is padding (0):
    // y00: only x(0,0)·w(1,1)                      = 1·4                   = 4
    // y01: x(0,1)·w(1,0) + x(0,2)·w(1,1)           = 2·3 + 3·4             = 18
    // y10: x(1,0)·w(0,1) + x(2,0)·w(1,1)           = 4·2 + 7·4             = 36
    // y11: x(1,1)·1 + x(1,2)·2 + x(2,1)·3 + x(2,2)·4 = 5 + 12 + 24 + 36    = 77
    const x = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = Float64Array.from([1, 2, 3, 4]);
    const r = conv2dRef(x, [1, 1, 3, 3], w, [1, 1, 2, 2], null, { sh: 2, sw: 2, ph: 1, pw: 1 });
    expect([r.outH, r.outW]).toEqual([2, 2]);
    expect(Array.from(r.y)).toEqual([4, 18, 36, 77]);
  });

  it('x=[1,2,2,2] w=[2,2,1,1]: 1×1 conv mixes channels (hand-computed)', () => {
    // x channel 0 = [1,2,3,4], channel 1 = [10,20,30,40];
    // w = [[1, 0.5], [−1, 2]] (o, c): y0 = x0 + 0.5·x1 = [6,12,18,24],
    // y1 = −x0 + 2·x1 = [19,38,57,76].
    const x = Float64Array.from([1, 2, 3, 4, 10, 20, 30, 40]);
    const w = Float64Array.from([1, 0.5, -1, 2]);
    const r = conv2dRef(x, [1, 2, 2, 2], w, [2, 2, 1, 1], null, { sh: 1, sw: 1, ph: 0, pw: 0 });
    expect(Array.from(r.y)).toEqual([6, 12, 18, 24, 19, 38, 57, 76]);
  });

  // (a) Backward references against finite differences, loss Σ y²/2.
  describe.each(CONV_CASES.map((c) => [convLabel(c), c] as const))('%s', (_label, c) => {
    const rng = new Rng(0xc0ffee);
    const x = rng.uniformArray(numel(c.x), -1, 1);
    const w = rng.uniformArray(numel(c.w), -1, 1);
    const b = rng.uniformArray(c.w[0], -1, 1);
    const p = convParams(c);
    const fwd = conv2dRef(x, c.x, w, c.w, b, p);
    const dy = fwd.y; // dL/dy for L = Σ y²/2

    it('backward input = FD', () => {
      const fd = numericGrad((xx) => halfSumSq(conv2dRef(xx, c.x, w, c.w, b, p).y), x);
      expectClose(conv2dBackwardInputRef(dy, c.x, w, c.w, p), fd, RTOL, ATOL, `dx ${convLabel(c)}`);
    });
    it('backward weight = FD', () => {
      const fd = numericGrad((ww) => halfSumSq(conv2dRef(x, c.x, ww, c.w, b, p).y), w);
      expectClose(conv2dBackwardWeightRef(x, c.x, dy, c.w, p), fd, RTOL, ATOL, `dw ${convLabel(c)}`);
    });
    it('bias backward = FD', () => {
      const fd = numericGrad((bb) => halfSumSq(conv2dRef(x, c.x, w, c.w, bb, p).y), b);
      expectClose(biasBackwardRef(dy, c.x[0], c.w[0], fwd.outH * fwd.outW), fd, RTOL, ATOL, `db ${convLabel(c)}`);
    });
  });

  it('x=[1,1,6,6] w=[1,1,3,3] s=3 p=1: the unused last row and col get zero gradient', () => {
    const rng = new Rng(7);
    const x = rng.uniformArray(36, -1, 1);
    const w = rng.uniformArray(9, -1, 1);
    const p = { sh: 3, sw: 3, ph: 1, pw: 1 };
    const { y } = conv2dRef(x, [1, 1, 6, 6], w, [1, 1, 3, 3], null, p);
    const dx = conv2dBackwardInputRef(y, [1, 1, 6, 6], w, [1, 1, 3, 3], p);
    for (let k = 0; k < 6; k++) {
      expect(dx[5 * 6 + k]).toBe(0);
      expect(dx[k * 6 + 5]).toBe(0);
    }
  });
});

interface ConvTCase {
  x: Shape4;
  w: Shape4; // [C_in, C_out, kh, kw]
  s: [number, number];
  p: [number, number];
  op: [number, number];
}
const convTLabel = (c: ConvTCase) => `x=${fmt(c.x)} w=${fmt(c.w)} s=${fmt(c.s)} p=${fmt(c.p)} op=${fmt(c.op)}`;
const convTParams = (c: ConvTCase) => ({ sh: c.s[0], sw: c.s[1], ph: c.p[0], pw: c.p[1], oph: c.op[0], opw: c.op[1] });

const CONVT_CASES: ConvTCase[] = [
  { x: [1, 1, 3, 3], w: [1, 1, 3, 3], s: [1, 1], p: [0, 0], op: [0, 0] },
  { x: [1, 2, 3, 3], w: [2, 3, 3, 3], s: [2, 2], p: [1, 1], op: [1, 1] },
  { x: [2, 1, 4, 3], w: [1, 2, 2, 3], s: [2, 1], p: [0, 1], op: [1, 0] },
  { x: [1, 2, 3, 4], w: [2, 2, 4, 4], s: [2, 2], p: [1, 1], op: [0, 0] },
  { x: [1, 1, 2, 2], w: [1, 2, 3, 3], s: [3, 3], p: [1, 1], op: [2, 1] },
];

describe('reference conv_transpose2d', () => {
  it('x=[1,1,2,2] w=[1,1,2,2] of ones, s=1 p=0: hand-computed', () => {
    // x = [[1,2],[3,4]] scattered through a 2×2 block of ones, output 3×3:
    // y[a][b] = Σ x[i][j] over i ∈ {a−1, a}, j ∈ {b−1, b}:
    // row 0: 1, 1+2=3, 2;  row 1: 1+3=4, 1+2+3+4=10, 2+4=6;  row 2: 3, 3+4=7, 4.
    const r = convTranspose2dRef(
      Float64Array.from([1, 2, 3, 4]),
      [1, 1, 2, 2],
      new Float64Array(4).fill(1),
      [1, 1, 2, 2],
      null,
      {
        sh: 1,
        sw: 1,
        ph: 0,
        pw: 0,
        oph: 0,
        opw: 0,
      },
    );
    expect([r.outH, r.outW]).toEqual([3, 3]);
    expect(Array.from(r.y)).toEqual([1, 3, 2, 4, 10, 6, 3, 7, 4]);
  });

  it('x=[1,1,2,2] w=[1,1,2,2] s=2 p=0 op=1 bias=0.25: hand-computed', () => {
    // outH = (2−1)·2 − 0 + 2 + 1 = 5. w = [[1,10],[100,1000]]: each x[i][j]
    // writes x·w into the 2×2 block at rows 2i..2i+1, cols 2j..2j+1 (no overlap);
    // the output-padding row 4 and col 4 receive only the bias.
    const r = convTranspose2dRef(
      Float64Array.from([1, 2, 3, 4]),
      [1, 1, 2, 2],
      Float64Array.from([1, 10, 100, 1000]),
      [1, 1, 2, 2],
      Float64Array.from([0.25]),
      {
        sh: 2,
        sw: 2,
        ph: 0,
        pw: 0,
        oph: 1,
        opw: 1,
      },
    );
    expect([r.outH, r.outW]).toEqual([5, 5]);
    const b = 0.25;
    expect(Array.from(r.y)).toEqual([
      1 + b,
      10 + b,
      2 + b,
      20 + b,
      b,
      100 + b,
      1000 + b,
      200 + b,
      2000 + b,
      b,
      3 + b,
      30 + b,
      4 + b,
      40 + b,
      b,
      300 + b,
      3000 + b,
      400 + b,
      4000 + b,
      b,
      b,
      b,
      b,
      b,
      b,
    ]);
  });

  describe.each(CONVT_CASES.map((c) => [convTLabel(c), c] as const))('%s', (_label, c) => {
    const rng = new Rng(0xbeef);
    const x = rng.uniformArray(numel(c.x), -1, 1);
    const w = rng.uniformArray(numel(c.w), -1, 1);
    const b = rng.uniformArray(c.w[1], -1, 1);
    const p = convTParams(c);
    const fwd = convTranspose2dRef(x, c.x, w, c.w, b, p);
    const dy = fwd.y;

    it('backward input = FD', () => {
      const fd = numericGrad((xx) => halfSumSq(convTranspose2dRef(xx, c.x, w, c.w, b, p).y), x);
      expectClose(convTranspose2dBackwardInputRef(dy, c.x, w, c.w, p), fd, RTOL, ATOL, `dx ${convTLabel(c)}`);
    });
    it('backward weight = FD', () => {
      const fd = numericGrad((ww) => halfSumSq(convTranspose2dRef(x, c.x, ww, c.w, b, p).y), w);
      expectClose(convTranspose2dBackwardWeightRef(x, c.x, dy, c.w, p), fd, RTOL, ATOL, `dw ${convTLabel(c)}`);
    });
    it('bias backward = FD', () => {
      const fd = numericGrad((bb) => halfSumSq(convTranspose2dRef(x, c.x, w, c.w, bb, p).y), b);
      expectClose(biasBackwardRef(dy, c.x[0], c.w[1], fwd.outH * fwd.outW), fd, RTOL, ATOL, `db ${convTLabel(c)}`);
    });
  });
});

// (b) conv_transpose2d with the conv2d weight unchanged is conv2d's adjoint.
describe('reference conv_transpose2d is the adjoint of conv2d', () => {
  describe.each(CONV_CASES.map((c) => [convLabel(c), c] as const))('%s', (_label, c) => {
    const [N, C, H, W] = c.x;
    const [O, , KH, KW] = c.w;
    const p = convParams(c);
    // The output padding that makes conv_transpose2d map conv2d's output size back to H, W.
    const oph = (H + 2 * p.ph - KH) % p.sh;
    const opw = (W + 2 * p.pw - KW) % p.sw;
    const pt = { ...p, oph, opw };
    const rng = new Rng(42);
    const x = rng.uniformArray(numel(c.x), -1, 1);
    const w = rng.uniformArray(numel(c.w), -1, 1);
    const { y: cx, outH, outW } = conv2dRef(x, c.x, w, c.w, null, p);
    const yShape: Shape4 = [N, O, outH, outW];
    const yy = rng.uniformArray(numel(yShape), -1, 1);

    it(`<conv(x), y> = <x, convT(y)> (op=[${oph},${opw}])`, () => {
      const t = convTranspose2dRef(yy, yShape, w, c.w, null, pt);
      expect([t.outH, t.outW]).toEqual([H, W]);
      const lhs = dot(cx, yy);
      const rhs = dot(x, t.y);
      expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(lhs)));
    });
    it('conv2d backward input = conv_transpose2d forward', () => {
      const t = convTranspose2dRef(yy, yShape, w, c.w, null, pt);
      expectClose(conv2dBackwardInputRef(yy, c.x, w, c.w, p), t.y, 1e-12, 1e-12, 'dx vs convT');
    });
    it('conv_transpose2d backward input = conv2d forward', () => {
      const g = rng.uniformArray(N * C * H * W, -1, 1);
      expectClose(
        convTranspose2dBackwardInputRef(g, yShape, w, c.w, pt),
        conv2dRef(g, c.x, w, c.w, null, p).y,
        1e-12,
        1e-12,
        'convT dx vs conv',
      );
    });
    it('conv_transpose2d backward weight = conv2d backward weight (roles swapped)', () => {
      // convT(yy; w) has output of x's shape; for upstream g of that shape,
      // dw_T[o,c,ki,kj] = Σ yy[n,o,i,j]·g[n,c,i·s−p+ki, …] = conv2d's dw with x := g, dy := yy.
      const g = rng.uniformArray(N * C * H * W, -1, 1);
      expectClose(
        convTranspose2dBackwardWeightRef(yy, yShape, g, c.w, pt),
        conv2dBackwardWeightRef(g, c.x, yy, c.w, p),
        1e-12,
        1e-12,
        'convT dw vs conv dw',
      );
    });
  });
});

// (c) The seed's tied decoder formula equals conv_transpose2d with the encoder weight unchanged.
describe('reference fullConvFlipped = conv_transpose2d(h, W_enc) for s=1 p=0', () => {
  const cases: Array<{ h: Shape4; w: Shape4 }> = [
    { h: [1, 1, 3, 3], w: [1, 1, 2, 2] },
    { h: [2, 3, 5, 4], w: [3, 2, 3, 2] },
    { h: [1, 4, 6, 6], w: [4, 1, 5, 5] },
    { h: [1, 2, 2, 2], w: [2, 3, 4, 3] }, // kernel larger than the feature map
  ];
  it.each(cases.map((c) => [`h=${fmt(c.h)} w=${fmt(c.w)}`, c] as const))('%s', (_label, c) => {
    const rng = new Rng(99);
    const h = rng.uniformArray(numel(c.h), -1, 1);
    const w = rng.uniformArray(numel(c.w), -1, 1);
    const bias = rng.uniformArray(c.w[1], -1, 1);
    const seed = fullConvFlippedRef(h, c.h, w, c.w, bias);
    const t = convTranspose2dRef(h, c.h, w, c.w, bias, { sh: 1, sw: 1, ph: 0, pw: 0, oph: 0, opw: 0 });
    expect([seed.outH, seed.outW]).toEqual([c.h[2] + c.w[2] - 1, c.h[3] + c.w[3] - 1]);
    expect([t.outH, t.outW]).toEqual([seed.outH, seed.outW]);
    expectClose(seed.y, t.y, 1e-12, 1e-12, 'fullConvFlipped vs convT');
  });

  it('h=[1,1,1,1] w=[1,1,2,2]: a single impulse reproduces the unflipped kernel (hand-computed)', () => {
    // h = [[1]]: full correlation with W̃ = flip(W) gives flip(flip(W)) = W.
    const r = fullConvFlippedRef(
      Float64Array.from([1]),
      [1, 1, 1, 1],
      Float64Array.from([1, 2, 3, 4]),
      [1, 1, 2, 2],
      null,
    );
    expect(Array.from(r.y)).toEqual([1, 2, 3, 4]);
  });
});

// (d) Max pooling.
describe('reference max_pool2d', () => {
  it('first index wins ties; all-negative windows; x=[1,1,2,4] k=2 s=2', () => {
    // Window 0: [[3, 5], [5, 1]] → 5 at (0,1), index 1 (the tie at (1,0) loses).
    // Window 1: [[−3, −1], [−1, −2]] → −1 at (0,3), index 3 (not 0 from a sentinel).
    const x = Float64Array.from([3, 5, -3, -1, 5, 1, -1, -2]);
    const r = maxPool2dRef(x, 1, 2, 4, 2, 2, 2, 2);
    expect(Array.from(r.y)).toEqual([5, -1]);
    expect(Array.from(r.switches)).toEqual([1, 3]);
  });

  it('NaN policy: the first NaN of the window wins; ±inf', () => {
    const x = Float64Array.from([1, NaN, 2, 3, NaN, -Infinity, Infinity, 7, 5, NaN, 9, 4, 0, -Infinity, 1, 2]);
    // 2×8 input, k=2 s=2, windows (row-major within the window):
    // w0: (0,0)=1 (0,1)=NaN (1,0)=5 (1,1)=NaN → NaN, switch 1 (first NaN)
    // w1: (0,2)=2 (0,3)=3 (1,2)=9 (1,3)=4   → 9, switch 10
    // w2: (0,4)=NaN (0,5)=−inf (1,4)=0 (1,5)=−inf → NaN, switch 4 (NaN first)
    // w3: (0,6)=+inf (0,7)=7 (1,6)=1 (1,7)=2 → +inf, switch 6
    const r = maxPool2dRef(x, 1, 2, 8, 2, 2, 2, 2);
    expect(Number.isNaN(r.y[0])).toBe(true);
    expect(r.y[1]).toBe(9);
    expect(Number.isNaN(r.y[2])).toBe(true);
    expect(r.y[3]).toBe(Infinity);
    expect(Array.from(r.switches)).toEqual([1, 10, 4, 6]);
    const allNegInf = maxPool2dRef(
      Float64Array.from([-Infinity, -Infinity, -Infinity, -Infinity]),
      1,
      2,
      2,
      2,
      2,
      1,
      1,
    );
    expect(allNegInf.y[0]).toBe(-Infinity);
    expect(allNegInf.switches[0]).toBe(0);
  });

  it('x=[1,1,5,5] k=3 s=2: the centre picked by all 4 windows gets 4× dy (hand-computed)', () => {
    // Windows start at rows/cols 0 and 2; all four contain (2,2). Make it the max.
    const x = new Float64Array(25).fill(-1);
    x[2 * 5 + 2] = 10;
    const r = maxPool2dRef(x, 1, 5, 5, 3, 3, 2, 2);
    expect(Array.from(r.switches)).toEqual([12, 12, 12, 12]);
    const dx = maxPool2dBackwardRef(Float64Array.from([1, 1, 1, 1]), r.switches, 1, 5, 5, 2, 2);
    const expected = new Float64Array(25);
    expected[12] = 4;
    expect(Array.from(dx)).toEqual(Array.from(expected));
  });

  const poolCases: Array<{ planes: number; h: number; w: number; k: [number, number]; s: [number, number] }> = [
    { planes: 6, h: 6, w: 6, k: [2, 2], s: [2, 2] },
    { planes: 2, h: 7, w: 7, k: [3, 3], s: [2, 2] }, // overlapping windows
    { planes: 1, h: 9, w: 9, k: [3, 3], s: [2, 2] }, // overlapping windows
    { planes: 1, h: 5, w: 8, k: [2, 3], s: [1, 2] },
    { planes: 3, h: 5, w: 5, k: [3, 3], s: [1, 1] },
    { planes: 2, h: 7, w: 5, k: [2, 2], s: [3, 3] }, // gaps: some inputs in no window
  ];
  it.each(poolCases.map((c) => [`planes=${c.planes} x=${c.h}x${c.w} k=${fmt(c.k)} s=${fmt(c.s)}`, c] as const))(
    'backward = FD on distinct inputs: %s',
    (_label, c) => {
      const n = c.planes * c.h * c.w;
      const rng = new Rng(1234);
      const x = rng.distinct(n, -2, 2);
      // The FD step must be far below the gap between values, so no argmax changes.
      expect(distinctMargin(n, -2, 2)).toBeGreaterThan(1e3 * 1e-5);
      const f = (xx: Float64Array) => halfSumSq(maxPool2dRef(xx, c.planes, c.h, c.w, c.k[0], c.k[1], c.s[0], c.s[1]).y);
      const r = maxPool2dRef(x, c.planes, c.h, c.w, c.k[0], c.k[1], c.s[0], c.s[1]);
      const dx = maxPool2dBackwardRef(r.y, r.switches, c.planes, c.h, c.w, r.outH, r.outW);
      expectClose(dx, numericGrad(f, x), RTOL, ATOL, 'pool dx');
    },
  );

  it('overlapping windows k=3 s=2: some input really is the argmax of two windows, and gets both gradients', () => {
    const planes = 2,
      h = 7,
      w = 7;
    const rng = new Rng(1234);
    let found = false;
    // Search a few seeds' inputs for a double pick (a sanity check that the FD
    // test above exercises the accumulate path, not just single picks).
    for (let trial = 0; trial < 20 && !found; trial++) {
      const x = rng.distinct(planes * h * w, -2, 2);
      const r = maxPool2dRef(x, planes, h, w, 3, 3, 2, 2);
      const count = new Map<number, number>();
      for (let p = 0; p < planes; p++) {
        for (let k = 0; k < r.outH * r.outW; k++) {
          const key = p * h * w + r.switches[p * r.outH * r.outW + k];
          count.set(key, (count.get(key) ?? 0) + 1);
        }
      }
      const twice = [...count.entries()].find(([, v]) => v >= 2);
      if (twice === undefined) continue;
      found = true;
      const dy = rng.uniformArray(planes * r.outH * r.outW, 0.5, 1.5);
      const dx = maxPool2dBackwardRef(dy, r.switches, planes, h, w, r.outH, r.outW);
      const f = (xx: Float64Array) => dot(maxPool2dRef(xx, planes, h, w, 3, 3, 2, 2).y, dy);
      expectClose(dx, numericGrad(f, x), RTOL, ATOL, 'pool dx (double pick)');
      // The double-picked input's gradient is the sum of its windows' dy.
      let sum = 0;
      const [key] = twice;
      const p = Math.floor(key / (h * w));
      for (let k = 0; k < r.outH * r.outW; k++)
        if (p * h * w + r.switches[p * r.outH * r.outW + k] === key) sum += dy[p * r.outH * r.outW + k];
      expect(dx[key]).toBeCloseTo(sum, 14);
    }
    expect(found).toBe(true);
  });
});

// (e) Max unpooling.
describe('reference max_unpool2d', () => {
  it('scatter-adds duplicate switches; backward gathers (hand-computed)', () => {
    // 1 plane, pooled 1×3 → original 2×3; switches [4, 0, 4] (position 4 named twice).
    const up = maxUnpool2dRef(Float64Array.from([1, 2, 3]), Uint32Array.from([4, 0, 4]), 1, 1, 3, 2, 3);
    expect(Array.from(up)).toEqual([2, 0, 0, 0, 1 + 3, 0]);
    const back = maxUnpool2dBackwardRef(
      Float64Array.from([10, 11, 12, 13, 14, 15]),
      Uint32Array.from([4, 0, 4]),
      1,
      1,
      3,
      2,
      3,
    );
    expect(Array.from(back)).toEqual([14, 10, 14]);
  });

  const cases = [
    { planes: 3, h: 6, w: 6, k: 2, s: 2 },
    { planes: 2, h: 7, w: 7, k: 3, s: 2 },
    { planes: 1, h: 5, w: 9, k: 3, s: 3 },
  ];
  it.each(cases.map((c) => [`planes=${c.planes} x=${c.h}x${c.w} k=${c.k} s=${c.s}`, c] as const))(
    'unpool and its backward are adjoint: %s',
    (_label, c) => {
      const rng = new Rng(5);
      const pooled = maxPool2dRef(rng.distinct(c.planes * c.h * c.w, -1, 1), c.planes, c.h, c.w, c.k, c.k, c.s, c.s);
      const { outH, outW } = pooled;
      // Switches from real pooling, and arbitrary switches with many duplicates.
      const arbitrary = new Uint32Array(c.planes * outH * outW);
      for (let i = 0; i < arbitrary.length; i++) arbitrary[i] = rng.int(0, Math.min(3, c.h * c.w - 1));
      for (const sw of [pooled.switches, arbitrary]) {
        const x = rng.uniformArray(c.planes * outH * outW, -1, 1);
        const y = rng.uniformArray(c.planes * c.h * c.w, -1, 1);
        const lhs = dot(maxUnpool2dRef(x, sw, c.planes, outH, outW, c.h, c.w), y);
        const rhs = dot(x, maxUnpool2dBackwardRef(y, sw, c.planes, outH, outW, c.h, c.w));
        expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(lhs)));
      }
    },
  );

  it('unpool (scatter-add) equals max_pool2d backward on the same switches', () => {
    const rng = new Rng(6);
    const r = maxPool2dRef(rng.distinct(2 * 7 * 7, -1, 1), 2, 7, 7, 3, 3, 2, 2);
    const v = rng.uniformArray(r.y.length, -1, 1);
    expectClose(
      maxUnpool2dRef(v, r.switches, 2, r.outH, r.outW, 7, 7),
      maxPool2dBackwardRef(v, r.switches, 2, 7, 7, r.outH, r.outW),
      0,
      0,
      'unpool vs pool backward',
    );
  });
});

// (f) Losses, activations, dense.
describe('reference losses', () => {
  it('mse: hand-computed', () => {
    // pred = [1, 2, 4], target = [1, 0, 1]: d = [0, −2, −3], Σd² = 13, n = 3
    // loss = 13/6; grad = (pred − target)/3 = [0, 2/3, 1].
    const r = mseLossRef(Float64Array.from([1, 2, 4]), Float64Array.from([1, 0, 1]));
    expect(r.loss).toBeCloseTo(13 / 6, 15);
    expectClose(r.grad, [0, 2 / 3, 1], 1e-15, 0, 'mse grad');
  });

  it('mse grad = FD, n=37', () => {
    const rng = new Rng(11);
    const pred = rng.uniformArray(37, -2, 2);
    const target = rng.uniformArray(37, -2, 2);
    const fd = numericGrad((pp) => mseLossRef(pp, target).loss, pred);
    expectClose(mseLossRef(pred, target).grad, fd, RTOL, ATOL, 'mse grad');
  });

  it('softmax cross-entropy: hand-computed', () => {
    // One row, logits [0, ln 3], label 1: softmax = [1/4, 3/4],
    // loss = −ln(3/4) = ln(4/3), grad = [1/4, 3/4 − 1] = [0.25, −0.25].
    const r = softmaxCrossEntropyRef(Float64Array.from([0, Math.log(3)]), [1, 2], [1]);
    expect(r.loss).toBeCloseTo(Math.log(4 / 3), 14);
    expectClose(r.grad, [0.25, -0.25], 1e-14, 1e-15, 'sce grad');
  });

  it.each([
    [1, 1],
    [1, 5],
    [4, 3],
    [7, 10],
  ])('softmax cross-entropy grad = FD, n=%i k=%i', (n, k) => {
    const rng = new Rng(12 + n * 31 + k);
    const logits = rng.uniformArray(n * k, -3, 3);
    const labels = Array.from({ length: n }, () => rng.int(0, k - 1));
    const r = softmaxCrossEntropyRef(logits, [n, k], labels);
    const fd = numericGrad((ll) => softmaxCrossEntropyRef(ll, [n, k], labels).loss, logits);
    // Smooth but not quadratic: central-difference truncation error is O(eps²).
    expectClose(r.grad, fd, 1e-6, 1e-9, `sce grad n=${n} k=${k}`);
    // Each row of the gradient sums to 0.
    for (let row = 0; row < n; row++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += r.grad[row * k + j];
      expect(Math.abs(s)).toBeLessThan(1e-15);
    }
  });

  it('softmax cross-entropy survives large logits (max subtraction)', () => {
    const r = softmaxCrossEntropyRef(Float64Array.from([1000, 0]), [1, 2], [0]);
    expect(r.loss).toBeCloseTo(Math.log1p(Math.exp(-1000)), 15);
    expect(Number.isFinite(r.grad[0])).toBe(true);
  });
});

describe('reference activations', () => {
  it('forward: hand-computed', () => {
    const x = Float64Array.from([-2, -0, 0, 3]);
    expect(Array.from(activationRef('identity', x))).toEqual([-2, -0, 0, 3]);
    expect(Object.is(activationRef('relu', x)[1], 0)).toBe(true); // −0 → +0
    expect(Array.from(activationRef('relu', x))).toEqual([0, 0, 0, 3]);
    expect(Array.from(activationRef('leakyRelu', x, 0.1))).toEqual([-0.2, -0, 0, 3]);
    expect(activationRef('sigmoid', Float64Array.from([0]))[0]).toBe(0.5);
    expect(activationRef('tanh', Float64Array.from([0]))[0]).toBe(0);
    expect(Number.isNaN(activationRef('relu', Float64Array.from([NaN]))[0])).toBe(true);
  });

  const kinds: ActivationKind[] = ['identity', 'relu', 'leakyRelu', 'tanh', 'sigmoid'];
  it.each(kinds)('backward from the output = FD: %s', (kind) => {
    const rng = new Rng(21);
    // Distinct values away from 0, so relu's kink is never inside the FD step.
    const x = rng.distinct(40, -3, 3).map((v) => (Math.abs(v) < 0.05 ? v + 0.1 : v));
    const dy = rng.uniformArray(40, -1, 1);
    const alpha = 0.2;
    const y = activationRef(kind, x, alpha);
    const fd = numericGrad((xx) => dot(activationRef(kind, xx, alpha), dy), x);
    expectClose(activationBackwardRef(kind, y, dy, alpha), fd, 1e-6, 1e-9, `${kind} dx`);
  });
});

describe('reference dense', () => {
  it('x=[1,2] w=[2,2] b=[1,-1]: hand-computed', () => {
    // x = [3, 4], w = [[1, 2], [−1, 0.5]]: y0 = 3 + 8 + 1 = 12, y1 = −3 + 2 − 1 = −2.
    expect(
      Array.from(
        denseRef(
          Float64Array.from([3, 4]),
          [1, 2],
          Float64Array.from([1, 2, -1, 0.5]),
          [2, 2],
          Float64Array.from([1, -1]),
        ),
      ),
    ).toEqual([12, -2]);
  });

  it.each([
    [1, 1, 1],
    [3, 5, 4],
    [6, 2, 7],
  ])('backward = FD, n=%i in=%i out=%i', (n, inF, outF) => {
    const rng = new Rng(31);
    const x = rng.uniformArray(n * inF, -1, 1);
    const w = rng.uniformArray(outF * inF, -1, 1);
    const b = rng.uniformArray(outF, -1, 1);
    const y = denseRef(x, [n, inF], w, [outF, inF], b);
    expectClose(
      denseBackwardInputRef(y, [n, inF], w, [outF, inF]),
      numericGrad((xx) => halfSumSq(denseRef(xx, [n, inF], w, [outF, inF], b)), x),
      RTOL,
      ATOL,
      'dense dx',
    );
    expectClose(
      denseBackwardWeightRef(x, [n, inF], y, [outF, inF]),
      numericGrad((ww) => halfSumSq(denseRef(x, [n, inF], ww, [outF, inF], b)), w),
      RTOL,
      ATOL,
      'dense dw',
    );
    expectClose(
      biasBackwardRef(y, n, outF, 1),
      numericGrad((bb) => halfSumSq(denseRef(x, [n, inF], w, [outF, inF], bb)), b),
      RTOL,
      ATOL,
      'dense db',
    );
  });
});

describe('reference optimizers (hand-computed)', () => {
  it('sgd momentum=0.9 wd=0.01 lr=0.1, two steps', () => {
    // p=1, g=0.5 both steps, v=0.
    // step 1: d = 0.5 + 0.01·1 = 0.51; v = 0.51; p = 1 − 0.1·0.51 = 0.949
    // step 2: d = 0.5 + 0.01·0.949 = 0.50949; v = 0.9·0.51 + 0.50949 = 0.96849;
    //         p = 0.949 − 0.096849 = 0.852151
    const p = Float64Array.from([1]),
      g = Float64Array.from([0.5]),
      v = new Float64Array(1);
    const o = { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: false };
    sgdStepRef(p, g, v, o);
    expect(p[0]).toBeCloseTo(0.949, 15);
    expect(v[0]).toBeCloseTo(0.51, 15);
    sgdStepRef(p, g, v, o);
    expect(v[0]).toBeCloseTo(0.96849, 15);
    expect(p[0]).toBeCloseTo(0.852151, 15);
    expect(g[0]).toBe(0.5); // g is read only
  });

  it('sgd nesterov momentum=0.9 wd=0.01 lr=0.1, two steps', () => {
    // p=1, g=0.5 both steps, v=0.
    // step 1: d = 0.51; v = 0.51; d' = d + 0.9·v = 0.51 + 0.459 = 0.969; p = 1 − 0.0969 = 0.9031
    // step 2: d = 0.5 + 0.01·0.9031 = 0.509031; v = 0.9·0.51 + 0.509031 = 0.968031;
    //         d' = 0.509031 + 0.9·0.968031 = 0.509031 + 0.8712279 = 1.3802589;
    //         p = 0.9031 − 0.13802589 = 0.76507411
    // (step 1 alone cannot tell d + m·v from d + m·d, since v = d there.)
    const p = Float64Array.from([1]),
      g = Float64Array.from([0.5]),
      v = new Float64Array(1);
    const o = { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true };
    sgdStepRef(p, g, v, o);
    expect(p[0]).toBeCloseTo(0.9031, 15);
    sgdStepRef(p, g, v, o);
    expect(v[0]).toBeCloseTo(0.968031, 15);
    expect(p[0]).toBeCloseTo(0.76507411, 15);
  });

  it('adamw lr=0.1 β=(0.9,0.999) eps=1e-8 wd=0.01, steps 1 and 2', () => {
    // step 1, p=1, g=0.5: p = 1 − 0.1·0.01·1 = 0.999; m = 0.1·0.5 = 0.05;
    // v = 0.001·0.25 = 0.00025; m̂ = 0.05/0.1 = 0.5; v̂ = 0.00025/0.001 = 0.25;
    // p = 0.999 − 0.1·0.5/(0.5 + 1e-8) = 0.999 − 0.09999999800000004 ≈ 0.899000002
    const p = Float64Array.from([1]),
      g = Float64Array.from([0.5]);
    const m = new Float64Array(1),
      v = new Float64Array(1);
    const o = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 };
    adamStepRef(p, g, m, v, o);
    expect(m[0]).toBeCloseTo(0.05, 15);
    expect(v[0]).toBeCloseTo(0.00025, 15);
    expect(Math.abs(p[0] - 0.899000002)).toBeLessThan(1e-12);
    // step 2, g = −1: p = 0.899000002·(1 − 0.001) = 0.898101001998;
    // m = 0.9·0.05 − 0.1 = −0.055; v = 0.999·0.00025 + 0.001·1 = 0.00124975;
    // m̂ = −0.055/(1 − 0.81) = −0.055/0.19; v̂ = 0.00124975/(1 − 0.998001) = 0.00124975/0.001999;
    // p = 0.898101001998 − 0.1·m̂/(√v̂ + 1e-8)
    const g2 = Float64Array.from([-1]);
    adamStepRef(p, g2, m, v, { ...o, step: 2 });
    const mHat = -0.055 / 0.19;
    const vHat = 0.00124975 / 0.001999;
    const expected = 0.898101001998 - (0.1 * mHat) / (Math.sqrt(vHat) + 1e-8);
    expect(Math.abs(p[0] - expected)).toBeLessThan(1e-12);
  });
});

describe('test utilities', () => {
  it('Rng is deterministic and distinct() keeps its margin', () => {
    const a = new Rng(3).distinct(500, -1, 1);
    const b = new Rng(3).distinct(500, -1, 1);
    expect(Array.from(a)).toEqual(Array.from(b));
    const sorted = Array.from(a).sort((u, v) => u - v);
    for (let i = 1; i < sorted.length; i++)
      expect(sorted[i] - sorted[i - 1]).toBeGreaterThanOrEqual(distinctMargin(500, -1, 1) * (1 - 1e-12));
    expect(sorted[0]).toBeGreaterThanOrEqual(-1);
    expect(sorted[sorted.length - 1]).toBeLessThanOrEqual(1);
    const rng = new Rng(4);
    let s = 0,
      s2 = 0;
    for (let i = 0; i < 20000; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / 20000)).toBeLessThan(0.05);
    expect(Math.abs(s2 / 20000 - 1)).toBeLessThan(0.05);
  });

  it('compare / expectClose report the worst element', () => {
    const c = compare([1, 2, 3.5], [1, 2, 3], { rtol: 0, atol: 0.1 });
    expect(c.ok).toBe(false);
    expect(c.worstIndex).toBe(2);
    expect(c.maxAbs).toBeCloseTo(0.5, 15);
    expect(compare([NaN, Infinity], [NaN, Infinity], { rtol: 0, atol: 0 }).ok).toBe(true);
    expect(compare([1], [NaN], { rtol: 0, atol: 1 }).ok).toBe(false);
    expect(() => expectClose([1, 2, 3.5], [1, 2, 3], 0, 0.1, 'demo')).toThrow(/demo: index 2: actual 3.5, expected 3/);
    expect(() => expectClose([1, 2], [1, 2], 0, 0, 'same')).not.toThrow();
  });

  it('numericGrad of a quadratic is exact to rounding and leaves x untouched', () => {
    const x = Float64Array.from([1, -2, 3]);
    const g = numericGrad((v) => v[0] * v[0] + 3 * v[1] * v[2], x);
    expectClose(g, [2, 9, -6], 1e-9, 1e-9, 'fd');
    expect(Array.from(x)).toEqual([1, -2, 3]);
  });
});
