/**
 * `--patches N` / `--patch-scale S` of `convae pretrain` and `convae search`: random windows of a folder's images at
 * their own resolution. Refused with data that is not a folder of image files (before anything is read), without
 * --patches, with values out of range, and on the commands that do not take it; a run says what it trained on and
 * records it in stack.json. The held-out fifth is whole images: each patch is traced to the file it was cut from by
 * searching the pixels the test wrote, and no held-out patch comes from an image a training patch came from.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTrainData } from '../../ts/cli/data.js';
import type { ImageDataset } from '../../ts/data/dataset.js';
import { DataError } from '../../ts/errors.js';
import { BUILD } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const cli = cliAsync(180_000);

/** Writes a w×h RGBA PNG (opaque) of hashed noise and returns its RGBA bytes. */
function writeNoisePng(file: string, w: number, h: number, salt: number): Uint8Array {
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < png.data.length; i++)
    png.data[i] = i % 4 === 3 ? 255 : (Math.imul(i + salt * 7919, 2654435761) >>> 13) & 255;
  writeFileSync(file, PNG.sync.write(png));
  return new Uint8Array(png.data);
}

interface Written {
  file: string;
  w: number;
  h: number;
  rgba: Uint8Array;
}

/**
 * The files among `images` whose pixels hold patch `j` of `ds` (3 planes of ph × pw bytes) at some place, found by
 * trying every place: the patch's source, independently of what the loader reports.
 */
function sourcesOf(ds: ImageDataset, j: number, images: readonly Written[]): string[] {
  const [, ph, pw] = ds.shape;
  const b = ds.bytes!.subarray(j * 3 * ph * pw, (j + 1) * 3 * ph * pw);
  const found: string[] = [];
  for (const im of images)
    for (let y = 0; y + ph <= im.h; y++)
      for (let x = 0; x + pw <= im.w; x++) {
        let same = true;
        for (let c = 0; c < 3 && same; c++)
          for (let r = 0; r < ph && same; r++)
            for (let q = 0; q < pw; q++)
              if (b[(c * ph + r) * pw + q] !== im.rgba[((y + r) * im.w + x + q) * 4 + c]) {
                same = false;
                break;
              }
        if (same && !found.includes(im.file)) found.push(im.file);
      }
  return found;
}

describe('resolveTrainData with --patches: a fifth of the images held out whole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-patch-split-'));
  const ten = join(dir, 'ten'),
    two = join(dir, 'two'),
    threeOneSmall = join(dir, 'three-one-small');
  const images: Written[] = [];
  beforeAll(() => {
    for (const d of [ten, two, threeOneSmall]) mkdirSync(d);
    for (let k = 0; k < 10; k++) {
      const file = `p${k}.png`,
        w = 14 + 3 * k,
        h = 30 - k;
      images.push({ file, w, h, rgba: writeNoisePng(join(ten, file), w, h, 100 + k) });
    }
    writeNoisePng(join(two, 'a.png'), 30, 30, 1);
    writeNoisePng(join(two, 'b.png'), 30, 30, 2);
    writeNoisePng(join(threeOneSmall, 'a.png'), 30, 30, 1);
    writeNoisePng(join(threeOneSmall, 'b.png'), 30, 30, 2);
    writeNoisePng(join(threeOneSmall, 'c.png'), 5, 30, 3); // narrower than a patch: skipped
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const read = (seed: number, limit?: number) =>
    resolveTrainData({ data: ten, size: [8, 8], channels: 3, patches: 6, seed, ...(limit ? { limit } : {}) });
  /** The source file of every patch of `ds` (each found in exactly one image). */
  const sources = (ds: ImageDataset) =>
    Array.from({ length: ds.length }, (_, j) => {
      const s = sourcesOf(ds, j, images);
      expect(s, `patch ${j}`).toHaveLength(1);
      return s[0]!;
    });

  it('no held-out patch comes from an image a training patch came from; round(10 · 0.2) = 2 images, all 6 patches of each', async () => {
    const held: string[] = [];
    for (const seed of [1, 2, 3, 4, 5]) {
      const d = await read(seed);
      const train = new Set(sources(d.train)),
        test = sources(d.test);
      for (const f of test) expect(train.has(f), `seed ${seed}: ${f} is in both parts`).toBe(false);
      const testFiles = [...new Set(test)].sort();
      expect(testFiles).toHaveLength(2);
      // The files it names as held out are the ones the test patches' pixels were found in.
      expect(d.testFiles).toEqual(testFiles);
      expect(test).toHaveLength(2 * 6);
      expect(train.size).toBe(8);
      expect(d.train.length).toBe(8 * 6);
      held.push(testFiles.join());
      // The same seed, the same held-out images and patches.
      const again = await read(seed);
      expect(Array.from(again.test.bytes!)).toEqual(Array.from(d.test.bytes!));
      expect(Array.from(again.train.bytes!)).toEqual(Array.from(d.train.bytes!));
    }
    // Other seeds hold out other images.
    expect(new Set(held).size).toBeGreaterThan(1);
  }, 60_000);

  it('--limit n keeps n training patches, all of training images; the held-out images stay whole', async () => {
    const full = await read(3);
    const d = await read(3, 10);
    expect(d.train.length).toBe(10);
    expect(Array.from(d.test.bytes!)).toEqual(Array.from(full.test.bytes!));
    const test = new Set(sources(d.test));
    for (const f of sources(d.train)) expect(test.has(f)).toBe(false);
  }, 60_000);

  it('refuses a folder of fewer than 3 images that give patches, however many patches', async () => {
    const msg = (n: number, where: string) =>
      new RegExp(
        `^--data ${where} holds ${n} image\\(s\\) that give patches: a fifth of them is held out with all their patches, so at least 3 are needed \\(more --patches do not help: give more images\\)$`,
      );
    for (const patches of [1, 50]) {
      const e = await resolveTrainData({ data: two, size: [8, 8], patches }).catch((x) => x);
      expect(e).toBeInstanceOf(DataError);
      expect(e.message).toMatch(msg(2, two));
    }
    // Three files, one of which holds no patch and is skipped: two images.
    const skipped = resolveTrainData({ data: threeOneSmall, size: [8, 8], patches: 9, skipBad: true });
    await expect(skipped).rejects.toThrow(msg(2, threeOneSmall));
    // Whole images: as before, counted in images.
    await expect(resolveTrainData({ data: two, size: [8, 8] })).rejects.toThrow(
      /holds 2 image\(s\): a fifth of them is held out, so at least 3 are needed$/,
    );
  }, 60_000);
});

