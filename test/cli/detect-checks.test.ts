/**
 * `convae detect` refuses what it cannot do before its stack trains: too few normal images, a --k larger than
 * the normal training images, a --data or --out it cannot use, normal images and a --size that together outgrow
 * the neighbour search. Each used to be found after training (seconds on a small folder, an out-of-memory after
 * minutes on large images).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBackend } from '../../ts/backend/backend.js';
import { checkDetectBatch, checkDetectSizes, fprNote } from '../../ts/cli/detect.js';
import type { TrainData } from '../../ts/cli/data.js';
import type { ImageDataset } from '../../ts/data/dataset.js';
import { ArgumentError } from '../../ts/errors.js';
import { MAX_TENSOR_ELEMENTS } from '../../ts/limits.js';
import { BUILD } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliAsync(120_000);
const TRAINS = /normal images train the stack \(/;

/** One line on stderr, exit 1, no stack trace, and no training started. */
function expectRefusedBeforeTraining(r: { status: number | null; stderr: string }, message: RegExp): void {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(TRAINS);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe.runIf(BUILD === 'simd')('convae detect refuses before training', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-detect-'));
  const imgs = join(dir, 'imgs'); // 40 reds/, 40 blues/
  const folder = (name: string, n: number) => {
    const d = join(dir, name);
    mkdirSync(d);
    for (const f of readdirSync(join(imgs, 'reds')).slice(0, n)) copyFileSync(join(imgs, 'reds', f), join(d, f));
    return d;
  };
  let one = '',
    two = '',
    four = '';
  beforeAll(() => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    one = folder('one', 1);
    two = folder('two', 2);
    four = folder('four', 4);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = ['--size', '16x16', '--workers', '0'];

  it('a normal folder of 1 or 2 images says it needs 3 (a fifth is held out), naming --normal-data', async () => {
    const [r1, r2] = await Promise.all([
      cli(['detect', '--normal-data', one, '--data', imgs, ...base]),
      cli(['detect', '--normal-data', two, '--data', imgs, ...base]),
    ]);
    expectRefusedBeforeTraining(r1, /--normal-data .*one holds 1 image\(s\): .*at least 3 are needed/);
    expectRefusedBeforeTraining(r2, /--normal-data .*two holds 2 image\(s\)/);
  });

  it('--k above the normal training images, a missing --data, a folder or /proc as --out: refused untrained', async () => {
    const csv = join(dir, 'never.csv');
    const [k, data, outDir, proc, file] = await Promise.all([
      cli(['detect', '--normal-data', four, '--data', imgs, ...base, '--k', '5']), // 3 training images
      cli(['detect', '--normal-data', imgs, '--data', join(dir, 'nothing'), ...base]),
      cli(['detect', '--normal-data', imgs, '--data', imgs, ...base, '--out', dir]),
      cli(['detect', '--normal-data', imgs, '--data', imgs, ...base, '--out', '/proc/convae-detect.csv']),
      cli(['detect', '--normal-data', join(imgs, 'reds', '0.png'), '--data', imgs, ...base, '--out', csv]),
    ]);
    expectRefusedBeforeTraining(
      k,
      /--k 5 needs at least 5 normal training images; .* 3 train the stack .*--k 3 or fewer/,
    );
    expectRefusedBeforeTraining(data, /--data .*nothing: no such folder/);
    expectRefusedBeforeTraining(outDir, /cannot write --out .*: is a directory/);
    expectRefusedBeforeTraining(proc, /cannot write --out .*: a kernel file system/);
    expectRefusedBeforeTraining(file, /--normal-data .*0\.png: a file, not a folder/);
    expect(existsSync(csv)).toBe(false);
  });

  it('a --batch of large images that does not fit names --batch and the batch that fits, before training', async () => {
    // 2048×2048 grey: 10 images train, 6 fit every block (block 0 alone would take 8: see the test of checkDetectBatch).
    const twelve = folder('twelve', 12);
    const r = await cli([
      ...['detect', '--normal-data', twelve, '--data', one, '--size', '2048x2048', '--channels', '1'],
      ...['--k', '1', '--epochs', '1', '--workers', '0'],
    ]);
    expectRefusedBeforeTraining(
      r,
      /^convae detect: --batch 32: a batch of 10 images does not fit: at most 6, .*; give --batch 6 or less\n$/,
    );
  }, 60_000);

  it('four normal images with --k 3 run, and say the one held-out image cannot fit --fpr 0.05', async () => {
    const r = await cli(['detect', '--normal-data', four, '--data', four, ...base, '--k', '3', '--epochs', '1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/1 held-out image\(s\) are too few for --fpr 0\.05: .*about 1 in 2 new normal images/);
    expect(r.stdout.trim().split('\n')).toHaveLength(5);
  });

  // The library's default k is capped at the normal training images; the CLI refused its own default (--k 5) there.
  it('four normal images without --k run with k = 3 (the 3 training images), as the library would; --k 5 is refused', async () => {
    const save = join(dir, 'four-detector');
    const [r, k5] = await Promise.all([
      cli(['detect', '--normal-data', four, '--data', four, ...base, '--epochs', '1', '--save', save, '-q']),
      cli(['detect', '--normal-data', four, '--data', four, ...base, '--epochs', '1', '--k', '5']),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(save, 'detector.json'), 'utf8')).score).toEqual({
      type: 'neighbours',
      depth: 2,
      k: 3,
    });
    expectRefusedBeforeTraining(
      k5,
      /^convae detect: --k 5 needs at least 5 normal training images; .*give --k 3 or fewer/,
    );
  });
});

describe('convae detect: sizes and the threshold note', () => {
  /** Only the lengths and shape are read: a dataset of 4096×4096 images need not exist to be sized. */
  const sized = (length: number, shape: [number, number, number]) => ({ length, shape }) as unknown as ImageDataset;
  const normal = (n: number, shape: [number, number, number]): TrainData => ({
    name: 'test',
    train: sized(n - Math.round(n / 5), shape),
    test: sized(Math.round(n / 5), shape),
    classes: null,
  });

  it('normal images × the planned depth-2 code above MAX_TENSOR_ELEMENTS are refused (grey 4096×4096: 20 of them)', async () => {
    const be = await loadBackend({ build: BUILD });
    // Depth 2 of ANOMALY_BLOCKS (5×5 valid convolutions, 2×2 pools): 16 maps of 1 021 × 1 021.
    const dim = 16 * (((4096 - 4) / 2 - 4) / 2) ** 2;
    expect(dim).toBe(16_679_056);
    expect(() => checkDetectSizes(be, normal(25, [1, 4096, 4096]), 5, 5)).toThrow(ArgumentError);
    expect(() => checkDetectSizes(be, normal(25, [1, 4096, 4096]), 5, 5)).toThrow(/--normal-data .*20 × 16679056/);
    const most = Math.floor(MAX_TENSOR_ELEMENTS / dim); // 16 training images fit
    expect(() => checkDetectSizes(be, normal(20, [1, 4096, 4096]), 5, 5)).not.toThrow();
    expect(most).toBe(16);
  });

  it('a --batch some block cannot train is refused from the planned stack: nothing allocated, the most that fit named', async () => {
    const be = await loadBackend({ build: BUILD });
    const before = { ...be.mem.live, memory: be.memoryBytes };
    // 2048×2048 grey through ANOMALY_BLOCKS (5×5 valid convolutions, 2×2 pools keeping switches). Training block 1
    // keeps, per image: the input, block 0's conv, activation, pool and switches, block 1's, and block 1's unpool,
    // transposed conv and activation; 4 bytes each, 6 images fit in 4 GiB. Block 0 alone would take 8.
    const [i, c0, p0, c1, p1] = [2048 ** 2, 8 * 2044 ** 2, 8 * 1022 ** 2, 16 * 1018 ** 2, 16 * 509 ** 2];
    const total = i + 2 * c0 + 2 * p0 + 2 * c1 + 2 * p1 + c1 + 2 * p0;
    const most = Math.floor(2 ** 32 / (4 * total));
    expect([total, most]).toEqual([162_498_912, 6]);
    let e: unknown;
    try {
      checkDetectBatch(be, normal(12, [1, 2048, 2048]), 32);
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(ArgumentError);
    expect((e as Error).message).toMatch(
      /^convae detect: --batch 32: a batch of 10 images does not fit: at most 6, since one image leaves 162498912 values .*; give --batch 6 or less$/,
    );
    expect(() => checkDetectBatch(be, normal(12, [1, 2048, 2048]), 7)).toThrow(/a batch of 7 images .* at most 6/);
    expect(() => checkDetectBatch(be, normal(12, [1, 2048, 2048]), most)).not.toThrow();
    expect(() => checkDetectBatch(be, normal(100, [1, 28, 28]), 32)).not.toThrow();
    expect({ ...be.mem.live, memory: be.memoryBytes }).toEqual(before);
  });

  it('the note appears exactly when ⌊fpr · held-out⌋ = 0', () => {
    expect(fprNote(0.05, 19)).toMatch(/19 held-out image\(s\) .* about 1 in 20 .* 20 held-out images \(about 100/);
    expect(fprNote(0.05, 20)).toBeUndefined();
    expect(fprNote(0.1, 10)).toBeUndefined();
    expect(fprNote(0.1, 9)).toMatch(/10 held-out images/);
    expect(fprNote(0.3, 3)).toMatch(/4 held-out images/);
  });
});
