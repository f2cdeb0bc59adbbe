/**
 * Pictures of a CAE as RGBA rasters: the learned filters, images and their
 * reconstructions, loss curves. Pure functions, no DOM and no Node: a browser
 * puts a raster in `new ImageData(r.data, r.width, r.height)`, Node encodes it
 * with `encodePng` (./png.ts).
 *
 * Grids (filterGrid, imageGrid, reconstructionGrid) share one layout: tiles of
 * `scale` pixels per value, `pad` pixels of `padColor` around and between
 * them, tile t in column t % columns and row ⌊t / columns⌋, its top-left
 * corner at (pad + col·(tileW + pad), pad + row·(tileH + pad)). Cells past the
 * last tile stay `padColor`. Values that are not finite are drawn `NAN_COLOR`
 * so a diverged weight shows up instead of being hidden.
 */
import { ArgumentError, ShapeError } from '../errors.js';
import { MAX_RASTER_PIXELS } from '../limits.js';
import { plotFrame, seriesColor, seriesRuns, type LossSeries, type Margins, type Rgb } from './plot.js';

export type { LossSeries, Rgb } from './plot.js';

/** Row-major RGBA, 4 bytes a pixel, `data.length === width * height * 4`; the layout of ImageData. */
export interface Raster {
  /** Pixels per row. */
  width: number;
  /** Rows, top to bottom. */
  height: number;
  /** width·height·4 bytes: R, G, B, A of each pixel. */
  data: Uint8ClampedArray<ArrayBuffer>;
}

/** Pixels between and around tiles, unless `padColor` says otherwise. */
export const PAD_COLOR: Rgb = [64, 80, 128];
/** Pixels of values that are NaN or ±Infinity. */
export const NAN_COLOR: Rgb = [255, 0, 255];

/** Layout options shared by the grids: tile scale, padding, columns, padding colour. */
export interface GridOptions {
  /** Pixels per value along each axis (an integer ≥ 1). */
  scale?: number;
  /** Pixels of `padColor` between and around tiles (an integer ≥ 0); default 1. */
  pad?: number;
  /** Tiles per row; default ⌈√tiles⌉. */
  columns?: number;
  /** Default `PAD_COLOR`. */
  padColor?: Rgb;
}

/** Options of `filterGrid`. */
export interface FilterGridOptions extends GridOptions {
  /** Default 4. */
  scale?: number;
  /**
   * The grey scale is symmetric around 0 (0 → 128, +m → 255, −m → 0), with m
   * the largest |weight| of each output filter ('per-filter', default: every
   * filter uses the full range) or of all of them ('global': compares
   * magnitudes across filters).
   */
  normalize?: 'per-filter' | 'global';
  /**
   * Which kernel a tile shows when cIn > 1: 'rgb' (the default when cIn = 3)
   * one colour tile per output filter, its three input channels as red, green
   * and blue, each on the symmetric scale (0 → 128); 'mean' (the default
   * otherwise) the mean over input channels, one tile per output filter; a
   * number, that input channel; 'all', one tile per (o, i) pair in o-major
   * order, `columns` defaulting to cIn so each row is one output filter. With
   * 'all' and 'rgb', 'per-filter' normalizes over all cIn kernels of an output
   * filter together.
   */
  channel?: 'mean' | 'all' | 'rgb' | number;
}

/** Options of `imageGrid` and `reconstructionGrid`. */
export interface ImageGridOptions extends GridOptions {
  /** Default 2. */
  scale?: number;
  /** Values mapped to black and white (clamped outside); default the min and max of the finite values. */
  range?: readonly [number, number];
}

/**
 * One tile per learned filter of a conv layer whose weight is `[cOut, cIn, kh, kw]`
 * (OIHW, the conv2d layout), in grey symmetric around 0, so that strokes and
 * edges show as light-on-dark or dark-on-light against mid grey.
 */
