/**
 * encodePng and writePng: a PNG (RGBA, or grey) that pngjs reads back to the same bytes; a write that
 * fails midway leaves the picture already there.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutputError, ShapeError } from '../../ts/errors.js';
import { encodePng, writePng } from '../../ts/viz/png.js';
import type { Raster } from '../../ts/viz/raster.js';

/** Writes to a path matching `re` stop after half their bytes with EFBIG, as a full disk or `ulimit -f` would. */
const inject = vi.hoisted(() => ({ re: null as RegExp | null }));

vi.mock('node:fs/promises', async (importOriginal) =>
  (await import('../util/efbig.js')).efbigFs(importOriginal, inject),
);
afterEach(() => {
  inject.re = null;
});

const raster = (w: number, h: number): Raster => {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
  return { width: w, height: h, data };
};

describe('encodePng', () => {
  it('grey: an 8-bit grey PNG (colour type 0) whose pixels are the grey raster’s, every level', () => {
    const w = 16,
      h = 16;
    const data = new Uint8ClampedArray(w * h * 4);
    for (let p = 0; p < w * h; p++) data.fill(p, 4 * p, 4 * p + 3).fill(255, 4 * p + 3, 4 * p + 4);
    const bytes = encodePng({ width: w, height: h, data }, { grey: true });
    // IHDR: bit depth at byte 24, colour type at 25.
    expect([bytes[24], bytes[25]]).toEqual([8, 0]);
    const png = PNG.sync.read(Buffer.from(bytes));
    for (let p = 0; p < w * h; p++) expect([...png.data.subarray(4 * p, 4 * p + 4)]).toEqual([p, p, p, 255]);
    expect(bytes.length).toBeLessThan(encodePng({ width: w, height: h, data }).length);
  });

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

  it('a write failing midway keeps the picture already there, leaves no .tmp, and is an OutputError naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'convae-viz-'));
    try {
      const path = join(dir, 'x.png'),
        old = encodePng(raster(3, 3));
      await writeFile(path, old);
      inject.re = /x\.png(\.tmp)?$/;
      const e = await writePng(path, raster(40, 30)).then(
        () => null,
        (x: unknown) => x,
      );
      expect(new Uint8Array(await readFile(path))).toEqual(old);
      expect(await readdir(dir)).toEqual(['x.png']);
      expect(e).toBeInstanceOf(OutputError);
      expect((e as Error).message).toBe(`cannot write ${JSON.stringify(path)}: file too large`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
