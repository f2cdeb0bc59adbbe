/**
 * conv2d, conv_transpose2d and their gradients against the independent f64
 * references (test/reference/conv.ts) over a grid of shapes: channels below, at
 * and above the vector width (4) and not multiples of it, odd sizes, strides
 * 1–3, padding 0–2, batch 1 and 3, square and non-square kernels. In SIMD
 * builds the same calls also run on the scalar twins and must match bit for
 * bit (simd) or within rounding (relaxed FMA).
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import * as R from '../reference/conv.js';
import { Rng } from '../util/rng.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { expectBitEqual, expectNear, round32 } from '../util/tensors.js';

const be = await backendUnderTest();
const rng = new Rng(20261128);

interface ConvCase {
  n: number;
  cIn: number;
  h: number;
  w: number;
  cOut: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

/** A deterministic grid: every value of each axis appears, combined by a fixed pseudo-random walk. */
function convGrid(): ConvCase[] {
  const cases: ConvCase[] = [
    // The paper's shapes, shrunk in batch.
    { n: 2, cIn: 1, h: 28, w: 28, cOut: 20, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0 },
    { n: 2, cIn: 20, h: 12, w: 12, cOut: 50, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0 },
    // 1×1 convolution, and a kernel as large as the input.
    { n: 3, cIn: 5, h: 7, w: 6, cOut: 9, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0 },
    { n: 1, cIn: 3, h: 5, w: 5, cOut: 4, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0 },
  ];
  const g = new Rng(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(g.uniform(0, xs.length))];
  for (let i = 0; i < 36; i++) {
    const kh = pick([1, 2, 3, 5]),
      kw = pick([1, 2, 3, 4]);
    const ph = Math.min(pick([0, 1, 2]), kh - 1),
      pw = Math.min(pick([0, 1, 2]), kw - 1);
    cases.push({
      n: pick([1, 3]),
      cIn: pick([1, 3, 4, 5, 8]),
      h: pick([5, 7, 8, 11]),
      w: pick([5, 6, 9, 13]),
      cOut: pick([1, 3, 4, 5, 9, 17]),
      kh,
      kw,
      sh: pick([1, 2, 3]),
      sw: pick([1, 2, 3]),
      ph,
      pw,
    });
  }
  return cases;
}

const label = (c: ConvCase) =>
  `x=[${c.n},${c.cIn},${c.h},${c.w}] w=[${c.cOut},${c.cIn},${c.kh},${c.kw}] s=${c.sh}x${c.sw} p=${c.ph}x${c.pw}`;
const opts = (c: ConvCase) => ({ stride: [c.sh, c.sw] as [number, number], padding: [c.ph, c.pw] as [number, number] });
const refOpts = (c: ConvCase) => ({ sh: c.sh, sw: c.sw, ph: c.ph, pw: c.pw });
const s4 = (a: number[]) => a as unknown as R.Shape4;
const rand = (len: number) => round32(Array.from({ length: len }, () => rng.uniform(-1, 1)));

/** Runs `f` on the SIMD path and on the scalar twins; returns both outputs. */
function bothPaths(out: cv.Tensor, f: () => void): { simd: Float32Array; scalar: Float32Array } {
  f();
  const simd = out.toArray();
  be.setForceScalar(true);
  try {
    f();
  } finally {
    be.setForceScalar(false);
  }
  return { simd, scalar: out.toArray() };
}

function expectTwins(what: string, r: { simd: Float32Array; scalar: Float32Array }) {
  if (BUILD === 'simd') expectBitEqual(`${what}: SIMD vs scalar twin`, r.simd, r.scalar);
  else expectNear(`${what}: SIMD vs scalar twin`, r.simd, r.scalar, 1e-5, 1e-5);
}

const live: cv.Tensor[] = [];
const T = (shape: number[], v: ArrayLike<number>) => {
  const t = be.fromArray(shape, v);
  live.push(t);
  return t;
};
afterAll(() => live.forEach((t) => t.dispose()));