export function filterGrid(
  weights: Float32Array,
  shape: readonly [number, number, number, number],
  opts: FilterGridOptions = {},
): Raster {
  const op = 'filterGrid';
  const [cOut, cIn, kh, kw] = checkShape(op, 'weights', weights, shape, ['cOut', 'cIn', 'kh', 'kw']);
  const scale = posInt(op, 'scale', opts.scale ?? 4);
  const channel = opts.channel ?? (cIn === 3 ? 'rgb' : 'mean');
  const normalize = opts.normalize ?? 'per-filter';
  if (normalize !== 'per-filter' && normalize !== 'global')
    throw new ArgumentError(op, 'normalize', `must be 'per-filter' or 'global', got ${String(normalize)}`);
  if (
    channel !== 'mean' &&
    channel !== 'all' &&
    channel !== 'rgb' &&
    !(Number.isInteger(channel) && channel >= 0 && channel < cIn)
  )
    throw new ArgumentError(
      op,
      'channel',
      `must be 'mean', 'all', 'rgb' or an input channel in 0..${cIn - 1}, got ${String(channel)}`,
    );
  if (channel === 'rgb' && cIn !== 3)
    throw new ArgumentError(op, 'channel', `'rgb' needs 3 input channels, the weights have ${cIn}`);
  if (channel === 'rgb') return rgbFilterGrid(weights, cOut, kh, kw, scale, normalize, opts);

  // The kernels shown, tile by tile, and which output filter each belongs to.
  const k = kh * kw,
    perFilter = channel === 'all' ? cIn : 1;
  const tiles = new Float32Array(cOut * perFilter * k);
  for (let o = 0; o < cOut; o++) {
    const w = weights.subarray(o * cIn * k, (o + 1) * cIn * k);
    if (channel === 'all') tiles.set(w, o * cIn * k);
    else if (channel === 'mean') {
      const t = tiles.subarray(o * k, (o + 1) * k);
      for (let i = 0; i < cIn; i++) for (let j = 0; j < k; j++) t[j] += w[i * k + j];
      for (let j = 0; j < k; j++) t[j] /= cIn;
    } else tiles.set(w.subarray(channel * k, (channel + 1) * k), o * k);
  }
  const maxAbs = (a: Float32Array) => a.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
  const globalMax = maxAbs(tiles);

  const g = gridLayout(op, cOut * perFilter, kh * scale, kw * scale, opts, channel === 'all' ? cIn : undefined);
  const r = g.raster;
  for (let o = 0; o < cOut; o++) {
    const block = tiles.subarray(o * perFilter * k, (o + 1) * perFilter * k);
    const m = normalize === 'global' ? globalMax : maxAbs(block);
    for (let i = 0; i < perFilter; i++) {
      const [x0, y0] = g.origin(o * perFilter + i);
      drawPlane(r, x0, y0, block, i * k, kh, kw, scale, (v) => {
        const grey = m > 0 ? Math.round(127.5 + (127.5 * v) / m) : 128;
        return [grey, grey, grey];
      });
    }
  }
  return r;
}

/** Colour tiles of a [cOut, 3, kh, kw] weight: channel c of each pixel is 127.5 + 127.5·w_c/m. */
function rgbFilterGrid(
  weights: Float32Array,
  cOut: number,
  kh: number,
  kw: number,
  scale: number,
  normalize: 'per-filter' | 'global',
  opts: GridOptions,
): Raster {
  const k = kh * kw;
  const maxAbs = (a: Float32Array) => a.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
  const globalMax = maxAbs(weights);
  const g = gridLayout('filterGrid', cOut, kh * scale, kw * scale, opts);
  for (let o = 0; o < cOut; o++) {
    const w = weights.subarray(o * 3 * k, (o + 1) * 3 * k);
    const m = normalize === 'global' ? globalMax : maxAbs(w);
    const level = (v: number) => (m > 0 ? Math.round(127.5 + (127.5 * v) / m) : 128);
    const [x0, y0] = g.origin(o);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++) {
        const at = y * kw + x,
          r = w[at],
          gr = w[k + at],
          b = w[2 * k + at];
        const finite = Number.isFinite(r) && Number.isFinite(gr) && Number.isFinite(b);
        fillRect(
          g.raster,
          x0 + x * scale,
          y0 + y * scale,
          scale,
          scale,
          finite ? [level(r), level(gr), level(b)] : NAN_COLOR,
        );
      }
  }
  return g.raster;
}

