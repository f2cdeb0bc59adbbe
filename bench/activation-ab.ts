/**
 * Saved builds of the kernels against each other on the activation kernels:
 *   node --import tsx bench/activation-ab.ts [--build=simd] [--rounds=11] <A> <B> [<C> …]
 * Each of A, B, … is one of
 * - a folder holding a `convae-<build>.wasm` (e.g. a saved copy of ts/wasm/ and
 *   ts/wasm/ itself);
 * - a native addon, a `.node` file (e.g. a saved copy of
 *   npm/linux-x64-gnu/convae.linux-x64-gnu.node): it runs at the ISA the CPU
 *   has, called from JS as the layers call it;
 * - a build of the kernel crate's `native_bench` example, run as
 *   `<file> --act`: the kernels alone on each SIMD ISA (AVX2 too where the CPU
 *   has AVX-512, which the addon cannot be told to leave aside), in thread CPU
 *   time; its cases are named `<isa> <case>`.
 * One realm runs one wasm build, so every round starts one process per build,
 * in turn, so a drift of a shared machine's load touches all alike. Prints, per
 * case and build, the median over the rounds of each round's median time per
 * call (min–max over the rounds) and its ratio to the first build's.
 *
 * Cases: tanh forward at the main job's sizes (batch 64: the first conv's
 * 20 × 24 × 24 maps, the second's 50 × 8 × 8, the 500 hidden units) and sigmoid
 * forward at the first size as a control.
 */
import { type ExecFileSyncOptionsWithStringEncoding, execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
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

/** One process, one build (a `.wasm` or a `.node` file): each case's median milliseconds per call, as JSON on the last line. */
async function child(file: string): Promise<void> {
  const be = file.endsWith('.node')
    ? await cv.loadBackend({ build: 'native', addon: file })
    : await cv.loadBackend({ build, module: await WebAssembly.compile(readFileSync(file)) });
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

async function parent(builds: string[]): Promise<void> {
  const rounds = Number(arg('rounds', '11'));
  const script = fileURLToPath(import.meta.url);
  const runs: Record<string, number>[][] = builds.map(() => []);
  const load0 = os.loadavg()[0];
  const io = { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] } satisfies ExecFileSyncOptionsWithStringEncoding;
  for (let r = 0; r < rounds; r++) {
    for (const [i, b] of builds.entries()) {
      const wasmOrNode = b.endsWith('.node') ? b : statSync(b).isDirectory() && join(b, `convae-${build}.wasm`);
      const out = wasmOrNode
        ? execFileSync(process.execPath, [...process.execArgv, script, `--build=${build}`, '--child', wasmOrNode], io)
        : execFileSync(b, ['--act'], io);
      runs[i].push(JSON.parse(out.trim().split('\n').pop()!));
    }
    process.stderr.write(`round ${r + 1}/${rounds}\n`);
  }
  console.log(
    `${new Date().toISOString()} — ${rounds} rounds (wasm builds: ${build}), load average ${load0.toFixed(2)} → ${os.loadavg()[0].toFixed(2)}`,
  );
  const tag = (i: number) => String.fromCharCode(65 + i);
  console.log(`${builds.map((b, i) => `${tag(i)} = ${b}`).join(', ')}; ms per call, median (min–max) over the rounds`);
  // Every case any build reported, in order (native_bench's carry the ISA in front); — where a build has none.
  const names = [...new Set(runs.flatMap((rs) => Object.keys(rs[0])))];
  for (const name of names) {
    const stats = runs.map((rs) => {
      const v = rs.map((o) => o[name]);
      return name in rs[0] ? { med: median(v), min: Math.min(...v), max: Math.max(...v) } : undefined;
    });
    // Ratios to the first build with this case.
    const base = stats.find((s) => s);
    const cols = stats.map((s, i) => {
      if (!s) return `${tag(i)} —`;
      const ratio = base && s !== base ? ` ×${(s.med / base.med).toFixed(3)}` : '';
      return `${tag(i)} ${s.med.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})${ratio}`;
    });
    console.log(`${name.padEnd(27)} ${cols.join('  ')}`);
  }
}

const at = process.argv.indexOf('--child');
if (at >= 0) await child(process.argv[at + 1]);
else {
  const builds = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (builds.length < 2) throw new Error('usage: bench/activation-ab.ts [--build=simd] [--rounds=11] <A> <B> [<C> …]');
  await parent(builds);
}
