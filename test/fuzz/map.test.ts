/**
 * Hostile `convae map` command lines: one flag at a time given a value it must refuse, the others valid. The
 * base line alone must succeed (else every case would be refused for the base's fault, and the referee would
 * check nothing). Each hostile line must exit non-zero with one `convae:` / `convae map:` (or commander's
 * `error:`) line first, no stack trace, bounded output, nothing on stdout, and no file written.
 * `CONVAE_FUZZ_SEED=n` draws other cases.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliAsync } from '../util/cli.js';
import { Gen } from './harness.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliAsync(30_000);

describe.runIf(process.env.CONVAE_BUILD === 'simd' || !process.env.CONVAE_BUILD)('fuzz: map command lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-fuzz-map-'));
  const p = (name: string) => join(dir, name);
  beforeAll(() => {
    // imgs: 80 RGB images; stack: a small stack pretrained on them; broken: a stack folder with damaged files.
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', p('imgs')], { cwd: root }).status).toBe(0);
    const args = ['--import', 'tsx', 'ts/cli/main.ts', 'pretrain', '--data', p('imgs'), '--size', '16x16'];
    const r = spawnSync(process.execPath, [...args, '--maps', '4,8', '--epochs', '1', '--out', p('stack'), '-q'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    for (const d of ['empty', 'bad', 'broken']) mkdirSync(p(d));
    cpSync(join(p('imgs'), 'blues', '0.png'), join(p('bad'), '0.png'));
    writeFileSync(join(p('bad'), 'x.png'), 'not a png');
    writeFileSync(join(p('broken'), 'stack.json'), '{"kind":"stack","blocks":[{"convs":[]}]}');
    writeFileSync(join(p('broken'), 'stack.safetensors'), 'x');
    writeFileSync(p('file.txt'), 'x');
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the base line succeeds; 24 hostile lines are refused, one line first, no stack trace, nothing written', async () => {
    const base = ['map', '--model', p('stack'), '--data', p('imgs'), '--neighbours', '5', '--workers', '0'];
    const ok = await cli([...base, '--out', p('ok')]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(existsSync(join(p('ok'), 'map.csv')) && existsSync(join(p('ok'), 'map.png'))).toBe(true);

    const g = new Gen(78);
    const blank = ['', ' ', '\t', '0x10', '0b11', ' 5', '1e1', '2.0'];
    const numeric = (values: string[]) => () => (g.bool(0.3) ? g.pick(blank) : g.pick(values));
    const unreadable = () => g.pick([p('empty'), p('file.txt'), p('nothing'), '__proto__', '', p('bad')]);
    const flags: [string, () => string][] = [
      ['--neighbours', numeric(['0', '1', '-1', '201', '80', '1.5', 'NaN'])], // 80 images: at most 79
      ['--min-dist', () => g.pick(['-0.1', '1.1', 'NaN', 'Infinity', 'x', ''])],
      ['--depth', numeric(['-1', '3', '99'])], // the stack has 2 blocks; 0 is the pixels
      ['--seed', numeric(['-1', '4294967296', '0.5'])],
      ['--thumbnails', numeric(['-1', '2001', '1e9', 'x'])],
      ['--limit', numeric(['0', '-1', '1e12'])],
      ['--workers', numeric(['-1', '100000', 'all'])],
      ['--out', () => g.pick([p('file.txt'), '/proc/x', join(p('file.txt'), 'x'), '/sys', ''])],
      ['--model', () => g.pick([p('broken'), p('empty'), p('nothing'), p('file.txt'), '__proto__', ''])],
      ['--data', unreadable],
    ];
    const cases: string[][] = [];
    for (let i = 0; i < 24; i++) {
      const [flag, value] = g.pick(flags);
      // The hostile flag after the valid ones wins.
      cases.push([...base, '--out', p(`case${i}`), flag, value()]);
    }
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4);
      const results = await Promise.all(batch.map((a) => cli(a)));
      results.forEach((r, k) => {
        const label = batch[k]!.slice(base.length + 2).join(' ');
        expect(r.status, `${label}: timed out`).not.toBeNull();
        expect(r.status, `${label}\n${r.stderr}`).not.toBe(0);
        expect(r.stderr, label).not.toMatch(/\n\s+at /);
        expect(r.stderr.length, label).toBeLessThan(4000);
        const first = r.stderr.split('\n')[0]!;
        expect(first, label).toMatch(/^(convae(?: [a-z-]+)?: |error: )/);
        expect(first.length, label).toBeLessThanOrEqual(1000);
        expect(r.stdout, label).toBe('');
        expect(existsSync(join(p(`case${i + k}`), 'map.csv')), `${label}: wrote its --out`).toBe(false);
      });
    }
  }, 180_000);
});
