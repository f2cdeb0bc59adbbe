/**
 * The loss plot: tick choice and labels (plot.ts), the raster (lossCurve, read
 * back through a PNG) and the SVG (lossCurveSvg, checked with a minimal XML
 * tag parser).
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../ts/errors.js';
import { formatTick, logTicks, niceTicks, PALETTE, plotFrame, seriesRuns } from '../../ts/viz/plot.js';
import { AXIS_COLOR, GRID_COLOR, lossCurve } from '../../ts/viz/raster.js';
import { lossCurveSvg } from '../../ts/viz/svg.js';
import { rgba, viaPng } from './decode.js';

describe('ticks', () => {
  it('niceTicks: 1, 2, 5 × 10^k steps inside the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.013, 0.061, 4)).toEqual([0.02, 0.03, 0.04, 0.05, 0.06]);
    expect(niceTicks(1, 6, 5)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(niceTicks(-3, 7, 2)).toEqual([0, 5]);
  });
  it('logTicks: 3+ decades, else 1-2-5, else linear', () => {
    expect(logTicks(0.003, 0.2)).toEqual([0.005, 0.01, 0.02, 0.05, 0.1, 0.2]);
    expect(logTicks(1e-3, 1.5)).toEqual([0.001, 0.01, 0.1, 1]);
    expect(logTicks(0.015, 0.3)).toEqual([0.02, 0.05, 0.1, 0.2]);
    expect(logTicks(0.3, 0.9)).toEqual([0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(logTicks(1e-8, 1, 5)).toEqual([1e-8, 1e-6, 1e-4, 0.01, 1]);
  });
  it('formatTick', () => {
    expect([0.1 + 0.2, 0, 1e-4, 2.5e-5, 12345, 1e6, -0.02].map(formatTick)).toEqual([
      '0.3',
      '0',
      '1e-4',
      '2.5e-5',
      '12345',
      '1e6',
      '-0.02',
    ]);
  });
  it('seriesRuns breaks at NaN, and at values ≤ 0 with logY', () => {
    const s = { name: 'a', values: [1, NaN, 3, 4, 0, 2] };
    const lin = plotFrame('t', [s], {
      width: 100,
      height: 100,
      logY: false,
      margins: { top: 0, right: 0, bottom: 0, left: 0 },
    });
    expect(seriesRuns(lin, s).map((r) => r.length)).toEqual([1, 4]);
    const log = plotFrame('t', [s], {
      width: 100,
      height: 100,
      logY: true,
      margins: { top: 0, right: 0, bottom: 0, left: 0 },
    });
    expect(seriesRuns(log, s).map((r) => r.length)).toEqual([1, 2, 1]);
  });
});

/** The pixels of exactly colour `c` (full coverage), as [x, y]. */
function pixelsOf(img: ReturnType<typeof viaPng>, c: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) if (img.px(x, y).join() === rgba(c).join()) out.push([x, y]);
  return out;
}

describe('lossCurve (raster)', () => {
  const values = [4, 3, 2, 1, 0.5, 0.8];
  it('w=200 h=120, 6 values: the min lies in the bottom band of the plot, under its x; the max at the top left', () => {
    const img = viaPng(lossCurve([{ name: 'train', values }], { width: 200, height: 120 }));
    expect([img.width, img.height]).toEqual([200, 120]);
    const on = pixelsOf(img, PALETTE[0]);
    expect(on.length).toBeGreaterThan(150);
    // Plot area: x 16..184, y 16..104; x of value i = 16 + i/5·168; headroom 5% of the range.
    const lowest = Math.max(...on.map(([, y]) => y)),
      highest = Math.min(...on.map(([, y]) => y));
    expect(lowest).toBeGreaterThan(104 - 10);
    expect(lowest).toBeLessThan(104);
    expect(highest).toBeGreaterThan(16);
    expect(highest).toBeLessThan(16 + 10);
    const xsAtBottom = on.filter(([, y]) => y === lowest).map(([x]) => x);
    expect(Math.abs(xsAtBottom[0] - (16 + (4 / 5) * 168))).toBeLessThan(4);
    const xsAtTop = on.filter(([, y]) => y === highest).map(([x]) => x);
    expect(xsAtTop[0]).toBeLessThan(16 + 4);
    // White background, axes just outside the plot area, light grid lines inside it.
    expect(img.px(2, 2)).toEqual([255, 255, 255, 255]);
    expect(img.block(15, 40, 1, 65)).toEqual([rgba(AXIS_COLOR)]); // below where the curve starts (it is drawn over the axis)
    expect(img.block(15, 104, 169, 1)).toEqual([rgba(AXIS_COLOR)]);
    expect(pixelsOf(img, GRID_COLOR).length).toBeGreaterThan(300);
  });

  it('logY: a geometric series is a straight line', () => {
    const img = viaPng(
      lossCurve([{ name: 'a', values: [1, 0.1, 0.01, 0.001, 0.0001], color: [200, 0, 0] }], {
        width: 216,
        height: 132,
        logY: true,
      }),
    );
    const on = pixelsOf(img, [200, 0, 0]);
    // Plot 16..200 × 16..116: the point of value 0.01 (the middle one) is at the centre.
    const mid = on.filter(([x]) => x === 108).map(([, y]) => y);
    expect(mid.length).toBeGreaterThan(0);
    expect(Math.abs(mid.reduce((a, b) => a + b, 0) / mid.length - 66)).toBeLessThan(1.5);
  });

  it('two series get the first two palette colours; an empty series list draws an empty frame', () => {
    const img = viaPng(
      lossCurve(
        [
          { name: 'a', values: [3, 2, 1] },
          { name: 'b', values: [3.5, 2.5, 2] },
        ],
        { width: 120, height: 80 },
      ),
    );
    expect(pixelsOf(img, PALETTE[0]).length).toBeGreaterThan(50);
    expect(pixelsOf(img, PALETTE[1]).length).toBeGreaterThan(50);
    expect(viaPng(lossCurve([], { width: 60, height: 40 })).width).toBe(60);
  });

  it('rejects x of the wrong length and a plot area that vanishes', () => {
    expect(() => lossCurve([{ name: 'a', values: [1, 2], x: [1] }])).toThrow(ArgumentError);
    expect(() => lossCurve([{ name: 'a', values: [1] }], { width: 30, height: 30 })).toThrow(ArgumentError);
  });
});

