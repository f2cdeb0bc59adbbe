/**
 * A stack's reconstruction of one image of any size: the image is cut into overlapping tiles of the stack's input
 * size, the tiles go through `runner.reconstructThrough` in groups (so in workers when the runner has them), and the
 * reconstructed tiles are blended back with a window whose weights sum to one at every pixel. What `convae denoise`
 * does to a photo larger (or smaller) than the model's input, instead of resizing it to that input.
 *
 * The grid: along each axis, an image no longer than the tile is one tile, the image mirrored around it to fill it
 * (so an image of exactly the tile's size is `reconstructThrough`'s result, bit for bit); a longer one is mirrored
 * by tile − stride pixels before its start (and at least as many past its end, to end on a whole stride), so its
 * border pixels lie as deep inside as many tiles as its middle ones: a tile's own borders, where the convolutions
 * saw zero padding, are its worst.
 */
import { contrastNormalize, checkToPixels, type TrainingInput, toPixels } from '../data/normalize.js';
import { ImageDataset } from '../data/dataset.js';
import { ArgumentError, quote } from '../errors.js';
import { MAX_RESULT_FLOATS, MAX_TILED_PIXELS } from '../limits.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import type { Runner } from '../train/runner.js';
import { knownFields, optionsOf } from '../util/options.js';
import { checkBatchSize, checkDepth, stackBatch } from './embed.js';

/** How tiles are blended where they overlap: 'hann' weighs each tile's pixels by a raised cosine, 'flat' alike. */
export type TileWindow = 'hann' | 'flat';

/** Options of `reconstructTiled`. */
export interface TiledOptions {
  /** Blocks each tile goes up and back down through (1 … the stack's length); default 1. */
  depth?: number;
  /** Pixels between neighbouring tiles, in [1, the tile's shorter side]; default half the tile (per axis). */
  stride?: number;
  /** Blending window; default 'hann'. */
  window?: TileWindow;
  /** Tiles per forward pass (`reconstructThrough`'s `batchSize`); default its own. */
  batchSize?: number;
  /** Tiles given to the runner at once, in [1, 65536]; default 1024 (bounds the tiles held in memory). */
  tilesPerCall?: number;
  /**
   * How the stack's input was normalised in training (`TrainingInput`; default 'none'): with 'contrast' each tile
   * is normalised on its own and its reconstruction mapped back with its own mean and spread (`toPixels`).
   */
  input?: TrainingInput;
  /** Called after each group of tiles with the tiles done and the image's total (`tileCount`): a progress bar's. */
  onProgress?: (done: number, total: number) => void;
}

/** The checked options and the grid of `reconstructTiled`. */
interface Plan {
  depth: number;
  batchSize: number | undefined;
  tilesPerCall: number;
  window: TileWindow;
  input: TrainingInput;
  onProgress: ((done: number, total: number) => void) | undefined;
  channels: number;
  tile: [number, number];
  rows: Axis;
  cols: Axis;
}

/** One axis of the grid: the tiles' first pixels (negative or past the end where mirrored), and each pixel's window sum. */
interface Axis {
  starts: number[];
  weights: Float64Array;
  /** Σ of the window over the tiles covering each image pixel. */
  sums: Float64Array;
}

/**
 * The reconstruction of `image` (`shape` = [C, H, W] planes, C the stack's channels, values as the stack's training
 * images were before their normalisation, e.g. pixels in [0, 1]) through the first `depth` blocks of `stack`, at
 * the image's own size: overlapping tiles of the stack's input size, reconstructed through `runner` and blended.
 * Every argument is checked before anything is allocated (ArgumentError): the image at most MAX_TILED_PIXELS
 * pixels, a whitened `input` refused (`checkToPixels`).
 */
export async function reconstructTiled(
  runner: Runner,
  stack: StackedConvAutoencoder,
  image: Float32Array,
  shape: readonly [number, number, number],
  options?: TiledOptions,
): Promise<Float32Array> {
  const op = 'reconstructTiled';
  const p = planTiles(op, runner, stack, image, shape, options);
  const [c, h, w] = shape;
  const [th, tw] = p.tile;
  const tileSize = c * th * tw;
  const out = new Float32Array(c * h * w);
  const count = p.rows.starts.length * p.cols.starts.length;
  const chunk = new Float32Array(Math.min(p.tilesPerCall, count) * tileSize);
  const rowOf = (t: number) => Math.floor(t / p.cols.starts.length);
  const colOf = (t: number) => t % p.cols.starts.length;
  for (let first = 0; first < count; first += p.tilesPerCall) {
    const n = Math.min(p.tilesPerCall, count - first);
    for (let k = 0; k < n; k++)
      cutTile(
        image,
        c,
        h,
        w,
        p.rows.starts[rowOf(first + k)]!,
        p.cols.starts[colOf(first + k)]!,
        th,
        tw,
        chunk,
        k * tileSize,
      );
    const tiles = ImageDataset.fromFloat32(chunk.subarray(0, n * tileSize), [c, th, tw]);
    const given = p.input.normalize === 'contrast' ? contrastNormalize(tiles) : tiles;
    const recon = await runner.reconstructThrough(stack, given, {
      depth: p.depth,
      ...(p.batchSize === undefined ? {} : { batchSize: p.batchSize }),
    });
    const pixels = p.input.normalize === 'contrast' ? toPixels(recon, tiles, p.input) : recon;
    for (let k = 0; k < n; k++)
      addTile(out, c, h, w, pixels, k * tileSize, p.rows, rowOf(first + k), p.cols, colOf(first + k), th, tw);
    p.onProgress?.(first + n, count);
  }
  return out;
}

