/**
 * The layout of a loss plot, computed once and drawn twice: by `lossCurve`
 * (an RGBA raster, no text) and by `lossCurveSvg` (SVG with ticks, labels,
 * legend and title). Both ask `plotFrame` for the domains, the ticks and the
 * value → pixel mapping, so the two pictures of one run agree.
 *
 * Coordinates are continuous pixels: pixel (i, j) covers [i, i+1) × [j, j+1),
 * y grows downwards.
 */
import { ArgumentError } from '../errors.js';

/** A colour: red, green, blue in 0..255. */
export type Rgb = readonly [number, number, number];

/** One curve. The i-th value is drawn at x = i + 1 (the epoch or step that produced it) unless `x` is given. */
export interface LossSeries {
  /** Its label in the SVG's legend (the raster has no text). */
  name: string;
  /** The losses; a value that is not finite (or, on a log axis, not positive) breaks the curve. */
  values: ArrayLike<number>;
  /** Colour; default the i-th colour of `PALETTE`. */
  color?: Rgb;
  /** x of each value (same length as `values`), e.g. fractional epochs for per-batch losses. */
  x?: ArrayLike<number>;
}

/** Tableau 10, the default series colours in order. */
export const PALETTE: readonly Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

export const seriesColor = (s: LossSeries, i: number): Rgb => s.color ?? PALETTE[i % PALETTE.length];

/** Space around a plot area, in pixels. */
export interface Margins {
  /** Above the plot area. */
  top: number;
  /** Right of the plot area. */
  right: number;
  /** Below the plot area. */
  bottom: number;
  /** Left of the plot area. */
  left: number;
}

/** The layout of a loss plot computed by `plotFrame`: plot area, domains, ticks and the value → pixel mapping. */
export interface PlotFrame {
  /** Width of the whole picture, in pixels. */
  width: number;
  /** Height of the whole picture, in pixels. */
  height: number;
  /** The plot area's left edge (`margins.left`), in continuous pixels. */
  left: number;
  /** The plot area's top edge (`margins.top`). */
  top: number;
  /** The plot area's right edge (width − `margins.right`). */
  right: number;
  /** The plot area's bottom edge (height − `margins.bottom`). */
  bottom: number;
  /** Whether the y axis is logarithmic (base 10). */
  logY: boolean;
  /** Value ranges mapped onto the plot area (the y range has 5% headroom on each side, in log space if logY). */
  xDomain: [number, number];
  /** [lowest, highest] y shown, in data units (not logarithms). */
  yDomain: [number, number];
  /** x values of the tick marks: steps of 1, 2 or 5 × 10^k, at least 1 when every x is a whole number. */
  xTicks: number[];
  /** y values of the tick marks (on a log axis, mostly powers of ten or 1, 2, 5 × 10^k). */
  yTicks: number[];
  /** The pixel column of x (continuous; outside the plot area for x outside `xDomain`). */
  px(x: number): number;
  /** The pixel row of y (rows grow downwards; with logY, y must be > 0). */
  py(y: number): number;
}

/**
 * Domains, ticks and mapping for `series` on a `width`×`height` picture. Values
 * that are not finite (and, with logY, not positive) are left out of the
 * domain; `seriesRuns` breaks the curve there.
 */
