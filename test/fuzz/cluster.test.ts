/**
 * Hostile `convae cluster` command lines: one flag at a time given a value it must refuse, the others valid. The
 * base line alone must succeed (else every case would be refused for the base's fault, and the referee would
 * check nothing). Each hostile line must exit non-zero with one `convae:` / `convae cluster:` (or commander's
 * `error:`) line first, no stack trace, bounded output, nothing on stdout, and no file written.
 * `CONVAE_FUZZ_SEED=n` draws other cases.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefused, fuzzCli as cli, makeFuzzFolders, hostileLines } from './cli-lines.js';
import { Gen } from './harness.js';

describe.runIf(process.env.CONVAE_BUILD === 'simd' || !process.env.CONVAE_BUILD)('fuzz: cluster command lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-fuzz-cluster-'));
  const p = (name: string) => join(dir, name);
  // imgs: 80 RGB images; stack: a small stack pretrained on them; broken: a stack folder of damaged files.
  beforeAll(() => makeFuzzFolders(dir, { stack: true }), 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the base line succeeds; 24 hostile lines are refused, one line first, no stack trace, nothing written', async () => {
    const base = ['cluster', '--model', p('stack'), '--data', p('imgs'), '--k', '3', '--workers', '0'];
    const ok = await cli([...base, '--out', p('ok')]);
    expect(ok.status, ok.stderr).toBe(0);
    for (const f of ['clusters.csv', 'clusters.png', 'clusters.json']) expect(existsSync(join(p('ok'), f))).toBe(true);

    const g = new Gen(79);
    const blank = ['', ' ', '\t', '0x10', '0b11', ' 5', '1e1', '2.0'];
    const numeric = (values: string[]) => () => (g.bool(0.3) ? g.pick(blank) : g.pick(values));
    const unreadable = () => g.pick([p('empty'), p('file.txt'), p('nothing'), '__proto__', '', p('bad')]);
    const flags: [string, () => string][] = [
      ['--k', numeric(['0', '1', '-1', '81', '201', '1.5', 'NaN', '2-80', '3-2', '2-52', 'AUTO', 'auto ', '2-'])], // 80 images: at most 80; a range ends below 80
      ['--restarts', numeric(['0', '-1', '101', '1e9'])],
      ['--per-cluster', numeric(['0', '-1', '51', 'x'])],
      ['--depth', numeric(['-1', '3', '99'])], // the stack has 2 blocks; 0 is the pixels
      ['--seed', numeric(['-1', '4294967296', '0.5'])],
      ['--limit', numeric(['0', '-1', '1e12'])],
      ['--workers', numeric(['-1', '100000', 'all'])],
      ['--out', () => g.pick([p('file.txt'), '/proc/x', join(p('file.txt'), 'x'), '/sys', '', join(p('imgs'), 'o')])],
      ['--model', () => g.pick([p('broken'), p('empty'), p('nothing'), p('file.txt'), '__proto__', ''])],
      ['--data', unreadable],
    ];
    const { cases, label } = hostileLines(g, base, (i) => p(`case${i}`), flags);
    await expectRefused(cases, label, (i, _, name) => {
      expect(existsSync(join(p(`case${i}`), 'clusters.csv')), `${name}: wrote its --out`).toBe(false);
      expect(existsSync(join(p('imgs'), 'o')), `${name}: wrote inside --data`).toBe(false);
    });
  }, 180_000);
});
