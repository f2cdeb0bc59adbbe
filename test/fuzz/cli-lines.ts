/**
 * What the fuzz groups of hostile command lines share (similar, map, cluster, denoise, detect): the folders they are
 * drawn from, the lines (`hostileLines`) and the referee of a refused line. A line is refused well when it exits
 * non-zero, its first line is one `convae:` / `convae <command>:` (or commander's `error:`) line of bounded length,
 * there is no stack trace, the output is bounded and nothing went to stdout. Each group adds what its command must
 * not have done.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { cliAsync } from '../util/cli.js';
import type { Gen } from './harness.js';

const root = new URL('../..', import.meta.url).pathname;

/** A spawned CLI line, killed at 30 s (a hang is a finding, not a slow case). */
export const fuzzCli = cliAsync(30_000);

/**
 * Folders under `dir`: imgs (80 RGB images in reds/ and blues/), one and two (that many images), empty, bad (an
 * image and a file that is not one), file.txt; with `stack`, a small stack pretrained on imgs (16×16, maps 4,8) and
 * broken (a stack folder of damaged files).
 */
export function makeFuzzFolders(dir: string, opts: { stack?: boolean } = {}): void {
  const p = (name: string) => join(dir, name);
  expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', p('imgs')], { cwd: root }).status).toBe(0);
  for (const d of ['one', 'two', 'empty', 'bad']) mkdirSync(p(d));
  cpSync(join(p('imgs'), 'reds', '0.png'), join(p('one'), '0.png'));
  for (const i of [0, 1]) cpSync(join(p('imgs'), 'reds', `${i}.png`), join(p('two'), `${i}.png`));
  cpSync(join(p('imgs'), 'blues', '0.png'), join(p('bad'), '0.png'));
  writeFileSync(join(p('bad'), 'x.png'), 'not a png');
  writeFileSync(p('file.txt'), 'x');
  if (!opts.stack) return;
  const args = ['--import', 'tsx', 'ts/cli/main.ts', 'pretrain', '--data', p('imgs'), '--size', '16x16'];
  const r = spawnSync(process.execPath, [...args, '--maps', '4,8', '--epochs', '1', '--out', p('stack'), '-q'], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  mkdirSync(p('broken'));
  writeFileSync(join(p('broken'), 'stack.json'), '{"kind":"stack","blocks":[{"convs":[]}]}');
  writeFileSync(join(p('broken'), 'stack.safetensors'), 'x');
}

/**
 * Runs `cases` four at a time and checks each was refused well; `label(i)` names case i in a failure, and
 * `also(i, result, label)` checks what that command must not have done (trained, written its output).
 */
export async function expectRefused(
  cases: readonly string[][],
  label: (i: number) => string,
  also: (i: number, r: { status: number | null; stdout: string; stderr: string }, label: string) => void = () => {},
): Promise<void> {
  for (let i = 0; i < cases.length; i += 4) {
    const batch = cases.slice(i, i + 4);
    const results = await Promise.all(batch.map((a) => fuzzCli(a)));
    results.forEach((r, k) => {
      const name = label(i + k);
      expect(r.status, `${name}: timed out`).not.toBeNull();
      expect(r.status, `${name}\n${r.stderr}`).not.toBe(0);
      expect(r.stderr, name).not.toMatch(/\n\s+at /);
      expect(r.stderr.length, name).toBeLessThan(4000);
      const first = r.stderr.split('\n')[0]!;
      expect(first, name).toMatch(/^(convae(?: [a-z-]+)?: |error: )/);
      expect(first.length, name).toBeLessThanOrEqual(1000);
      expect(r.stdout, name).toBe('');
      also(i + k, r, name);
    });
  }
}

/**
 * `count` hostile lines: `base`, a fresh `--out` (`out(i)`), then one flag drawn from `flags` with a drawn value,
 * which wins over the valid ones before it; and each line's label, the part after `base` and its `--out`.
 */
export function hostileLines(
  g: Gen,
  base: readonly string[],
  out: (i: number) => string,
  flags: readonly [string, () => string][],
  count = 24,
): { cases: string[][]; label: (i: number) => string } {
  const cases: string[][] = [];
  for (let i = 0; i < count; i++) {
    const [flag, value] = g.pick(flags);
    cases.push([...base, '--out', out(i), flag, value()]);
  }
  return { cases, label: (i) => cases[i]!.slice(base.length + 2).join(' ') };
}
