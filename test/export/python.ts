/**
 * Python with torch and safetensors for the export tests: CONVAE_PYTHON, else
 * Debian's /usr/bin/python3 (where scripts/setup-python.sh installs them), else
 * python3 on PATH. Null when none imports both: the tests that need it skip with
 * a message locally; CI installs them, and there (CI=true) a missing torch fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function candidates(): string[] {
  const c = process.env.CONVAE_PYTHON ? [process.env.CONVAE_PYTHON] : [];
  if (existsSync('/usr/bin/python3')) c.push('/usr/bin/python3');
  c.push('python3');
  return c;
}

function probe(code: string): string | null {
  for (const py of candidates()) {
    try {
      execFileSync(py, ['-c', code], { stdio: 'ignore', timeout: 60_000 });
      return py;
    } catch {}
  }
  return null;
}

export const PYTHON = probe('import torch, safetensors.torch');
export const PYTHON_ORT = PYTHON ? probe('import onnxruntime, numpy') : null;
export const NO_TORCH =
  'Python with torch and safetensors not found (run scripts/setup-python.sh or set CONVAE_PYTHON): skipping';

if (!PYTHON) {
  if (process.env.CI) throw new Error(`${NO_TORCH} — but CI must run these tests`);
  console.warn(NO_TORCH);
}

/** Runs a Python script; throws with its stderr when it fails. */
export function runPython(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): string {
  if (!PYTHON) throw new Error(NO_TORCH);
  return execFileSync(PYTHON, args, {
    cwd: opts.cwd,
    env: { ...process.env, OMP_NUM_THREADS: '1', ...opts.env },
    timeout: opts.timeout ?? 120_000,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
