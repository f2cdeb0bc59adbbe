/**
 * Images too small for a command's stack: refused before anything trains, naming --size and the smallest size that
 * fits (which the real command then accepts), not the layer that ran out of pixels
 * ("convae: block1.conv0 (Conv2D): height 2: kernel 5 is larger than the padded input 2" was all a user saw).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliAsync(120_000);

describe.runIf(BUILD === 'simd')('images too small for the stack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-small-'));
  const imgs = join(dir, 'imgs');
  beforeAll(() => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const oneLine = (r: { status: number | null; stderr: string }, re: RegExp) => {
    expect(r.status, r.stderr).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(re);
    expect(r.stderr).not.toMatch(/\n\s+at |pretrain CAE|epoch/);
  };

  it('train, pretrain, anomaly, detect and paper name --size and the side that fits; pretrain then runs at that side', async () => {
    const out = join(dir, 'out');
    const [train, pre15, anomaly, pre3, detect, paper] = await Promise.all([
      cli(['train', '--data', imgs, '--size', '8x8', '--out', out, '-q']),
      cli(['pretrain', '--data', imgs, '--size', '15x15', '--epochs', '1', '--out', out, '-q']),
      cli(['anomaly', '--data', imgs, '--normal', 'reds', '--size', '12x12', '--out', out, '-q']),
      cli(['pretrain', '--data', imgs, '--size', '8x8', '--kernel', '3', '--epochs', '1', '--out', out, '-q']),
      cli(['detect', '--normal-data', imgs, '--data', imgs, '--size', '8x8']),
      cli(['paper', '--data', imgs, '--size', '8x8', '--sizes', '50', '--seeds', '1', '--out', out, '-q']),
    ]);
    const fit = (side: number) => `the stack takes ${side}x${side} or larger: give --size ${side}x${side}`;
    oneLine(
      train,
      new RegExp(
        `^convae train: --size 8x8: the images are too small for the stack \\(block1.*\\); ${fit(16)}, or a smaller --kernel$`,
      ),
    );
    oneLine(
      pre15,
      new RegExp(`^convae pretrain: --size 15x15: .*; ${fit(16)}, or a smaller --kernel or --pool, or --padding same$`),
    );
    oneLine(detect, new RegExp(`^convae detect: --size 8x8: .*; ${fit(16)}$`));
    oneLine(paper, new RegExp(`^convae paper: --size 8x8: .*; ${fit(16)}, or another --arch$`));
    oneLine(anomaly, new RegExp(`^convae anomaly: --size 12x12: .*; ${fit(16)}$`));
    // Two 3×3 convolutions, each followed by a 2×2 pool: 3 → 1 → (pool) 1 needs 10 pixels a side.
    oneLine(pre3, new RegExp(`^convae pretrain: --size 8x8: .*; ${fit(10)}, `));
    const ok = await cli([
      'pretrain',
      '--data',
      imgs,
      '--size',
      '10x10',
      '--kernel',
      '3',
      '--epochs',
      '1',
      '--out',
      out,
      '-q',
    ]);
    expect(ok.status, ok.stderr).toBe(0);
  }, 180_000);

  // MNIST's images have their own size (--size resizes folders only); filters-figure planned its pooled CAEs only
  // after the plain ones had trained, and then failed naming a layer.
  it('MNIST: train and filters-figure name --data mnist and a smaller --kernel, before anything trains', async () => {
    const out = join(dir, 'out-mnist');
    const [train, figure] = await Promise.all([
      cli(['train', '--kernel', '27', '--limit', '100', '--epochs', '1', '--out', out, '-q']),
      cli(['filters-figure', '--kernel', '28', '--limit', '100', '--epochs', '1', '--out', out, '-q']),
    ]);
    oneLine(
      train,
      /^convae train: --data mnist: its 28x28 images are too small for the stack \(block1.*\); the stack takes 82x82 or larger: give a smaller --kernel$/,
    );
    oneLine(
      figure,
      /^convae filters-figure: --data mnist: its 28x28 images are too small .*: give a smaller --kernel$/,
    );
  }, 120_000);
});
