import { PNG } from 'pngjs';
import { encodePng } from '../../ts/viz/png.js';
import type { Raster } from '../../ts/viz/raster.js';

/** The raster after a round trip through a PNG file, as pngjs decodes it, with a pixel reader. */
export function viaPng(r: Raster) {
  const png = PNG.sync.read(Buffer.from(encodePng(r)));
  const px = (x: number, y: number): number[] => {
    if (x < 0 || y < 0 || x >= png.width || y >= png.height)
      throw new Error(`pixel (${x}, ${y}) outside ${png.width}×${png.height}`);
    const p = (y * png.width + x) * 4;
    return [png.data[p], png.data[p + 1], png.data[p + 2], png.data[p + 3]];
  };
  /** Every pixel of the w×h block at (x, y) is `rgb` (opaque). */
  const block = (x: number, y: number, w: number, h: number): number[][] => {
    const seen = new Set<string>();
    for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) seen.add(px(i, j).join(','));
    return [...seen].map((s) => s.split(',').map(Number));
  };
  return { width: png.width, height: png.height, png, px, block };
}

export const rgba = (c: readonly number[]) => [c[0], c[1], c[2], 255];
