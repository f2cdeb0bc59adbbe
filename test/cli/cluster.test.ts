/**
 * `convae cluster`: clusters.csv holds the library's clusters of the saved stack's codes, one row per image in the
 * folder's order; the same file in workers and on this thread; the scores it prints equal ones recomputed here
 * from clusters.csv by independent formulas; clusters.png shows the images as read; every refusal comes before an
 * image is encoded, and no output lands inside the data folder.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterCodes } from '../../ts/anomaly/cluster.js';
import { chooseClusterCount } from '../../ts/anomaly/clustercount.js';
import { encode } from '../../ts/anomaly/embed.js';
import { mapCodes } from '../../ts/anomaly/map.js';
import { cluster } from '../../ts/cli/cluster.js';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { saveModel } from '../../ts/model/serialize.js';
import { threadRunner } from '../../ts/train/runner.js';
import { BUILD } from '../util/backend.js';
import { cliAsync, savedStackAndImages } from '../util/cli.js';
import { bruteAccuracy, itemNmi, pairCountAri } from '../util/clustering.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliAsync(120_000);

/** Pixels in the test images' pure reds and blues: the images' own, which no normalised image and no text has. */
function pureColours(file: string): number {
  const img = PNG.sync.read(readFileSync(file));
  let n = 0;
  for (let q = 0; q < img.data.length; q += 4)
    if ((img.data[q + 2] === 0 && img.data[q]! >= 150) || (img.data[q] === 0 && img.data[q + 2]! >= 150)) n++;
  return n;
}

/** clusters.csv's rows as [file, cluster, distance, label, label_name]. */
const rowsOf = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));

