/**
 * The map picture (`scatterSvg`, `scatterChart`): one dot per point at its place under one scale for both axes, in
 * its group's colour; the legend's names escaped, shortened and counted; bad input refused. Checked by reading the
 * SVG's circles back and by the PNG's pixels.
 */
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../ts/errors.js';
import { PALETTE } from '../../ts/viz/plot.js';
import { scatterChart } from '../../ts/viz/render.js';
import { groupColor, LEGEND_CHARS, LEGEND_ROWS, scatterSvg } from '../../ts/viz/scatter.js';

/** The dots of a scatter SVG: centre and fill, in document order. */
function dots(svg: string): { x: number; y: number; fill: string }[] {
  const body = svg.slice(svg.indexOf('<g stroke="none"'), svg.indexOf('</g>'));
  return [...body.matchAll(/<circle cx="([\d.-]+)" cy="([\d.-]+)" r="[\d.]+" fill="([^"]+)"\/>/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    fill: m[3]!,
  }));
}
const rgb = (c: readonly number[]) => `rgb(${c.join(',')})`;

describe('scatterSvg', () => {
  it('places each point under one scale for both axes, y up, and colours it by its group', () => {
    // x spans 0..4, y spans 10..12: the x extent fills the plot, y is centred, both at the same pixels per unit.
    const xy = [0, 10, 4, 10, 2, 12, 1, 11];
    const groups = [0, 1, 1, 2];
    const svg = scatterSvg(xy, groups, { side: 400, radius: 2 });
    const d = dots(svg);
    expect(d).toHaveLength(4);
    const byPlace = (x: number, y: number) => d.find((p) => Math.abs(p.x - x) < 0.02 && Math.abs(p.y - y) < 0.02);
    // Plot from MARGIN 16; inner side 400 − 2·2 − 2 = 394, offset 16 + 2 + 1 = 19; scale 394 / 4 = 98.5 px per unit.
    const s = 98.5;
    const oy = 19 + (394 - 2 * s) / 2;
    for (const [i, [x, y]] of [
      [0, 10],
      [4, 10],
      [2, 12],
      [1, 11],
    ].entries()) {
      const p = byPlace(19 + x! * s, oy + (12 - y!) * s);
      expect(p, `point ${i}`).toBeDefined();
      expect(p!.fill).toBe(rgb(PALETTE[groups[i]!]!));
    }
  });

  it('draws points in a shuffled order that does not depend on their groups (no class painted last by its place)', () => {
    const n = 200;
    const xy = Array.from({ length: 2 * n }, (_, i) => i);
    const groups = Array.from({ length: n }, (_, i) => (i < n / 2 ? 0 : 1));
    const fills = dots(scatterSvg(xy, groups)).map((p) => p.fill);
    const last = fills.slice(-50);
    const g1 = last.filter((f) => f === rgb(PALETTE[1]!)).length;
    expect(g1).toBeGreaterThan(10);
    expect(g1).toBeLessThan(40);
  });

  it('legend: names escaped and shortened by code point; more than LEGEND_ROWS groups are counted', () => {
    const names = ['<b>&"x\'', 'ü'.repeat(40), '😀'.repeat(30)];
    const svg = scatterSvg([0, 0, 1, 1, 2, 2], [0, 1, 2], { names, title: 'a <title>' });
    expect(svg).toContain('&lt;b&gt;&amp;&quot;x&apos;');
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('a &lt;title&gt;');
    expect(svg).toContain(`${'ü'.repeat(LEGEND_CHARS - 1)}…`);
    expect(svg).toContain(`${'😀'.repeat(LEGEND_CHARS - 1)}…`);
    const many = 45;
    const big = scatterSvg(
      Array.from({ length: 2 * many }, (_, i) => i),
      Array.from({ length: many }, (_, i) => i),
    );
    expect(big).toContain(`… ${many - LEGEND_ROWS + 1} more`);
    expect(big.match(/<text /g)).toHaveLength(LEGEND_ROWS);
    // Without groups: one colour, no legend.
    const plain = scatterSvg([0, 0, 1, 1], null);
    expect(new Set(dots(plain).map((p) => p.fill))).toEqual(new Set([rgb(PALETTE[0]!)]));
    expect(plain).not.toContain('<text');
  });

  it('names XML cannot hold (control characters, a lone surrogate) are drawn as U+FFFD, not refused by the renderer', () => {
    const names = ['a\u0001b', '\u001b[31mred', 'half \uD800'];
    const { svg, png } = scatterChart([0, 0, 1, 1, 2, 2], [0, 1, 2], { names, title: 'folder:/x\u0007y' });
    expect(svg).toContain('a\uFFFDb');
    expect(svg).toContain('\uFFFD[31mred');
    expect(svg).toContain('half \uFFFD');
    expect(svg).toContain('folder:/x\uFFFDy');
    expect(PNG.sync.read(Buffer.from(png)).width).toBeGreaterThan(0);
  });

  it('more groups than Tableau 10: each its own colour', () => {
    for (const groups of [11, 20, 64]) {
      const colours = new Set(Array.from({ length: groups }, (_, g) => groupColor(g, groups).join(',')));
      expect(colours.size).toBe(groups);
    }
  });

  it('refuses what it cannot draw, with an ArgumentError', () => {
    for (const [xy, groups, opts] of [
      [[], null, {}],
      [[1, 2, 3], null, {}],
      [[0, Number.NaN], null, {}],
      [[0, Number.POSITIVE_INFINITY], null, {}],
      [[-1e308, 0, 1e308, 0], null, {}], // finite, but their spread is not
      [[0, 0, 1, 1], [0], {}],
      [[0, 0], [-1], {}],
      [[0, 0], [0.5], {}],
      [[0, 0], null, { side: 10 }],
      [[0, 0], null, { side: 100_000 }],
      [[0, 0], null, { radius: 0 }],
      [[0, 0], [0], { names: [5] }],
      [[0, 0], [0], { names: 'a' }],
      [[0, 0], null, { images: 'abc' }],
      [[0, 0], null, { title: 5 }],
      [[0, 0], null, 5],
    ] as const)
      expect(
        () => scatterSvg(xy as unknown as number[], groups as unknown as number[] | null, opts as never),
        JSON.stringify([xy, groups, opts]),
      ).toThrow(ArgumentError);
  });

  it('images: centred on their points, kept inside the frame; only embedded PNGs, valid points and sizes', () => {
    const href = 'data:image/png;base64,iVBORw0KGgo=';
    const svg = scatterSvg([0, 0, 4, 4, 2, 2], null, {
      side: 400,
      radius: 2,
      images: [
        { point: 2, href, width: 10, height: 6 },
        { point: 1, href, width: 10, height: 6 },
      ],
    });
    // Point 2 in the middle: x = 19 + 2·98.5 = 216, y = 19 + 2·98.5 = 216; the picture's corner half its size away.
    expect(svg).toContain(`<image x="211" y="213" width="10" height="6" href="${href}"`);
    // Point 1 at the top right (413, 19): centred, the picture would cross the frame's right edge (16 + 400).
    expect(svg).toContain(`<image x="406" y="16" width="10" height="6" href="${href}"`);
    for (const im of [
      { point: 2, href, width: 10, height: 6 },
      { point: -1, href, width: 10, height: 6 },
      { point: 0, href: 'file:///etc/passwd', width: 10, height: 6 },
      { point: 0, href: 'data:image/png;base64,"/><script>', width: 10, height: 6 },
      { point: 0, href, width: 0, height: 6 },
      { point: 0, href, width: 10, height: 5000 },
    ])
      expect(() => scatterSvg([0, 0, 4, 4], null, { images: [im] }), JSON.stringify(im)).toThrow(ArgumentError);
  });

  it('one point, or all points at one place: still a plot', () => {
    expect(dots(scatterSvg([3, 3], null))).toHaveLength(1);
    expect(dots(scatterSvg([1, 1, 1, 1, 1, 1], [0, 0, 1]))).toHaveLength(3);
  });
});

