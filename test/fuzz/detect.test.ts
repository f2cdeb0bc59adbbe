/**
 * Hostile `convae detect` command lines: one flag at a time given a value it must refuse, the others valid and
 * cheap. Each must exit non-zero with one `convae:` or `convae <command>:` (or commander's `error:`) line first, no stack trace, bounded
 * output, and before its stack starts training: everything detect refuses is knowable before then.
 * `CONVAE_FUZZ_SEED=n` draws other cases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefused, fuzzCli as cli, makeFuzzFolders } from './cli-lines.js';
import { Gen } from './harness.js';

describe.runIf(process.env.CONVAE_BUILD === 'simd' || !process.env.CONVAE_BUILD)('fuzz: detect command lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-fuzz-detect-'));
  const p = (name: string) => join(dir, name);
  // imgs: 80 RGB images; one, two: that many (too few to hold a fifth out); empty; bad: an image and a non-image.
  beforeAll(() => makeFuzzFolders(dir), 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the base line trains and scores; 24 hostile lines: refused before training, one line first, no stack trace', async () => {
    const ok = await cli([
      'detect',
      '--normal-data',
      p('imgs'),
      '--data',
      p('imgs'),
      '--size',
      '16x16',
      '--epochs',
      '1',
      '--workers',
      '0',
    ]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/normal images train the stack \(/);
    const g = new Gen(42);
    const blank = ['', ' ', '\t', '0x10', '0b11', ' 5'];
    const numeric = (values: string[]) => () => (g.bool(0.3) ? g.pick(blank) : g.pick(values));
    // Folders --data refuses; --normal-data also refuses 1 or 2 images (a fifth is held out).
    const unreadable = () => g.pick([p('empty'), p('file.txt'), p('nothing'), '__proto__', '', p('bad')]);
    const tooFew = () => (g.bool(0.3) ? g.pick([p('one'), p('two')]) : unreadable());
    const flags: [string, () => string][] = [
      ['--k', numeric(['0', '-1', '1001', '65', '1000', '1.5', 'NaN'])], // 64 normal images train
      ['--fpr', numeric(['0', '1', 'NaN', '-0.1', '1.5', 'Infinity'])],
      ['--epochs', numeric(['0', '-1', '1.5', '1e10'])],
      ['--batch', numeric(['0', '-5', '1e99', 'x'])],
      ['--seed', numeric(['-1', '4294967296', '0.5'])],
      ['--workers', numeric(['-1', '100000', 'all'])],
      ['--size', () => g.pick(['0', '0x0', '99999', 'x', '-4', ''])],
      ['--channels', () => g.pick(['2', '0', '4', 'x'])],
      ['--format', () => g.pick(['xml', '__proto__', ''])],
      ['--normalize', () => g.pick(['zca', '__proto__', '', 'Contrast'])],
      ['--out', () => g.pick([dir, '/proc/self/status', '/proc/x.csv', join(p('file.txt'), 'x.csv'), '/sys'])],
      ['--save', () => g.pick(['/proc/convae-det', '/sys', p('file.txt'), join(p('file.txt'), 'det'), ''])],
      ['--detector', () => g.pick([p('imgs'), p('nothing'), p('file.txt'), '__proto__'])], // with --normal-data: refused
      ['--normal-data', tooFew],
      ['--data', unreadable],
    ];
    const cases: string[][] = [];
    for (let i = 0; i < 24; i++) {
      const [flag, value] = g.pick(flags);
      // Valid and cheap values first; the hostile flag after them wins.
      // 16×16: the smallest images the detector's stack takes (8×8, until December 7, made every line fail for the base's fault).
      const base = ['detect', '--normal-data', p('imgs'), '--data', p('imgs'), '--size', '16x16', '--epochs', '1'];
      cases.push([...base, '--workers', '0', flag, value()]);
    }
    const label = (i: number) => cases[i]!.slice(11).join(' ');
    await expectRefused(cases, label, (_, r, name) =>
      expect(r.stderr, name).not.toMatch(/normal images train the stack \(/),
    );
  }, 180_000);
});