/**
 * A batch of images `[n, c, h, w]` (c = 1: grey, c = 3: RGB), one tile each.
 * For other channel counts (feature maps), pass the shape `[n·c, 1, h, w]`.
 */
export function imageGrid(
  images: Float32Array,
  shape: readonly [number, number, number, number],
  opts: ImageGridOptions = {},
): Raster {
  const op = 'imageGrid';
  const [n, c, h, w] = checkImageShape(op, 'images', images, shape);
  const scale = posInt(op, 'scale', opts.scale ?? 2);
  const [lo, hi] = opts.range ? checkRange(op, opts.range) : autoRange(images);
  const g = gridLayout(op, n, h * scale, w * scale, opts);
  for (let i = 0; i < n; i++) drawImage(g.raster, ...g.origin(i), images, i, c, h, w, scale, lo, hi);
  return g.raster;
}

/**
 * Originals next to their reconstructions: rows of `columns` originals, each
 * directly above a row of their reconstructions, pairs of rows separated by
 * an extra `pad`. Both are drawn on one grey scale, by default the min and max
 * of the originals (a reconstruction is shown on its target's scale; values
 * outside are clamped), so a faint reconstruction looks faint.
 *
 * Row r (0-based; even rows originals, odd rows reconstructions) starts at
 * y = pad + r·(tileH + pad) + ⌊r/2⌋·pad.
 */
export function reconstructionGrid(
  originals: Float32Array,
  reconstructions: Float32Array,
  shape: readonly [number, number, number, number],
  opts: ImageGridOptions = {},
): Raster {
  const op = 'reconstructionGrid';
  const [n, c, h, w] = checkImageShape(op, 'originals', originals, shape);
  checkShape(op, 'reconstructions', reconstructions, shape, ['n', 'c', 'h', 'w']);
  const [lo, hi] = opts.range ? checkRange(op, opts.range) : autoRange(originals);
  const { scale, pad, columns, width, height } = reconstructionGridSize(op, n, h, w, opts);
  const tw = w * scale,
    th = h * scale;
  const r = createRaster(op, width, height, opts.padColor ?? PAD_COLOR);
  for (let i = 0; i < n; i++) {
    const col = i % columns,
      p = Math.floor(i / columns);
    const x0 = pad + col * (tw + pad);
    const yOrig = pad + 2 * p * (th + pad) + p * pad;
    drawImage(r, x0, yOrig, originals, i, c, h, w, scale, lo, hi);
    drawImage(r, x0, yOrig + th + pad, reconstructions, i, c, h, w, scale, lo, hi);
  }
  return r;
}

/** The layout of `reconstructionGrid` for `n` images of h×w: its scale, padding, columns and size in pixels. */
export function reconstructionGridSize(
  op: string,
  n: number,
  h: number,
  w: number,
  opts: ImageGridOptions,
): { scale: number; pad: number; columns: number; width: number; height: number } {
  const scale = posInt(op, 'scale', opts.scale ?? 2);
  const pad = nonNegInt(op, 'pad', opts.pad ?? 1);
  const columns = posInt(op, 'columns', opts.columns ?? Math.min(n, Math.ceil(Math.sqrt(2 * n))));
  const pairs = Math.ceil(n / columns);
  return {
    scale,
    pad,
    columns,
    width: pad + columns * (w * scale + pad),
    height: pad + 2 * pairs * (h * scale + pad) + (pairs - 1) * pad,
  };
}