/** A minimal XML check: tags balance, attributes are quoted, text holds no raw '<' or stray '&'. Returns the tags seen. */
function parseXml(s: string): { name: string; attrs: Record<string, string>; text: string }[] {
  const tags: { name: string; attrs: Record<string, string>; text: string }[] = [];
  const stack: number[] = []; // indices into tags of the open elements
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null,
    end = 0;
  // biome-ignore lint/suspicious/noAssignInExpressions: the usual exec loop
  while ((m = re.exec(s))) {
    end = re.lastIndex;
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(m[5])) throw new Error(`stray & in ${m[5]}`);
      if (stack.length) tags[stack[stack.length - 1]].text += m[5];
      continue;
    }
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open === undefined || tags[open].name !== name)
        throw new Error(`</${name}> closes ${open === undefined ? 'nothing' : tags[open].name}`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1]] = a[2];
    tags.push({ name, attrs, text: '' });
    if (!selfClose) stack.push(tags.length - 1);
  }
  if (end !== s.length) throw new Error(`unparsable at ${end}: ${s.slice(end, end + 40)}`);
  if (stack.length) throw new Error(`unclosed ${stack.map((i) => tags[i].name).join(', ')}`);
  return tags;
}

describe('lossCurveSvg', () => {
  const series = [
    { name: 'train', values: [0.08, 0.05, 0.03, 0.025] },
    { name: 'held-out <&>', values: [0.09, 0.06, 0.045, 0.04] },
  ];

  it('2 series: well-formed, one <polyline> each, legend with escaped names, title, ticks and axis labels', () => {
    const svg = lossCurveSvg(series, { title: 'CAE "synthetic"', width: 500, height: 300 });
    const tags = parseXml(svg.trim());
    expect(tags[0].name).toBe('svg');
    expect(tags[0].attrs).toMatchObject({
      xmlns: 'http://www.w3.org/2000/svg',
      width: '500',
      height: '300',
      viewBox: '0 0 500 300',
    });
    const polylines = tags.filter((t) => t.name === 'polyline');
    expect(polylines).toHaveLength(2);
    expect(polylines.map((p) => p.attrs.points.split(' ').length)).toEqual([4, 4]);
    const texts = tags.filter((t) => t.name === 'text').map((t) => t.text);
    expect(texts).toContain('train');
    expect(svg).toContain('held-out &lt;&amp;&gt;');
    expect(texts).toContain('CAE &quot;synthetic&quot;');
    expect(texts).toEqual(expect.arrayContaining(['epoch', 'loss', '1', '2', '3', '4', '0.04', '0.06', '0.08']));
    // Every point inside the picture; the min of 'train' (its last point) lower on screen than its first.
    const pts = polylines[0].attrs.points.split(' ').map((p) => p.split(',').map(Number));
    for (const [x, y] of pts) expect(x >= 0 && x <= 500 && y >= 0 && y <= 300).toBe(true);
    expect(pts[3][1]).toBeGreaterThan(pts[0][1]);
  });

  it('logY labels, a NaN gap splits a series, a lone point is a circle, no legend on request', () => {
    const svg = lossCurveSvg(
      [
        { name: 'a', values: [1, 0.1, NaN, 0.01, 0.001] },
        { name: 'b', values: [0.5] },
      ],
      { logY: true, legend: false },
    );
    const tags = parseXml(svg.trim());
    expect(tags.filter((t) => t.name === 'polyline')).toHaveLength(2);
    expect(tags.filter((t) => t.name === 'circle')).toHaveLength(1);
    const texts = tags.filter((t) => t.name === 'text').map((t) => t.text);
    expect(texts).toEqual(expect.arrayContaining(['0.001', '0.01', '0.1', '1', 'loss (log scale)']));
    expect(texts).not.toContain('a');
  });
});
