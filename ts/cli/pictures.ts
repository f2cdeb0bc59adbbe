/**
 * The pictures the CLI writes, in colour where the data is. A stopgap until
 * ts/viz draws RGB filters itself: an RGB first layer is drawn through
 * `imageGrid` (which already shows [n, 3, h, w] in colour) after scaling each
 * filter to [−1, 1] by its own largest |weight|, so mid grey is 0, as in `filterGrid`.
 */
import { filterGrid, imageGrid, type Raster } from '../viz/raster.js';

/**
 * The picture of images above their reconstructions by the first CAE, one name wherever the CLI draws it:
 * `train` and `pretrain` in their output folder, `reconstruct` by default (it wrote reconstruct.png).
 */
export const RECONSTRUCTIONS_PNG = 'reconstructions.png';

/** The default `--out` of `convae reconstruct`: a folder of its own, as `encode` and `anomaly` have, so that it does not replace the picture a `train` or `pretrain` run with the default `--out` drew. */
export const RECONSTRUCT_OUT = `convae-out/reconstruct/${RECONSTRUCTIONS_PNG}`;

/** One tile per filter of a conv weight [cOut, cIn, kh, kw]: colour when cIn is 3, grey (mean over inputs) otherwise. */
export function filterPicture(
  weights: Float32Array,
  shape: readonly [number, number, number, number],
  scale = 8,
): Raster {
  const [cOut, cIn, kh, kw] = shape;
  if (cIn !== 3) return filterGrid(weights, shape, { scale });
  const per = cIn * kh * kw;
  const tiles = new Float32Array(weights.length);
  for (let o = 0; o < cOut; o++) {
    const w = weights.subarray(o * per, (o + 1) * per);
    let m = 0;
    for (const v of w) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
    for (let j = 0; j < per; j++) tiles[o * per + j] = m > 0 ? w[j] / m : 0;
  }
  return imageGrid(tiles, shape, { scale, range: [-1, 1] });
}

/** Side of a reconstruction tile the picture aims at, in pixels: small images are scaled up by whole pixels. */
const TILE_PX = 256;
/** The most pixels of the grid of originals and reconstructions (a quarter of MAX_RASTER_PIXELS: the figure adds margins). */
const GRID_PIXELS = 2 ** 24;
/** The widest and tallest grid: `figureSvg` takes images up to 16 384 px a side. */
const GRID_SIDE = 8192;

/**
 * How many of `n` test images reconstructions.png shows, in how many columns, at what scale (at most `maxScale`):
 * 16 at 8 columns for small images, as before; fewer, at scale 1, where images are large — a fixed 8 columns at
 * scale 4 made a 400×400 picture of 12 809 × 6 406 px, refused after the stack was saved. Null when not even one
 * image and its reconstruction fit: the picture is left out.
 */
export function reconstructionLayout(
  n: number,
  h: number,
  w: number,
  maxScale: number,
): { count: number; columns: number; scale: number } | null {
  const scale = Math.max(1, Math.min(maxScale, Math.floor(TILE_PX / Math.max(h, w))));
  const [tw, th] = [w * scale + 2, h * scale + 2];
  const columns = Math.min(8, n, Math.floor(GRID_SIDE / tw));
  const pairsHigh = Math.floor(GRID_SIDE / (2 * th + 2));
  const count = Math.min(n, 16, Math.floor(GRID_PIXELS / (2 * th * tw)), columns * pairsHigh);
  if (count < 1 || columns < 1) return null;
  return { count, columns: Math.min(columns, count), scale };
}

/** Feature maps of the default architectures, by input: wider for colour (see README "Your own images"). */
export function defaultArchitecture(shape: readonly number[]): { maps: [number, number]; hidden: number } {
  return shape[0] === 3 ? { maps: [32, 64], hidden: 256 } : { maps: [20, 50], hidden: 500 };
}
