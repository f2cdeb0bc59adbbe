/**
 * convae side by side with TensorFlow.js, ONNX Runtime Web and PyTorch (issues 5, 15):
 *   [PYTHON=/path/to/python[:another]] npm run bench [-- --quick]
 * Runs each library configuration in its own process, one after the other
 * (a realm runs one convae build; ORT fixes its thread count at start-up; no
 * two measurements share the CPU), collects their JSON, prints the table and
 * writes bench/RESULTS.md (quick: bench/results/RESULTS-quick.md).
 * PyTorch (bench/workloads/torch.py) runs when a Python with torch is found:
 * each interpreter in PYTHON (separated by the path delimiter), else the first
 * of `python3`, /usr/bin/python3 that imports torch; none: its rows are skipped.
 * convae and PyTorch run in rounds that alternate them (2, quick: 1), so a
 * drift of the machine's speed touches both; their samples are pooled.
 * Workloads: bench/workloads/spec.ts; FLOPs: bench/flops.ts; timing: bench/timing.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildReport, mergeRounds, type Run } from './report.js';
import type { RunnerResult } from './workloads/spec.js';

const quick = process.argv.includes('--quick');
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const q = quick ? ['--quick'] : [];

/** Debian's torch 1.13 calls the reference BLAS unless OpenBLAS's folder comes first. */
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
const pyEnv = existsSync(OPENBLAS)
  ? { ...process.env, LD_LIBRARY_PATH: [OPENBLAS, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') }
  : process.env;

const probed = new Map<string, string | null>();
/** torch's version under `python`, or null when it has none (or is no Python). */
function torchVersion(python: string): string | null {
  if (!probed.has(python)) probed.set(python, probeTorch(python));
  return probed.get(python)!;
}

function probeTorch(python: string): string | null {
  try {
    return execFileSync(python, ['-c', 'import torch; print(torch.__version__)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      env: pyEnv,
      timeout: 120_000,
    }).trim();
  } catch {
    return null;
  }
}

const pythons = process.env.PYTHON
  ? process.env.PYTHON.split(path.delimiter).filter(Boolean)
  : [['python3', '/usr/bin/python3'].find((p) => torchVersion(p) !== null)].filter((p): p is string => !!p);
const torchRuns: Run[] = [];
const skipped: string[] = [];
for (const python of pythons) {
  const v = torchVersion(python);
  if (v === null) skipped.push(`${python}: no torch`);
  else
    torchRuns.push({
      label: `PyTorch ${v} (${python})`,
      script: 'workloads/torch.py',
      command: python,
      env: pyEnv,
      args: [...q, '--threads=1,2'],
    });
}
if (!pythons.length) skipped.push('no Python with torch found (python3, /usr/bin/python3; set PYTHON=...)');

// The best build (native where it loads) and the relaxed wasm build, measured in turns in one process.
const convae: Run = {
  label: 'convae',
  script: 'workloads/convae.ts',
  args: [...q, ...(process.argv.find((a) => a.startsWith('--build=')) ?? '--build=auto,relaxed').split(' ')],
};
/** convae and PyTorch alternate round after round; the other peers run once, after them. */
const rounds = quick || !torchRuns.length ? 1 : 2;
const runs: Run[] = [
  convae,
  ...torchRuns,
  // Later rounds: convae without its Trainer rows (measured in round 1, 1 and N workers in alternation).
  ...Array.from({ length: rounds - 1 }, () => [
    { ...convae, args: [...convae.args, '--no-workers'] },
    ...torchRuns.map((r) => ({ ...r })),
  ]).flat(),
  // TensorFlow.js cpu trains at a few images/s: quick mode trains it on batches of 4.
  {
    label: 'TensorFlow.js cpu',
    script: 'workloads/tfjs.ts',
    args: ['--backend=cpu', ...q, ...(quick ? ['--train-batch=4'] : [])],
  },
  { label: 'TensorFlow.js wasm, 1 thread', script: 'workloads/tfjs.ts', args: ['--backend=wasm', '--threads=1', ...q] },
  {
    label: 'TensorFlow.js wasm, 2 threads',
    script: 'workloads/tfjs.ts',
    args: ['--backend=wasm', '--threads=2', ...q, '--only=W4'],
  },
  { label: 'ONNX Runtime Web, 1 thread', script: 'workloads/ort.ts', args: ['--threads=1', ...q] },
  { label: 'ONNX Runtime Web, 2 threads', script: 'workloads/ort.ts', args: ['--threads=2', ...q] },
];

const load = os.loadavg();
const t0 = performance.now();
for (const run of runs) {
  const s = performance.now();
  process.stderr.write(`running ${run.label} ...`);
  try {
    // Node children get this process's V8 flags (--experimental-wasm-relaxed-simd) and tsx.
    const [cmd, pre] = run.command ? [run.command, []] : [process.execPath, process.execArgv];
    const out = execFileSync(cmd, [...pre, here(run.script), ...run.args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
      env: run.env ?? process.env,
    });
    run.results = JSON.parse(out.trim().split('\n').pop()!) as RunnerResult[];
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    run.error =
      (err.stderr || err.message)
        .trim()
        .split('\n')
        .filter((l) => /error/i.test(l))
        .slice(0, 2)
        .join(' ')
        .slice(0, 300) || 'failed';
  }
  process.stderr.write(
    ` ${((performance.now() - s) / 1000).toFixed(1)} s${run.error ? ` — failed: ${run.error}` : ''}\n`,
  );
}

const report = buildReport(mergeRounds(runs), {
  quick,
  seconds: (performance.now() - t0) / 1000,
  load,
  loadEnd: os.loadavg(),
  rounds,
  skipped,
});
console.log(report.text);
const file = quick ? here('results/RESULTS-quick.md') : here('RESULTS.md');
mkdirSync(here('results/'), { recursive: true });
writeFileSync(file, report.markdown);
console.log(`\nwrote ${file}`);
// A runner that failed is in the report; the exit status tells CI about it too.
if (runs.some((r) => r.error)) {
  console.error(
    `failed: ${runs
      .filter((r) => r.error)
      .map((r) => r.label)
      .join(', ')}`,
  );
  process.exitCode = 1;
}