/** One line on stderr naming the flag, a non-zero exit, no stack trace. */
function expectRefused(r: { status: number | null; stderr: string }, message: RegExp): void {
  expect(r.status, r.stderr).not.toBe(0);
  expect(r.status, r.stderr).not.toBeNull();
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe.runIf(BUILD === 'simd')('convae --patches', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-patches-cli-'));
  const photos = join(dir, 'photos'),
    small = join(dir, 'with-small'),
    two = join(dir, 'two');
  beforeAll(() => {
    for (const d of ['photos/a', 'photos/b', 'with-small', 'two']) mkdirSync(join(dir, d), { recursive: true });
    writeNoisePng(join(photos, 'a', '1.png'), 40, 30, 1);
    writeNoisePng(join(photos, 'a', '2.png'), 24, 36, 2);
    writeNoisePng(join(photos, 'b', '3.png'), 50, 20, 3);
    writeNoisePng(join(small, 'big.png'), 30, 30, 4);
    writeNoisePng(join(small, 'big2.png'), 20, 30, 6);
    writeNoisePng(join(small, 'big3.png'), 30, 20, 7);
    writeNoisePng(join(small, 'little.png'), 6, 30, 5);
    writeNoisePng(join(two, '1.png'), 30, 30, 8);
    writeNoisePng(join(two, '2.png'), 30, 30, 9);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is refused with data that is not a folder of images, before anything is read or written', async () => {
    const out = join(dir, 'never');
    const cases: [string[], RegExp][] = [
      [
        ['pretrain', '--data', 'mnist', '--patches', '5'],
        /--patches cuts windows from a folder of image files; --data mnist is a fixed-format set/,
      ],
      [
        ['search', '--data', 'fashion', '--patches', '5'],
        /--patches cuts windows from a folder of image files; --data fashion is a fixed-format set/,
      ],
      [['search', '--patches', '5'], /--data mnist is a fixed-format set/], // --dataset's default
      // Not there: refused for what it names, not for a failed read.
      [['pretrain', '--data', `idx:${join(dir, 'none')}`, '--patches', '5'], /a fixed-format IDX folder/],
      [['pretrain', '--data', `cifar10:${join(dir, 'none')}`, '--patches', '5'], /a fixed-format CIFAR-10 folder/],
      [['pretrain', '--data', photos, '--patch-scale', '0.5'], /--patch-scale .*: give --patches N too/],
      // Within --patches' range, beyond the limits for three files: named by the flag, not by the loader's options.
      [
        ['pretrain', '--data', photos, '--patches', '16000000'],
        /^convae: --patches 16000000: 3 files × 16000000 patches are 48000000 patches, more than the limit 16777216: give a smaller --patches$/m,
      ],
      [
        ['search', '--data', photos, '--size', '32x32', '--patches', '5000000'],
        /^convae: --patches 5000000: 15000000 patches of 3×32×32 need \d+ bytes, more than the limit \d+: give a smaller --patches or --size$/m,
      ],
      // Two images: a held-out fifth of whole images holds none, whatever --patches.
      [
        ['pretrain', '--data', two, '--patches', '50', '--size', '8x8'],
        /^convae: --data \S+two holds 2 image\(s\) that give patches: a fifth of them is held out with all their patches, so at least 3 are needed \(more --patches do not help: give more images\)$/m,
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli([...args, '--out', out])));
    runs.forEach((r, i) => {
      expectRefused(r, cases[i]![1]);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    });
    expect(existsSync(out)).toBe(false);
  }, 200_000);

  it('values out of range, and the commands that do not take it, are usage errors naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['pretrain', '--patches', '0'], /--patches must be an integer in \[1, 16777216\]/],
      [['pretrain', '--patches', '2.5'], /--patches must be an integer/],
      [['search', '--patches', '16777217'], /--patches must be an integer in \[1, 16777216\]/],
      [['pretrain', '--patches', '3', '--patch-scale', '0'], /--patch-scale must be a number in \(0, 1\]/],
      [['pretrain', '--patches', '3', '--patch-scale', '1.5'], /--patch-scale must be a number in \(0, 1\]/],
      [['search', '--patches', '3', '--patch-scale', 'half'], /--patch-scale must be a number in \(0, 1\]/],
      [['train', '--data', photos, '--patches', '3'], /unknown option '--patches'/],
      [['encode', '--model', dir, '--data', photos, '--patches', '3'], /unknown option '--patches'/],
      [['paper', '--patches', '3'], /unknown option '--patches'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((r, i) => expectRefused(r, cases[i]![1]));
  }, 200_000);

  it('pretrain trains on the patches, says so, and records them in stack.json', async () => {
    const out = join(dir, 'stack');
    const flags = ['--size', '8x8', '--layers', '1', '--maps', '4,4', '--kernel', '3', '--epochs', '1'];
    const r = await cli([
      'pretrain',
      '--data',
      photos,
      '--patches',
      '10',
      '--patch-scale',
      '0.8',
      ...flags,
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // Three images: one held out whole (round(3 · 0.2) = 1), its 10 patches the test part.
    expect(r.stdout).toMatch(/20 training and 10 test patches \(10 per image scaled by 0\.8\) of \[3,8,8\]/);
    // The error it reports is of held-out patches of an unseen image, not of images (it said 'the 6 held-out images').
    // Named: with a few photographs the error is the one held out's. Which one, traced by its pixels, is the
    // split test's (above); here the log names the file the data names.
    const held = (await resolveTrainData({ data: photos, size: [8, 8], channels: 3, patches: 10, patchScale: 0.8 }))
      .testFiles!;
    expect(held).toHaveLength(1);
    expect(r.stdout).toContain(
      `CAE 1: reconstruction MSE on the 10 held-out patches (of 1 image(s): "${held[0]}", not trained on) `,
    );
    const saved = JSON.parse(readFileSync(join(out, 'stack.json'), 'utf8'));
    expect(saved.training.patches).toEqual({ perImage: 10, scale: 0.8, seed: 1 });
    expect(saved.training.classes).toEqual(['a', 'b']);

    // An image smaller than a patch stops the run naming it, or is skipped with --skip-bad.
    const stopped = await cli(['pretrain', '--data', small, '--patches', '5', ...flags, '--out', join(dir, 'x')]);
    expectRefused(stopped, /little\.png: the image is 6×30 pixels, smaller than a patch of 8×8 .*--skip-bad skips/);
    const skipped = await cli(['pretrain', '--data', small, '--patches', '5', ...flags, '--skip-bad', '--out', out]);
    expect(skipped.status, skipped.stderr).toBe(0);
    expect(skipped.stderr).toMatch(
      /skipped 1 file\(s\) that cannot be decoded or hold no patch \(--skip-bad\):\n {2}little\.png: /,
    );
    expect(skipped.stdout).toMatch(/10 training and 5 test patches \(5 per image\)/);
  }, 200_000);

  it('search ranks candidates on the patches of the held-out images', async () => {
    const out = join(dir, 'search');
    const r = await cli([
      'search',
      '--data',
      photos,
      '--patches',
      '20',
      '--size',
      '8x8',
      '--maps',
      '4',
      '--kernels',
      '3',
      '--noise',
      '0',
      '--workers',
      '1',
      '--out',
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    // Not a tenth of the training patches (windows of the photographs trained on): the held-out image's 20.
    expect(r.stdout).toMatch(
      /convae search on 40 \S+ patches \(validated on the 20 patches of 1 image\(s\): "[^"]+\.png", held out\), 1 workers/,
    );
    expect(readFileSync(join(out, 'search.md'), 'utf8')).toMatch(/40 patches \(20 per image\)/);
  }, 200_000);
});