describe.runIf(BUILD === 'simd')('convae cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-cluster-'));
  const imgs = join(dir, 'imgs'); // reds/ and blues/, 40 each
  const mixed = join(dir, 'mixed'); // the same 80 images, in classes a/ b/ c/ that do not follow the colour
  const flat = join(dir, 'flat'); // the same, unlabelled
  const stack = join(dir, 'stack');
  // reds/ and blues/ again, image i in 1 + i % 3 copies named i-1.png …: 158 images, the 80 of imgs distinct, which
  // come first in the order of imgs' own files.
  const copies = join(dir, 'copies');
  const copyCount = (i: number) => 1 + (i % 3);
  beforeAll(async () => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    const folders = ['a', 'b', 'c']
      .map((c) => join(mixed, c))
      .concat(flat, join(copies, 'reds'), join(copies, 'blues'));
    for (const f of folders) mkdirSync(f, { recursive: true });
    for (const cls of ['reds', 'blues'])
      for (const file of readdirSync(join(imgs, cls))) {
        const i = Number(file.slice(0, -4));
        cpSync(join(imgs, cls, file), join(mixed, 'abc'[i % 3]!, `${cls}-${file}`));
        cpSync(join(imgs, cls, file), join(flat, `${cls}-${file}`));
        for (let j = 1; j <= copyCount(i); j++) cpSync(join(imgs, cls, file), join(copies, cls, `${i}-${j}.png`));
      }
    const r = await cli(['pretrain', '--data', imgs, '--size', '16x16', '--epochs', '1', '--out', stack, '-q']);
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const umap of [0, 3])
    it(`clusters.csv holds the library’s clusters of the saved stack’s codes${umap ? ' mapped by UMAP' : ''}, in the folder’s order (--umap ${umap})`, async () => {
      const out = join(dir, `api-${umap}`);
      const base = { model: stack, data: mixed, k: 4, restarts: 2, seed: 3, perCluster: 5, build: BUILD, quiet: true };
      const r = await cluster({ ...base, umap, neighbours: 12, out, workers: 0 });
      const { be, stack: s } = await savedStackAndImages(stack, imgs);
      const f = await loadImageFolder(mixed, { size: [16, 16], channels: 3 });
      try {
        expect(r.files).toEqual(f.files);
        const labels = f.dataset.labels!;
        const runner = threadRunner(be);
        const codes = encode(s, f.dataset, {});
        const m = umap ? await mapCodes(runner, codes, { dims: umap, neighbours: 12, minDist: 0, seed: 3 }) : null;
        const space = m ? { vectors: m.points, n: 80, dim: umap } : codes;
        const lib = await clusterCodes(runner, space, { k: 4, restarts: 2, seed: 3, labels });
        expect(Array.from(r.assignments)).toEqual(Array.from(lib.assignments));
        expect(r.scores).toEqual(lib.scores);
        const rows = rowsOf(join(out, 'clusters.csv'));
        expect(rows).toHaveLength(80);
        for (const [i, [file, c, d, label, name]] of rows.entries()) {
          expect(file).toBe(f.files[i]);
          expect(Number(c)).toBe(lib.assignments[i]);
          expect(Number(d)).toBeCloseTo(lib.distances[i]!, 4);
          expect(Number(label)).toBe(labels[i]);
          expect(name).toBe(file!.slice(0, 1));
        }
        const json = JSON.parse(readFileSync(join(out, 'clusters.json'), 'utf8'));
        expect(json).toMatchObject({ k: 4, depth: 2, images: 80, scores: lib.scores, sizes: Array.from(lib.sizes) });
        expect(json.space).toEqual(umap ? { umap, neighbours: 12, minDist: 0 } : 'codes');
        expect(json.inertia).toBeCloseTo(lib.inertia, 6);
      } finally {
        s.dispose();
      }
    }, 120_000);

  it('the CLI: the same clusters.csv in workers and on this thread; the scores it prints are those of the CSV', async () => {
    const run = (out: string, ...extra: string[]) =>
      cli(['cluster', '--model', stack, '--data', mixed, '--k', '5', '--out', join(dir, out), ...extra]);
    const [two, zero, seed2] = await Promise.all([
      run('w2', '--workers', '2'),
      run('w0', '--workers', '0'),
      run('s2', '--workers', '0', '--seed', '2', '--restarts', '1'),
    ]);
    for (const r of [two, zero, seed2]) expect(r.status, r.stderr).toBe(0);
    const read = (out: string) => readFileSync(join(dir, out, 'clusters.csv'), 'utf8');
    expect(read('w2')).toBe(read('w0'));
    expect(zero.stderr).toMatch(
      /^convae cluster: 80 images of .*mixed, codes of block 2 \(\d+ floats\); a 10-D UMAP map of them \(15 neighbours\), k-means, 5 clusters, the best of 4 k-means\+\+ start/,
    );
    const line = /accuracy ([\d.]+), NMI ([\d.]+), ARI (-?[\d.]+) \(purity [\d.]+\)/.exec(zero.stderr);
    expect(line, zero.stderr).not.toBeNull();
    const rows = rowsOf(join(dir, 'w0', 'clusters.csv'));
    const [u, v] = [rows.map((r) => Number(r[1])), rows.map((r) => Number(r[3]))];
    // Five clusters, three classes: two clusters match no class.
    expect(Number(line![1])).toBeCloseTo(bruteAccuracy(u, v), 4);
    expect(Number(line![2])).toBeCloseTo(itemNmi(u, v), 4);
    expect(Number(line![3])).toBeCloseTo(pairCountAri(u, v), 4);
    // clusters.png: a row per cluster, the images as read (their pure reds and blues).
    const png = PNG.sync.read(readFileSync(join(dir, 'w0', 'clusters.png')));
    expect(png.height).toBeGreaterThan(5 * 56);
    expect(pureColours(join(dir, 'w0', 'clusters.png'))).toBeGreaterThan(5 * 10 * 56 * 56 * 0.5);
  }, 120_000);

  it('--depth 0 clusters the pixels; an unlabelled folder gets no scores and empty label columns', async () => {
    const [px, plain] = await Promise.all([
      cli(['cluster', '--model', stack, '--data', imgs, '--depth', '0', '--k', '2', '--out', join(dir, 'px')]),
      cli(['cluster', '--model', stack, '--data', flat, '--k', '3', '--out', join(dir, 'flat-cl'), '--workers', '0']),
    ]);
    expect(px.status, px.stderr).toBe(0);
    expect(px.stderr).toMatch(/their pixels \(768 floats\)/);
    // Reds and blues apart in the pixels.
    expect(px.stderr).toMatch(/accuracy 1\.0000, NMI 1\.0000, ARI 1\.0000/);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stderr).not.toMatch(/accuracy/);
    const rows = readFileSync(join(dir, 'flat-cl', 'clusters.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    expect(rows).toHaveLength(80);
    for (const r of rows) expect(r).toMatch(/^[^,]+,[0-2],[\d.e+-]+,,$/);
    expect(JSON.parse(readFileSync(join(dir, 'flat-cl', 'clusters.json'), 'utf8')).scores).toBeNull();
  }, 120_000);

  it('a whitened stack: clusters.png shows the images as read', async () => {
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
    const out = join(dir, 'white-cl');
    const r = await cli(['cluster', '--model', white, '--data', imgs, '--k', '2', '--workers', '0', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(pureColours(join(out, 'clusters.png'))).toBeGreaterThan(2 * 10 * 56 * 56 * 0.5);
  }, 120_000);

  it('--k auto: each k of 2-20 in k-scores.csv, the k of the highest silhouette kept, as the library chooses it', async () => {
    const out = join(dir, 'auto');
    const base = { model: stack, data: mixed, restarts: 2, seed: 3, perCluster: 3, build: BUILD, quiet: true };
    const r = await cluster({ ...base, k: 'auto', umap: 0, neighbours: 12, out, workers: 0 });
    const { be, stack: s } = await savedStackAndImages(stack, imgs);
    const f = await loadImageFolder(mixed, { size: [16, 16], channels: 3 });
    try {
      const labels = f.dataset.labels!;
      const lib = await chooseClusterCount(threadRunner(be), encode(s, f.dataset, {}), {
        ...{ from: 2, to: 20, seed: 3, restarts: 2, labels },
      });
      expect(Array.from(r.assignments)).toEqual(Array.from(lib.clustering.assignments));
      const csv = rowsOf(join(out, 'k-scores.csv'));
      expect(readFileSync(join(out, 'k-scores.csv'), 'utf8').split('\n')[0]).toBe('k,silhouette,inertia,nmi');
      expect(csv.map((row) => Number(row[0]))).toEqual(Array.from({ length: 19 }, (_, i) => i + 2));
      for (const [i, row] of csv.entries()) {
        expect(Number(row[1])).toBeCloseTo(lib.rows[i]!.silhouette, 5);
        expect(Number(row[3])).toBeCloseTo(lib.rows[i]!.nmi!, 5);
      }
      const best = csv.reduce((b, row) => (Number(row[1]) > Number(b[1]) ? row : b));
      const json = JSON.parse(readFileSync(join(out, 'clusters.json'), 'utf8'));
      expect(json.k).toBe(Number(best[0]));
      expect(json.kChosen).toMatchObject({ from: 2, to: 20, by: 'silhouette' });
      expect(new Set(rowsOf(join(out, 'clusters.csv')).map((row) => row[1])).size).toBe(json.k);
    } finally {
      s.dispose();
    }
    // A range on the CLI, and a folder of 4 images, where auto stops at k 3.
    const small = join(dir, 'four');
    mkdirSync(small, { recursive: true });
    for (const file of readdirSync(flat).slice(0, 4)) cpSync(join(flat, file), join(small, file));
    const [range, four] = await Promise.all([
      cli(['cluster', '--model', stack, '--data', mixed, '--k', '3-5', '--umap', '0', '--out', join(dir, 'k35')]),
      cli(['cluster', '--model', stack, '--data', small, '--k', 'auto', '--umap', '0', '--out', join(dir, 'k4')]),
    ]);
    expect(range.status, range.stderr).toBe(0);
    expect(range.stderr).toMatch(/k-means, k of 3-5 by the highest mean silhouette/);
    expect(range.stderr).toMatch(/chose k [345], the highest mean silhouette \([-\d.]+\) of k 3-5/);
    expect(rowsOf(join(dir, 'k35', 'k-scores.csv')).map((row) => row[0])).toEqual(['3', '4', '5']);
    expect(four.status, four.stderr).toBe(0);
    expect(rowsOf(join(dir, 'k4', 'k-scores.csv')).map((row) => row[0])).toEqual(['2', '3']);
  }, 120_000);

  it('copies of an image share its point and cluster: the clustering of the distinct images’ map, each copy at its original’s point', async () => {
    const out = join(dir, 'copies-auto');
    const base = { model: stack, data: copies, restarts: 2, seed: 3, perCluster: 3, build: BUILD, quiet: true };
    const r = await cluster({ ...base, k: 'auto', umap: 3, neighbours: 12, out, workers: 0 });
    const { be, stack: s, images } = await savedStackAndImages(stack, imgs);
    try {
      // Which image of imgs each file of copies is, by name: reds/7-2.png is imgs/reds/7.png.
      const originals = (await loadImageFolder(imgs, { size: [16, 16], channels: 3 })).files;
      expect(r.files).toHaveLength(158);
      const from = r.files.map((f) => originals.indexOf(f.replace(/-\d+\.png$/, '.png')));
      expect(from.every((i) => i >= 0)).toBe(true);
      // The reference: the map of the 80 distinct images alone, each copy then given its original's point.
      const runner = threadRunner(be);
      const m = await mapCodes(runner, encode(s, images, {}), { dims: 3, neighbours: 12, minDist: 0, seed: 3 });
      const points = new Float32Array(158 * 3);
      for (const [i, o] of from.entries()) points.set(m.points.subarray(o * 3, o * 3 + 3), i * 3);
      const labels = Uint8Array.from(from, (o) => images.labels![o]!);
      const lib = await chooseClusterCount(
        runner,
        { vectors: points, n: 158, dim: 3 },
        {
          ...{ from: 2, to: 20, seed: 3, restarts: 2, labels },
        },
      );
      expect(Array.from(r.assignments)).toEqual(Array.from(lib.clustering.assignments));
      expect(r.kRows!.map((x) => x.silhouette)).toEqual(lib.rows.map((x) => x.silhouette));
      for (const [i, o] of from.entries()) expect(r.assignments[i], r.files[i]).toBe(r.assignments[from.indexOf(o)]);
    } finally {
      s.dispose();
    }
  }, 120_000);

  it('copies: fewer distinct images than --k, a range, --neighbours, or one image in copies: refused before anything is encoded or written', async () => {
    const eight = join(dir, 'eight');
    mkdirSync(eight, { recursive: true });
    for (let j = 0; j < 8; j++) cpSync(join(imgs, 'reds', '5.png'), join(eight, `c${j}.png`));
    const cases: [string[], RegExp][] = [
      [
        ['--data', copies, '--k', '81'],
        /^convae cluster: --k 81 clusters need at least 81 distinct images; --data holds 158, 80 distinct \(the others exact copies of them\): give --k 80 or fewer\n$/,
      ],
      [
        ['--data', copies, '--k', '75-85', '--umap', '0'],
        /^convae cluster: --k 75-85: a silhouette of k clusters needs more than k distinct images; --data holds 158, 80 distinct .*: give a range that ends at 79 or below\n$/,
      ],
      [
        ['--data', copies, '--k', '3', '--neighbours', '80'],
        /^convae cluster: --neighbours 80: the map lays out each distinct image once and needs more of them than neighbours; --data holds 158, 80 distinct .*: give --neighbours 79 or fewer, or --umap 0\n$/,
      ],
      [
        ['--data', eight, '--k', 'auto'],
        /^convae cluster: --data .*eight: its 8 images are all the same image \(equal pixels as the stack reads them\): nothing to cluster\n$/,
      ],
      [
        ['--data', eight, '--k', '2', '--umap', '0'],
        /^convae cluster: --data .*eight: its 8 images are all the same image/,
      ],
      [
        ['--data', eight, '--k', '2', '--limit', '5'],
        /^convae cluster: --data .*eight: the 5 images --limit 5 leaves are all the same image/,
      ],
    ];
    const rs = await Promise.all(
      cases.map(([extra], i) =>
        cli(['cluster', '--model', stack, '--workers', '0', '--out', join(dir, `refused-${i}`), ...extra]),
      ),
    );
    rs.forEach((r, i) => {
      const [extra, re] = cases[i]!;
      expect(r.status, `${extra.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr, extra.join(' ')).toMatch(re);
      // The line said before the images are encoded ("… k-means …") never came.
      expect(r.stderr, extra.join(' ')).not.toMatch(/k-means/);
      expect(existsSync(join(dir, `refused-${i}`)), extra.join(' ')).toBe(false);
    });
    // --k auto, asked to choose, stops below the distinct images and says so: 5 images in 3 copies each.
    const five = join(dir, 'five');
    mkdirSync(five, { recursive: true });
    for (let i = 0; i < 15; i++) cpSync(join(imgs, 'blues', `${i % 5}.png`), join(five, `c${i}.png`));
    const auto = await cli([
      'cluster',
      '--model',
      stack,
      '--data',
      five,
      '--k',
      'auto',
      '--umap',
      '0',
      '--out',
      join(dir, 'five-auto'),
    ]);
    expect(auto.status, auto.stderr).toBe(0);
    expect(auto.stderr).toMatch(
      /^convae cluster: 15 images \(5 distinct\) of .*k of 2-4 by the highest mean silhouette \(below the 5 distinct images\)/,
    );
    expect(rowsOf(join(dir, 'five-auto', 'k-scores.csv')).map((row) => row[0])).toEqual(['2', '3', '4']);
    // A map of the eight is refused alike, naming --data.
    const mapped = await cli([
      'map',
      '--model',
      stack,
      '--data',
      eight,
      '--neighbours',
      '4',
      '--out',
      join(dir, 'refused-map'),
    ]);
    expect(mapped.stderr).toMatch(
      /^convae map: --data .*eight: its 8 images are all the same image .*: nothing to map\n$/,
    );
    expect(existsSync(join(dir, 'refused-map'))).toBe(false);
  }, 120_000);

  it('different images with one code (a stack of zero weights): refused naming --data, after encoding, before any file is written', async () => {
    const zero = join(dir, 'zero-stack');
    cpSync(stack, zero, { recursive: true });
    const { stack: s } = await savedStackAndImages(stack, imgs);
    try {
      for (const p of s.params()) p.value.data.fill(0);
      writeFileSync(join(zero, 'stack.safetensors'), saveModel(s).weights);
    } finally {
      s.dispose();
    }
    const [auto, two, mapped] = await Promise.all([
      cli(['cluster', '--model', zero, '--data', mixed, '--k', 'auto', '--out', join(dir, 'zero-auto')]),
      cli(['cluster', '--model', zero, '--data', mixed, '--k', '2', '--umap', '0', '--out', join(dir, 'zero-2')]),
      cli(['map', '--model', zero, '--data', mixed, '--out', join(dir, 'zero-map')]),
    ]);
    for (const [r, what] of [
      [auto, 'cluster'],
      [two, 'cluster'],
      [mapped, 'map'],
    ] as const) {
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `\\nconvae ${what}: --data .*mixed: its 80 images all have the same code at block 2: nothing to ${what}\\n$`,
        ),
      );
    }
    // The --out folder was made (and proved writable) before encoding; nothing was written in it.
    for (const out of ['zero-auto', 'zero-2', 'zero-map']) expect(readdirSync(join(dir, out))).toEqual([]);
  }, 120_000);

  it('a run of one k removes the k-scores.csv a range left in --out, and no other file of that name', async () => {
    const out = join(dir, 'stale-k');
    const base = { model: stack, data: flat, restarts: 1, seed: 2, perCluster: 2, build: BUILD, quiet: true };
    const args = { ...base, umap: 0, neighbours: 12, out, workers: 0 };
    await cluster({ ...args, k: { from: 2, to: 4 } });
    expect(readFileSync(join(out, 'k-scores.csv'), 'utf8')).toMatch(/^k,silhouette,inertia\n2,/);
    await cluster({ ...args, k: 3 });
    // Left there, it said k 2-4 were tried and one chosen beside the clusters of k 3.
    expect(existsSync(join(out, 'k-scores.csv'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'clusters.json'), 'utf8')).k).toBe(3);
    const mine = 'k,score\n3,0.5\n';
    writeFileSync(join(out, 'k-scores.csv'), mine);
    await cluster({ ...args, k: 2 });
    expect(readFileSync(join(out, 'k-scores.csv'), 'utf8')).toBe(mine);
  }, 120_000);

  it('refuses, before anything is encoded or written: one error line each', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const blocked = join(dir, 'blocked');
    mkdirSync(join(blocked, 'clusters.png'), { recursive: true });
    const cases: [string[], RegExp][] = [
      [
        ['--k', '81'],
        /^convae cluster: --k 81 clusters need at least 81 images; --data holds 80: give --k 80 or fewer/,
      ],
      // --limit, not --data (80 images), is what left too few.
      [
        ['--limit', '5'],
        /^convae cluster: --k 10 clusters need at least 10 images; --limit 5 leaves 5: give --k 5 or fewer/,
      ],
      [
        ['--limit', '12', '--k', '3'],
        /^convae cluster: --neighbours 15 needs at least 16 images; --limit 12 leaves 12: give --neighbours 11 or fewer/,
      ],
      [['--k', '1'], /--k must be an integer in \[2, 200\]/],
      [['--k', 'two'], /--k must be an integer in \[2, 200\] in digits, auto, or a range a-b/],
      [['--k', '5-3'], /--k a-b must have 2 ≤ a < b ≤ 200 and at most 50 values/],
      [['--k', '1-4'], /--k a-b must have 2/],
      [['--k', '2-60'], /--k a-b must have 2/],
      [
        ['--k', '40-85'],
        /^convae cluster: --k 40-85: a silhouette of k clusters needs more than k images; --data holds 80: give a range that ends at 79 or below/,
      ],
      [
        ['--k', 'auto', '--limit', '3'],
        /^convae cluster: --k auto tries k 2 and up, and needs at least 4 images; --limit 3 leaves 3/,
      ],
      [['--k', '201'], /--k must be an integer in \[2, 200\]/],
      [['--restarts', '0'], /--restarts must be an integer in \[1, 100\]/],
      [['--per-cluster', '51'], /--per-cluster must be an integer in \[1, 50\]/],
      [['--umap', '65'], /--umap must be an integer in \[0, 64\]/],
      [['--neighbours', '1'], /--neighbours must be an integer in \[2, 200\]/],
      [
        ['--neighbours', '80'],
        /^convae cluster: --neighbours 80 needs at least 81 images; --data holds 80: give --neighbours 79 or fewer, or --umap 0/,
      ],
      [['--seed', '-1'], /--seed must be an integer/],
      [
        ['--depth', '3'],
        /^convae cluster: --depth must be at most 2 \(the blocks of the stack in .*; 0 maps the pixels\)/,
      ],
      [['--out', file], /--out/],
      [['--out', blocked], /^convae: cannot write --out ".*clusters\.png": is a directory/],
      [['--out', join(mixed, 'out')], /^convae cluster: --out .*out lies inside --data .*mixed: the next run on/],
      [['--out', join(mixed, 'a')], /lies inside --data/],
    ];
    const rs = await Promise.all(
      cases.map(([extra]) => cli(['cluster', '--model', stack, '--data', mixed, '--workers', '0', ...extra])),
    );
    rs.forEach((r, i) => {
      const [extra, re] = cases[i]!;
      expect(r.status, `${extra.join(' ')}: ${r.stderr}`).not.toBe(0);
      expect(r.stderr, extra.join(' ')).toMatch(re);
      expect(r.stderr, extra.join(' ')).not.toMatch(/k-means|\n\s+at /);
      expect(r.stderr.trim().split('\n').length, extra.join(' ')).toBeLessThanOrEqual(3);
    });
    expect(readFileSync(file, 'utf8')).toBe('x');
    expect(existsSync(join(mixed, 'out'))).toBe(false);
    expect(readdirSync(join(mixed, 'a')).every((f) => f.endsWith('.png') && !f.startsWith('clusters'))).toBe(true);
  }, 120_000);

  it('an output file in the way is refused before the images are read; a refused run makes no --out folder', async () => {
    // An image that cannot be decoded: reading the folder fails on it, so only a refusal made before the read names --out.
    const bad = join(dir, 'bad-images');
    cpSync(join(mixed, 'a'), join(bad, 'a'), { recursive: true });
    writeFileSync(join(bad, 'a', 'broken.png'), 'not a png');
    const blocked = join(dir, 'blocked-json');
    mkdirSync(join(blocked, 'clusters.json'), { recursive: true });
    const r = await cli(['cluster', '--model', stack, '--data', bad, '--k', '2', '--umap', '0', '--out', blocked]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^convae: cannot write --out ".*clusters\.json": is a directory\n$/);
    // Without the file in the way the same folder is read, and refused for its broken image; a refused run leaves
    // no new --out folder behind, whether refused for its images or for its --k.
    const fresh = join(dir, 'fresh');
    const read = await cli(['cluster', '--model', stack, '--data', bad, '--k', '2', '--umap', '0', '--out', fresh]);
    expect(read.stderr).toMatch(/broken\.png/);
    const k = await cli(['cluster', '--model', stack, '--data', mixed, '--k', '81', '--out', fresh]);
    expect(k.stderr).toMatch(/--k 81 clusters need at least 81 images/);
    expect(existsSync(fresh)).toBe(false);
  }, 120_000);
});
