/**
 * One name, one rule, one flag across the commands that apply a saved model (`predict`, `evaluate`, `encode`,
 * `reconstruct`, `features`, `denoise`): the picture `reconstruct` writes is named as `train`'s, `--limit` takes the same
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

/** Each option of `convae <command> --help` and its description, white space collapsed (commander wraps lines). */
function optionsOf(command: string): Map<string, string> {
  const r = cli(command, '--help');
  expect(r.status, r.stderr).toBe(0);
  const out = new Map<string, string>();
  let flag: string | null = null;
  for (const line of r.stdout.split('\n').slice(r.stdout.split('\n').indexOf('Options:') + 1)) {
    const m = /^ {2}(?:-\w, )?(--[\w-]+)(?: <[\w,]+>)? {2,}(.*)$/.exec(line);
    if (m) {
      flag = m[1]!;
      out.set(flag, m[2]!);
    } else if (flag && /^ {4,}\S/.test(line)) out.set(flag, `${out.get(flag)} ${line.trim()}`);
  }
  return out;
}
const COMMANDS = ['train', 'search', 'paper', 'filters-figure', 'pretrain', 'reconstruct', 'encode', 'predict'];
COMMANDS.push('similar', 'evaluate', 'anomaly', 'detect', 'features', 'embeddings', 'export', 'import', 'denoise');

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

  it('-q: predict, encode, reconstruct, evaluate and denoise print nothing (their files are the same as without it)', () => {
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
      ['denoise', ['--out', join(o, 'dn'), '--workers', '0'], join('dn', 'denoise.csv')],
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

  it('--limit 40 of 40 blues and 40 reds: every command takes the same 20 + 20 images', () => {
    const o = join(dir, 'limit');
    type Row = { file: string; class_index: number; class: string; probability: number; label: number };
    const predict = (...args: string[]) => {
      const r = cli('predict', '--model', run, '--data', imgs, '--format', 'json', ...args);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Row[];
    };
    const all = predict();
    const rows = predict('--limit', '40');
    expect(rows.filter((p) => p.file.startsWith('blues/'))).toHaveLength(20);
    expect(rows.filter((p) => p.file.startsWith('reds/'))).toHaveLength(20);
    // The same predictions as for the whole folder, in folder order.
    expect(rows).toEqual(all.filter((p) => rows.some((q) => q.file === p.file)));
    // evaluate: both classes scored, its accuracy that of predict's rows on the same images.
    const e = cli('evaluate', '--model', run, '--data', imgs, '--limit', '40', '--out', join(o, 'e.json'), '-q');
    expect(e.status, e.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(o, 'e.json'), 'utf8'));
    expect(report.confusion.map((row: number[]) => row[0]! + row[1]!)).toEqual([20, 20]);
    expect(report.accuracy).toBeCloseTo(rows.filter((p) => p.class_index === p.label).length / 40, 12);
    // encode: its CSV lists the same files.
    expect(cli('encode', '--model', run, '--data', imgs, '--limit', '40', '--out', join(o, 'codes'), '-q').status).toBe(
      0,
    );
    const csv = readFileSync(join(o, 'codes', 'codes.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    expect(csv.map((line) => line.split(',')[1])).toEqual(rows.map((p) => p.file));
    // denoise: its CSV lists the same files.
    expect(cli('denoise', '--model', run, '--data', imgs, '--limit', '40', '--out', join(o, 'dn'), '-q').status).toBe(
      0,
    );
    const dn = readFileSync(join(o, 'dn', 'denoise.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    expect(dn.map((line) => line.split(',')[0])).toEqual(rows.map((p) => p.file));
    // reconstruct --count 40: the first CAE's loss on those images, as evaluate measured it.
    const r = cli('reconstruct', '--model', run, '--data', imgs, '--count', '40', '--out', join(o, 'r.png'));
    expect(r.status, r.stderr).toBe(0);
    expect(Number(/reconstruction MSE (\S+)/.exec(r.stdout)?.[1])).toBeCloseTo(report.reconstructionMse[0], 5);
  });

  it('--help: one description per shared flag, one word per concept', () => {
    const help = new Map(COMMANDS.map((c) => [c, optionsOf(c)]));
    const alike = (flag: string, commands: string[]) => {
      const texts = commands.map((c) =>
        help
          .get(c)!
          .get(flag)
          ?.replace(/ \(default: .*\)$/, ''),
      );
      expect(
        texts.every((t) => t !== undefined && t === texts[0]),
        `${flag}: ${commands.join(', ')}`,
      ).toBe(true);
      return texts[0]!;
    };
    // Every command that reads image folders skips the undecodable ones alike, and says they are listed.
    const readers = COMMANDS.filter((c) => help.get(c)!.has('--skip-bad'));
    expect(readers).toEqual(expect.arrayContaining(['train', 'pretrain', 'reconstruct', 'encode', 'predict']));
    expect(readers).toEqual(expect.arrayContaining(['similar', 'evaluate', 'anomaly', 'detect', 'features']));
    expect(alike('--skip-bad', readers)).toMatch(/listed on stderr/);
    expect(
      alike(
        '--quiet',
        COMMANDS.filter((c) => c !== 'paper'),
      ),
    ).toBe('print nothing but errors');
    expect(alike('--model', ['reconstruct', 'encode', 'predict', 'similar', 'evaluate', 'denoise'])).toMatch(
      /or one model \.json/,
    );
    alike('--limit', ['train', 'pretrain', 'paper', 'filters-figure']);
    alike('--limit', ['encode', 'predict', 'evaluate', 'denoise']);
    for (const c of COMMANDS) {
      const limit = help.get(c)!.get('--limit');
      if (limit !== undefined && c !== 'embeddings')
        expect(limit, c).toContain('of an image folder, a seeded sample in proportion to its classes');
    }
    // A folder's formats, and what a CAE of the stack is called, the same in every help.
    for (const [c, options] of help)
      for (const [flag, text] of options) {
        if (/folder of PNG/.test(text)) expect(text, `${c} ${flag}`).toMatch(/PNG\/JPEG\/WebP/);
        expect(text, `${c} ${flag}`).not.toMatch(/CAE layer|epochs per (CAE )?block/);
      }
  });
});
