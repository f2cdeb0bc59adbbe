/**
 * `convae similar`: each query's k nearest images by code distance. Checked against the library's `encode` and a
 * brute-force float64 search written here (indices in order, distances to float precision), in both modes
 * (every image among the others; a --query folder), on workers and on this thread; the picture's tiles are the
 * images themselves; what it cannot do is refused before an image is encoded.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../ts/anomaly/embed.js';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { checkOutputSize, MAX_SIMILAR_CHARS } from '../../ts/cli/similar.js';
import { BUILD } from '../util/backend.js';
import { cliAsync, cliRunner, savedStackAndImages } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliAsync(120_000);

/** Every query's k nearest references by squared Euclidean distance in float64, ties by index; `self` skips i = j. */
function bruteForce(ref: Float32Array, q: Float32Array, dim: number, k: number, self: boolean) {
  const n = ref.length / dim,
    m = q.length / dim;
  return Array.from({ length: m }, (_, i) => {
    const d: [number, number][] = [];
    for (let j = 0; j < n; j++) {
      if (self && i === j) continue;
      let s = 0;
      for (let t = 0; t < dim; t++) s += (q[i * dim + t]! - ref[j * dim + t]!) ** 2;
      d.push([Math.sqrt(s), j]);
    }
    d.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return d.slice(0, k);
  });
}

type Row = { query: string; neighbours: { file: string; distance: number }[] };

