import { describe, expect, it } from 'vitest';
import { convOut, convTransposeOut, poolOut } from '../ts/index.js';
import { convTransposeOutputPadding, poolStride } from '../ts/shape.js';
import { backendUnderTest } from './util/backend.js';

// The Rust shape math (crates/convae-kernels/src/shape.rs) and the TS one (ts/shape.ts)
// must agree on every size, and on which shapes are invalid.
describe('shape math: TS agrees with Rust', async () => {
  const be = await backendUnderTest();
  const ex = be.mem.exports;
  const tsOr = (v: number | string) => (typeof v === 'string' ? -1 : v);
  const rsOr = (v: number) => (v < 0 ? -1 : v);

  it('conv_out over in 1..12, k 1..6, s 1..3, p 0..3', () => {
    let n = 0;
    for (let i = 1; i <= 12; i++)
      for (let k = 1; k <= 6; k++)
        for (let s = 1; s <= 3; s++)
          for (let p = 0; p <= 3; p++) {
            expect([i, k, s, p, tsOr(convOut(i, k, s, p))]).toEqual([i, k, s, p, rsOr(ex.conv_out(i, k, s, p))]);
            n++;
          }
    expect(n).toBe(864);
  });

  it('conv_transpose_out over in 1..10, k 1..5, s 1..3, p 0..3, op 0..3', () => {
    for (let i = 1; i <= 10; i++)
      for (let k = 1; k <= 5; k++)
        for (let s = 1; s <= 3; s++)
          for (let p = 0; p <= 3; p++)
            for (let op = 0; op <= 3; op++) {
              expect([i, k, s, p, op, tsOr(convTransposeOut(i, k, s, p, op))]).toEqual([
                i,
                k,
                s,
                p,
                op,
                rsOr(ex.conv_transpose_out(i, k, s, p, op)),
              ]);
            }
  });

  it('pool_out over in 1..12, k 1..5, s 1..4', () => {
    for (let i = 1; i <= 12; i++)
      for (let k = 1; k <= 5; k++)
        for (let s = 1; s <= 4; s++)
          expect([i, k, s, tsOr(poolOut(i, k, s))]).toEqual([i, k, s, rsOr(ex.pool_out(i, k, s))]);
  });

  it('zero sizes are invalid on both sides', () => {
    expect(typeof convOut(0, 3, 1, 0)).toBe('string');
    expect(ex.conv_out(0, 3, 1, 0)).toBeLessThan(0);
    expect(typeof poolOut(4, 0, 1)).toBe('string');
    expect(ex.pool_out(4, 0, 1)).toBeLessThan(0);
    expect(typeof convTransposeOut(4, 3, 0, 0, 0)).toBe('string');
    expect(ex.conv_transpose_out(4, 3, 0, 0, 0)).toBeLessThan(0);
  });

  it('a transposed conv inverts the size of its conv when output padding picks the remainder', () => {
    for (let i = 1; i <= 15; i++)
      for (let k = 1; k <= 5; k++)
        for (let s = 1; s <= 3; s++)
          for (let p = 0; p < k; p++) {
            const o = convOut(i, k, s, p);
            if (typeof o === 'string') continue;
            const op = (i + 2 * p - k) % s;
            expect(convTransposeOut(o, k, s, p, op)).toBe(i);
          }
  });

  it('convTransposeOutputPadding gives back the conv input size, by the Rust conv_transpose_out too', () => {
    let n = 0;
    for (let i = 1; i <= 15; i++)
      for (let k = 1; k <= 5; k++)
        for (let s = 1; s <= 3; s++)
          for (let p = 0; p < k; p++) {
            const o = ex.conv_out(i, k, s, p);
            if (o < 0) continue;
            const op = convTransposeOutputPadding(i, k, s, p);
            expect(op).toBeLessThan(s);
            expect([i, k, s, p, ex.conv_transpose_out(o, k, s, p, op)]).toEqual([i, k, s, p, i]);
            n++;
          }
    expect(n).toBeGreaterThan(300);
  });

  it('poolStride defaults to the window', () => {
    expect(poolStride(3)).toBe(3);
    expect(poolStride([2, 3])).toEqual([2, 3]);
    expect(poolStride(2, 1)).toBe(1);
  });
});
