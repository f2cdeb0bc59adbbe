/**
 * Ctrl-C or SIGTERM while `convae similar --out F` or `convae detect --out F` runs: the CLI's one handler ends it
 * with 130 or 143 and one line, no `.tmp` in F's folder, the F already there whole. Without it the signal killed
 * either at once (no exit status, no word), and during the write an `F.tmp` stayed behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD } from '../util/backend.js';

const root = new URL('../..', import.meta.url).pathname;
const OLD = 'query,rank,file,distance\nan earlier run,1,whole,0\n';

/** Runs the CLI from the sources and sends `signal` once its stderr shows `cue`: the exit, and stderr's lines. */
async function interrupted(args: string[], cue: RegExp, signal: NodeJS.Signals) {
  const p = spawn(process.execPath, ['--import', 'tsx', 'ts/cli/main.ts', ...args], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let sent = false;
  p.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // Once: a second signal is a second Ctrl-C, which ends the process where it stands.
    if (!sent && cue.test(stderr)) sent = p.kill(signal);
  });
  const [code, sig] = await new Promise<[number | null, string | null]>((ok) => p.on('close', (c, s) => ok([c, s])));
  return { code, sig, stderr, interrupts: stderr.split('\n').filter((l) => l.startsWith('convae: interrupted')) };
}

describe.runIf(BUILD === 'simd')('an interrupted convae similar or detect --out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-interrupt-out-'));
  const imgs = join(dir, 'imgs'); // 40 reds/, 40 blues/, 20×20 RGB
  const stack = join(dir, 'stack');
  beforeAll(() => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    // 16 maps: block 1's codes are 16×12×12 floats, so that the search among MNIST's 10 000 test images on one
    // worker takes seconds after the line that prompts the signal.
    const r = spawnSync(
      process.execPath,
      [
        ...['--import', 'tsx', 'ts/cli/main.ts', 'pretrain', '--limit', '600', '--epochs', '1', '--maps', '16,4'],
        ...['--build', 'simd', '--out', stack, '-q'],
      ],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases = [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const;

  it.each(cases)(
    'similar --out F: %s exits %i, one line, F as it was, no .tmp',
    async (signal, exit) => {
      const out = join(dir, `similar-${signal}`);
      mkdirSync(out);
      const f = join(out, 'neighbours.csv');
      writeFileSync(f, OLD);
      const r = await interrupted(
        [
          ...['similar', '--model', stack, '--data', 'mnist', '--depth', '1', '--k', '5', '--workers', '1'],
          ...['--build', 'simd', '--out', f],
        ],
        /convae similar: 10000 images of mnist/,
        signal,
      );
      expect([r.code, r.sig], r.stderr).toEqual([exit, null]);
      expect(r.interrupts).toEqual([
        `convae: interrupted (${signal}). The files already written are whole; half-written ones were removed.`,
      ]);
      expect(readdirSync(out)).toEqual(['neighbours.csv']);
      expect(readFileSync(f, 'utf8')).toBe(OLD);
    },
    120_000,
  );

  it.each(cases)(
    'detect --out F: %s exits %i, one line, F as it was, no .tmp',
    async (signal, exit) => {
      const out = join(dir, `detect-${signal}`);
      mkdirSync(out);
      const f = join(out, 'scores.csv');
      writeFileSync(f, OLD);
      const r = await interrupted(
        [
          ...['detect', '--normal-data', join(imgs, 'reds'), '--data', imgs, '--size', '32x32', '--epochs', '100'],
          ...['--workers', '0', '--build', 'simd', '--out', f],
        ],
        /normal images train the stack \(/,
        signal,
      );
      expect([r.code, r.sig], r.stderr).toEqual([exit, null]);
      expect(r.interrupts).toEqual([
        `convae: interrupted (${signal}). The files already written are whole; half-written ones were removed.`,
      ]);
      expect(readdirSync(out)).toEqual(['scores.csv']);
      expect(readFileSync(f, 'utf8')).toBe(OLD);
    },
    120_000,
  );
});
