import { describe, expect, it } from 'vitest';
import * as cv from '../ts/index.js';
import { backendUnderTest } from './util/backend.js';

describe('wasm memory ownership', async () => {
  const be = await backendUnderTest();

  it('a tensor view survives memory growth (views are rebuilt)', () => {
    const t = be.fromArray([4], [1, 2, 3, 4]);
    const before = be.memoryBytes;
    // Allocate enough to force memory.grow, which detaches old views.
    const big = be.empty([4 * 1024 * 1024]);
    expect(be.memoryBytes).toBeGreaterThan(before);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
    big.dispose();
    t.dispose();
  });

  it("fromArray copies another tensor's data even when allocating the copy grows memory (the view detaches)", () => {
    // Larger than what memory holds now, so that the copy's allocation must grow it.
    const n = Math.ceil(be.memoryBytes / 4) + (1 << 20);
    const t = be.empty([n]);
    const d = t.data;
    for (let i = 0; i < n; i += 4099) d[i] = i;
    const before = be.memoryBytes;
    const c = be.fromArray(t.shape, t.data);
    // On wasm the copy grew memory (which detaches the view passed); native's arena never moves.
    if (be.build !== 'native') expect(be.memoryBytes).toBeGreaterThan(before);
    const a = t.data,
      b = c.data;
    for (let i = 0; i < n; i += 4099) expect(b[i]).toBe(a[i]);
    expect(b[n - 1]).toBe(a[n - 1]);
    c.dispose();
    t.dispose();
  });

  it('thousands of CAE steps with per-step temporaries keep memory flat and leak no tensor', () => {
    const n = 4,
      K = 5,
      k = 3,
      S = 12,
      oh = S - k + 1,
      ph = oh / 2;
    const W = be.fromArray(
      [K, 2, k, k],
      Array.from({ length: K * 2 * k * k }, (_, i) => Math.sin(i)),
    );
    const b = be.zeros([K]),
      c = be.zeros([2]);
    const dW = be.zeros([K, 2, k, k]),
      vW = be.zeros([K * 2 * k * k]);
    const x = be.fromArray(
      [n, 2, S, S],
      Array.from({ length: n * 2 * S * S }, (_, i) => Math.cos(i * 0.37)),
    );
    const baseline = be.mem.live.tensors;
    let grownAt = -1;
    let bytes = 0;
    for (let step = 0; step < 3000; step++) {
      // Temporaries created and disposed every step, as a careless caller would.
      const h = be.empty([n, K, oh, oh]),
        p = be.empty([n, K, ph, ph]),
        s = be.empty([n, K, ph, ph], 'u32');
      const u = be.empty([n, K, oh, oh]),
        y = be.empty([n, 2, S, S]),
        dy = be.empty([n, 2, S, S]);
      const du = be.empty([n, K, oh, oh]),
        dp = be.empty([n, K, ph, ph]),
        dh = be.empty([n, K, oh, oh]);
      try {
        cv.conv2d(x, W, b, h);
        cv.activation('tanh', h, h);
        cv.maxPool2d(h, p, s);
        cv.maxUnpool2d(p, s, u);
        cv.convTranspose2d(u, W, c, y);
        cv.mseLoss(y, x, dy);
        dW.fill(0);
        cv.convTranspose2dBackwardWeight(u, dy, dW);
        cv.convTranspose2dBackwardInput(dy, W, du);
        cv.maxUnpool2dBackward(du, s, dp);
        cv.maxPool2dBackward(dp, s, dh);
        cv.activationBackward('tanh', h, dh, dh);
        cv.conv2dBackwardWeight(x, dh, dW);
        cv.sgdStep(W, dW, vW, { lr: 1e-3, momentum: 0.9 });
      } finally {
        for (const t of [h, p, s, u, y, dy, du, dp, dh]) t.dispose();
      }
      if (be.memoryBytes !== bytes) {
        bytes = be.memoryBytes;
        grownAt = step;
      }
    }
    // Memory may grow during the first steps (allocator and workspace warm-up), never after.
    expect(grownAt).toBeLessThan(10);
    expect(be.mem.live.tensors).toBe(baseline);
    for (const t of [W, b, c, dW, vW, x]) t.dispose();
  });

  it('a disposed tensor cannot be used', () => {
    const t = be.zeros([2, 2]);
    t.dispose();
    expect(() => t.data).toThrow(cv.MemoryError);
    const y = be.zeros([2, 2]);
    expect(() => cv.activation('relu', t, y)).toThrow(cv.ArgumentError);
    y.dispose();
  });
});