/** Options of `lossCurve`. */
export interface LossCurveOptions {
  /** Default 640. */
  width?: number;
  /** Default 400. */
  height?: number;
  /** Log-scale y axis (values ≤ 0 are skipped); default false. */
  logY?: boolean;
  /** Stroke width of the curves in pixels; default 2. */
  lineWidth?: number;
  /** Space around the plot area; default 16 px on each side. */
  margins?: Partial<Margins>;
}

/** Colour of the axes and tick marks of `lossCurve`. */
export const AXIS_COLOR: Rgb = [64, 64, 64];
/** Colour of the grid lines of `lossCurve`. */
export const GRID_COLOR: Rgb = [225, 225, 225];

/**
 * Loss curves on white: light grid lines at the ticks `plotFrame` chooses, the
 * left and bottom axes with short tick marks, one anti-aliased polyline per
 * series (broken where a value is not finite). No text: `lossCurveSvg` draws
 * the same frame with labels and a legend.
 */
export function lossCurve(series: readonly LossSeries[], opts: LossCurveOptions = {}): Raster {
  const op = 'lossCurve';
  const width = posInt(op, 'width', opts.width ?? 640),
    height = posInt(op, 'height', opts.height ?? 400);
  const lineWidth = opts.lineWidth ?? 2;
  if (!(lineWidth > 0 && lineWidth <= 64))
    throw new ArgumentError(op, 'lineWidth', `must be in (0, 64], got ${lineWidth}`);
  const margins = { top: 16, right: 16, bottom: 16, left: 16, ...opts.margins };
  const f = plotFrame(op, series, { width, height, logY: opts.logY ?? false, margins });
  const r = createRaster(op, width, height, [255, 255, 255]);

  const x0 = Math.floor(f.left),
    x1 = Math.ceil(f.right) - 1,
    y0 = Math.floor(f.top),
    y1 = Math.ceil(f.bottom) - 1;
  for (const t of f.yTicks) {
    const y = Math.min(y1, Math.floor(f.py(t)));
    fillRect(r, x0, y, x1 - x0 + 1, 1, GRID_COLOR);
    fillRect(r, x0 - 4, y, 4, 1, AXIS_COLOR);
  }
  for (const t of f.xTicks) {
    const x = Math.min(x1, Math.floor(f.px(t)));
    fillRect(r, x, y0, 1, y1 - y0 + 1, GRID_COLOR);
    fillRect(r, x, y1 + 1, 1, 4, AXIS_COLOR);
  }
  fillRect(r, x0 - 1, y0, 1, y1 - y0 + 2, AXIS_COLOR); // y axis, just left of the plot area
  fillRect(r, x0 - 1, y1 + 1, x1 - x0 + 2, 1, AXIS_COLOR); // x axis, just below it

  series.forEach((s, i) => drawPolylines(r, seriesRuns(f, s), seriesColor(s, i), lineWidth / 2));
  return r;
}

// ---- drawing helpers ----------------------------------------------------------

/** Throws unless a `width` × `height` picture is within MAX_RASTER_PIXELS. */
export function checkRasterSize(op: string, width: number, height: number, arg = 'size'): void {
  if (width * height > MAX_RASTER_PIXELS)
    throw new ArgumentError(
      op,
      arg,
      `${width}×${height} px is more than ${MAX_RASTER_PIXELS} pixels (MAX_RASTER_PIXELS)`,
    );
}

function createRaster(op: string, width: number, height: number, fill: Rgb): Raster {
  checkRasterSize(op, width, height);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < data.length; p += 4) {
    data[p] = fill[0];
    data[p + 1] = fill[1];
    data[p + 2] = fill[2];
    data[p + 3] = 255;
  }
  return { width, height, data };
}

function fillRect(r: Raster, x: number, y: number, w: number, h: number, c: Rgb) {
  const xa = Math.max(0, x),
    ya = Math.max(0, y),
    xb = Math.min(r.width, x + w),
    yb = Math.min(r.height, y + h);
  for (let j = ya; j < yb; j++)
    for (let i = xa; i < xb; i++) {
      const p = (j * r.width + i) * 4;
      r.data[p] = c[0];
      r.data[p + 1] = c[1];
      r.data[p + 2] = c[2];
      r.data[p + 3] = 255;
    }
}

