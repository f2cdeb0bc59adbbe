/**
 * `convae map`: one row per image in the folder's order, a layout that depends on the seed only (workers or this
 * thread: the same file), the neighbour agreement it reports equal to a brute-force float64 count written here (on
 * the library's codes, and on the map's own points), and every refusal before an image is encoded.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../ts/anomaly/embed.js';
import { map } from '../../ts/cli/map.js';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { bruteAgreement } from '../util/agreement.js';
import { BUILD } from '../util/backend.js';
import { cliAsync, savedStackAndImages } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliAsync(120_000);

/**
 * Pixels of a PNG in the test images' pure reds and blues (blue 0 with red ≥ 150, or the reverse): the images' own
 * pixels, which neither the map's Tableau dots nor normalised images have.
 */
function pureColours(file: string): number {
  const img = PNG.sync.read(readFileSync(file));
  let n = 0;
  for (let q = 0; q < img.data.length; q += 4)
    if ((img.data[q + 2] === 0 && img.data[q]! >= 150) || (img.data[q] === 0 && img.data[q + 2]! >= 150)) n++;
  return n;
}

describe.runIf(BUILD === 'simd')('convae map', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-map-'));
  const imgs = join(dir, 'imgs'); // reds/ and blues/, 40 each
  const mixed = join(dir, 'mixed'); // the same 80 images, in classes a/ and b/ that do not follow the colour
  const flat = join(dir, 'flat'); // the same, unlabelled
  const stack = join(dir, 'stack');
  beforeAll(async () => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    for (const f of [join(mixed, 'a'), join(mixed, 'b'), flat]) mkdirSync(f, { recursive: true });
    for (const cls of ['reds', 'blues'])
      for (const file of readdirSync(join(imgs, cls))) {
        const i = Number(file.slice(0, -4));
        cpSync(join(imgs, cls, file), join(mixed, i % 3 ? 'a' : 'b', `${cls}-${file}`));
        cpSync(join(imgs, cls, file), join(flat, `${cls}-${file}`));
      }
    const r = await cli(['pretrain', '--data', imgs, '--size', '16x16', '--epochs', '1', '--out', stack, '-q']);
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const base = {
    model: stack,
    data: mixed,
    neighbours: 15,
    minDist: 0.1,
    thumbnails: 0,
    seed: 1,
    build: BUILD,
    quiet: true,
  } as const;

  it('the agreement it reports is the brute-force count on the codes and on the map; rows in the folder’s order', async () => {
    const out = join(dir, 'api');
    const r = await map({ ...base, out, workers: 0 });
    const { be, stack: s } = await savedStackAndImages(stack, imgs);
    const f = await loadImageFolder(mixed, { size: [16, 16], channels: 3 });
    try {
      expect(r.files).toEqual(f.files);
      const codes = encode(s, f.dataset, {});
      const labels = f.dataset.labels!;
      expect(r.agreement).not.toBeNull();
      // Float32 ranking against float64 here: a near tie at the k-th place may swap, 1/(15·80) each.
      expect(Math.abs(r.agreement!.codes - bruteAgreement(codes.vectors, 80, codes.dim, labels, 15))).toBeLessThan(
        0.003,
      );
      expect(Math.abs(r.agreement!.map - bruteAgreement(r.xy, 80, 2, labels, 15))).toBeLessThan(0.003);
      // The classes do not follow the colour: neither is near 1 (a self-count or a label mix-up would show).
      expect(r.agreement!.codes).toBeGreaterThan(0.3);
      expect(r.agreement!.codes).toBeLessThan(0.85);
      for (const v of r.xy) expect(Number.isFinite(v)).toBe(true);
    } finally {
      s.dispose();
      void be;
    }
    const csv = readFileSync(join(out, 'map.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('file,x,y,label,label_name');
    expect(csv).toHaveLength(81);
    for (const [i, line] of csv.slice(1).entries()) {
      const [file, x, y, label, name] = line.split(',');
      expect(file).toBe(f.files[i]);
      expect(Number(x)).toBeCloseTo(r.xy[2 * i]!, 4);
      expect(Number(y)).toBeCloseTo(r.xy[2 * i + 1]!, 4);
      expect([Number(label), name]).toEqual(file!.startsWith('a/') ? [0, 'a'] : [1, 'b']);
    }
    const png = PNG.sync.read(readFileSync(join(out, 'map.png')));
    expect(png.width).toBeGreaterThan(720);
    expect(existsSync(join(out, 'map-images.png'))).toBe(false); // --thumbnails 0
  }, 120_000);

  it('the CLI: the same map.csv in workers and on this thread; another --seed, another layout; the agreement line', async () => {
    const run = (out: string, ...extra: string[]) =>
      cli(['map', '--model', stack, '--data', mixed, '--out', join(dir, out), ...extra]);
    const [two, zero, seed2] = await Promise.all([
      run('w2', '--workers', '2'),
      run('w0', '--workers', '0'),
      run('s2', '--workers', '0', '--seed', '2'),
    ]);
    for (const r of [two, zero, seed2]) expect(r.status, r.stderr).toBe(0);
    const read = (out: string) => readFileSync(join(dir, out, 'map.csv'), 'utf8');
    expect(read('w2')).toBe(read('w0'));
    // map-images.png draws the images themselves (200 by default: all 80 here): their pure reds and blues (blue 0,
    // or red 0) are there; map.png's dots, in Tableau colours, have none.
    expect(pureColours(join(dir, 'w0', 'map.png'))).toBe(0);
    expect(pureColours(join(dir, 'w0', 'map-images.png'))).toBeGreaterThan(80 * 50);
    expect(read('s2')).not.toBe(read('w0'));
    expect(zero.stderr).toMatch(
      /^convae map: 80 images of .*mixed, codes of block 2 \(\d+ floats\); UMAP with 15 neighbours/,
    );
    expect(zero.stderr).toMatch(
      /of each image's 15 nearest others, [\d.]+ % share its class in the codes, [\d.]+ % in the map/,
    );
  }, 120_000);

  it('copies of an image are drawn at its place: the map of the distinct images, each copy at its original’s point', async () => {
    // mixed again, image i of each colour in 1 + i % 3 copies (reds-7-2.png is mixed's reds-7.png): mixed's 80 images
    // are the distinct ones, first in its own order.
    const copies = join(dir, 'copies');
    for (const cls of ['a', 'b']) {
      mkdirSync(join(copies, cls), { recursive: true });
      for (const file of readdirSync(join(mixed, cls))) {
        const i = Number(/(\d+)\.png$/.exec(file)![1]);
        for (let j = 1; j <= 1 + (i % 3); j++)
          cpSync(join(mixed, cls, file), join(copies, cls, file.replace('.png', `-${j}.png`)));
      }
    }
    const [dup, ref] = await Promise.all([
      cli(['map', '--model', stack, '--data', copies, '--workers', '0', '--out', join(dir, 'copies-map')]),
      cli(['map', '--model', stack, '--data', mixed, '--workers', '0', '--out', join(dir, 'distinct-map')]),
    ]);
    expect(dup.status, dup.stderr).toBe(0);
    expect(ref.status, ref.stderr).toBe(0);
    const rows = (out: string) =>
      readFileSync(join(dir, out, 'map.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','));
    const place = new Map(rows('distinct-map').map(([file, x, y]) => [file, `${x},${y}`]));
    const got = rows('copies-map');
    expect(got).toHaveLength(158);
    for (const [file, x, y] of got) expect(`${x},${y}`, file).toBe(place.get(file!.replace(/-\d+\.png$/, '.png')));
    expect(dup.stderr).toMatch(/^convae map: 158 images \(80 distinct: each copy drawn at its original's place\) of/);
  }, 120_000);

  it('--depth 0 maps the pixels; an unlabelled folder gets no agreement and empty label columns', async () => {
    const [px, plain] = await Promise.all([
      cli(['map', '--model', stack, '--data', mixed, '--depth', '0', '--out', join(dir, 'px'), '--workers', '0']),
      cli(['map', '--model', stack, '--data', flat, '--out', join(dir, 'flat-map'), '--workers', '0']),
    ]);
    expect(px.status, px.stderr).toBe(0);
    expect(px.stderr).toMatch(/their pixels \(768 floats\)/);
    expect(px.stderr).toMatch(/share its class in the pixels/);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stderr).not.toMatch(/share its class/);
    const rows = readFileSync(join(dir, 'flat-map', 'map.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    expect(rows).toHaveLength(80);
    for (const r of rows) expect(r).toMatch(/^[^,]+,[-\d.e]+,[-\d.e]+,,$/);
  }, 120_000);

  it('images wider than a thumbnail are shrunk to one in map-images.png', async () => {
    // 1 040 pixels wide: drawn whole, the picture refused them after map.csv and map.png were written.
    const wide = join(dir, 'wide-stack');
    const p = await cli([
      'pretrain',
      '--data',
      imgs,
      '--size',
      '16x1040',
      '--epochs',
      '1',
      '--maps',
      '2,2',
      '--limit',
      '16',
      '--out',
      wide,
      '-q',
    ]);
    expect(p.status, p.stderr).toBe(0);
    const out = join(dir, 'wide-map');
    const r = await cli([
      'map',
      '--model',
      wide,
      '--data',
      imgs,
      '--limit',
      '16',
      '--thumbnails',
      '4',
      '--out',
      out,
      '--workers',
      '0',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const png = PNG.sync.read(readFileSync(join(out, 'map-images.png')));
    const plain = PNG.sync.read(readFileSync(join(out, 'map.png')));
    // A whole picture, on map.png's page.
    expect([png.width, png.height]).toEqual([plain.width, plain.height]);
  }, 120_000);

  it('a whitened stack: map-images.png and similar --picture show the images as read, not as whitened', async () => {
    const white = join(dir, 'white');
    const p = await cli([
      'pretrain',
      '--data',
      imgs,
      '--size',
      '16x16',
      '--epochs',
      '1',
      '--normalize',
      'whiten',
      '--out',
      white,
      '-q',
    ]);
    expect(p.status, p.stderr).toBe(0);
    const [m, s] = await Promise.all([
      cli(['map', '--model', white, '--data', imgs, '--workers', '0', '--out', join(dir, 'white-map'), '-q']),
      cli(
        ['similar', '--model', white, '--data', imgs, '--k', '3', '--rows', '8', '--workers', '0', '-q'].concat([
          '--out',
          join(dir, 'white.csv'),
          '--picture',
          join(dir, 'white.png'),
        ]),
      ),
    ]);
    for (const r of [m, s]) expect(r.status, r.stderr).toBe(0);
    // Whitened, no pixel of the test images would be pure red or blue.
    expect(pureColours(join(dir, 'white-map', 'map-images.png'))).toBeGreaterThan(80 * 50);
    expect(pureColours(join(dir, 'white.png'))).toBeGreaterThan(8 * 4 * 16 * 16 * 9 * 0.5);
  }, 120_000);

  it('refuses, before anything is encoded or written: one error line each', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const blocked = join(dir, 'blocked');
    mkdirSync(join(blocked, 'map.png'), { recursive: true });
    const cases: [string[], number, RegExp][] = [
      [
        ['--neighbours', '80'],
        1,
        /^convae map: --neighbours 80 needs at least 81 images; --data holds 80: give --neighbours 79 or fewer/,
      ],
      // --limit cut the folder: it is what to change, not --data.
      [
        ['--neighbours', '15', '--limit', '10'],
        1,
        /^convae map: --neighbours 15 needs at least 16 images; --limit 10 leaves 10: give --neighbours 9 or fewer/,
      ],
      [['--neighbours', '1'], 1, /--neighbours must be an integer in \[2, 200\]/],
      [['--min-dist', '2'], 1, /--min-dist must be a number in \[0, 1\]/],
      [['--min-dist', 'NaN'], 1, /--min-dist must be a number in \[0, 1\]/],
      [
        ['--depth', '3'],
        1,
        /^convae map: --depth must be at most 2 \(the blocks of the stack in .*; 0 maps the pixels\)/,
      ],
      [['--out', file], 1, /--out/],
      [['--out', blocked], 1, /^convae: cannot write --out ".*map\.png": is a directory/],
    ];
    const rs = await Promise.all(
      cases.map(([extra]) => cli(['map', '--model', stack, '--data', mixed, '--workers', '0', ...extra])),
    );
    rs.forEach((r, i) => {
      const [extra, , re] = cases[i]!;
      expect(r.status, `${extra.join(' ')}: ${r.stderr}`).not.toBe(0);
      expect(r.stderr, extra.join(' ')).toMatch(re);
      expect(r.stderr, extra.join(' ')).not.toMatch(/codes of block|\n\s+at /);
      // A usage error (commander's) adds the usage and where the help is: three lines.
      expect(r.stderr.trim().split('\n').length, extra.join(' ')).toBeLessThanOrEqual(3);
    });
    expect(readFileSync(file, 'utf8')).toBe('x');
  }, 120_000);

  // It read every image (minutes for a large folder) before refusing a folder named map.png.
  it('an output in the way is refused before the images are read; a refused run makes no --out folder', async () => {
    // An image that cannot be decoded: reading the folder fails on it, so only a refusal made before the read names --out.
    const bad = join(dir, 'bad-images');
    cpSync(join(imgs, 'reds'), join(bad, 'reds'), { recursive: true });
    writeFileSync(join(bad, 'reds', 'broken.png'), 'not a png');
    const blocked = join(dir, 'blocked-early');
    mkdirSync(join(blocked, 'map.png'), { recursive: true });
    const r = await cli(['map', '--model', stack, '--data', bad, '--neighbours', '5', '--out', blocked]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^convae: cannot write --out ".*map\.png": is a directory\n$/);
    const fresh = join(dir, 'fresh');
    const read = await cli(['map', '--model', stack, '--data', bad, '--neighbours', '5', '--out', fresh]);
    expect(read.stderr).toMatch(/broken\.png/);
    expect(existsSync(fresh)).toBe(false);
  }, 120_000);
});
