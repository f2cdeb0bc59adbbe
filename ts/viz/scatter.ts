/**
 * A 2-D map of points as SVG (`convae map`): one dot per point, coloured by its group (a class), one scale for both
 * axes so that distances on the page are distances in the map, and a legend of the groups' names beside the plot.
 * Pure string building, no DOM.
 */
import { ArgumentError } from '../errors.js';
import { optionsOf } from '../util/options.js';
import { Rng } from '../util/rng.js';
import { PALETTE, type Rgb } from './plot.js';
import { esc } from './svg.js';

/** Options of `scatterSvg`. */
export interface ScatterSvgOptions {
  /** Side of the square plot in pixels; default 720. */
  side?: number;
  /** Dot radius in pixels; default 2, or 1.2 above 20 000 points. */
  radius?: number;
  /** Drawn above the plot; none by default. */
  title?: string;
  /** The name of each group (a class), listed in the legend; without it, groups are named by number. */
  names?: readonly string[] | null;
  /** Pictures drawn over the dots, each centred on its point (`convae map`'s thumbnails of the images). */
  images?: readonly ScatterImage[];
}

/** A picture at a point of the map: a `data:image/png;base64,` URL, drawn `width` × `height` pixels. */
export interface ScatterImage {
  /** The point (an index into the map's points) the picture is centred on. */
  point: number;
  /** The picture, embedded: `data:image/png;base64,…` (nothing a renderer would fetch). */
  href: string;
  /** Drawn width in pixels, 1 to 1024. */
  width: number;
  /** Drawn height in pixels, 1 to 1024. */
  height: number;
}

/** Longest group name the legend shows, in characters (longer ones end in an ellipsis). */
export const LEGEND_CHARS = 24;
/** Most groups the legend lists; the rest are counted on one line. */
export const LEGEND_ROWS = 30;
const MARGIN = 16;
const TITLE_H = 28;

/** The i-th group's colour: Tableau 10 for up to 10 groups, evenly spaced hues in two lightnesses for more. */
export function groupColor(i: number, groups: number): Rgb {
  if (groups <= PALETTE.length) return PALETTE[i]!;
  // Neighbouring groups differ in lightness too, where their hues are close.
  return hslToRgb((i * 360) / groups, 0.65, i % 2 ? 0.35 : 0.55);
}

