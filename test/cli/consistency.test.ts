/**
 * One name, one rule, one flag across the commands that apply a saved model (`predict`, `evaluate`, `encode`,
 * `reconstruct`, `features`): the picture `reconstruct` writes is named as `train`'s, `--limit` takes the same
 * images everywhere, and `-q` silences each of them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD } from '../util/backend.js';
import { cliRunner } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliRunner(120_000);

describe.runIf(BUILD === 'simd')('the commands that apply a saved model, alike', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-cli-consistency-'));
  const imgs = join(dir, 'imgs'),
    run = join(dir, 'run');
  beforeAll(() => {
    // 40 reds and 40 blues (scripts/make-test-folder.mjs); the smallest run that saves a classifier and its stack.
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    const r = cli(
      ...['train', '--data', imgs, '--size', '12x12', '--maps', '2,4', '--kernel', '3', '--hidden', '8'],
      ...['--epochs', '1', '--pretrain-epochs', '1', '--shift', '0', '--workers', '0', '--out', run, '-q'],
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reconstruct names its picture reconstructions.png, as train does, in a folder of its own by default', () => {
    expect(readdirSync(run)).toContain('reconstructions.png');
    const here = join(dir, 'cwd');
    mkdirSync(here);
    const r = cliRunner(120_000, here)('reconstruct', '--model', run, '--data', imgs, '--count', '4');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const file = join('convae-out', 'reconstruct', 'reconstructions.png');
    expect(r.stdout).toContain(`wrote ${file}: 4 images`);
    expect(existsSync(join(here, file))).toBe(true);
    expect(readdirSync(join(here, 'convae-out', 'reconstruct'))).toEqual(['reconstructions.png']);
  });
});
