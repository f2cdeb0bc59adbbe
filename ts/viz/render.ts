/**
 * PNG pictures with text, in Node: SVG documents (the loss chart of
 * `lossCurveSvg`, the grids framed by `figureSvg`, the maps of `scatterSvg`) rasterized by resvg
 * (@resvg/resvg-js: Rust's resvg, its binaries shipped in npm packages). The
 * text is drawn with the DejaVu Sans subset that ships in the package
 * (dist/viz/fonts/), not with the machine's fonts, so a machine without fonts
 * still gets its labels and every machine the same pixels.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ArgumentError, BackendError, truncate } from '../errors.js';
import { figureSvg, type ScaleBar } from './figure.js';
import type { LossSeries, Rgb } from './plot.js';
import { encodePng } from './png.js';
import { checkRasterSize, filterGrid, reconstructionGrid, type Raster } from './raster.js';
import { type ScatterSvgOptions, scatterSvg } from './scatter.js';
import { lossCurveSvg, type LossCurveSvgOptions } from './svg.js';

const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) =>
  fileURLToPath(new URL(`./fonts/${f}`, import.meta.url)),
);

type ResvgModule = typeof import('@resvg/resvg-js');
let resvgModule: ResvgModule | undefined;

/**
 * @internal resvg, loaded on first use rather than imported: its binary comes from a per-platform optional
 * package that `npm install --omit=optional` (or a platform without one) leaves out, and without it only the
 * pictures with text should fail, not `convae/node` or every CLI command. Throws a BackendError saying so.
 */
export function loadRenderer(): ResvgModule {
  if (!resvgModule) {
    try {
      resvgModule = createRequire(import.meta.url)('@resvg/resvg-js') as ResvgModule;
    } catch (e) {
      // Node's first line names the missing module; the rest is the require stack.
      const why = truncate(String(e instanceof Error ? e.message : e).split('\n')[0], 200);
      throw new BackendError(
        `drawing pictures with text needs @resvg/resvg-js with its binary for ${process.platform}-${process.arch} (${why}); npm installs it unless optional dependencies are omitted`,
      );
    }
  }
  return resvgModule;
}

/**
 * The PNG file of an SVG document, at its own size; text in the bundled DejaVu Sans. A document over
 * MAX_RASTER_PIXELS is refused after parsing, before any pixel is drawn (a 20 000 × 20 000 loss chart took 8 s
 * and 3.2 GB, a 50 000 × 50 000 one would take 20 GB).
 */
