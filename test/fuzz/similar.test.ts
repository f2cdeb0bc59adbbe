/**
 * Hostile `convae similar` command lines: one flag at a time given a value it must refuse, the others valid. The
 * base line alone must succeed (else every case would be refused for the base's fault, and the referee would
 * check nothing). Each hostile line must exit non-zero with one `convae:` / `convae similar:` (or commander's
 * `error:`) line first, no stack trace, bounded output, nothing on stdout, and no file written.
 * `CONVAE_FUZZ_SEED=n` draws other cases.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefused, fuzzCli as cli, makeFuzzFolders, hostileLines } from './cli-lines.js';
import { Gen } from './harness.js';

describe.runIf(process.env.CONVAE_BUILD === 'simd' || !process.env.CONVAE_BUILD)('fuzz: similar command lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-fuzz-similar-'));
  const p = (name: string) => join(dir, name);
  // imgs: 80 RGB images; stack: a small stack pretrained on them; broken: a stack folder of damaged files.
  beforeAll(() => makeFuzzFolders(dir, { stack: true }), 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the base line succeeds; 24 hostile lines are refused, one line first, no stack trace, nothing written', async () => {
    const base = ['similar', '--model', p('stack'), '--data', p('imgs'), '--k', '3', '--workers', '0'];
    const ok = await cli([...base, '--out', p('ok.csv'), '--picture', p('ok.png')]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(existsSync(p('ok.csv')) && existsSync(p('ok.png'))).toBe(true);

    const g = new Gen(77);
    const blank = ['', ' ', '\t', '0x10', '0b11', ' 5', '1e1', '2.0'];
    const numeric = (values: string[]) => () => (g.bool(0.3) ? g.pick(blank) : g.pick(values));
    const unreadable = () => g.pick([p('empty'), p('file.txt'), p('nothing'), '__proto__', '', p('bad')]);
    const flags: [string, () => string][] = [
      ['--k', numeric(['0', '-1', '1001', '80', '1000', '1.5', 'NaN'])], // 80 images: 79 others each
      ['--depth', numeric(['-1', '3', '99'])], // the stack has 2 blocks; 0 is the pixels
      ['--rows', numeric(['0', '-1', 'x'])],
      ['--scale', numeric(['0', '-2', 'x'])],
      ['--limit', numeric(['0', '-1', '1e12'])],
      ['--workers', numeric(['-1', '100000', 'all'])],
      ['--format', () => g.pick(['xml', '__proto__', ''])],
      ['--out', () => g.pick([dir, '/proc/self/status', '/proc/x.csv', join(p('file.txt'), 'x.csv'), '/sys'])],
      ['--picture', () => g.pick([dir, '/proc/x.png', join(p('file.txt'), 'x.png'), '/sys'])],
      ['--model', () => g.pick([p('broken'), p('empty'), p('nothing'), p('file.txt'), '__proto__', ''])],
      ['--query', unreadable],
      ['--data', unreadable],
    ];
    // A picture only where it is the flag under test.
    const { cases, label } = hostileLines(g, base, (i) => p(`case${i}.csv`), flags);
    await expectRefused(cases, label, (i, _, name) =>
      expect(existsSync(p(`case${i}.csv`)), `${name}: wrote its --out`).toBe(false),
    );
  }, 180_000);
});
