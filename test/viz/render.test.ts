/**
 * Pictures with text: RGB filters drawn in colour (hand-computed levels),
 * resvg renders the bundled font (text pixels appear only when there is
 * text), the loss PNG is the loss SVG's chart with its labels, and the
 * filter/reconstruction figures are large enough to read.
 */
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../ts/errors.js';
import { figureSvg, wrapText } from '../../ts/viz/figure.js';
import { filterGrid } from '../../ts/viz/raster.js';
import { filterFigure, lossChart, reconstructionFigure, svgToPng } from '../../ts/viz/render.js';
import { viaPng } from './decode.js';

const decode = (bytes: Uint8Array) => PNG.sync.read(Buffer.from(bytes));
/** Pixels of a decoded PNG inside [x0, x1) × [y0, y1) darker than light grey. */
function dark(png: PNG, x0 = 0, y0 = 0, x1 = png.width, y1 = png.height): number {
  let n = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      const p = (y * png.width + x) * 4;
      if (png.data[p] + png.data[p + 1] + png.data[p + 2] < 3 * 160) n++;
    }
  return n;
}

describe('RGB filter grid', () => {
  // w = [1 filter, 3 channels, 1×2]: r = [1, −1], g = [0.5, 0], b = [−0.25, 0]; m = 1.
  const w = new Float32Array([1, -1, 0.5, 0, -0.25, 0]);
  it('w=[1,3,1,2] → colour tiles, channel c at 127.5 + 127.5·w_c/m (the default for 3 input channels)', () => {
    const img = viaPng(filterGrid(w, [1, 3, 1, 2], { scale: 1, pad: 0 }));
    expect([img.width, img.height]).toEqual([2, 1]);
    expect(img.px(0, 0)).toEqual([255, 191, 96, 255]); // 127.5 + 63.75 = 191.25, 127.5 − 31.875 = 95.625
    expect(img.px(1, 0)).toEqual([0, 128, 128, 255]);
    // 'mean' still gives grey: means 5/12 and −1/3 (as float32), m = 5/12 → 255 and 127.5 − 127.5·0.8 ≈ 25.5.
    const mean = viaPng(filterGrid(w, [1, 3, 1, 2], { scale: 1, pad: 0, channel: 'mean' }));
    const g = Math.round(127.5 + (127.5 * Math.fround(-1 / 3)) / Math.fround(1.25 / 3));
    expect([mean.px(0, 0), mean.px(1, 0)]).toEqual([
      [255, 255, 255, 255],
      [g, g, g, 255],
    ]);
    expect(g === 25 || g === 26).toBe(true);
  });
  it("'rgb' needs 3 input channels", () => {
    expect(() => filterGrid(new Float32Array(4), [1, 1, 2, 2], { channel: 'rgb' })).toThrow(ArgumentError);
  });
});

describe('PNG rendering with the bundled font', () => {
  const svg = (body: string) =>
    `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40" font-family="sans-serif" font-size="16"><rect width="200" height="40" fill="white"/>${body}</svg>`;
  it('draws text (and nothing without it)', () => {
    expect(dark(decode(svgToPng(svg(''))))).toBe(0);
    const withText = decode(svgToPng(svg('<text x="10" y="28" fill="black">loss 0.0123</text>')));
    expect([withText.width, withText.height]).toEqual([200, 40]);
    expect(dark(withText)).toBeGreaterThan(100);
  });

  it('loss.png is the SVG chart: same size, labels drawn, more than one point for one epoch of batches', () => {
    const x = Array.from({ length: 20 }, (_, i) => (i + 1) / 20);
    const { svg: s, png } = lossChart([{ name: 'train', values: x.map((t) => 0.1 / (1 + 5 * t)), x }], {
      logY: true,
      title: 'convae training loss',
    });
    expect(s).toContain('<polyline');
    expect(s).not.toContain('<circle');
    const img = decode(png);
    expect([img.width, img.height]).toEqual([640, 400]);
    expect(dark(img, 200, 5, 440, 30)).toBeGreaterThan(100); // the title
    expect(dark(img, 0, 100, 50, 300)).toBeGreaterThan(50); // the y tick labels and axis title
  });
});

