/**
 * One name, one rule, one flag across the commands that apply a saved model (`predict`, `evaluate`, `encode`,
 * `reconstruct`, `features`): the picture `reconstruct` writes is named as `train`'s, `--limit` takes the same
 * images everywhere, and `-q` silences each of them.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

  it('-q: predict, encode, reconstruct and evaluate print nothing (their files are the same as without it)', () => {
    // A third class folder the model does not know: predict's note about it is what -q silences on stderr.
    const three = join(dir, 'three');
    cpSync(imgs, three, { recursive: true });
    cpSync(join(imgs, 'reds'), join(three, 'greens'), { recursive: true });
    const o = join(dir, 'quiet');
    const runs: [string, string[], string][] = [
      ['predict', ['--out', join(o, 'p.csv')], 'p.csv'],
      ['encode', ['--out', join(o, 'codes')], join('codes', 'codes.csv')],
      ['reconstruct', ['--out', join(o, 'r.png'), '--count', '4'], 'r.png'],
      ['evaluate', ['--out', join(o, 'e.json')], 'e.json'],
    ];
    for (const [cmd, args, file] of runs) {
      const data = cmd === 'predict' ? three : imgs;
      const loud = cli(cmd, '--model', run, '--data', data, ...args);
      expect(loud.status, loud.stderr).toBe(0);
      // Without -q each says something, on stdout (and predict on stderr about the unknown class folder).
      expect(loud.stdout, cmd).not.toBe('');
      if (cmd === 'predict') expect(loud.stderr).toMatch(/class folder\(s\) .*greens.* not among the model's classes/);
      const before = readFileSync(join(o, file));
      rmSync(join(o, file));
      const quiet = cli(cmd, '--model', run, '--data', data, ...args, '-q');
      expect([quiet.status, quiet.stdout, quiet.stderr], cmd).toEqual([0, '', '']);
      expect(readFileSync(join(o, file)).equals(before), cmd).toBe(true);
    }
    // -q silences messages, not the output: predict without --out still prints its CSV.
    const csv = cli('predict', '--model', run, '--data', imgs, '-q');
    expect(csv.stderr).toBe('');
    expect(csv.stdout.trim().split('\n')).toHaveLength(81);
  });
});