/** Width and height of a grid of `tiles` tiles of `th` × `tw` pixels laid out as `opts` says (see the file comment). */
export function gridSize(
  op: string,
  tiles: number,
  th: number,
  tw: number,
  opts: GridOptions,
  defaultColumns?: number,
): { pad: number; columns: number; width: number; height: number } {
  const pad = nonNegInt(op, 'pad', opts.pad ?? 1);
  const columns = posInt(op, 'columns', opts.columns ?? defaultColumns ?? Math.ceil(Math.sqrt(tiles)));
  const rows = Math.ceil(tiles / columns);
  return { pad, columns, width: pad + columns * (tw + pad), height: pad + rows * (th + pad) };
}

/** The grid every tile function shares (see the file comment). */
function gridLayout(op: string, tiles: number, th: number, tw: number, opts: GridOptions, defaultColumns?: number) {
  const { pad, columns, width, height } = gridSize(op, tiles, th, tw, opts, defaultColumns);
  const raster = createRaster(op, width, height, opts.padColor ?? PAD_COLOR);
  const origin = (t: number): [number, number] => [
    pad + (t % columns) * (tw + pad),
    pad + Math.floor(t / columns) * (th + pad),
  ];
  return { raster, origin };
}

/** One h×w plane of `src` starting at `offset`, each value a scale×scale block of colour(value). */
function drawPlane(
  r: Raster,
  x0: number,
  y0: number,
  src: Float32Array,
  offset: number,
  h: number,
  w: number,
  scale: number,
  colour: (v: number) => Rgb,
) {
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = src[offset + y * w + x];
      fillRect(r, x0 + x * scale, y0 + y * scale, scale, scale, Number.isFinite(v) ? colour(v) : NAN_COLOR);
    }
}

/** Image `i` of a [n, c, h, w] batch (c = 1 or 3) with [lo, hi] → [0, 255]. */
function drawImage(
  r: Raster,
  x0: number,
  y0: number,
  src: Float32Array,
  i: number,
  c: number,
  h: number,
  w: number,
  scale: number,
  lo: number,
  hi: number,
) {
  const level = (v: number) => Math.round((255 * (v - lo)) / (hi - lo));
  const plane = h * w,
    base = i * c * plane;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const at = base + y * w + x;
      let col: Rgb;
      if (c === 1) {
        const g = level(src[at]);
        col = [g, g, g];
      } else col = [level(src[at]), level(src[at + plane]), level(src[at + 2 * plane])];
      const finite =
        Number.isFinite(src[at]) &&
        (c === 1 || (Number.isFinite(src[at + plane]) && Number.isFinite(src[at + 2 * plane])));
      fillRect(r, x0 + x * scale, y0 + y * scale, scale, scale, finite ? col : NAN_COLOR);
    }
}

/**
 * Anti-aliased strokes of half-width `hw`: each pixel's coverage is
 * clamp(hw + ½ − distance from its centre to the nearest segment, 0, 1), the
 * max over all segments of the series, then blended once (so joints don't
 * darken). A run of one point is a dot.
 */