describe('figures', () => {
  it('filterFigure: a 20×1×5×5 grid is at least 360 px wide, captioned, with a scale bar', () => {
    const w = new Float32Array(20 * 25).map((_, i) => Math.sin(i * 1.7));
    const f = filterFigure(w, [20, 1, 5, 5], { title: 'CAE 1: first-layer filters' });
    const img = decode(f.png);
    expect(img.width).toBeGreaterThanOrEqual(480);
    expect(f.svg).toMatch(/20 filters of 1×5×5 weights/);
    expect(f.svg).toContain('url(#scale)');
    const grid = f.svg.match(/<image [^>]*width="(\d+)"/);
    expect(Number(grid?.[1])).toBeGreaterThanOrEqual(360);
    expect(dark(img, 0, 0, img.width, 25)).toBeGreaterThan(100); // the title is drawn
  });
  // Before: Math.min(...ms) over one value per filter overflowed the call stack from about 120 000 filters on
  // (a RangeError, not a ConvaeError): a conv of 200 000 1×1 filters is a valid layer.
  it('filterFigure of 200 000 filters draws them (their range found without spreading 200 000 arguments)', () => {
    const n = 200_000;
    const w = new Float32Array(n).map((_, i) => (i % 2 ? 0.5 : -0.25) * (1 + (i % 3)));
    const f = filterFigure(w, [n, 1, 1, 1]);
    expect(f.svg).toContain('200000 filters of 1×1×1 weights');
    expect(f.svg).toContain('m = 0.25 … 1.5');
  });
  // Before: drawn at any size: a 20 000 × 20 000 loss chart took 8 s and 3.2 GB, 50 000 × 50 000 would take 20 GB.
  it('a loss chart or SVG over MAX_RASTER_PIXELS is refused before any pixel is drawn', () => {
    const series = [{ name: 'loss', values: [1, 0.5, 0.25] }];
    expect(() => lossChart(series, { width: 8193, height: 8193 })).toThrow(
      /^lossChart: width × height 8193×8193 px is more than 67108864 pixels \(MAX_RASTER_PIXELS\)$/,
    );
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="8193" height="8193"><rect width="1" height="1"/></svg>';
    expect(() => svgToPng(svg)).toThrow(/^svgToPng: svg 8193×8193 px is more than 67108864 pixels/);
    expect(decode(lossChart(series, { width: 320, height: 200 }).png).width).toBe(320);
  });
  it('reconstructionFigure labels its rows and says its scale', () => {
    const n = 4,
      x = new Float32Array(n * 3 * 8 * 8).map((_, i) => (i % 7) / 6);
    const f = reconstructionFigure(x, x, [n, 3, 8, 8], { by: 'CAE 1', columns: 4 });
    expect(f.svg.match(/>original</g)?.length).toBe(1);
    expect(f.svg.match(/>CAE 1</g)?.length).toBe(1);
    expect(f.svg).toMatch(/RGB, 8×8 px/);
    expect(decode(f.png).width).toBeGreaterThanOrEqual(480);
  });
  it('figureSvg rejects what it cannot embed; wrapText keeps lines inside the width', () => {
    expect(() => figureSvg({ href: 'http://example.invalid/x.png', width: 2, height: 2 }, { title: 't' })).toThrow(
      ArgumentError,
    );
    expect(() => figureSvg({ href: 'data:image/png;base64,', width: 0, height: 2 }, { title: 't' })).toThrow(
      ArgumentError,
    );
    const lines = wrapText('a '.repeat(200), 120);
    expect(lines.length).toBeGreaterThan(1);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(Math.floor(120 / (12 * 0.58)));
  });
});