/**
 * `stride` checked against `stack`'s tile (its input): an integer in [1, the tile's shorter side], as
 * `reconstructTiled` takes it. A longer stride would leave pixels that no tile covers. `arg` names it in the error
 * (`--stride` for `convae denoise`, which asks before it decodes anything).
 */
export function checkTileStride(op: string, arg: string, stride: unknown, stack: StackedConvAutoencoder): number {
  const [, th, tw] = stack.inputShape as [number, number, number];
  if (!(Number.isInteger(stride) && (stride as number) >= 1 && (stride as number) <= Math.min(th, tw)))
    throw new ArgumentError(
      op,
      arg,
      `must be an integer in [1, ${Math.min(th, tw)}] (the tile is ${th}×${tw}, the stack's input), got ${quote(stride)}`,
    );
  return stride as number;
}

/** Checks every argument of `reconstructTiled` (nothing allocated but the grid's few numbers) and plans the grid. */
function planTiles(
  op: string,
  runner: Runner,
  stack: StackedConvAutoencoder,
  image: Float32Array,
  shape: readonly [number, number, number],
  options: TiledOptions | undefined,
): Plan {
  if (typeof (runner as Partial<Runner> | null)?.reconstructThrough !== 'function')
    throw new ArgumentError(op, 'runner', 'must be a Runner (threadRunner, createRunner)');
  const o = optionsOf(op, options);
  // A misspelt option ({ strides: 4 }) would be the default without a word.
  knownFields(op, 'options', o, ['depth', 'stride', 'window', 'batchSize', 'tilesPerCall', 'input', 'onProgress']);
  const depth = checkDepth(op, stack, o.depth ?? 1, 1);
  const [tc, th, tw] = stack.inputShape as [number, number, number];
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((v) => Number.isSafeInteger(v) && v >= 1))
    throw new ArgumentError(op, 'shape', `must be [channels, height, width] of integers ≥ 1, got ${quote(shape)}`);
  const [c, h, w] = shape;
  if (c !== tc)
    throw new ArgumentError(
      op,
      'shape',
      `gives ${c} channel(s); the stack reads ${tc} (its input is [${tc},${th},${tw}])`,
    );
  if (h * w > MAX_TILED_PIXELS)
    throw new ArgumentError(
      op,
      'shape',
      `gives ${h}×${w} pixels, more than ${MAX_TILED_PIXELS} (MAX_TILED_PIXELS): cut the image into parts first`,
    );
  if (!(image instanceof Float32Array) || image.length !== c * h * w)
    throw new ArgumentError(op, 'image', `must be a Float32Array of ${c}·${h}·${w} values (planes), as shape says`);
  // Here, not from the first tile's dataset after the output is allocated (a DataError naming ImageDataset).
  for (let i = 0; i < image.length; i++)
    if (!Number.isFinite(image[i]))
      throw new ArgumentError(op, 'image', `value ${i} is ${image[i]}: finite values needed`);
  const stride = o.stride === undefined ? undefined : checkTileStride(op, 'stride', o.stride, stack);
  const window = o.window ?? 'hann';
  if (window !== 'hann' && window !== 'flat')
    throw new ArgumentError(op, 'window', `must be 'hann' or 'flat', got ${quote(window)}`);
  const batchSize = o.batchSize === undefined ? undefined : checkBatchSize(op, o.batchSize);
  const tilesPerCall = o.tilesPerCall ?? 1024;
  if (!(Number.isInteger(tilesPerCall) && tilesPerCall >= 1 && tilesPerCall <= 65536))
    throw new ArgumentError(op, 'tilesPerCall', `must be an integer in [1, 65536], got ${quote(tilesPerCall)}`);
  if (tilesPerCall * c * th * tw > MAX_RESULT_FLOATS)
    throw new ArgumentError(
      op,
      'tilesPerCall',
      `of ${tilesPerCall} tiles of ${c}×${th}×${tw} need ${tilesPerCall * c * th * tw} floats, more than ${MAX_RESULT_FLOATS} (MAX_RESULT_FLOATS)`,
    );
  const input = o.input ?? { normalize: 'none' };
  checkToPixels(op, 'input', input);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function')
    throw new ArgumentError(op, 'onProgress', 'must be a function');
  const rows = axisOf(h, th, stride ?? defaultStride(th), window),
    cols = axisOf(w, tw, stride ?? defaultStride(tw), window);
  // A given batch whose layer outputs do not fit is refused here, not by the runner after `out` is allocated.
  stackBatch(op, stack, depth, Math.min(tilesPerCall, rows.starts.length * cols.starts.length), batchSize, true);
  return {
    depth,
    batchSize,
    tilesPerCall,
    window,
    input,
    onProgress: o.onProgress,
    channels: c,
    tile: [th, tw],
    rows,
    cols,
  };
}

