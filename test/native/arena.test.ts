/**
 * The native arena as JavaScript sees it: one ArrayBuffer of 4 GiB that never
 * moves or detaches; addresses are offsets into it; alloc/free keep blocks
 * aligned and disjoint, refuse bad frees, report a full arena as 0; tensors of
 * MAX_TENSOR_ELEMENTS work, also above 2 GiB.
 */
import { describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { MAX_TENSOR_ELEMENTS } from '../../ts/limits.js';
import { backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();
const x = be.mem.exports;
const buffer = be.mem.memory.buffer;

describe('the native arena', () => {
  it('is one 4 GiB ArrayBuffer, the same object after any allocation', () => {
    expect(be.build).toBe('native');
    expect(buffer.byteLength).toBe(2 ** 32);
    const t = be.fromArray([4], [1, 2, 3, 4]);
    const view = t.data;
    const big = be.empty([4 * 1024 * 1024]);
    expect(be.mem.memory.buffer).toBe(buffer);
    expect(view.byteLength).toBe(16); // not detached
    expect(Array.from(view)).toEqual([1, 2, 3, 4]);
    big.dispose();
    t.dispose();
  });

  it('alloc: 16-byte aligned, above the first 64 KiB, disjoint; memoryBytes counts live blocks', () => {
    const before = be.memoryBytes;
    const sizes = [0, 1, 3, 16, 17, 100, 4096, 65537];
    const blocks = sizes.map((n) => [x.alloc(n), n] as const);
    for (const [p, n] of blocks) {
      expect(p % 16).toBe(0);
      expect(p).toBeGreaterThanOrEqual(65536);
      new Uint8Array(buffer, p, Math.max(n, 1)).fill(p % 251);
    }
    const rounded = sizes.reduce((s, n) => s + Math.ceil(Math.max(n, 1) / 16) * 16, 0);
    expect(be.memoryBytes - before).toBe(rounded);
    // Every block still holds its own fill: none overlaps another.
    for (const [p, n] of blocks)
      expect(new Uint8Array(buffer, p, Math.max(n, 1)).every((v) => v === p % 251)).toBe(true);
    for (const [p, n] of blocks) x.free(p, n);
    expect(be.memoryBytes).toBe(before);
  });

  it('a double free, a wrong size or a foreign address changes nothing', () => {
    const before = be.memoryBytes;
    const a = x.alloc(256),
      b = x.alloc(256);
    new Uint8Array(buffer, b, 256).fill(7);
    x.free(a, 256);
    x.free(a, 256); // double
    x.free(b, 512); // wrong size
    x.free(b + 16, 240); // inside a block
    x.free(2 ** 31, 16); // never allocated
    x.free(0, 16);
    expect(be.memoryBytes - before).toBe(256); // only b is alive
    // New blocks never land on b, which is still alive.
    const fresh = Array.from({ length: 64 }, () => x.alloc(256));
    for (const p of fresh) expect(p + 256 <= b || b + 256 <= p).toBe(true);
    expect(new Uint8Array(buffer, b, 256).every((v) => v === 7)).toBe(true);
    for (const p of fresh) x.free(p, 256);
    x.free(b, 256);
    expect(be.memoryBytes).toBe(before);
  });

  it('a full arena returns 0 (no memory is committed by asking), and serves again after a free', () => {
    const threeGiB = 3 * 2 ** 30;
    const p = x.alloc(threeGiB);
    expect(p).toBeGreaterThan(0);
    expect(p + threeGiB).toBeLessThanOrEqual(2 ** 32);
    expect(x.alloc(2 ** 30)).toBe(0);
    expect(x.alloc(2 ** 32 - 16)).toBe(0);
    expect(() => be.empty([2 ** 28])).toThrow(cv.MemoryError); // a 1 GiB tensor no longer fits
    x.free(p, threeGiB);
    const q = x.alloc(2 ** 30);
    expect(q).toBeGreaterThan(0);
    x.free(q, 2 ** 30);
  });

  it('tensors of MAX_TENSOR_ELEMENTS (1 GiB each), three at once, the last above 2 GiB', () => {
    const ts = [0, 1, 2].map(() => be.empty([MAX_TENSOR_ELEMENTS]));
    try {
      expect(Math.max(...ts.map((t) => t.ptr))).toBeGreaterThan(2 ** 31);
      ts.forEach((t, i) => {
        // Touch only the ends: the pages between are never committed.
        const d = t.data;
        d[0] = i + 1;
        d[MAX_TENSOR_ELEMENTS - 1] = -(i + 1);
      });
      ts.forEach((t, i) => {
        expect(t.data[0]).toBe(i + 1);
        expect(t.data[MAX_TENSOR_ELEMENTS - 1]).toBe(-(i + 1));
      });
      expect(() => be.empty([MAX_TENSOR_ELEMENTS + 1])).toThrow(cv.ShapeError);
    } finally {
      for (const t of ts) t.dispose();
    }
  });

  it('a kernel reads and writes above 2 GiB (addresses as u32, no sign trouble)', () => {
    const ts = [0, 1, 2].map(() => be.empty([MAX_TENSOR_ELEMENTS]));
    try {
      const p = Math.max(...ts.map((t) => t.ptr)); // three disjoint 1 GiB blocks: one starts above 2 GiB
      expect(p).toBeGreaterThan(2 ** 31);
      new Float32Array(buffer, p, 3).set([1, -2, 3]);
      expect(x.activation(1, 0, 3, p, p + 16)).toBe(0); // relu
      expect(Array.from(new Float32Array(buffer, p + 16, 3))).toEqual([1, 0, 3]);
    } finally {
      for (const t of ts) t.dispose();
    }
  });
});