function hslToRgb(h: number, s: number, l: number): Rgb {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/**
 * The SVG document of `xy` (x0, y0, x1, y1, …; finite) with each point's group in `groups` (integers from 0; null:
 * one group and no legend). Points are drawn in a fixed shuffled order, so that no group is painted over all others
 * because it comes last in the data.
 */
export function scatterSvg(
  xy: ArrayLike<number>,
  groups: ArrayLike<number> | null,
  options: ScatterSvgOptions = {},
): string {
  const op = 'scatterSvg';
  const opts = optionsOf(op, options);
  // Read as they are drawn, deep in the loop: a wrong type was a TypeError there.
  if (opts.names != null && !(Array.isArray(opts.names) && opts.names.every((v) => typeof v === 'string')))
    throw new ArgumentError(op, 'names', 'must be an array of strings (one per group)');
  if (opts.images != null && !Array.isArray(opts.images))
    throw new ArgumentError(op, 'images', 'must be an array of { point, href, width, height }');
  if (opts.title != null && typeof opts.title !== 'string')
    throw new ArgumentError(op, 'title', `must be a string, got ${typeof opts.title}`);
  const n = xy.length / 2;
  if (!Number.isInteger(n) || n < 1)
    throw new ArgumentError(op, 'xy', `must hold x, y pairs of at least one point, got ${xy.length} numbers`);
  if (groups && groups.length !== n)
    throw new ArgumentError(op, 'groups', `must hold one group per point (${n}), got ${groups.length}`);
  const side = opts.side ?? 720;
  if (!(Number.isInteger(side) && side >= 64 && side <= 8192))
    throw new ArgumentError(op, 'side', `must be an integer in 64..8192, got ${side}`);
  const radius = opts.radius ?? (n > 20_000 ? 1.2 : 2);
  if (!(radius > 0 && radius <= 50)) throw new ArgumentError(op, 'radius', `must be in (0, 50], got ${radius}`);
  let minX = Infinity,
    maxX = -Infinity,
    minY = Infinity,
    maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i]!,
      y = xy[2 * i + 1]!;
    if (!Number.isFinite(x) || !Number.isFinite(y))
      throw new ArgumentError(op, 'xy', `point ${i} is (${x}, ${y}): coordinates must be finite`);
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  let count = 0;
  if (groups)
    for (let i = 0; i < n; i++) {
      const g = groups[i]!;
      if (!(Number.isInteger(g) && g >= 0 && g < 65_536))
        throw new ArgumentError(op, 'groups', `point ${i}'s group is ${g}: groups are integers in 0..65535`);
      count = Math.max(count, g + 1);
    }
  // One scale for both axes (the larger extent fills the plot); a single point or a line still gets a plot.
  const extent = Math.max(maxX - minX, maxY - minY) || 1;
  // Finite points whose spread is not (±1e308): every position would be NaN.
  if (!Number.isFinite(extent))
    throw new ArgumentError(
      op,
      'xy',
      `spans x ${minX} to ${maxX}, y ${minY} to ${maxY}: too wide to draw; scale the points down`,
    );
  const inner = side - 2 * radius - 2;
  const scale = inner / extent;
  const ox = MARGIN + radius + 1 + (inner - (maxX - minX) * scale) / 2;
  const oy = (opts.title ? TITLE_H : 0) + MARGIN + radius + 1 + (inner - (maxY - minY) * scale) / 2;
  const px = (x: number) => ox + (x - minX) * scale;
  const py = (y: number) => oy + (maxY - y) * scale; // y up, as a plot reads
  const r2 = (v: number) => String(Math.round(v * 100) / 100);
  const rgb = (c: Rgb) => `rgb(${c[0]},${c[1]},${c[2]})`;

  const legend = groups ? legendRows(count, opts.names ?? null) : [];
  const legendW = legend.length ? 28 + Math.ceil(Math.max(...legend.map((l) => l.text.length)) * 7) + MARGIN : 0;
  const width = 2 * MARGIN + side + legendW;
  const height = (opts.title ? TITLE_H : 0) + 2 * MARGIN + Math.max(side, legend.length * 18);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<rect x="${MARGIN - 0.5}" y="${(opts.title ? TITLE_H : 0) + MARGIN - 0.5}" width="${side + 1}" height="${side + 1}" fill="none" stroke="#c8c8c8"/>`,
  ];
  if (opts.title)
    out.push(
      `<text x="${r2(width / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold" fill="#202020">${esc(opts.title)}</text>`,
    );
  const order = new Rng(1).permutation(n);
  const colours = Array.from({ length: Math.max(count, 1) }, (_, g) => rgb(groupColor(g, count)));
  out.push(`<g stroke="none" fill-opacity="0.8">`);
  for (const i of order)
    out.push(
      `<circle cx="${r2(px(xy[2 * i]!))}" cy="${r2(py(xy[2 * i + 1]!))}" r="${radius}" fill="${colours[groups ? groups[i]! : 0]}"/>`,
    );
  out.push('</g>');
  // A picture is centred on its point, but kept inside the plot's frame: at the edge it would cover the legend.
  const [plotLeft, plotTop] = [MARGIN, (opts.title ? TITLE_H : 0) + MARGIN];
  const inside = (v: number, size: number, lo: number) => Math.min(Math.max(v - size / 2, lo), lo + side - size);
  for (const [k, im] of (opts.images ?? []).entries()) {
    checkImage(op, k, im, n);
    const x = inside(px(xy[2 * im.point]!), im.width, plotLeft);
    const y = inside(py(xy[2 * im.point + 1]!), im.height, plotTop);
    out.push(
      `<image x="${r2(x)}" y="${r2(y)}" width="${im.width}" height="${im.height}" href="${im.href}" style="image-rendering:pixelated"/>`,
    );
  }
  if (legend.length) {
    const lx = 2 * MARGIN + side,
      ly = (opts.title ? TITLE_H : 0) + MARGIN;
    out.push('<g fill="#404040">');
    for (const [k, l] of legend.entries()) {
      const y = ly + 9 + 18 * k;
      if (l.group !== null)
        out.push(`<circle cx="${lx + 8}" cy="${y}" r="5" fill="${colours[l.group]}" stroke="none"/>`);
      out.push(`<text x="${lx + 20}" y="${y + 4}">${esc(l.text)}</text>`);
    }
    out.push('</g>');
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The legend's lines: a dot and a name per group, at most LEGEND_ROWS of them, then how many are left out. */
function legendRows(count: number, names: readonly string[] | null): { group: number | null; text: string }[] {
  const shown = count > LEGEND_ROWS ? LEGEND_ROWS - 1 : count;
  const rows: { group: number | null; text: string }[] = [];
  for (let g = 0; g < shown; g++) {
    const name = [...(names?.[g] ?? String(g))]; // code points: an emoji is not cut in half
    rows.push({
      group: g,
      text: name.length > LEGEND_CHARS ? `${name.slice(0, LEGEND_CHARS - 1).join('')}…` : name.join(''),
    });
  }
  if (shown < count) rows.push({ group: null, text: `… ${count - shown} more` });
  return rows;
}

function checkImage(op: string, k: number, im: ScatterImage, n: number): void {
  if (!(Number.isInteger(im.point) && im.point >= 0 && im.point < n))
    throw new ArgumentError(op, `images[${k}].point`, `must be a point index in 0..${n - 1}, got ${im.point}`);
  for (const [arg, v] of [
    ['width', im.width],
    ['height', im.height],
  ] as const)
    if (!(Number.isInteger(v) && v >= 1 && v <= 1024))
      throw new ArgumentError(op, `images[${k}].${arg}`, `must be an integer in 1..1024, got ${v}`);
  // Only an embedded PNG: an SVG image may otherwise point at a file or a URL that the renderer would fetch.
  if (typeof im.href !== 'string' || !/^data:image\/png;base64,[A-Za-z0-9+/]*={0,2}$/.test(im.href))
    throw new ArgumentError(op, `images[${k}].href`, 'must be a data:image/png;base64 URL');
}
