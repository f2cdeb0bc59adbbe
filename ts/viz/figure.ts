/**
 * A picture that explains itself: a grid raster (filters, reconstructions)
 * framed as an SVG document with a title, a caption, labels beside rows and a
 * scale bar that says which value each shade stands for. Pure string
 * building, no DOM; `svgToPng` (./render.ts, Node) rasterizes it, a browser
 * can show the SVG as it is. The raster is embedded pixel for pixel (1:1) as
 * a PNG data URL, so no resampling blurs it.
 */
import { ArgumentError } from '../errors.js';
import type { Rgb } from './plot.js';
import { esc } from './svg.js';

/** A horizontal bar of the colours the grid uses, with the value of each end (and of its middle). */
export interface ScaleBar {
  /** Colours from the low end to the high end (2 or more stops, evenly spaced). */
  stops: readonly Rgb[];
  /** Label under the low end, e.g. '−0.5'. */
  lo: string;
  /** Label under the middle; none when absent. */
  mid?: string;
  /** Label under the high end. */
  hi: string;
  /** Drawn left of the bar, e.g. 'weight'. */
  label?: string;
}

/** What `figureSvg` draws around the raster. */
export interface FigureOptions {
  /** Bold, above everything. */
  title: string;
  /** Wrapped to the figure's width, under the title. */
  caption?: string;
  /** Text left of the raster at a row's vertical centre (`y` in raster pixels from its top). */
  rowLabels?: readonly { y: number; text: string }[];
  /** A bar under the raster saying which value each colour stands for; none when absent. */
  scaleBar?: ScaleBar;
  /** The figure is at least this wide (px); default 480. */
  minWidth?: number;
}

/** An embedded image: a PNG data URL and its size in pixels. */
export interface EmbeddedImage {
  /** A `data:image/png;base64,…` URL (nothing else is accepted). */
  href: string;
  /** The PNG's width in pixels, an integer in 1..16384: it is drawn 1:1. */
  width: number;
  /** The PNG's height in pixels, an integer in 1..16384. */
  height: number;
}

const FONT = 12,
  TITLE = 15,
  LINE = 16,
  MARGIN = 12;
/** DejaVu Sans at 12 px averages ≈ 6.9 px a character; wrapping at 7 keeps lines inside. */
const charWidth = (size: number) => size * 0.58;

/** The lines of `text`, greedily wrapped to at most `width` px at font size `size`. */
export function wrapText(text: string, width: number, size = FONT): string[] {
  const max = Math.max(8, Math.floor(width / charWidth(size)));
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > max) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines;
}

/** The SVG document of `image` with a title, caption, row labels and scale bar. */
export function figureSvg(image: EmbeddedImage, opts: FigureOptions): string {
  const op = 'figureSvg';
  for (const [arg, v] of [
    ['image.width', image.width],
    ['image.height', image.height],
  ] as const)
    if (!(Number.isInteger(v) && v >= 1 && v <= 16384))
      throw new ArgumentError(op, arg, `must be an integer in 1..16384, got ${v}`);
  if (!image.href.startsWith('data:image/png;base64,'))
    throw new ArgumentError(op, 'image.href', 'must be a data:image/png;base64 URL');
  const stops = opts.scaleBar?.stops ?? [];
  if (opts.scaleBar && stops.length < 2)
    throw new ArgumentError(op, 'scaleBar.stops', `needs at least 2 colours, got ${stops.length}`);

  const labels = opts.rowLabels ?? [];
  const labelW = labels.length
    ? Math.ceil(labels.reduce((m, l) => Math.max(m, l.text.length), 0) * charWidth(11)) + 10
    : 0;
  const width = Math.max(opts.minWidth ?? 480, image.width + labelW + 2 * MARGIN);
  const textW = width - 2 * MARGIN;
  const title = wrapText(opts.title, textW, TITLE);
  const caption = opts.caption ? wrapText(opts.caption, textW) : [];
  const out: string[] = [];
  let y = MARGIN;
  const body: string[] = [];
  for (const line of title) {
    y += TITLE + 3;
    body.push(
      `<text x="${MARGIN}" y="${y}" font-size="${TITLE}" font-weight="bold" fill="#202020">${esc(line)}</text>`,
    );
  }
  for (const line of caption) {
    y += LINE;
    body.push(`<text x="${MARGIN}" y="${y}" fill="#404040">${esc(line)}</text>`);
  }
  y += 10;
  const ix = MARGIN + labelW + Math.floor((textW - labelW - image.width) / 2),
    iy = y;
  body.push(
    `<image x="${ix}" y="${iy}" width="${image.width}" height="${image.height}" image-rendering="optimizeSpeed" href="${image.href}"/>`,
  );
  for (const l of labels)
    body.push(
      `<text x="${ix - 6}" y="${iy + l.y + 4}" font-size="11" text-anchor="end" fill="#404040">${esc(l.text)}</text>`,
    );
  y += image.height;

  if (opts.scaleBar) {
    const s = opts.scaleBar,
      barW = Math.min(240, textW - 120),
      barH = 12;
    const label = s.label ?? '';
    const lw = label ? Math.ceil(label.length * charWidth(FONT)) + 10 : 0;
    const bx = Math.round(MARGIN + (textW - barW - lw) / 2) + lw,
      by = y + 14;
    const rgb = (c: Rgb) => `rgb(${c[0]},${c[1]},${c[2]})`;
    out.push('<defs><linearGradient id="scale" x1="0" x2="1" y1="0" y2="0">');
    stops.forEach((c, i) => out.push(`<stop offset="${i / (stops.length - 1)}" stop-color="${rgb(c)}"/>`));
    out.push('</linearGradient></defs>');
    if (label) body.push(`<text x="${bx - 8}" y="${by + 10}" text-anchor="end" fill="#404040">${esc(label)}</text>`);
    body.push(`<rect x="${bx}" y="${by}" width="${barW}" height="${barH}" fill="url(#scale)" stroke="#808080"/>`);
    const tick = (x: number, text: string, anchor: string) =>
      body.push(
        `<line x1="${x}" x2="${x}" y1="${by + barH}" y2="${by + barH + 4}" stroke="#808080"/>`,
        `<text x="${x}" y="${by + barH + 17}" text-anchor="${anchor}" fill="#404040">${esc(text)}</text>`,
      );
    tick(bx, s.lo, 'start');
    if (s.mid !== undefined) tick(bx + barW / 2, s.mid, 'middle');
    tick(bx + barW, s.hi, 'end');
    y = by + barH + 20;
  }
  const height = y + MARGIN;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif" font-size="${FONT}">`,
    ...out,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
