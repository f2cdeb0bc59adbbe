/**
 * Tiles of feature projections: each projection is scaled by its own largest
 * |value| to a grey symmetric around 0 (mid grey 0, white +max, black −max),
 * because projections of different features differ in scale by orders of magnitude.
 */
import { ArgumentError } from '../errors.js';
import { MAX_RASTER_PIXELS } from '../limits.js';
import { gridSize, imageGrid, type Raster } from '../viz/raster.js';

/**
 * Throws unless the `projectionGrid` of `features` rows of `top` projections and images of `shape` fits in
 * MAX_RASTER_PIXELS: `convae features` asks before it projects anything (features × top × images grow fast).
 */
export function checkProjectionGrid(
  op: string,
  arg: string,
  features: number,
  top: number,
  shape: readonly number[],
  scale = 3,
): void {
  const g = gridSize(op, features * 2 * top, shape[1] * scale, shape[2] * scale, { columns: 2 * top });
  if (g.width * g.height > MAX_RASTER_PIXELS)
    throw new ArgumentError(
      op,
      arg,
      `${top} draws ${features} features × ${top} projections and images as ${g.width}×${g.height} px, more than ${MAX_RASTER_PIXELS} pixels (MAX_RASTER_PIXELS)`,
    );
}

/** Rows of `[projections…, images…]` for each feature: `rows` features × `top` images of `size` floats each. */
export function projectionGrid(
  rows: { projections: Float32Array; images: Float32Array }[],
  top: number,
  shape: readonly [number, number, number],
  scale = 3,
): Raster {
  checkProjectionGrid('projectionGrid', 'size', rows.length, top, shape, scale);
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
