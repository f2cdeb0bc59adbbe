/**
 * Copies of one wasm build against each other on the activation kernels:
 *   node --import tsx bench/activation-ab.ts [--build=simd] [--rounds=11] <dirA> <dirB> [<dirC> …]
 * Each folder holds a `convae-<build>.wasm` (e.g. a saved copy of ts/wasm/ and
 * ts/wasm/ itself). One realm runs one wasm build, so every round starts one
 * process per folder, in turn, so a drift of a shared machine's load touches all
 * alike. Prints, per case and folder, the median over the rounds of each round's
 * median time per call (min–max over the rounds) and its ratio to A's.
 *
 * Cases: tanh forward at the main job's sizes (batch 64: the first conv's
 * 20 × 24 × 24 maps, the second's 50 × 8 × 8, the 500 hidden units) and sigmoid
 * forward at the first size as a control.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cv from '../ts/index.js';
import { median } from './timing.js';

const CASES: { name: string; kind: cv.Activation; size: number }[] = [
  { name: 'tanh 64×20×24×24', kind: 'tanh', size: 64 * 20 * 24 * 24 },
  { name: 'tanh 64×50×8×8', kind: 'tanh', size: 64 * 50 * 8 * 8 },
  { name: 'tanh 64×500', kind: 'tanh', size: 64 * 500 },
  { name: 'sigmoid 64×20×24×24', kind: 'sigmoid', size: 64 * 20 * 24 * 24 },
];
const arg = (name: string, d: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? d;
const build = arg('build', 'simd') as cv.WasmBuild;

/** One process, one build: each case's median milliseconds per call, as JSON on the last line. */
async function child(file: string): Promise<void> {
  const module = await WebAssembly.compile(readFileSync(file));
  const be = await cv.loadBackend({ build, module });
  const out: Record<string, number> = {};
  for (const c of CASES) {
    // Pre-activations of a trained conv spread over a few units; the kernels take no data-dependent branch.
    const x = be.fromArray(
      [c.size],
      Float32Array.from({ length: c.size }, (_, i) => 4 * Math.sin(i * 0.7312)),
    );
    const y = be.zeros([c.size]);
    // About 40 ms of calls a sample, 15 samples after a warm-up of the same length.
    let reps = 1;
    for (let t0 = performance.now(); performance.now() - t0 < 40; reps++) cv.activation(c.kind, x, y);
    const times: number[] = [];
    for (let s = 0; s < 16; s++) {
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) cv.activation(c.kind, x, y);
      if (s > 0) times.push((performance.now() - t0) / reps);
    }
    out[c.name] = median(times);
    x.dispose();
    y.dispose();
  }
  console.log(JSON.stringify(out));
}

async function parent(dirs: string[]): Promise<void> {
  const rounds = Number(arg('rounds', '11'));
  const script = fileURLToPath(import.meta.url);
  const runs: Record<string, number>[][] = dirs.map(() => []);
  const load0 = os.loadavg()[0];
  for (let r = 0; r < rounds; r++) {
    for (const [i, dir] of dirs.entries()) {
      const out = execFileSync(
        process.execPath,
        [...process.execArgv, script, `--build=${build}`, '--child', join(dir, `convae-${build}.wasm`)],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      );
      runs[i].push(JSON.parse(out.trim().split('\n').pop()!));
    }
    process.stderr.write(`round ${r + 1}/${rounds}\n`);
  }
  console.log(
    `${new Date().toISOString()} — ${build} build, ${rounds} rounds, load average ${load0.toFixed(2)} → ${os.loadavg()[0].toFixed(2)}`,
  );
  const tag = (i: number) => String.fromCharCode(65 + i);
  console.log(`${dirs.map((d, i) => `${tag(i)} = ${d}`).join(', ')}; ms per call, median (min–max) over the rounds`);
  for (const c of CASES) {
    const stats = runs.map((rs) => {
      const v = rs.map((o) => o[c.name]);
      return { med: median(v), min: Math.min(...v), max: Math.max(...v) };
    });
    const cols = stats.map((s, i) => {
      const ratio = i ? ` ×${(s.med / stats[0].med).toFixed(3)}` : '';
      return `${tag(i)} ${s.med.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})${ratio}`;
    });
    console.log(`${c.name.padEnd(20)} ${cols.join('  ')}`);
  }
}

const at = process.argv.indexOf('--child');
if (at >= 0) await child(process.argv[at + 1]);
else {
  const dirs = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (dirs.length < 2)
    throw new Error('usage: bench/activation-ab.ts [--build=simd] [--rounds=11] <dirA> <dirB> [<dirC> …]');
  await parent(dirs);
}