describe(`conv2d (${BUILD})`, () => {
  for (const c of convGrid()) {
    it(label(c), () => {
      const xs = [c.n, c.cIn, c.h, c.w],
        ws = [c.cOut, c.cIn, c.kh, c.kw];
      const xv = rand(xs.reduce((a, b) => a * b)),
        wv = rand(ws.reduce((a, b) => a * b)),
        bv = rand(c.cOut);
      const ref = R.conv2dRef(xv, s4(xs), wv, s4(ws), bv, refOpts(c));
      const ys = [c.n, c.cOut, ref.outH, ref.outW];
      const x = T(xs, xv),
        w = T(ws, wv),
        b = T([c.cOut], bv),
        y = T(ys, new Float32Array(ys.reduce((a, b) => a * b)));
      const terms = c.cIn * c.kh * c.kw;
      const tol = 2e-6 * Math.sqrt(terms) + 1e-6;

      const fwd = bothPaths(y, () => cv.conv2d(x, w, b, y, opts(c)));
      expectNear('forward', fwd.simd, ref.y, tol, tol);
      expectTwins('forward', fwd);

      // Input gradient (overwrites dx): upstream gradient dy of distinct random values.
      const dyv = rand(y.size);
      const dy = T(ys, dyv),
        dx = T(xs, rand(x.size));
      const refDx = R.conv2dBackwardInputRef(dyv, s4(xs), wv, s4(ws), refOpts(c));
      const bi = bothPaths(dx, () => cv.conv2dBackwardInput(dy, w, dx, opts(c)));
      expectNear('backward input', bi.simd, refDx, 4e-6 * Math.sqrt(c.cOut * c.kh * c.kw) + 1e-6, 1e-5);
      expectTwins('backward input', bi);

      // Weight gradient accumulates onto what is already there.
      const dw0 = rand(w.size);
      const dw = T(ws, dw0);
      const refDw = R.conv2dBackwardWeightRef(xv, s4(xs), dyv, s4(ws), refOpts(c));
      cv.conv2dBackwardWeight(x, dy, dw, opts(c));
      const got = dw.toArray();
      const wtol = 4e-6 * Math.sqrt(c.n * ref.outH * ref.outW) + 1e-5;
      expectNear(
        'backward weight (+=)',
        got,
        refDw.map((v, i) => v + dw0[i]),
        wtol,
        wtol,
      );
      dw.set(dw0);
      const bw = bothPaths(dw, () => {
        dw.set(dw0);
        cv.conv2dBackwardWeight(x, dy, dw, opts(c));
      });
      expectTwins('backward weight', bw);

      // Bias gradient accumulates too.
      const db = T([c.cOut], new Float32Array(c.cOut).fill(0.5));
      cv.biasBackward(dy, db);
      expectNear(
        'bias backward (+=)',
        db.toArray(),
        R.biasBackwardRef(dyv, c.n, c.cOut, ref.outH * ref.outW).map((v) => v + 0.5),
        1e-5,
        1e-5,
      );
    });
  }
});

interface ConvTCase extends ConvCase {
  oph: number;
  opw: number;
}

function convTGrid(): ConvTCase[] {
  const g = new Rng(11);
  const pick = <T>(xs: T[]) => xs[Math.floor(g.uniform(0, xs.length))];
  const cases: ConvTCase[] = [
    // The paper's decoders: 20 maps → 1 image, 50 → 20 (stride 1, no padding).
    { n: 2, cIn: 20, h: 24, w: 24, cOut: 1, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0, oph: 0, opw: 0 },
    { n: 2, cIn: 50, h: 8, w: 8, cOut: 20, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0, oph: 0, opw: 0 },
  ];
  for (let i = 0; i < 24; i++) {
    const kh = pick([1, 2, 3, 5]),
      kw = pick([1, 2, 3, 4]),
      sh = pick([1, 2, 3]),
      sw = pick([1, 2, 3]);
    cases.push({
      n: pick([1, 3]),
      cIn: pick([1, 3, 4, 5, 8]),
      h: pick([1, 3, 4, 6]),
      w: pick([2, 3, 5, 7]),
      cOut: pick([1, 3, 4, 5, 9]),
      kh,
      kw,
      sh,
      sw,
      ph: Math.min(pick([0, 1, 2]), kh - 1),
      pw: Math.min(pick([0, 1, 2]), kw - 1),
      oph: Math.floor(g.uniform(0, sh)),
      opw: Math.floor(g.uniform(0, sw)),
    });
  }
  return cases.filter(
    (c) =>
      typeof cv.convTransposeOut(c.h, c.kh, c.sh, c.ph, c.oph) === 'number' &&
      typeof cv.convTransposeOut(c.w, c.kw, c.sw, c.pw, c.opw) === 'number',
  );
}

