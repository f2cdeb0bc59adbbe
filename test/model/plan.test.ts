/**
 * `smallestInputSide`: the smallest square images a stack of blocks plans on, against a plain per-axis walk of
 * conv (stride 1, padding p) and pool (window = stride q) sizes written here, over a grid of kernels, paddings,
 * pools and depths; and `plannedCodeSizes` against the same walk.
 */
import { describe, expect, it } from 'vitest';
import type { BlockSpec } from '../../ts/model/autoencoder.js';
import { plannedCodeSizes, smallestInputSide } from '../../ts/model/plan.js';
import { BUILD, backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();

type Simple = { k: number; p: number; q: number | null; convs: number };

/** The side after each block, or null when a layer has nothing left: floor((s + 2p − k)) + 1, then floor((s − q)/q) + 1. */
function walk(side: number, blocks: Simple[]): number[] | null {
  const sides = [side];
  let s = side;
  for (const b of blocks) {
    for (let i = 0; i < b.convs; i++) {
      if (s + 2 * b.p < b.k) return null;
      s = s + 2 * b.p - b.k + 1;
    }
    if (b.q !== null) {
      if (s < b.q) return null;
      s = Math.floor((s - b.q) / b.q) + 1;
    }
    sides.push(s);
  }
  return sides;
}

const spec = (b: Simple, filters: number): BlockSpec => ({
  convs: Array.from({ length: b.convs }, () => ({ filters, kernel: b.k, padding: b.p })),
  activation: 'tanh',
  ...(b.q === null ? { pool: null } : { pool: { kernel: b.q } }),
});

describe(`plan (${BUILD})`, () => {
  const grids: Simple[][] = [];
  for (const k of [1, 3, 5, 7])
    for (const p of [0, 1, 2].filter((p) => p < k))
      for (const q of [null, 2, 3])
        for (const depth of [1, 2, 3])
          grids.push(Array.from({ length: depth }, (_, i) => ({ k, p, q, convs: 1 + (i % 2) })));

  it(`${grids.length} stacks: the smallest side is the plain walk's, and the code sizes are its sides`, () => {
    for (const blocks of grids) {
      const label = JSON.stringify(blocks);
      const specs = blocks.map((b, i) => spec(b, 2 + i));
      let want = 1;
      while (walk(want, blocks) === null) want++;
      expect(smallestInputSide(be, specs, 1), label).toBe(want);
      const sides = walk(want + 3, blocks)!;
      const sizes = plannedCodeSizes(be, specs, [1, want + 3, want + 3]);
      expect(sizes, label).toEqual(sides.map((s, d) => (d === 0 ? 1 : 2 + d - 1) * s * s));
      if (want > 1) expect(() => plannedCodeSizes(be, specs, [1, want - 1, want - 1]), label).toThrow();
    }
  });

  it('null when no side up to the largest image fits (a padding the kernel refuses)', () => {
    expect(
      smallestInputSide(be, [{ convs: [{ filters: 2, kernel: 3, padding: 3 }], activation: 'tanh' }], 1),
    ).toBeNull();
  });

  it('channels or blocks no side can fix: ArgumentError, not null ("no side fits")', () => {
    const blocks: BlockSpec[] = [{ convs: [{ filters: 2, kernel: 3 }] }];
    expect(smallestInputSide(be, blocks, 3)).toBeGreaterThanOrEqual(3);
    for (const c of [0, -1, 2.5, Number.NaN, 1e9, '3'])
      expect(() => smallestInputSide(be, blocks, c as number)).toThrow(
        /^smallestInputSide: channels must be an integer in \[1, 65536\], got /,
      );
    expect(() => smallestInputSide(be, null as unknown as BlockSpec[], 3)).toThrow(
      /^smallestInputSide: blocks must be an array of block specs$/,
    );
  });
});
