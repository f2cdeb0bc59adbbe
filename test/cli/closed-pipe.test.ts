/**
 * A reader that stops early (`convae predict … | head -1`) closes the pipe: convae's next write failed with EPIPE,
 * an unhandled 'error' event, and the process died with Node's stack trace (exit 1) before it had written its --out.
 * The output nobody reads is dropped now; the command ends as it would have.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD } from '../util/backend.js';

const root = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'convae-closed-pipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `convae ...args` with its stdout's reader gone before it writes a byte (closed at once: no race with its output). */
const closedStdout = (args: string[]): Promise<{ status: number | null; stderr: string }> =>
  new Promise((ok) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'ts/cli/main.ts', ...args], { cwd: root });
    p.stdout.destroy();
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (status) => {
      clearTimeout(timer);
      ok({ status, stderr });
    });
  });

describe.runIf(BUILD === 'simd')('stdout closed by its reader', () => {
  it('train writes its model, evaluate its report, predict ends: no stack trace, exit 0', async () => {
    const run = join(dir, 'run');
    const data = ['--data', 'mnist', '--limit', '100'];
    const tr = await closedStdout([
      'train',
      ...data,
      '--maps',
      '2,2',
      '--hidden',
      '4',
      '--pretrain-epochs',
      '1',
      '--epochs',
      '1',
      '--workers',
      '0',
      '--out',
      run,
    ]);
    expect(tr.stderr).toBe('');
    expect(tr.status).toBe(0);
    expect(existsSync(join(run, 'classifier.safetensors'))).toBe(true);
    const report = join(dir, 'report.json');
    const ev = await closedStdout(['evaluate', '--model', run, ...data, '--out', report]);
    expect(ev.stderr).toBe('');
    expect(ev.status).toBe(0);
    expect(JSON.parse(readFileSync(report, 'utf8')).images).toBe(100);
    const pr = await closedStdout(['predict', '--model', run, ...data]);
    expect(pr.stderr).toBe('');
    expect(pr.status).toBe(0);
  }, 120_000);
});
