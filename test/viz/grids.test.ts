/**
 * filterGrid, imageGrid and reconstructionGrid, checked on the decoded PNG
 * (encodePng → pngjs read): sizes, tile positions, pad colour, and the grey
 * levels of hand-picked values. Layout (raster.ts): tile t at
 * (pad + (t % cols)·(tw + pad), pad + ⌊t / cols⌋·(th + pad)).
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError } from '../../ts/errors.js';
import { filterGrid, imageGrid, NAN_COLOR, PAD_COLOR, reconstructionGrid } from '../../ts/viz/raster.js';
import { rgba, viaPng } from './decode.js';

const grey = (g: number) => [g, g, g, 255];
const PAD = rgba(PAD_COLOR),
  NAN = rgba(NAN_COLOR);

describe('filterGrid', () => {
  // Three 2×2 filters; per-filter scale m = max|w| maps 0 → 128, m → 255, −m → 0, v → round(127.5 + 127.5·v/m).
  const w = new Float32Array([0, 1, -1, 0.5, /* */ 2, 0, 0, -2, /* */ 0, 0, 0, 0]);

  it('w=[3,1,2,2] scale=3 pad=1 per-filter: 2×2 grid of 6×6 tiles, 0 → mid grey, max → white', () => {
    const img = viaPng(filterGrid(w, [3, 1, 2, 2], { scale: 3 }));
    expect([img.width, img.height]).toEqual([1 + 2 * (6 + 1), 1 + 2 * (6 + 1)]);
    // tile 0 at (1, 1): each weight a 3×3 block.
    expect(img.block(1, 1, 3, 3)).toEqual([grey(128)]);
    expect(img.block(4, 1, 3, 3)).toEqual([grey(255)]);
    expect(img.block(1, 4, 3, 3)).toEqual([grey(0)]);
    expect(img.block(4, 4, 3, 3)).toEqual([grey(191)]);
    // tile 1 at (8, 1): its own scale m = 2.
    expect(img.block(8, 1, 3, 3)).toEqual([grey(255)]);
    expect(img.block(11, 4, 3, 3)).toEqual([grey(0)]);
    expect(img.block(11, 1, 3, 3)).toEqual([grey(128)]);
    // tile 2 at (1, 8): an all-zero filter is mid grey.
    expect(img.block(1, 8, 6, 6)).toEqual([grey(128)]);
    // the empty fourth cell and the pad lines.
    expect(img.block(8, 8, 6, 6)).toEqual([PAD]);
    for (const x of [0, 7, 14]) expect(img.block(x, 0, 1, 15)).toEqual([PAD]);
    for (const y of [0, 7, 14]) expect(img.block(0, y, 15, 1)).toEqual([PAD]);
  });

  it('w=[3,1,2,2] normalize=global: one scale m = 2 for all filters', () => {
    const img = viaPng(filterGrid(w, [3, 1, 2, 2], { scale: 1, normalize: 'global', columns: 3, pad: 2 }));
    expect([img.width, img.height]).toEqual([2 + 3 * 4, 2 + 4]);
    expect([img.px(2, 2), img.px(3, 2), img.px(2, 3), img.px(3, 3)]).toEqual([
      grey(128),
      grey(191),
      grey(64),
      grey(159),
    ]);
    expect([img.px(6, 2), img.px(7, 3)]).toEqual([grey(255), grey(0)]);
    expect(img.px(10, 2)).toEqual(grey(128));
  });

  it('w=[1,2,1,2] channel=mean|1|all', () => {
    const w2 = new Float32Array([1, -1, /* channel 1 */ 3, 1]);
    const mean = viaPng(filterGrid(w2, [1, 2, 1, 2], { scale: 1, pad: 0 }));
    expect([mean.width, mean.height, mean.px(0, 0), mean.px(1, 0)]).toEqual([2, 1, grey(255), grey(128)]); // mean = [2, 0]
    const one = viaPng(filterGrid(w2, [1, 2, 1, 2], { scale: 1, pad: 0, channel: 1 }));
    expect([one.px(0, 0), one.px(1, 0)]).toEqual([grey(255), grey(170)]); // [3, 1] / 3
    // 'all': one row per output filter, its input channels side by side, one scale (m = 3) per output filter.
    const all = viaPng(filterGrid(w2, [1, 2, 1, 2], { scale: 1, pad: 1, channel: 'all' }));
    expect([all.width, all.height]).toEqual([1 + 2 * 3, 3]);
    expect([all.px(1, 1), all.px(2, 1), all.px(4, 1), all.px(5, 1), all.px(3, 1)]).toEqual([
      grey(170),
      grey(85),
      grey(255),
      grey(170),
      PAD,
    ]);
  });

  it('a NaN weight is drawn magenta and does not set the scale', () => {
    const img = viaPng(filterGrid(new Float32Array([NaN, 1, -0.5, 0]), [1, 1, 2, 2], { scale: 1, pad: 0 }));
    expect([img.px(0, 0), img.px(1, 0), img.px(0, 1), img.px(1, 1)]).toEqual([NAN, grey(255), grey(64), grey(128)]);
  });

  it('rejects a wrong length, shape or option', () => {
    expect(() => filterGrid(new Float32Array(7), [2, 1, 2, 2])).toThrow(ShapeError);
    expect(() => filterGrid(new Float32Array(8), [2, 1, 2] as never)).toThrow(ShapeError);
    expect(() => filterGrid(new Float32Array(8), [2, 1, 2, 2], { channel: 1 })).toThrow(ArgumentError);
    expect(() => filterGrid(new Float32Array(8), [2, 1, 2, 2], { scale: 0 })).toThrow(ArgumentError);
    expect(() => filterGrid(new Float32Array(8), [2, 1, 2, 2], { pad: -1 })).toThrow(ArgumentError);
  });
});