describe.runIf(BUILD === 'simd')('convae similar', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-similar-'));
  const imgs = join(dir, 'imgs'); // 80 20×20 RGB images in reds/ and blues/
  const queries = join(dir, 'queries');
  const stack = join(dir, 'stack');
  beforeAll(() => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    mkdirSync(queries);
    for (const f of readdirSync(join(imgs, 'blues')).slice(0, 3))
      copyFileSync(join(imgs, 'blues', f), join(queries, f));
    const r = cliRunner(200_000)(
      'pretrain',
      '--data',
      imgs,
      '--size',
      '16x16',
      '--maps',
      '4,8',
      '--epochs',
      '1',
      '--out',
      stack,
      '-q',
    );
    expect(r.status, r.stderr).toBe(0);
  }, 200_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The CLI's rows against encode + brute force at `depth`. */
  async function expectMatches(rows: Row[], depth: number, k: number, queryDir: string | null) {
    const { stack: s, images } = await savedStackAndImages(stack, imgs);
    const files = (await loadImageFolder(imgs, { size: [16, 16], channels: 3 })).files;
    const ref = encode(s, images, { depth });
    const q = queryDir
      ? encode(s, (await loadImageFolder(queryDir, { size: [16, 16], channels: 3 })).dataset, { depth })
      : ref;
    const want = bruteForce(ref.vectors, q.vectors, ref.dim, k, queryDir === null);
    expect(rows).toHaveLength(want.length);
    rows.forEach((row, i) => {
      expect(row.neighbours.map((n) => n.file)).toEqual(want[i]!.map(([, j]) => files[j]));
      row.neighbours.forEach((n, r) => expect(n.distance).toBeCloseTo(want[i]![r]![0], 4));
    });
    s.dispose();
  }

  it('every image among the others: the brute-force neighbours at depths 0 (pixels), 1 and 2; workers and this thread agree', async () => {
    const base = ['similar', '--model', stack, '--data', imgs, '--format', 'json', '-q'];
    const [d2, d2thread, d1, d0] = await Promise.all([
      cli([...base, '--k', '4', '--workers', '2']),
      cli([...base, '--k', '4', '--workers', '0']),
      cli([...base, '--k', '2', '--depth', '1']),
      cli([...base, '--k', '3', '--depth', '0']),
    ]);
    for (const r of [d2, d2thread, d1, d0]) expect(r.status, r.stderr).toBe(0);
    await expectMatches(JSON.parse(d0.stdout), 0, 3, null);
    expect(d2.stdout).toBe(d2thread.stdout);
    const rows: Row[] = JSON.parse(d2.stdout);
    for (const row of rows) expect(row.neighbours.map((n) => n.file)).not.toContain(row.query);
    await expectMatches(rows, 2, 4, null);
    await expectMatches(JSON.parse(d1.stdout), 1, 2, null);
  }, 120_000);

  it('--query: the CSV rows, each query image found first at distance 0 among --data', async () => {
    const out = join(dir, 'similar.csv');
    const r = await cli(['similar', '--model', stack, '--data', imgs, '--query', queries, '--k', '3', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('query,rank,file,distance');
    const rows: Row[] = [];
    for (const l of lines.slice(1)) {
      const [query, rank, file, distance] = l.split(',');
      if (rank === '1') rows.push({ query: query!, neighbours: [] });
      rows.at(-1)!.neighbours.push({ file: file!, distance: Number(distance) });
    }
    for (const row of rows) {
      expect(row.neighbours[0]).toEqual({ file: `blues/${row.query}`, distance: 0 });
    }
    await expectMatches(rows, 2, 3, queries);
  }, 120_000);

  it('--picture: each row is the query, then its neighbours, pixel for pixel as the stack saw them', async () => {
    const pic = join(dir, 'similar.png');
    const r = await cli([
      'similar',
      '--model',
      stack,
      '--data',
      imgs,
      '--k',
      '2',
      '--format',
      'json',
      '--picture',
      pic,
      '--rows',
      '3',
      '--scale',
      '1',
      '-q',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const rows: Row[] = JSON.parse(r.stdout);
    const { data, info } = await sharp(pic).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    // 3 columns and 3 rows of 16×16 tiles, 1 px of padding around each.
    expect([info.width, info.height]).toEqual([1 + 3 * 17, 1 + 3 * 17]);
    const f = await loadImageFolder(imgs, { size: [16, 16], channels: 3 });
    const pixels = (file: string) => {
      const i = f.files.indexOf(file);
      return f.dataset.readImages(i, i + 1);
    };
    // Whether the tile at (row, col) is the image `img`, every pixel within one level.
    const isTile = (img: Float32Array, row: number, col: number) => {
      for (let y = 0; y < 16; y++)
        for (let x = 0; x < 16; x++)
          for (let c = 0; c < 3; c++) {
            const at = ((1 + row * 17 + y) * info.width + 1 + col * 17 + x) * 3 + c;
            if (Math.abs(data[at]! - img[c * 256 + y * 16 + x]! * 255) > 1) return false;
          }
      return true;
    };
    // The 3 queries drawn, as --limit takes images: of the folder (blues then reds), a sample of both classes, in
    // folder order; each row of the picture is one of the JSON's rows.
    const drawn = [0, 1, 2].map((row) => rows.findIndex((q) => isTile(pixels(q.query), row, 0)));
    expect(drawn.every((q) => q >= 0)).toBe(true);
    expect(drawn).toEqual([...drawn].sort((x, y) => x - y));
    expect(new Set(drawn.map((q) => rows[q]!.query.split('/')[0])).size).toBe(2);
    for (let row = 0; row < 3; row++) {
      const q = rows[drawn[row]!]!;
      const shown = [q.query, ...q.neighbours.map((n) => n.file)];
      shown.forEach((file, col) => {
        const img = pixels(file);
        for (const [y, x] of [
          [0, 0],
          [7, 9],
          [15, 15],
        ] as const)
          for (let c = 0; c < 3; c++) {
            const at = ((1 + row * 17 + y) * info.width + 1 + col * 17 + x) * 3 + c;
            expect(
              Math.abs(data[at]! - img[c * 256 + y * 16 + x]! * 255),
              `${file} (${y},${x}) channel ${c}`,
            ).toBeLessThanOrEqual(1);
          }
      });
    }
  }, 120_000);

  it('refused before any image is encoded: --k over the images, --depth past the stack, a file as --query, a picture too large', async () => {
    const base = ['similar', '--model', stack, '--data', imgs];
    const [k, depth, file, big, kq, pictureDir, grey, same, lone] = await Promise.all([
      cli([...base, '--k', '80']),
      cli([...base, '--depth', '3']),
      cli([...base, '--query', join(imgs, 'reds', '0.png')]),
      cli([...base, '--picture', join(dir, 'big.png'), '--rows', '80', '--k', '79', '--scale', '64']),
      cli([...base, '--query', queries, '--k', '81']),
      cli([...base, '--picture', dir]),
      cli([...base, '--query', 'mnist', '--limit', '5']),
      cli([...base, '--out', join(dir, 'both'), '--picture', join(dir, '.', 'both')]),
      cli([...base, '--limit', '1', '--k', '1']),
    ]);
    const refused = (r: { status: number | null; stderr: string; stdout: string }, re: RegExp) => {
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/each among the others|queries \(|\n\s+at /);
      expect(r.stdout).toBe('');
    };
    refused(
      k,
      /^convae similar: --k 80 needs 80 images to choose from; --data holds 80, each query among the other 79: give --k 79 or fewer/,
    );
    refused(depth, /^convae similar: --depth must be at most 2/);
    refused(file, /^convae: --query .*0\.png: a file, not a folder/);
    refused(big, /^convae similar: --picture .* more than \d+ pixels \(MAX_RASTER_PIXELS\)/);
    refused(kq, /^convae similar: --k 81 needs 81 images to choose from; --data holds 80: give --k 80 or fewer/);
    // The flag at fault is named: the picture's, the query's (they were called --out and --data).
    refused(pictureDir, /^convae: cannot write --picture .*: is a directory/);
    refused(grey, /^convae: --query mnist holds \[1,28,28\] images, the model takes \[3,16,16\]/);
    // One file for both: the PNG replaced the CSV, and exit 0.
    refused(same, /^convae similar: --picture .*both is also --out: /);
    // One image and no --query: no --k can do (it said "give --k 1 or fewer" of --k 1). --limit 1 cut the folder of 80:
    // the limit is named, not --data ("--data holds 1").
    refused(
      lone,
      /^convae similar: --k 1 needs 1 images to choose from; --limit 1 leaves 1, each query among the other 0: give a larger --limit, or the images to find neighbours of as --query\n/,
    );
  }, 120_000);

  // A FIFO as stack.safetensors blocked the read forever (a link to /dev/zero read 2 GB before the limit refused it).
  it('a --model folder whose stack.safetensors is a FIFO: one line, at once', async () => {
    const fifo = join(dir, 'fifo-model');
    mkdirSync(fifo);
    copyFileSync(join(stack, 'stack.json'), join(fifo, 'stack.json'));
    expect(spawnSync('mkfifo', [join(fifo, 'stack.safetensors')]).status).toBe(0);
    const r = await cliAsync(20_000)(['similar', '--model', fifo, '--data', imgs]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^convae: .*fifo-model\/stack\.safetensors is not a regular file: /);
    expect(r.stderr.split('\n')).toHaveLength(2);
  }, 60_000);
});

describe('checkOutputSize', () => {
  it('refuses output no string can hold, by rows × the longest names, before a search', () => {
    const names = (n: number, len: number) => Array.from({ length: n }, (_, i) => String(i).padStart(len, 'x'));
    // 60 000 images × k 1 000 with 20-character names: 6·10⁷ rows of about 100 characters.
    expect(() => checkOutputSize(names(60_000, 20), names(60_000, 20), 1000)).toThrow(
      /^convae similar: --k 1000 for 60000 queries makes 60000000 rows, up to 6000000000 characters of output, more than 268435456: give a smaller --k/,
    );
    // Its bound is the rows × (longest query + longest file + 60): just under, and just over.
    const under = Math.floor(MAX_SIMILAR_CHARS / (20 + 20 + 60));
    expect(() => checkOutputSize(names(under, 20), names(10, 20), 1)).not.toThrow();
    expect(() => checkOutputSize(names(under + 1, 20), names(10, 20), 1)).toThrow(/more than 268435456/);
    expect(() => checkOutputSize(names(60_000, 20), names(60_000, 20), 5)).not.toThrow();
  });
});
