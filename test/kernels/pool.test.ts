/**
 * max_pool2d with switches, its backward, max_unpool2d and its backward, against
 * the f64 references (test/reference/pool.ts), plus the tie, NaN, all-negative
 * and overlapping-window policies written out by hand.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import * as R from '../reference/pool.js';
import { Rng } from '../util/rng.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { expectBitEqual, expectNear, round32 } from '../util/tensors.js';

const be = await backendUnderTest();
const rng = new Rng(99);
const live: cv.Tensor[] = [];
const T = (shape: number[], v: ArrayLike<number>, dtype: cv.DType = 'f32') => {
  const t = be.fromArray(shape, v, dtype);
  live.push(t);
  return t;
};
const E = (shape: number[], dtype: cv.DType = 'f32') => {
  const t = be.zeros(shape, dtype);
  live.push(t);
  return t;
};
afterAll(() => live.forEach((t) => t.dispose()));

const grid: [number, number, number, number, number, number, number, number][] = [
  // n, c, h, w, kh, kw, sh, sw
  [2, 20, 24, 24, 2, 2, 2, 2],
  [1, 1, 5, 5, 2, 2, 2, 2],
  [3, 3, 7, 9, 2, 2, 2, 2],
  [1, 5, 8, 8, 3, 3, 2, 2],
  [2, 4, 9, 7, 3, 3, 1, 1],
  [1, 7, 10, 11, 3, 2, 3, 2],
  [1, 1, 4, 4, 4, 4, 1, 1],
  [3, 9, 13, 5, 1, 1, 1, 1],
  [1, 2, 6, 6, 2, 3, 1, 3],
];

describe(`max_pool2d / max_unpool2d (${BUILD})`, () => {
  for (const [n, c, h, w, kh, kw, sh, sw] of grid) {
    it(`x=[${n},${c},${h},${w}] k=${kh}x${kw} s=${sh}x${sw}`, () => {
      const planes = n * c,
        o = { kernel: [kh, kw] as [number, number], stride: [sh, sw] as [number, number] };
      const xv = round32(rng.distinct(planes * h * w, -3, 3));
      const ref = R.maxPool2dRef(xv, planes, h, w, kh, kw, sh, sw);
      const ys = [n, c, ref.outH, ref.outW];
      const x = T([n, c, h, w], xv),
        y = E(ys),
        s = E(ys, 'u32');
      cv.maxPool2d(x, y, s, o);
      expect(Array.from(s.u32)).toEqual(Array.from(ref.switches));
      expectNear('pooled', y.toArray(), ref.y, 0, 0);

      const dyv = round32(Array.from({ length: y.size }, () => rng.uniform(-1, 1)));
      const dy = T(ys, dyv),
        dx = T([n, c, h, w], new Float32Array(x.size).fill(7));
      cv.maxPool2dBackward(dy, s, dx, o);
      expectNear(
        'pool backward',
        dx.toArray(),
        R.maxPool2dBackwardRef(dyv, ref.switches, planes, h, w, ref.outH, ref.outW),
        1e-6,
        0,
      );

      const u = T([n, c, h, w], new Float32Array(x.size).fill(7));
      cv.maxUnpool2d(y, s, u, o);
      expectNear(
        'unpool',
        u.toArray(),
        R.maxUnpool2dRef(ref.y, ref.switches, planes, ref.outH, ref.outW, h, w),
        1e-6,
        0,
      );

      const gv = round32(Array.from({ length: x.size }, () => rng.uniform(-1, 1)));
      const g = T([n, c, h, w], gv),
        dp = E(ys);
      cv.maxUnpool2dBackward(g, s, dp, o);
      expectNear(
        'unpool backward',
        dp.toArray(),
        R.maxUnpool2dBackwardRef(gv, ref.switches, planes, ref.outH, ref.outW, h, w),
        0,
        0,
      );

      if (BUILD !== 'scalar') {
        const y2 = E(ys),
          s2 = E(ys, 'u32'),
          dx2 = E([n, c, h, w]);
        be.setForceScalar(true);
        try {
          cv.maxPool2d(x, y2, s2, o);
          cv.maxPool2dBackward(dy, s, dx2, o);
        } finally {
          be.setForceScalar(false);
        }
        expectBitEqual('pool SIMD vs scalar', y.data, y2.data);
        expectBitEqual('switches SIMD vs scalar', s.u32, s2.u32);
        expectBitEqual('pool backward SIMD vs scalar', dx.data, dx2.data);
      }
    });
  }

  it('ties: the first index of the window wins', () => {
    const x = T([1, 1, 2, 4], [5, 5, 1, 2, 5, 5, 2, 2]);
    const y = E([1, 1, 1, 2]),
      s = E([1, 1, 1, 2], 'u32');
    cv.maxPool2d(x, y, s);
    expect(Array.from(y.data)).toEqual([5, 2]);
    expect(Array.from(s.u32)).toEqual([0, 3]);
  });

  it('all-negative windows give their (negative) max, not 0 or a tiny positive', () => {
    const x = T([1, 1, 2, 2], [-4, -3, -2.5, -7]);
    const y = E([1, 1, 1, 1]),
      s = E([1, 1, 1, 1], 'u32');
    cv.maxPool2d(x, y, s);
    expect(y.data[0]).toBe(-2.5);
    expect(s.u32[0]).toBe(2);
  });

  it('NaN policy: the first NaN in a window wins, wherever it stands', () => {
    // Windows: [NaN, 1 | 2, 3], [4, NaN | NaN, 0], [1, 2 | 3, NaN] (2×2, stride 2 over 2×6).
    const x = T([1, 1, 2, 6], [NaN, 1, 4, NaN, 1, 2, 2, 3, NaN, 0, 3, NaN]);
    const y = E([1, 1, 1, 3]),
      s = E([1, 1, 1, 3], 'u32');
    cv.maxPool2d(x, y, s);
    expect(Array.from(y.data).map(Number.isNaN)).toEqual([true, true, true]);
    expect(Array.from(s.u32)).toEqual([0, 3, 11]);
    const ref = R.maxPool2dRef(Float64Array.from(x.data), 1, 2, 6, 2, 2, 2, 2);
    expect(Array.from(ref.switches)).toEqual([0, 3, 11]);
  });

  it('overlapping windows: one input picked by two windows receives both gradients', () => {
    // 1×5 row, window 1×3, stride 1: windows [0..2], [1..3], [2..4]; the max 9 at index 2 is in all three.
    const x = T([1, 1, 1, 5], [1, 2, 9, 3, 4]);
    const y = E([1, 1, 1, 3]),
      s = E([1, 1, 1, 3], 'u32');
    const o = { kernel: [1, 3] as [number, number], stride: [1, 1] as [number, number] };
    cv.maxPool2d(x, y, s, o);
    expect(Array.from(s.u32)).toEqual([2, 2, 2]);
    const dy = T([1, 1, 1, 3], [0.5, 0.25, 2]),
      dx = E([1, 1, 1, 5]);
    cv.maxPool2dBackward(dy, s, dx, o);
    expect(Array.from(dx.data)).toEqual([0, 0, 2.75, 0, 0]);
    // 2-D, window 3×3 stride 2 on 5×5: the centre 3×3 corner cells are shared between windows.
    const v = new Float64Array(25).map((_, i) => -i);
    v[12] = 100; // the centre: inside all four windows
    const x2 = T([1, 1, 5, 5], v),
      y2 = E([1, 1, 2, 2]),
      s2 = E([1, 1, 2, 2], 'u32');
    cv.maxPool2d(x2, y2, s2, { kernel: 3, stride: 2 });
    expect(Array.from(s2.u32)).toEqual([12, 12, 12, 12]);
    const dy2 = T([1, 1, 2, 2], [1, 1, 1, 1]),
      dx2 = E([1, 1, 5, 5]);
    cv.maxPool2dBackward(dy2, s2, dx2, { kernel: 3, stride: 2 });
    expect(dx2.data[12]).toBe(4);
    expect(Array.from(dx2.data).reduce((a, b) => a + b)).toBe(4);
  });
});