export function svgToPng(svg: string): Uint8Array {
  const missing = FONT_FILES.filter((f) => !existsSync(f));
  if (missing.length) throw new BackendError(`svgToPng: the chart font is missing: ${missing.join(', ')}`);
  const renderer = new (loadRenderer().Resvg)(svg, {
    font: {
      loadSystemFonts: false,
      fontFiles: FONT_FILES,
      defaultFontFamily: 'DejaVu Sans',
      sansSerifFamily: 'DejaVu Sans',
    },
    fitTo: { mode: 'original' },
    logLevel: 'off',
  });
  checkRasterSize('svgToPng', renderer.width, renderer.height, 'svg');
  const png = renderer.render().asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/** The loss chart of `lossCurveSvg` as SVG and, drawn from that same SVG, PNG. */
export function lossChart(
  series: readonly LossSeries[],
  opts: LossCurveSvgOptions = {},
): { svg: string; png: Uint8Array } {
  const w = opts.width ?? 640,
    h = opts.height ?? 400;
  if (Number.isInteger(w) && Number.isInteger(h)) checkRasterSize('lossChart', w, h, 'width × height');
  const svg = lossCurveSvg(series, opts);
  return { svg, png: svgToPng(svg) };
}

/** The map of `scatterSvg` as SVG and, drawn from that same SVG, PNG. */
export function scatterChart(
  xy: ArrayLike<number>,
  groups: ArrayLike<number> | null,
  opts: ScatterSvgOptions = {},
): { svg: string; png: Uint8Array } {
  const svg = scatterSvg(xy, groups, opts);
  return { svg, png: svgToPng(svg) };
}

/** @internal A raster as a `data:image/png;base64,` URL, for an SVG `<image>`. */
export const pngDataUrl = (r: Raster): string =>
  `data:image/png;base64,${Buffer.from(encodePng(r)).toString('base64')}`;
const GREYS: Rgb[] = [
  [0, 0, 0],
  [128, 128, 128],
  [255, 255, 255],
];
const fmt = (v: number) =>
  v === 0 ? '0' : Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? String(Number(v.toPrecision(2))) : v.toExponential(1);

/** Options of `filterFigure`. */
export interface FilterFigureOptions {
  /** Default 'Learned filters'. */
  title?: string;
  /** Smallest width of the grid itself in pixels (the tile scale grows to reach it); default 360. */
  minGridWidth?: number;
}

/**
 * A first-look picture of a conv layer's filters (`[cOut, cIn, kh, kw]`): the
 * `filterGrid` (grey, or colour when cIn = 3) scaled up to at least
 * `minGridWidth` pixels, a caption saying what a tile is, and a scale bar
 * saying which weight each shade stands for.
 */
export function filterFigure(
  weights: Float32Array,
  shape: readonly [number, number, number, number],
  opts: FilterFigureOptions = {},
): { svg: string; png: Uint8Array } {
  const [cOut, cIn, kh, kw] = shape;
  const columns = Math.ceil(Math.sqrt(cOut));
  const pad = 2;
  const scale = Math.max(
    4,
    Math.min(32, Math.ceil(((opts.minGridWidth ?? 360) - pad * (columns + 1)) / (columns * kw))),
  );
  const raster = filterGrid(weights, shape, { scale, columns, pad });
  const ms: number[] = [];
  for (let o = 0; o < cOut; o++) {
    let m = 0;
    for (const v of weights.subarray(o * cIn * kh * kw, (o + 1) * cIn * kh * kw))
      if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
    ms.push(m);
  }
  // A loop, not Math.min(...ms): spreading 200 000 filters' values overflowed the call stack (a RangeError).
  const lo = ms.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY),
    hi = ms.reduce((a, b) => Math.max(a, b), 0);
  const tile =
    cIn === 3
      ? 'each tile one filter in colour, its red, green and blue input channels as red, green and blue'
      : cIn === 1
        ? 'each tile one filter'
        : `each tile one filter, the mean of its ${cIn} input channels`;
  const caption = `${cOut} filters of ${cIn}×${kh}×${kw} weights (${tile}; ${kh}×${kw} px shown at ${scale}× size). Mid grey is 0; each filter is scaled to its own largest |weight| m, here m = ${fmt(lo)} … ${fmt(hi)}.`;
  const bar: ScaleBar = {
    stops: GREYS,
    lo: '−m',
    mid: '0',
    hi: '+m',
    label: cIn === 3 ? 'weight (each channel)' : 'weight',
  };
  const svg = figureSvg(
    { href: pngDataUrl(raster), width: raster.width, height: raster.height },
    { title: opts.title ?? 'Learned filters', caption, scaleBar: bar },
  );
  return { svg, png: svgToPng(svg) };
}

/** Options of `reconstructionFigure`. */
export interface ReconstructionFigureOptions {
  /** Default 'Reconstructions'. */
  title?: string;
  /** What made the reconstructions (e.g. 'CAE 1'), for the row labels and the caption; default 'reconstruction'. */
  by?: string;
  /** Images per row; default 8. */
  columns?: number;
  /** Pixels per image pixel; default 3. */
  scale?: number;
  /** Values drawn black and white; default [0, 1]. */
  range?: readonly [number, number];
}

/**
 * Images `[n, c, h, w]` (c = 1 or 3) above their reconstructions, rows
 * labelled, with a caption and the grey (or per-channel) scale.
 */
