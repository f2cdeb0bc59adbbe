/**
 * convae side by side with TensorFlow.js and ONNX Runtime Web (issue 5):
 *   npm run bench [-- --quick]
 * Runs each library configuration in its own Node process, one after the other
 * (a realm runs one convae build; ORT fixes its thread count at start-up; no
 * two measurements share the CPU), collects their JSON, prints the table and
 * writes bench/RESULTS.md (quick: bench/results/RESULTS-quick.md).
 * Workloads: bench/workloads/spec.ts; FLOPs: bench/flops.ts; timing: bench/timing.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildReport, type Run } from './report.js';
import type { RunnerResult } from './workloads/spec.js';

const quick = process.argv.includes('--quick');
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const q = quick ? ['--quick'] : [];

const runs: Run[] = [
  // The best build (native where it loads) and the relaxed wasm build, measured in turns in one process.
  {
    label: 'convae',
    script: 'workloads/convae.ts',
    args: [...q, ...(process.argv.find((a) => a.startsWith('--build=')) ?? '--build=auto,relaxed').split(' ')],
  },
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
    // The children get this process's V8 flags (--experimental-wasm-relaxed-simd) and tsx.
    const out = execFileSync(process.execPath, [...process.execArgv, here(run.script), ...run.args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
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

const report = buildReport(runs, { quick, seconds: (performance.now() - t0) / 1000, load });
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