export function plotFrame(
  op: string,
  series: readonly LossSeries[],
  opts: { width: number; height: number; logY: boolean; margins: Margins },
): PlotFrame {
  const { width, height, logY, margins: m } = opts;
  checkSeries(op, series);
  const left = m.left,
    top = m.top,
    right = width - m.right,
    bottom = height - m.bottom;
  if (!(right - left >= 8 && bottom - top >= 8))
    throw new ArgumentError(
      op,
      'width/height',
      `leave a plot area of ${right - left}×${bottom - top} px, need at least 8×8`,
    );

  let xlo = Infinity,
    xhi = -Infinity,
    ylo = Infinity,
    yhi = -Infinity,
    integerX = true;
  for (const s of series) {
    for (let i = 0; i < s.values.length; i++) {
      const x = s.x ? s.x[i] : i + 1,
        y = s.values[i];
      if (!usable(x, y, logY)) continue;
      const t = logY ? Math.log10(y) : y;
      xlo = Math.min(xlo, x);
      xhi = Math.max(xhi, x);
      ylo = Math.min(ylo, t);
      yhi = Math.max(yhi, t);
      if (!Number.isInteger(x)) integerX = false;
    }
  }
  if (xlo > xhi) {
    xlo = 0;
    xhi = 1;
    ylo = 0;
    yhi = 1;
  } // nothing drawable: an empty frame
  if (xlo === xhi) {
    xlo -= 0.5;
    xhi += 0.5;
  }
  if (ylo === yhi) {
    const d = logY ? 0.5 : ylo === 0 ? 1 : Math.abs(ylo) * 0.1;
    ylo -= d;
    yhi += d;
  }
  const head = 0.05 * (yhi - ylo);
  ylo -= head;
  yhi += head;

  const yDomain: [number, number] = logY ? [10 ** ylo, 10 ** yhi] : [ylo, yhi];
  const xDomain: [number, number] = [xlo, xhi];
  let xTicks = niceTicks(xlo, xhi, Math.max(2, Math.min(10, Math.floor((right - left) / 80))));
  if (integerX && xTicks.length > 1 && xTicks[1] - xTicks[0] < 1)
    xTicks = niceTicks(xlo, xhi, Math.max(1, Math.floor(xhi - xlo)));
  const yTarget = Math.max(2, Math.min(10, Math.floor((bottom - top) / 50)));
  const yTicks = logY ? logTicks(yDomain[0], yDomain[1], yTarget) : niceTicks(ylo, yhi, yTarget);

  const px = (x: number) => left + ((x - xlo) / (xhi - xlo)) * (right - left);
  const py = (y: number) => bottom - (((logY ? Math.log10(y) : y) - ylo) / (yhi - ylo)) * (bottom - top);
  return { width, height, left, top, right, bottom, logY, xDomain, yDomain, xTicks, yTicks, px, py };
}

/** The points of one series in pixels, split into runs at values that cannot be drawn. */
export function seriesRuns(frame: PlotFrame, s: LossSeries): [number, number][][] {
  const runs: [number, number][][] = [];
  let run: [number, number][] = [];
  for (let i = 0; i < s.values.length; i++) {
    const x = s.x ? s.x[i] : i + 1,
      y = s.values[i];
    if (usable(x, y, frame.logY)) run.push([frame.px(x), frame.py(y)]);
    else if (run.length) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length) runs.push(run);
  return runs;
}

const usable = (x: number, y: number, logY: boolean) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);

function checkSeries(op: string, series: readonly LossSeries[]) {
  series.forEach((s, i) => {
    if (s.x && s.x.length !== s.values.length)
      throw new ArgumentError(
        op,
        `series[${i}].x`,
        `must have one x per value (${s.values.length}), got ${s.x.length}`,
      );
    if (s.color && !(s.color.length === 3 && s.color.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)))
      throw new ArgumentError(
        op,
        `series[${i}].color`,
        `must be [r, g, b] with integers in 0..255, got [${s.color.join(', ')}]`,
      );
  });
}

/** Ticks at 1, 2 or 5 × 10^k spacing inside [lo, hi], about `target` of them. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++)
    ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/**
 * Ticks for a log axis over [lo, hi] (lo > 0): the powers of ten inside it
 * when there are three or more (thinned to about `target`); else 1, 2 and 5 ×
 * 10^k when that gives 2..2·target ticks; else the powers of ten if there are
 * two; else (a range under ~2.5×) linear nice ticks.
 */
export function logTicks(lo: number, hi: number, target = 5): number[] {
  const a = Math.ceil(Math.log10(lo) - 1e-9),
    b = Math.floor(Math.log10(hi) + 1e-9);
  const decades: number[] = [];
  const every = Math.max(1, Math.ceil((b - a + 1) / target));
  for (let e = a; e <= b; e++) if ((e - a) % every === 0) decades.push(Number((10 ** e).toPrecision(12)));
  if (decades.length >= 3) return decades;
  const fine: number[] = [];
  for (let e = a - 1; e <= b; e++)
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo && v <= hi) fine.push(v);
    }
  if (fine.length >= 2 && fine.length <= 2 * target) return fine;
  return decades.length >= 2 ? decades : niceTicks(lo, hi, target);
}

/** A short tick label: plain decimals for 1e-3 ≤ |v| < 1e5, else `2.5e-4` style. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(6)));
  const [mant, exp] = v.toExponential(5).split('e');
  return `${Number(mant)}e${Number(exp)}`;
}
