/**
 * `convae train --resume`: from the saved stack when fine-tuning had no
 * checkpoint yet, refused with changed flags (naming them), and Ctrl-C says
 * how to continue — for `train`, `paper` and `pretrain` alike; an interrupted `search` still writes what it
 * finished.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD } from './util/backend.js';
import { cliRunner } from './util/cli.js';

const root = new URL('..', import.meta.url).pathname;
const cli = cliRunner(180_000);
const tiny = [
  '--limit',
  '600',
  '--epochs',
  '1',
  '--pretrain-epochs',
  '1',
  '--maps',
  '4,6',
  '--hidden',
  '16',
  '--workers',
  '0',
  '--build',
  'simd',
];

describe.runIf(BUILD === 'simd')('convae train --resume', () => {
  const out = mkdtempSync(join(tmpdir(), 'convae-resume-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('records its flags; --resume with other flags is refused naming them, before data loads', () => {
    const r = cli('train', ...tiny, '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).flags.limit).toBe(600);
    const bad = cli('train', ...tiny, '--limit', '700', '--maps', '5,6', '--out', out, '--resume');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--resume with flags that differ .*--maps \[4,6\] → \[5,6\].*--limit 600 → 700/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    expect(bad.stdout).toBe('');
  }, 240_000);

  it('interrupted in the first fine-tuning epoch (stack saved, no checkpoint): resumes from the stack', () => {
    rmSync(join(out, 'finetune-checkpoint.safetensors'));
    const r = cli('train', ...tiny, '--out', out, '--resume');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/resuming: pretrained stack from .*fine-tuning from the start \(no checkpoint yet\)/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.flags.maps).toEqual([4, 6]);
    expect(report.resumedFromEpoch).toBe(0);
    expect(report.histories.classifier.epochs.length).toBe(1);
  }, 240_000);

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s (Ctrl-C, or timeout and job schedulers) says how to resume, exits %i and leaves no .tmp',
    async (signal, exit) => {
      const dir = mkdtempSync(join(tmpdir(), 'convae-sigint-'));
      const { code, stderr } = await interrupted(['train', ...tiny, '--out', dir], 'convae mnist:', signal);
      expect(code).toBe(exit);
      expect(stderr).toMatch(
        new RegExp(`convae: interrupted \\(${signal}\\)\\..*continue with:\\n {2}convae train .* --resume`, 's'),
      );
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
    },
    240_000,
  );
});

/** Runs the CLI from the sources and sends `signal` once when its output shows `cue`; its exit code and output. */
async function interrupted(
  args: string[],
  cue: string,
  signal: NodeJS.Signals,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, ['--import', 'tsx', 'ts/cli/main.ts', ...args], { cwd: root });
  let stdout = '',
    stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((ok) => {
    let sent = false;
    p.stdout.on('data', (d) => {
      stdout += d;
      // Once: a second signal is a second Ctrl-C, which is allowed to end the process where it stands.
      if (!sent && stdout.includes(cue)) sent = p.kill(signal);
    });
    p.on('close', (c) => ok(c));
  });
  return { code, stdout, stderr };
}

describe.runIf(BUILD === 'simd')('an interrupted convae paper, pretrain or search', () => {
  const paperFlags = [
    ...['--sizes', '100', '--seeds', '1', '--lrs', '0.05', '--epochs', '100:1', '--epoch-factors', '1'],
    ...['--dropouts', '0', '--unlabelled', '200', '--limit', '600', '--workers', '0', '--build', 'simd'],
  ];

  it('paper: SIGTERM after the first stack keeps it, says how to resume, and --resume reuses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convae-paper-sigterm-'));
    const r = await interrupted(['paper', ...paperFlags, '--out', dir], 'CAEs (', 'SIGTERM');
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(
      /convae: interrupted \(SIGTERM\)\. The pretrained stacks and the finished runs are saved in/,
    );
    const resume = r.stderr.match(/continue with:\n {2}convae (paper .*--resume)/)?.[1];
    expect(resume).toBeDefined();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readdirSync(dir)).toContain('stack-seed1.safetensors');
    // The printed command, run as given, finishes without pretraining again.
    const again = cli(...(resume as string).split(' '));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/pretrained \d+ CAEs/);
    expect(again.stdout).toMatch(/\| 100 \|/);
    rmSync(dir, { recursive: true, force: true });
  }, 240_000);

  it("pretrain: Ctrl-C exits 130 and says what it kept, leaving no .tmp of its own and the user's as they were", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convae-pretrain-sigint-'));
    // Not convae's: the tidy-up used to remove every *.tmp in --out.
    writeFileSync(join(dir, 'notes.tmp'), 'mine');
    const args = ['pretrain', '--limit', '600', '--epochs', '1', '--maps', '4,6', '--build', 'simd', '--out', dir];
    const r = await interrupted(args, 'convae pretrain on', 'SIGINT');
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/convae: interrupted \(SIGINT\)\. The files already written to .* are whole/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual(['notes.tmp']);
    expect(readFileSync(join(dir, 'notes.tmp'), 'utf8')).toBe('mine');
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('search: SIGTERM after the first candidate ranks the finished ones, marks them interrupted, exits 143', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convae-search-sigterm-'));
    const args = ['search', '--limit', '800', '--epochs', '40', '--maps', '2,6', '--kernels', '3,5', '--noise', '0'];
    const r = await interrupted([...args, '--workers', '1', '--build', 'simd', '--out', dir], '[1/4]', 'SIGTERM');
    expect(r.code, r.stderr).toBe(143);
    const j = JSON.parse(readFileSync(join(dir, 'search.json'), 'utf8'));
    expect(j.ranked.length).toBeGreaterThanOrEqual(1);
    expect(j.ranked.length).toBeLessThan(4);
    expect(readFileSync(join(dir, 'search.md'), 'utf8')).toMatch(/\*\*Interrupted\*\*/);
    expect(r.stderr).toMatch(
      new RegExp(`convae: interrupted \\(SIGTERM\\); ${j.ranked.length} finished candidate\\(s\\) ranked in`),
    );
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
