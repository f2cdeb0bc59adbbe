/**
 * `--patches N` / `--patch-scale S` of `convae pretrain` and `convae search`: random windows of a folder's images at
 * their own resolution. Refused with data that is not a folder of image files (before anything is read), without
 * --patches, with values out of range, and on the commands that do not take it; a run says what it trained on and
 * records it in stack.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const cli = cliAsync(180_000);

function writeNoisePng(file: string, w: number, h: number, salt: number): void {
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < png.data.length; i++)
    png.data[i] = i % 4 === 3 ? 255 : (Math.imul(i + salt * 7919, 2654435761) >>> 13) & 255;
  writeFileSync(file, PNG.sync.write(png));
}

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
    small = join(dir, 'with-small');
  beforeAll(() => {
    for (const d of ['photos/a', 'photos/b', 'with-small']) mkdirSync(join(dir, d), { recursive: true });
    writeNoisePng(join(photos, 'a', '1.png'), 40, 30, 1);
    writeNoisePng(join(photos, 'a', '2.png'), 24, 36, 2);
    writeNoisePng(join(photos, 'b', '3.png'), 50, 20, 3);
    writeNoisePng(join(small, 'big.png'), 30, 30, 4);
    writeNoisePng(join(small, 'little.png'), 6, 30, 5);
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
    expect(r.stdout).toMatch(/24 training and 6 test patches \(10 per image scaled by 0\.8\) of \[3,8,8\]/);
    // The error it reports is of held-out patches, not of images (it said 'the 6 held-out images').
    expect(r.stdout).toMatch(/CAE 1: reconstruction MSE on the 6 held-out patches \d/);
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
    expect(skipped.stdout).toMatch(/4 training and 1 test patches \(5 per image\)/);
  }, 200_000);

  it('search ranks candidates on the patches', async () => {
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
    expect(r.stdout).toMatch(/convae search on 48 \S+ patches \(10 % held out/);
    expect(readFileSync(join(out, 'search.md'), 'utf8')).toMatch(/48 patches \(20 per image\)/);
  }, 200_000);
});
