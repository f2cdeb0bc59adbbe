/**
 * Commands that read an image folder whose file names are not UTF-8 (Latin-1 `caf\xe9.png`): `encode` (through the
 * folder loader every `--data DIR` command shares) and `denoise` (at each image's own size, and `--resize`). Each
 * such file is read and named escaped (`caf%E9.png`), two names that differ in the bad byte alone stay two files,
 * and what a command writes for one is what it writes for the same bytes under a plain name: the reference is the
 * same run on a twin folder of UTF-8 names.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../ts/io/safetensors.js';
import { BUILD } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';
import { at, bytes, whyNoOddNames } from '../util/oddnames.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliAsync(120_000);
const noOddNames = whyNoOddNames();
if (noOddNames) console.warn(`test/cli/utf8-names.test.ts: skipped: ${noOddNames}`);

/** The files of the odd folder, as bytes, with their shown names and their twins' (plain) names. */
const FILES = [
  { name: bytes('caf\xe9.png'), shown: 'caf%E9.png', twin: 'cafe9.png', from: 'reds/3.png' },
  { name: bytes('caf\xe8.png'), shown: 'caf%E8.png', twin: 'cafe8.png', from: 'blues/5.png' },
  { name: bytes('plain.png'), shown: 'plain.png', twin: 'plain.png', from: 'reds/7.png' },
];

describe.runIf(BUILD === 'simd' && noOddNames === null)('commands on file names that are not UTF-8', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-utf8-'));
  const imgs = join(dir, 'imgs');
  const odd = join(dir, 'odd');
  const twin = join(dir, 'twin');
  const stack = join(dir, 'stack');
  beforeAll(async () => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    mkdirSync(odd);
    mkdirSync(twin);
    for (const f of FILES) {
      copyFileSync(join(imgs, f.from), at(odd, f.name));
      copyFileSync(join(imgs, f.from), join(twin, f.twin));
    }
    writeFileSync(at(odd, bytes('bad\xff.png')), 'not a png');
    const r = await cli(['pretrain', '--data', imgs, '--size', '16x16', '--epochs', '1', '--out', stack, '-q']);
    expect(r.status, r.stderr).toBe(0);
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('encode: each file its own CSV row under its escaped name, its code that of the same bytes named plainly; --skip-bad lists the bad one by name', async () => {
    const run = (data: string, out: string, ...more: string[]) =>
      cli(['encode', '--model', stack, '--data', data, '--out', out, '--workers', '0', ...more]);
    const stopped = await run(odd, join(dir, 'codes-stopped'));
    expect(stopped.status).not.toBe(0);
    expect(stopped.stderr).toContain(`${join(odd, 'bad%FF.png')}: cannot decode the image`);
    expect(stopped.stderr).not.toMatch(/missing/);
    const [a, b] = await Promise.all([
      run(odd, join(dir, 'codes-odd'), '--skip-bad'),
      run(twin, join(dir, 'codes-twin')),
    ]);
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    expect(a.stderr).toMatch(/skipped 1 file.*\n {2}bad%FF\.png: (?!.*missing)/);
    const rows = (out: string) =>
      readFileSync(join(dir, out, 'codes.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',')[1]!);
    const codes = (out: string) => {
      const t = decodeSafetensors(readFileSync(join(dir, out, 'codes.safetensors')), out).tensors.codes!;
      const size = (t.data as Float32Array).length / t.shape[0]!;
      return (i: number) => Array.from((t.data as Float32Array).subarray(i * size, (i + 1) * size));
    };
    const oddRows = rows('codes-odd'),
      twinRows = rows('codes-twin');
    expect([...oddRows].sort()).toEqual(FILES.map((f) => f.shown).sort());
    const oddCode = codes('codes-odd'),
      twinCode = codes('codes-twin');
    for (const f of FILES)
      expect(oddCode(oddRows.indexOf(f.shown)), f.shown).toEqual(twinCode(twinRows.indexOf(f.twin)));
    expect(oddCode(oddRows.indexOf('caf%E9.png'))).not.toEqual(oddCode(oddRows.indexOf('caf%E8.png')));
  }, 120_000);

  for (const resize of [false, true])
    it(`denoise${resize ? ' --resize' : ''}: one output per file, named by its escaped name, as the same bytes named plainly give`, async () => {
      const run = (data: string, out: string) =>
        cli([
          'denoise',
          '--model',
          stack,
          '--data',
          data,
          '--out',
          out,
          '--workers',
          '0',
          '--skip-bad',
          '-q',
          ...(resize ? ['--resize'] : []),
        ]);
      const outOdd = join(dir, `den-odd-${resize}`),
        outTwin = join(dir, `den-twin-${resize}`);
      const [a, b] = await Promise.all([run(odd, outOdd), run(twin, outTwin)]);
      expect(a.status, a.stderr).toBe(0);
      expect(b.status, b.stderr).toBe(0);
      const csv = readFileSync(join(outOdd, 'denoise.csv'), 'utf8').trim().split('\n').slice(1);
      expect(csv.map((line) => line.split(',').slice(0, 2)).sort()).toEqual(
        FILES.map((f) => [f.shown, `images/${f.shown}`]).sort(),
      );
      for (const f of FILES) {
        const mine = join(outOdd, 'images', f.shown);
        expect(existsSync(mine), mine).toBe(true);
        expect(readFileSync(mine).equals(readFileSync(join(outTwin, 'images', f.twin))), f.shown).toBe(true);
      }
      expect(
        readFileSync(join(outOdd, 'images/caf%E9.png')).equals(readFileSync(join(outOdd, 'images/caf%E8.png'))),
      ).toBe(false);
    }, 120_000);
});