function drawPolylines(r: Raster, runs: [number, number][][], c: Rgb, hw: number) {
  const cover = new Map<number, number>();
  const reach = hw + 1;
  for (const run of runs)
    for (let s = 0; s < Math.max(1, run.length - 1); s++) {
      const [ax, ay] = run[s],
        [bx, by] = run[Math.min(s + 1, run.length - 1)];
      const ia = Math.max(0, Math.floor(Math.min(ax, bx) - reach)),
        ib = Math.min(r.width - 1, Math.ceil(Math.max(ax, bx) + reach));
      const ja = Math.max(0, Math.floor(Math.min(ay, by) - reach)),
        jb = Math.min(r.height - 1, Math.ceil(Math.max(ay, by) + reach));
      const dx = bx - ax,
        dy = by - ay,
        len2 = dx * dx + dy * dy;
      for (let j = ja; j <= jb; j++)
        for (let i = ia; i <= ib; i++) {
          const cx = i + 0.5,
            cy = j + 0.5;
          const t = len2 > 0 ? Math.max(0, Math.min(1, ((cx - ax) * dx + (cy - ay) * dy) / len2)) : 0;
          const a = Math.min(1, hw + 0.5 - Math.hypot(cx - (ax + t * dx), cy - (ay + t * dy)));
          if (a <= 0) continue;
          const p = j * r.width + i;
          if (a > (cover.get(p) ?? 0)) cover.set(p, a);
        }
    }
  for (const [p, a] of cover) {
    const q = p * 4;
    for (let k = 0; k < 3; k++) r.data[q + k] = Math.round(r.data[q + k] * (1 - a) + c[k] * a);
  }
}

// ---- argument checks ----------------------------------------------------------

const shapeText = (s: readonly number[]) => `[${s.join(',')}]`;

function checkShape(op: string, arg: string, data: Float32Array, shape: readonly number[], names: string[]): number[] {
  if (shape.length !== names.length || !shape.every((d) => Number.isInteger(d) && d >= 1))
    throw new ShapeError(
      op,
      `${arg} shape`,
      `${names.length} positive integers [${names.join(', ')}]`,
      shapeText(shape),
    );
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count)
    throw new ShapeError(op, arg, `${count} values for shape ${shapeText(shape)}`, `${data.length}`);
  return [...shape];
}

function checkImageShape(op: string, arg: string, data: Float32Array, shape: readonly number[]): number[] {
  const s = checkShape(op, arg, data, shape, ['n', 'c', 'h', 'w']);
  if (s[1] !== 1 && s[1] !== 3)
    throw new ShapeError(
      op,
      `${arg} shape`,
      '[n, 1 or 3, h, w] (grey or RGB; pass feature maps as [n·c, 1, h, w])',
      shapeText(shape),
    );
  return s;
}

function posInt(op: string, arg: string, v: number): number {
  if (!(Number.isInteger(v) && v >= 1)) throw new ArgumentError(op, arg, `must be an integer ≥ 1, got ${v}`);
  return v;
}

function nonNegInt(op: string, arg: string, v: number): number {
  if (!(Number.isInteger(v) && v >= 0)) throw new ArgumentError(op, arg, `must be an integer ≥ 0, got ${v}`);
  return v;
}

function checkRange(op: string, range: readonly [number, number]): [number, number] {
  const [lo, hi] = range;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi))
    throw new ArgumentError(op, 'range', `must be finite [lo, hi] with lo < hi, got [${lo}, ${hi}]`);
  return [lo, hi];
}

/** Min and max of the finite values; a constant (or empty) set gets a span of 1 above its value. */
function autoRange(a: Float32Array): [number, number] {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of a)
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  if (lo > hi) return [0, 1];
  return lo < hi ? [lo, hi] : [lo, lo + 1];
}

/**
 * A c × h × w image averaged over step × step blocks (the last row and column of blocks may be partial): the
 * thumbnails of `convae map`'s map-images.png and `convae cluster`'s clusters.png.
 */
export function shrink(img: Float32Array, c: number, h: number, w: number, step: number): Float32Array {
  if (step === 1) return img;
  const [sh, sw] = [Math.ceil(h / step), Math.ceil(w / step)];
  const sum = new Float32Array(c * sh * sw);
  const count = new Float32Array(sh * sw);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const t = Math.floor(y / step) * sw + Math.floor(x / step);
      for (let ch = 0; ch < c; ch++) sum[ch * sh * sw + t]! += img[(ch * h + y) * w + x]!;
      count[t]! += 1;
    }
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < sh * sw; t++) sum[ch * sh * sw + t]! /= count[t]!;
  return sum;
}
