/**
 * `convae train --resume`: from the saved stack when fine-tuning had no
 * checkpoint yet, refused with changed flags (naming them), and Ctrl-C says
 * how to continue.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
      const p = spawn(process.execPath, ['--import', 'tsx', 'ts/cli/main.ts', 'train', ...tiny, '--out', dir], {
        cwd: root,
      });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((ok) => {
        p.stdout.on('data', (d) => {
          if (String(d).includes('convae mnist:')) p.kill(signal);
        });
        p.on('close', (c) => ok(c));
      });
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
