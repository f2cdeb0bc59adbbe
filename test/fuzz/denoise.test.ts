/**
 * Hostile `convae denoise` command lines: one flag at a time given a value it must refuse, the others valid. The
 * base line alone must succeed (else every case would be refused for the base's fault, and the referee would
 * check nothing). Each hostile line must exit non-zero with one `convae:` / `convae denoise:` (or commander's
 * `error:`) line first, no stack trace, bounded output, nothing on stdout, and no image or CSV written.
 * `CONVAE_FUZZ_SEED=n` draws other cases.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefused, fuzzCli as cli, makeFuzzFolders, hostileLines } from './cli-lines.js';
import { Gen } from './harness.js';

describe.runIf(process.env.CONVAE_BUILD === 'simd' || !process.env.CONVAE_BUILD)('fuzz: denoise command lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-fuzz-denoise-'));
  const p = (name: string) => join(dir, name);
  // imgs: 80 RGB images; stack: a small stack pretrained on them; broken: a stack folder of damaged files.
  beforeAll(() => makeFuzzFolders(dir, { stack: true }), 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the base line succeeds; 24 hostile lines are refused, one line first, no stack trace, nothing written', async () => {
    const base = [
      'denoise',
      '--model',
      p('stack'),
      '--data',
      p('imgs'),
      '--add-noise',
      'masking:0.5',
      '--workers',
      '0',
    ];
    const ok = await cli([...base, '--out', p('ok'), '-q']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(existsSync(join(p('ok'), 'denoise.csv')) && existsSync(join(p('ok'), 'comparison.png'))).toBe(true);

    const g = new Gen(81);
    const blank = ['', ' ', '\t', '0x10', '0b11', ' 5', '1e1', '2.0'];
    const numeric = (values: string[]) => () => (g.bool(0.3) ? g.pick(blank) : g.pick(values));
    const unreadable = () => g.pick([p('empty'), p('file.txt'), p('nothing'), '__proto__', '', p('bad')]);
    const noise = () =>
      g.pick([
        'masking',
        'masking:',
        'masking:1.5',
        'masking:-0.1',
        'masking:NaN',
        'masking:0x1',
        'gaussian:11',
        'gaussian:-1',
        'gaussian:Infinity',
        'salt-pepper:2',
        'salt:0.1',
        ':0.1',
        '__proto__:0.1',
        'constructor',
        'masking:0.5:1',
        '',
      ]);
    const flags: [string, () => string][] = [
      ['--depth', numeric(['0', '-1', '3', '99'])], // the stack has 2 blocks
      ['--add-noise', noise],
      ['--seed', numeric(['-1', '4294967296', '0.5'])],
      ['--limit', numeric(['0', '-1', '1e12'])],
      ['--workers', numeric(['-1', '100000', 'all'])],
      ['--out', () => g.pick([p('file.txt'), '/proc/x', join(p('file.txt'), 'x'), '/sys', '', p('imgs'), dir])],
      ['--model', () => g.pick([p('broken'), p('empty'), p('nothing'), p('file.txt'), '__proto__', ''])],
      ['--data', unreadable],
      ['--stride', numeric(['0', '-1', '17', '65537', 'half'])], // the tile is 16×16
      ['--window', () => g.pick(['box', 'Hann', '', 'hann,flat', '__proto__', 'constructor'])],
    ];
    const { cases, label } = hostileLines(g, base, (i) => p(`case${i}`), flags);
    await expectRefused(cases, label, (i, _, name) => {
      expect(existsSync(join(p(`case${i}`), 'denoise.csv')), `${name}: wrote its --out`).toBe(false);
      expect(existsSync(join(p(`case${i}`), 'images')), `${name}: wrote images`).toBe(false);
      expect(existsSync(join(dir, 'images')), `${name}: wrote images beside the data`).toBe(false);
      expect(existsSync(join(p('imgs'), 'images')), `${name}: wrote images inside the data`).toBe(false);
    });
  }, 180_000);
});
