/** encodePng and writePng: a PNG that pngjs reads back to the same bytes. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../ts/errors.js';
import { encodePng, writePng } from '../../ts/viz/png.js';
import type { Raster } from '../../ts/viz/raster.js';

const raster = (w: number, h: number): Raster => {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
  return { width: w, height: h, data };
};

describe('encodePng', () => {
  for (const [w, h] of [
    [1, 1],
    [7, 3],
    [64, 40],
  ] as const)
    it(`raster=${w}x${h}: PNG signature, IHDR size, pixels round-trip`, () => {
      const r = raster(w, h),
        bytes = encodePng(r);
      expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const png = PNG.sync.read(Buffer.from(bytes));
      expect([png.width, png.height, png.colorType, png.depth]).toEqual([w, h, 6, 8]);
      expect(new Uint8Array(png.data)).toEqual(new Uint8Array(r.data.buffer));
    });

  it('rejects data of the wrong length and a zero size', () => {
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8ClampedArray(15) })).toThrow(ShapeError);
    expect(() => encodePng({ width: 0, height: 2, data: new Uint8ClampedArray(0) })).toThrow(ShapeError);
  });
});

describe('writePng', () => {
  it('writes the encoded file, creating missing folders', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'convae-viz-'));
    try {
      const path = join(dir, 'a', 'b', 'x.png'),
        r = raster(5, 4);
      await writePng(path, r);
      expect(new Uint8Array(await readFile(path))).toEqual(encodePng(r));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
