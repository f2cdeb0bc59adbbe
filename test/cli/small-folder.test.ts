/**
 * `convae train` on a folder of a few images: its epochs stay those of 100 images (150 000 / n asked for 50 000
 * fine-tuning epochs on 3 images, about 16 minutes), the run ends with its pictures and report (a test set under
 * 16 images ended it with a shape error), it checkpoints every few thousand images rather than every epoch, and
 * 1 or 2 images are refused naming the folder.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointEvery } from '../../ts/cli/train.js';
import { decodeCheckpoint } from '../../ts/train/checkpoint.js';
import { BUILD } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
// About 20 s on a shared 2-core machine; the uncapped epochs took minutes.
const cli = cliAsync(180_000);

describe.runIf(BUILD === 'simd')('convae train on a folder of a few images', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-small-'));
  const imgs = join(dir, 'imgs');
  /** A class folder holding the first `perClass` images of reds/ and blues/. */
  const folder = (name: string, perClass: number) => {
    for (const c of ['reds', 'blues']) {
      mkdirSync(join(dir, name, c), { recursive: true });
      for (const f of readdirSync(join(imgs, c)).slice(0, perClass)) cpSync(join(imgs, c, f), join(dir, name, c, f));
    }
    return join(dir, name);
  };
  beforeAll(() => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('4 images: 1 500 fine-tuning epochs and 600 per CAE (those of 100 images), then the pictures and report', async () => {
    const out = join(dir, 'run4');
    const r = await cli(['train', '--data', folder('four', 2), '--size', '16x16', '--out', out, '-q']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ epochs: 1500, pretrainEpochs: 600, labels: 3 });
    for (const f of ['classifier.json', 'reconstructions.png', 'loss.png'])
      expect(existsSync(join(out, f)), f).toBe(true);
  }, 200_000);

  it('checkpoints about every 5 000 images, not every epoch: 100 epochs of 64 images keep the one after 79 epochs', async () => {
    const out = join(dir, 'ckpt');
    const r = await cli([
      ...['train', '--data', imgs, '--size', '16x16', '--maps', '4,8', '--hidden', '8', '--workers', '0'],
      ...['--epochs', '100', '--pretrain-epochs', '1', '--out', out, '-q'],
    ]);
    expect(r.status, r.stderr).toBe(0);
    const file = join(out, 'finetune-checkpoint.safetensors');
    // ⌈5 000 / 64⌉ = 79 epochs between checkpoints: the last one was taken after 79 epochs, not after the 100th.
    expect(decodeCheckpoint(readFileSync(file), file).epoch).toBe(79);
    expect(checkpointEvery(64, 100)).toBe(79);
    expect(checkpointEvery(48_000, 8)).toBe(1);
    expect(checkpointEvery(600, 1)).toBe(1);
  }, 200_000);

  it('a test set of fewer than 16 images still draws its reconstructions', async () => {
    const out = join(dir, 'run20');
    const s = await cli([
      ...['train', '--data', folder('twenty', 10), '--size', '16x16', '--maps', '4,8', '--hidden', '8'],
      ...['--epochs', '1', '--pretrain-epochs', '1', '--out', out, '-q'],
    ]);
    expect(s.status, s.stderr).toBe(0);
    expect(existsSync(join(out, 'reconstructions.png'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).testError).toBeGreaterThanOrEqual(0);
  }, 200_000);

  it('1 or 2 images: a DataError naming the folder and the 3 it needs', async () => {
    mkdirSync(join(dir, 'one'));
    cpSync(join(imgs, 'reds', '0.png'), join(dir, 'one', '0.png'));
    const r = await cli(['train', '--data', join(dir, 'one'), '--out', join(dir, 'run1')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^convae: --data .*one holds 1 image\(s\): a fifth of them is held out, so at least 3/);
  });
});
