/**
 * `--limit n` on an image folder, one rule for every command (`limitSample`): a folder's files are read class by
 * class, and its first n were the first classes only (`evaluate --limit 40` on 40 blues and 40 reds scored blues).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitImages, limitSample, resolveAllData, resolveTrainData } from '../../ts/cli/data.js';
import { splitDataset } from '../../ts/data/split.js';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { Rng } from '../../ts/util/rng.js';
import { PNG } from 'pngjs';
import { cliRunner } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;

/** How many of `indices` fall in each class of `labels`. */
const perClass = (labels: ArrayLike<number>, indices: ArrayLike<number>, classes: number) => {
  const n = new Array<number>(classes).fill(0);
  for (let k = 0; k < indices.length; k++) n[labels[indices[k]!]!]!++;
  return n;
};
/** Labels sorted by class, as a folder's files are: `sizes[c]` images of class c. */
const sorted = (sizes: number[]) => Uint8Array.from(sizes.flatMap((m, c) => new Array<number>(m).fill(c)));

describe('limitSample: a seeded sample in proportion to the classes', () => {
  it('gives each class n·m/N of the images, within one, for sizes alike or not', () => {
    for (const sizes of [
      [40, 40],
      [60, 30, 10],
      [7, 7, 7, 7, 7, 7, 7, 7, 7, 7],
      [500, 3, 250, 41],
    ]) {
      const labels = sorted(sizes);
      const N = labels.length;
      for (const n of [1, 5, 10, 20, 33, N - 1])
        for (const seed of [1, 2, 3]) {
          const got = perClass(labels, limitSample(labels, N, n, seed), sizes.length);
          expect(got.reduce((a, b) => a + b)).toBe(n);
          for (const [c, m] of sizes.entries())
            expect(Math.abs(got[c]! - (n * m) / N), `${sizes} n ${n}`).toBeLessThanOrEqual(1);
        }
    }
  });

  it('returns distinct indices in folder order; the same seed the same images, a larger n a superset', () => {
    const labels = sorted([60, 30, 10]);
    const a = limitSample(labels, 100, 30, 7);
    expect(new Set(a).size).toBe(30);
    expect(Array.from(a)).toEqual(Array.from(a).sort((x, y) => x - y));
    expect(a.every((i) => i < 100)).toBe(true);
    expect(limitSample(labels, 100, 30, 7)).toEqual(a);
    expect(limitSample(labels, 100, 30, 8)).not.toEqual(a);
    const bigger = new Set(limitSample(labels, 100, 50, 7));
    for (const i of a) expect(bigger.has(i)).toBe(true);
    expect(Array.from(limitSample(labels, 100, 100, 7))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(limitSample(labels, 100, 1000, 7)).toHaveLength(100);
  });

  it('without labels: the first n of the seeded permutation', () => {
    const want = Array.from(new Rng(5).permutation(50).subarray(0, 12)).sort((x, y) => x - y);
    expect(Array.from(limitSample(null, 50, 12, 5))).toEqual(want);
  });
});

describe('--limit on an image folder, through the readers every command uses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-limit-'));
  const imgs = join(dir, 'imgs'); // blues/0…39.png, reds/0…39.png
  beforeAll(() => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the commands that apply a model (resolveAllData): half blues, half reds, each file with its image', async () => {
    const all = await loadImageFolder(imgs, { size: [8, 8], channels: 3 });
    const d = await resolveAllData({ data: imgs, limit: 40 }, [3, 8, 8]);
    expect(d.data.length).toBe(40);
    expect(
      perClass(
        d.data.labels!,
        Array.from({ length: 40 }, (_, i) => i),
        2,
      ),
    ).toEqual([20, 20]);
    // The names follow the images: each one's pixels and label are the folder's image of that file.
    for (const [k, file] of d.names.entries()) {
      const i = all.files.indexOf(file);
      expect(i, file).toBeGreaterThanOrEqual(0);
      expect(d.data.labels![k]).toBe(all.dataset.labels![i]);
      expect(d.data.readImages(k, k + 1)).toEqual(all.dataset.readImages(i, i + 1));
    }
    expect(d.names).toEqual([...d.names].sort((a, b) => all.files.indexOf(a) - all.files.indexOf(b)));
    // The same images whatever the model's classes (matched by name after sampling).
    const m = await resolveAllData({ data: imgs, limit: 40, modelClasses: ['reds', 'blues'] }, [3, 8, 8]);
    expect(m.names).toEqual(d.names);
    expect(Array.from(m.data.labels!)).toEqual(Array.from(d.data.labels!, (l) => 1 - l));
  });

  it('the commands that train (resolveTrainData): the training part sampled by class, the test part whole', async () => {
    const full = await resolveTrainData({ data: imgs, size: [8, 8], channels: 3, seed: 3 });
    const d = await resolveTrainData({ data: imgs, size: [8, 8], channels: 3, seed: 3, limit: 16 });
    expect(d.test.length).toBe(full.test.length);
    expect(d.train.length).toBe(16);
    // The 80/20 split of seed 3, computed again; then each class's share of the 64 training images, times 16.
    const f = await loadImageFolder(imgs, { size: [8, 8], channels: 3 });
    const train = splitDataset(f.dataset, { validation: 0, test: 0.2, seed: 3 }).train.data;
    const m = perClass(
      train.labels!,
      Array.from({ length: train.length }, (_, i) => i),
      2,
    );
    const got = perClass(
      d.train.labels!,
      Array.from({ length: 16 }, (_, i) => i),
      2,
    );
    for (const c of [0, 1]) expect(Math.abs(got[c]! - (16 * m[c]!) / train.length)).toBeLessThanOrEqual(1);
    // anomaly's test images (limitImages): sampled too, while a fixed-format set's are its first ones.
    const test = limitImages(full.test, full.name, 8, 1);
    const t = perClass(
      test.labels!,
      Array.from({ length: 8 }, (_, i) => i),
      2,
    );
    const tm = perClass(
      full.test.labels!,
      Array.from({ length: full.test.length }, (_, i) => i),
      2,
    );
    for (const c of [0, 1]) expect(Math.abs(t[c]! - (8 * tm[c]!) / full.test.length)).toBeLessThanOrEqual(1);
    expect(limitImages(full.test, 'mnist', 5, 1).readImages(0, 5)).toEqual(full.test.readImages(0, 5));
  });

  it("pretrain's reconstructions.png shows a folder's classes in proportion, not its first test images", async () => {
    // 80 blues and 80 reds (each file twice): 32 held-out images, about 16 blues first, then the reds.
    const big = join(dir, 'big');
    for (const c of ['blues', 'reds'])
      for (const f of readdirSync(join(imgs, c))) {
        cpSync(join(imgs, c, f), join(big, c, f));
        cpSync(join(imgs, c, f), join(big, c, `copy-${f}`));
      }
    const out = join(dir, 'stack');
    const r = cliRunner(120_000)(
      ...['pretrain', '--data', big, '--size', '12x12', '--layers', '1', '--maps', '2,4', '--kernel', '3'],
      ...['--epochs', '1', '--build', 'simd', '--out', out, '-q'],
    );
    expect(r.status, r.stderr).toBe(0);
    // The held-out images, split again (seed 1, pretrain's default): how many reds among them.
    const f = await loadImageFolder(big, { size: [12, 12], channels: 3 });
    const test = splitDataset(f.dataset, { validation: 0, test: 0.2, seed: 1 }).test!.data;
    const reds = Array.from(test.labels!).filter((l) => l === 1).length;
    // The picture: 2 rows of 8 originals (4 px a pixel, 1 px apart), each above its reconstruction. A red tile's
    // centre is red (the blue channel 0 in the image), a blue one's blue.
    const png = PNG.sync.read(readFileSync(join(out, 'reconstructions.png')));
    let shownReds = 0;
    for (let i = 0; i < 16; i++) {
      const [col, row] = [i % 8, Math.floor(i / 8)];
      const x = 1 + col * 49 + 24,
        y = 1 + 2 * row * 49 + row + 24;
      const at = 4 * (y * png.width + x);
      if (png.data[at]! > png.data[at + 2]!) shownReds++;
    }
    expect(Math.abs(shownReds - (16 * reds) / test.length)).toBeLessThanOrEqual(1);
  });
});