describe('scatterChart', () => {
  it('the PNG shows each group’s colour where its points are', () => {
    // Two far clusters of 50 points: group 0 at the left, group 1 at the right.
    const xy: number[] = [];
    const groups: number[] = [];
    for (let i = 0; i < 100; i++) {
      xy.push((i < 50 ? 0 : 10) + (i % 7) * 0.05, (i % 5) * 0.05);
      groups.push(i < 50 ? 0 : 1);
    }
    const { png } = scatterChart(xy, groups, { side: 200, radius: 3, names: ['left', 'right'] });
    const img = PNG.sync.read(Buffer.from(png));
    const near = (x0: number, x1: number, c: readonly number[]) => {
      let hits = 0;
      for (let y = 0; y < img.height; y++)
        for (let x = x0; x < x1; x++) {
          const p = (y * img.width + x) * 4;
          const d =
            Math.abs(img.data[p]! - c[0]!) + Math.abs(img.data[p + 1]! - c[1]!) + Math.abs(img.data[p + 2]! - c[2]!);
          if (d < 40) hits++;
        }
      return hits;
    };
    // The plot spans x 16..216: the left cluster in its first tenth, the right one in its last.
    expect(near(16, 40, PALETTE[0]!)).toBeGreaterThan(20);
    expect(near(16, 40, PALETTE[1]!)).toBe(0);
    expect(near(190, 216, PALETTE[1]!)).toBeGreaterThan(20);
    expect(near(190, 216, PALETTE[0]!)).toBe(0);
  });
});