/**
 * The tiles `reconstructTiled` lays on an image of `height × width` pixels with `stack`'s input as the tile, at
 * `stride` (default half the tile, per axis): what a caller bounds its work by before it decodes anything (`convae
 * denoise` refuses a run of too many). Sides are integers in [1, MAX_TILED_PIXELS], the stride as `reconstructTiled`
 * takes it; anything else is an ArgumentError (a stride of 0 counted Infinity tiles, one past the tile a count
 * `reconstructTiled` then refused).
 */
export function tileCount(stack: StackedConvAutoencoder, height: number, width: number, stride?: number): number {
  const op = 'tileCount';
  checkDepth(op, stack, 1, 1);
  for (const [arg, v] of [
    ['height', height],
    ['width', width],
  ] as const)
    if (!(Number.isInteger(v) && v >= 1 && v <= MAX_TILED_PIXELS))
      throw new ArgumentError(op, arg, `must be an integer in [1, ${MAX_TILED_PIXELS}] (pixels), got ${quote(v)}`);
  if (stride !== undefined) checkTileStride(op, 'stride', stride, stack);
  const [, th, tw] = stack.inputShape as [number, number, number];
  return axisTiles(height, th, stride ?? defaultStride(th)) * axisTiles(width, tw, stride ?? defaultStride(tw));
}

/** Half a tile: `reconstructTiled`'s stride along an axis when none is given. */
function defaultStride(tile: number): number {
  return Math.ceil(tile / 2);
}

/** How many tiles lie along an axis of `length` pixels (see the file's comment): one when it is no longer than the tile. */
function axisTiles(length: number, tile: number, stride: number): number {
  return length <= tile ? 1 : Math.ceil((length + 2 * (tile - stride) - tile) / stride) + 1;
}

/** The tiles along an axis of `length` pixels (see the file's comment) and each pixel's sum of their windows. */
function axisOf(length: number, tile: number, stride: number, window: TileWindow): Axis {
  const weights = new Float64Array(tile);
  // Sampled at pixel centres: every weight > 0, so a pixel covered by one tile's edge alone still has a weight.
  for (let x = 0; x < tile; x++) weights[x] = window === 'flat' ? 1 : Math.sin((Math.PI * (x + 0.5)) / tile) ** 2;
  const starts =
    length <= tile
      ? [-Math.floor((tile - length) / 2)]
      : Array.from({ length: axisTiles(length, tile, stride) }, (_, i) => -(tile - stride) + i * stride);
  const sums = new Float64Array(length);
  for (const s of starts) for (let x = Math.max(0, s); x < Math.min(length, s + tile); x++) sums[x] += weights[x - s]!;
  return { starts, weights, sums };
}

/** Index `i` of an axis of `n` pixels mirrored into it (about the end pixels, which are not repeated), any distance out. */
export function mirrorIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const r = ((i % period) + period) % period;
  return r < n ? r : period - r;
}

/** Copies the tile at (`y0`, `x0`) of the image, mirrored where it lies outside, into `dst` at `at`. */
function cutTile(
  img: Float32Array,
  c: number,
  h: number,
  w: number,
  y0: number,
  x0: number,
  th: number,
  tw: number,
  dst: Float32Array,
  at: number,
): void {
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < th; y++) {
      const row = (ch * h + mirrorIndex(y0 + y, h)) * w;
      const d = at + (ch * th + y) * tw;
      for (let x = 0; x < tw; x++) dst[d + x] = img[row + mirrorIndex(x0 + x, w)]!;
    }
}

/** Adds the reconstructed tile (row `r`, column `q` of the grid) times its normalised window to `out`. */
function addTile(
  out: Float32Array,
  c: number,
  h: number,
  w: number,
  tile: Float32Array,
  at: number,
  rows: Axis,
  r: number,
  cols: Axis,
  q: number,
  th: number,
  tw: number,
): void {
  const y0 = rows.starts[r]!,
    x0 = cols.starts[q]!;
  for (let y = Math.max(0, y0); y < Math.min(h, y0 + th); y++) {
    // w/Σw per axis: exactly 1 where one tile alone covers the pixel, so an image of the tile's size is copied exactly.
    const wy = rows.weights[y - y0]! / rows.sums[y]!;
    for (let x = Math.max(0, x0); x < Math.min(w, x0 + tw); x++) {
      const wxy = wy * (cols.weights[x - x0]! / cols.sums[x]!);
      for (let ch = 0; ch < c; ch++)
        out[(ch * h + y) * w + x] += wxy * tile[at + (ch * th + (y - y0)) * tw + (x - x0)]!;
    }
  }
}
