/**
 * Tiles of feature projections: each projection is scaled by its own largest
 * |value| to a grey symmetric around 0 (mid grey 0, white +max, black −max),
 * because projections of different features differ in scale by orders of magnitude.
 */
import { imageGrid, type Raster } from '../viz/raster.js';

/** Rows of `[projections…, images…]` for each feature: `rows` features × `top` images of `size` floats each. */
export function projectionGrid(
  rows: { projections: Float32Array; images: Float32Array }[],
  top: number,
  shape: readonly [number, number, number],
  scale = 3,
): Raster {
  const size = shape[0] * shape[1] * shape[2];
  const tiles = new Float32Array(rows.length * 2 * top * size);
  rows.forEach((r, row) => {
    for (let i = 0; i < top; i++) {
      const p = r.projections.subarray(i * size, (i + 1) * size);
      let m = 0;
      for (const v of p) m = Math.max(m, Math.abs(v));
      const dst = (row * 2 * top + i) * size;
      for (let t = 0; t < size; t++) tiles[dst + t] = m > 0 ? 0.5 + p[t] / (2 * m) : 0.5;
      tiles.set(r.images.subarray(i * size, (i + 1) * size), (row * 2 * top + top + i) * size);
    }
  });
  return imageGrid(tiles, [rows.length * 2 * top, ...shape], { scale, columns: 2 * top, range: [0, 1] });
}