describe(`conv_transpose2d (${BUILD})`, () => {
  for (const c of convTGrid()) {
    it(`x=[${c.n},${c.cIn},${c.h},${c.w}] w=[${c.cIn},${c.cOut},${c.kh},${c.kw}] s=${c.sh}x${c.sw} p=${c.ph}x${c.pw} op=${c.oph}x${c.opw}`, () => {
      const o = {
        stride: [c.sh, c.sw] as [number, number],
        padding: [c.ph, c.pw] as [number, number],
        outputPadding: [c.oph, c.opw] as [number, number],
      };
      const ro = { sh: c.sh, sw: c.sw, ph: c.ph, pw: c.pw, oph: c.oph, opw: c.opw };
      const xs = [c.n, c.cIn, c.h, c.w],
        ws = [c.cIn, c.cOut, c.kh, c.kw];
      const xv = rand(xs.reduce((a, b) => a * b)),
        wv = rand(ws.reduce((a, b) => a * b)),
        bv = rand(c.cOut);
      const ref = R.convTranspose2dRef(xv, s4(xs), wv, s4(ws), bv, ro);
      const ys = [c.n, c.cOut, ref.outH, ref.outW];
      const x = T(xs, xv),
        w = T(ws, wv),
        b = T([c.cOut], bv),
        y = T(ys, new Float32Array(ys.reduce((a, b) => a * b)));
      const tol = 4e-6 * Math.sqrt(c.cIn * c.kh * c.kw) + 1e-6;

      const fwd = bothPaths(y, () => cv.convTranspose2d(x, w, b, y, o));
      expectNear('forward', fwd.simd, ref.y, tol, tol);
      expectTwins('forward', fwd);

      const dyv = rand(y.size);
      const dy = T(ys, dyv),
        dx = T(xs, rand(x.size));
      const bi = bothPaths(dx, () => cv.convTranspose2dBackwardInput(dy, w, dx, o));
      expectNear(
        'backward input',
        bi.simd,
        R.convTranspose2dBackwardInputRef(dyv, s4(xs), wv, s4(ws), ro),
        4e-6 * Math.sqrt(c.cOut * c.kh * c.kw) + 1e-6,
        1e-5,
      );
      expectTwins('backward input', bi);

      const dw0 = rand(w.size);
      const dw = T(ws, dw0);
      cv.convTranspose2dBackwardWeight(x, dy, dw, o);
      const refDw = R.convTranspose2dBackwardWeightRef(xv, s4(xs), dyv, s4(ws), ro);
      const wtol = 4e-6 * Math.sqrt(c.n * c.h * c.w) + 1e-5;
      expectNear(
        'backward weight (+=)',
        dw.toArray(),
        refDw.map((v, i) => v + dw0[i]),
        wtol,
        wtol,
      );
    });
  }
});

describe(`tied decoding (${BUILD})`, () => {
  it("conv_transpose2d with the encoder's weight is the seed's Σ_k h^k ∗ W̃^k (full conv with flipped kernels)", () => {
    for (const [n, K, H, W, C, k] of [
      [2, 20, 24, 24, 1, 5],
      [1, 7, 6, 5, 3, 3],
      [3, 4, 5, 5, 2, 2],
    ]) {
      const hv = rand(n * K * H * W),
        wv = rand(K * C * k * k),
        cvb = rand(C);
      const ref = R.fullConvFlippedRef(hv, [n, K, H, W], wv, [K, C, k, k], cvb).y;
      const h = T([n, K, H, W], hv),
        wEnc = T([K, C, k, k], wv),
        c = T([C], cvb);
      const y = T([n, C, H + k - 1, W + k - 1], new Float32Array(n * C * (H + k - 1) * (W + k - 1)));
      cv.convTranspose2d(h, wEnc, c, y);
      const tol = 4e-6 * Math.sqrt(K * k * k) + 1e-6;
      expectNear(`n=${n} K=${K} ${H}x${W} C=${C} k=${k}`, y.toArray(), ref, tol, tol);
    }
  });

  it('both uses of a tied weight accumulate into one gradient buffer', () => {
    const xs = [2, 3, 9, 9],
      ws = [4, 3, 3, 3];
    const xv = rand(2 * 3 * 81),
      wv = rand(4 * 27);
    const x = T(xs, xv),
      w = T(ws, wv);
    const h = T([2, 4, 7, 7], new Float32Array(2 * 4 * 49));
    cv.conv2d(x, w, null, h);
    const hv = Float64Array.from(h.data);
    const dyv = rand(2 * 3 * 81),
      dy = T(xs, dyv);
    const dw = T(ws, new Float32Array(4 * 27));
    cv.conv2dBackwardWeight(x, h, dw); // encoder use (upstream gradient = h, any tensor of h's shape works)
    cv.convTranspose2dBackwardWeight(h, dy, dw); // decoder use of the same W
    const dec = R.convTranspose2dBackwardWeightRef(hv, [2, 4, 7, 7], dyv, s4(ws), {
      sh: 1,
      sw: 1,
      ph: 0,
      pw: 0,
      oph: 0,
      opw: 0,
    });
    const expected = R.conv2dBackwardWeightRef(xv, s4(xs), hv, s4(ws), { sh: 1, sw: 1, ph: 0, pw: 0 }).map(
      (v, i) => v + dec[i],
    );
    expectNear('dW = encoder part + decoder part', dw.toArray(), expected, 1e-4, 1e-4);
    expect(dw.toArray().some((v) => v !== 0)).toBe(true);
  });
});