export function reconstructionFigure(
  originals: Float32Array,
  reconstructions: Float32Array,
  shape: readonly [number, number, number, number],
  opts: ReconstructionFigureOptions = {},
): { svg: string; png: Uint8Array } {
  const [n, c, h] = shape;
  const columns = Math.min(n, opts.columns ?? 8),
    scale = opts.scale ?? 3,
    pad = 2,
    range = opts.range ?? [0, 1];
  const raster = reconstructionGrid(originals, reconstructions, shape, { columns, scale, pad, range });
  const by = opts.by ?? 'reconstruction';
  const th = h * scale,
    pairs = Math.ceil(n / columns);
  const rowLabels: { y: number; text: string }[] = [];
  for (let r = 0; r < 2 * pairs; r++)
    rowLabels.push({ y: pad + r * (th + pad) + Math.floor(r / 2) * pad + th / 2, text: r % 2 ? by : 'original' });
  const caption = `${n} images (${c === 3 ? 'RGB' : 'grey'}, ${shape[2]}×${shape[3]} px, shown at ${scale}× size), each above its reconstruction${opts.by ? ` by ${opts.by}` : ''}. Both on one scale: ${fmt(range[0])} is black, ${fmt(range[1])} white${c === 3 ? ' (per channel)' : ''}; values outside are clipped.`;
  const svg = figureSvg(
    { href: pngDataUrl(raster), width: raster.width, height: raster.height },
    {
      title: opts.title ?? 'Reconstructions',
      caption,
      rowLabels,
      scaleBar: {
        stops: [GREYS[0], GREYS[2]],
        lo: fmt(range[0]),
        hi: fmt(range[1]),
        label: c === 3 ? 'pixel (each channel)' : 'pixel',
      },
    },
  );
  return { svg, png: svgToPng(svg) };
}

/** One panel of `filterPanelsFigure`: a label and a conv layer's weights `[cOut, 1, kh, kw]`. */
export interface FilterPanel {
  label: string;
  weights: Float32Array;
  shape: readonly [number, number, number, number];
}

/** Options of `filterPanelsFigure`. */
export interface FilterPanelsOptions {
  title: string;
  /** Said after the caption's description of the tiles. */
  note?: string;
  /** Filters per row of a panel; default 10. */
  columns?: number;
  /** Pixels per weight; default 5. */
  scale?: number;
}

/**
 * Several layers' filters compared in one picture (as Masci et al. 2011's
 * figure compares CAEs trained with and without max-pooling and noise): each
 * panel a `filterGrid` of one layer, labelled at its left, the panels one
 * under the other, with a caption and the grey scale. Each filter is scaled to
 * its own largest |weight|, so mid grey is 0 in every tile.
 */
export function filterPanelsFigure(
  panels: readonly FilterPanel[],
  opts: FilterPanelsOptions,
): { svg: string; png: Uint8Array } {
  if (!panels.length) throw new ArgumentError('filterPanelsFigure', 'panels', 'must hold at least one panel');
  const columns = opts.columns ?? 10,
    scale = opts.scale ?? 5,
    pad = 1,
    gap = 8;
  const grids = panels.map((p) => filterGrid(p.weights, p.shape, { scale, columns, pad }));
  const width = grids.reduce((w, g) => Math.max(w, g.width), 0);
  const height = grids.reduce((h, g) => h + g.height, 0) + gap * (grids.length - 1);
  const out: Raster = { width, height, data: new Uint8ClampedArray(width * height * 4).fill(255) };
  const rowLabels: { y: number; text: string }[] = [];
  let y0 = 0;
  for (const [i, g] of grids.entries()) {
    for (let y = 0; y < g.height; y++)
      out.data.set(g.data.subarray(y * g.width * 4, (y + 1) * g.width * 4), (y0 + y) * width * 4);
    rowLabels.push({ y: y0 + g.height / 2, text: panels[i].label });
    y0 += g.height + gap;
  }
  const [cOut, , kh, kw] = panels[0].shape;
  const caption = `${cOut} filters of ${kh}×${kw} per panel (${kh}×${kw} px shown at ${scale}× size). Mid grey is 0; each filter is scaled to its own largest |weight|, light positive, dark negative.${opts.note ? ` ${opts.note}` : ''}`;
  const svg = figureSvg(
    { href: pngDataUrl(out), width: out.width, height: out.height },
    {
      title: opts.title,
      caption,
      rowLabels,
      scaleBar: { stops: GREYS, lo: '−m', mid: '0', hi: '+m', label: 'weight' },
    },
  );
  return { svg, png: svgToPng(svg) };
}