describe('imageGrid', () => {
  it('x=[2,1,2,2] scale=2: default range is min..max, tiles side by side', () => {
    const x = new Float32Array([0, 0.25, 0.5, 1, /* */ 1, 1, 0, 0]);
    const img = viaPng(imageGrid(x, [2, 1, 2, 2]));
    expect([img.width, img.height]).toEqual([1 + 2 * 5, 1 + 5]);
    expect(img.block(1, 1, 2, 2)).toEqual([grey(0)]);
    expect(img.block(3, 1, 2, 2)).toEqual([grey(64)]);
    expect(img.block(1, 3, 2, 2)).toEqual([grey(128)]);
    expect(img.block(3, 3, 2, 2)).toEqual([grey(255)]);
    expect(img.block(6, 1, 4, 2)).toEqual([grey(255)]);
    expect(img.block(6, 3, 4, 2)).toEqual([grey(0)]);
    expect(img.block(5, 0, 1, 6)).toEqual([PAD]);
  });

  it('x=[1,3,1,2] RGB with range=[0,2], values outside clamped', () => {
    const x = new Float32Array([2, 0, /* g */ 1, 3, /* b */ 0, -1]);
    const img = viaPng(imageGrid(x, [1, 3, 1, 2], { scale: 1, pad: 0, range: [0, 2] }));
    expect([img.px(0, 0), img.px(1, 0)]).toEqual([
      [255, 128, 0, 255],
      [0, 255, 0, 255],
    ]);
  });

  it('rejects 2 channels and an empty range', () => {
    expect(() => imageGrid(new Float32Array(8), [1, 2, 2, 2])).toThrow(ShapeError);
    expect(() => imageGrid(new Float32Array(4), [1, 1, 2, 2], { range: [1, 1] })).toThrow(ArgumentError);
  });
});

describe('reconstructionGrid', () => {
  // n=3 images of 2×2, columns=2, scale=1, pad=1: rows orig0 orig1 / rec0 rec1 / gap / orig2 / rec2.
  const n = 3,
    originals = new Float32Array(n * 4),
    recs = new Float32Array(n * 4);
  [0, 0.5, 1].forEach((v, i) => originals.fill(v, i * 4, i * 4 + 4));
  [0.25, 0.75, 2].forEach((v, i) => recs.fill(v, i * 4, i * 4 + 4));

  it('n=3 columns=2: each original directly above its reconstruction, pairs of rows apart', () => {
    const img = viaPng(reconstructionGrid(originals, recs, [n, 1, 2, 2], { scale: 1, columns: 2 }));
    expect([img.width, img.height]).toEqual([1 + 2 * 3, 1 + 4 * 3 + 1]);
    const at = (i: number) => {
      const col = i % 2,
        p = Math.floor(i / 2),
        x = 1 + 3 * col,
        y = 1 + 6 * p + p;
      return { orig: img.block(x, y, 2, 2), rec: img.block(x, y + 3, 2, 2) };
    };
    // One grey scale, the originals' 0..1; the reconstruction 2 is clamped to white.
    expect(at(0)).toEqual({ orig: [grey(0)], rec: [grey(64)] });
    expect(at(1)).toEqual({ orig: [grey(128)], rec: [grey(191)] });
    expect(at(2)).toEqual({ orig: [grey(255)], rec: [grey(255)] });
    expect(img.block(0, 6, 7, 2)).toEqual([PAD]); // the double pad between the two pairs of rows
    expect(img.block(4, 8, 2, 5)).toEqual([PAD]); // no fourth pair
  });

  it('rejects reconstructions of another size', () => {
    expect(() => reconstructionGrid(originals, recs.subarray(4), [n, 1, 2, 2])).toThrow(ShapeError);
  });
});
