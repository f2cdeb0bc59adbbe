/**
 * Loss curves as SVG: the plot of `lossCurve` (same `plotFrame`: domains, ticks,
 * mapping) with the text a raster cannot carry — tick labels, axis labels, a
 * legend and a title. Pure string building, no DOM.
 */
import { ArgumentError } from '../errors.js';
import { formatTick, plotFrame, seriesColor, seriesRuns, type LossSeries, type Rgb } from './plot.js';

/** Options of `lossCurveSvg`. */
export interface LossCurveSvgOptions {
  /** Default 640. */
  width?: number;
  /** Default 400. */
  height?: number;
  /** Log-scale y axis (values ≤ 0 are skipped); default false. */
  logY?: boolean;
  /** Stroke width of the curves; default 2. */
  lineWidth?: number;
  /** Drawn centred above the plot; none by default. */
  title?: string;
  /** Default 'epoch'. */
  xLabel?: string;
  /** Default 'loss', or 'loss (log scale)' with logY. */
  yLabel?: string;
  /** Default true. */
  legend?: boolean;
}

const AXIS = '#404040',
  GRID = '#e1e1e1';

/**
 * An SVG document (a string) of the loss curves: white background, light grid
 * lines at the ticks, labelled axes, one `<polyline>` per unbroken run of each
 * series (one per series unless it holds values that cannot be drawn; a lone
 * point is a `<circle>`), a legend box in the top-right corner of the plot.
 */
export function lossCurveSvg(series: readonly LossSeries[], opts: LossCurveSvgOptions = {}): string {
  const op = 'lossCurveSvg';
  const width = opts.width ?? 640,
    height = opts.height ?? 400,
    logY = opts.logY ?? false;
  for (const [arg, v] of [
    ['width', width],
    ['height', height],
  ] as const)
    if (!(Number.isInteger(v) && v >= 1)) throw new ArgumentError(op, arg, `must be an integer ≥ 1, got ${v}`);
  const lineWidth = opts.lineWidth ?? 2;
  if (!(lineWidth > 0)) throw new ArgumentError(op, 'lineWidth', `must be > 0, got ${lineWidth}`);
  const title = opts.title;
  const f = plotFrame(op, series, {
    width,
    height,
    logY,
    margins: { top: title ? 36 : 16, right: 16, bottom: 48, left: 64 },
  });
  const n = (v: number) => String(Math.round(v * 100) / 100);
  const rgb = (c: Rgb) => `rgb(${c[0]},${c[1]},${c[2]})`;
  const out: string[] = [];

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);

  // Grid lines (crisp: on half pixels) and tick labels.
  const crisp = (v: number) => Math.floor(v) + 0.5;
  out.push(`<g stroke="${GRID}" stroke-width="1">`);
  for (const t of f.yTicks)
    out.push(`<line x1="${n(f.left)}" x2="${n(f.right)}" y1="${crisp(f.py(t))}" y2="${crisp(f.py(t))}"/>`);
  for (const t of f.xTicks)
    out.push(`<line x1="${crisp(f.px(t))}" x2="${crisp(f.px(t))}" y1="${n(f.top)}" y2="${n(f.bottom)}"/>`);
  out.push('</g>');
  out.push(`<g stroke="${AXIS}" stroke-width="1">`);
  out.push(`<line x1="${f.left - 0.5}" x2="${f.left - 0.5}" y1="${n(f.top)}" y2="${f.bottom + 0.5}"/>`);
  out.push(`<line x1="${f.left - 0.5}" x2="${n(f.right)}" y1="${f.bottom + 0.5}" y2="${f.bottom + 0.5}"/>`);
  for (const t of f.yTicks)
    out.push(`<line x1="${f.left - 5}" x2="${f.left - 1}" y1="${crisp(f.py(t))}" y2="${crisp(f.py(t))}"/>`);
  for (const t of f.xTicks)
    out.push(`<line x1="${crisp(f.px(t))}" x2="${crisp(f.px(t))}" y1="${f.bottom + 1}" y2="${f.bottom + 5}"/>`);
  out.push('</g>');
  out.push(`<g fill="${AXIS}">`);
  for (const t of f.yTicks)
    out.push(`<text x="${f.left - 8}" y="${n(f.py(t) + 4)}" text-anchor="end">${esc(formatTick(t))}</text>`);
  for (const t of f.xTicks)
    out.push(`<text x="${n(f.px(t))}" y="${f.bottom + 18}" text-anchor="middle">${esc(formatTick(t))}</text>`);
  const xLabel = opts.xLabel ?? 'epoch',
    yLabel = opts.yLabel ?? (logY ? 'loss (log scale)' : 'loss');
  out.push(`<text x="${n((f.left + f.right) / 2)}" y="${height - 10}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(
    `<text transform="translate(16 ${n((f.top + f.bottom) / 2)}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  if (title)
    out.push(
      `<text x="${n(width / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    );
  out.push('</g>');

  // The curves.
  series.forEach((s, i) => {
    const c = rgb(seriesColor(s, i));
    out.push(
      `<g stroke="${c}" fill="none" stroke-width="${lineWidth}" stroke-linejoin="round" stroke-linecap="round">`,
    );
    for (const run of seriesRuns(f, s)) {
      if (run.length === 1)
        out.push(`<circle cx="${n(run[0][0])}" cy="${n(run[0][1])}" r="${lineWidth}" fill="${c}" stroke="none"/>`);
      else out.push(`<polyline points="${run.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}"/>`);
    }
    out.push('</g>');
  });

  // The legend: a swatch and the name of each series, in a box at the top right of the plot.
  if ((opts.legend ?? true) && series.length) {
    const row = 18,
      chars = series.reduce((m, s) => Math.max(m, s.name.length), 0);
    const bw = 8 + 24 + 6 + Math.ceil(chars * 7) + 8,
      bh = 6 + series.length * row;
    const bx = f.right - 8 - bw,
      by = f.top + 8;
    out.push(`<g>`);
    out.push(
      `<rect x="${n(bx)}" y="${n(by)}" width="${bw}" height="${bh}" fill="white" fill-opacity="0.9" stroke="#c8c8c8"/>`,
    );
    series.forEach((s, i) => {
      const y = by + 3 + row * i + row / 2;
      out.push(
        `<line x1="${n(bx + 8)}" x2="${n(bx + 32)}" y1="${n(y)}" y2="${n(y)}" stroke="${rgb(seriesColor(s, i))}" stroke-width="${lineWidth}"/>`,
      );
      out.push(`<text x="${n(bx + 38)}" y="${n(y + 4)}" fill="${AXIS}">${esc(s.name)}</text>`);
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * XML text and attribute escaping (names in the pictures come from the user's folders). A character XML cannot hold
 * at all (a control character, a lone surrogate: a folder named `a\x01b`) becomes U+FFFD; the renderer refused the
 * whole picture.
 */
export const esc = (s: string) =>
  s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);
