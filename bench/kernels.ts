/**
 * Kernel benchmarks, every build side by side in one run:
 *   npm run bench:kernels [-- --quick]
 * Each wasm build runs in its own process (a realm runs one build); the naive
 * TypeScript loops run here. Prints medians (min–max over samples) in GFLOP/s
 * or GB/s, the fraction of the measured SIMD peak, and the speed-up over naive TS.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { batchSize } from './cases.js';
import { naiveCases } from './naive.js';

const quick = process.argv.includes('--quick');
const builds = ['relaxed', 'simd', 'scalar'] as const;
type Row = { name: string; unit: string; median: number; min: number; max: number; samples: number };

const script = fileURLToPath(new URL('./run-build.ts', import.meta.url));
const results: Record<string, Map<string, Row>> = {};
for (const build of builds) {
  const out = execFileSync(
    process.execPath,
    ['--experimental-wasm-relaxed-simd', '--import', 'tsx', script, build, ...(quick ? ['--quick'] : [])],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const last = out.trim().split('\n').pop()!;
  const parsed = JSON.parse(last) as { build: string; rows: Row[] };
  results[build] = new Map(parsed.rows.map((r) => [r.name, r]));
}

const naive = new Bench({ time: quick ? 150 : 1000, warmupTime: quick ? 30 : 200 });
const nc = naiveCases(batchSize(quick));
for (const c of nc) naive.add(c.name, c.run);
await naive.run();
const naiveRate = new Map<string, number>();
for (const t of naive.tasks) {
  const r = t.result;
  if (!('latency' in r)) throw new Error(`${t.name}: ${r.state}`);
  naiveRate.set(t.name, nc.find((c) => c.name === t.name)!.work / (r.latency.p50 * 1e-3) / 1e9);
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `convae kernel benchmarks — ${new Date().toISOString()} — ${cpu}, ${os.cpus().length} cores, Node ${process.version}${quick ? ' (quick)' : ''}`,
);
console.log(
  'median (min–max) per build; "% peak" compares with the same build\'s peak probe (relaxed: FMA, simd: mul+add); "× naive" is the simd build over the naive TS loop.\n',
);
const fmt = (r?: Row) => (r ? `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : '—');
const peak = (b: string, probe: string) => results[b].get(probe)!.median;
const header = ['case', 'unit', ...builds, 'naive TS', '% peak relaxed', '% peak simd', '× naive'];
const lines = [header];
for (const name of results.simd.keys()) {
  const r = (b: string) => results[b].get(name);
  const unit = r('simd')!.unit;
  const flops = unit === 'GFLOP/s' && !name.startsWith('peak');
  const nv = naiveRate.get(name);
  lines.push([
    name,
    unit,
    ...builds.map((b) => fmt(r(b))),
    nv === undefined ? '—' : nv.toFixed(3),
    flops ? `${((100 * r('relaxed')!.median) / peak('relaxed', 'peak_fma')).toFixed(0)}%` : '',
    flops ? `${((100 * r('simd')!.median) / peak('simd', 'peak_mul_add')).toFixed(0)}%` : '',
    nv === undefined ? '' : `${(r('simd')!.median / nv).toFixed(1)}×`,
  ]);
}
const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
for (const l of lines) console.log(l.map((c, i) => c.padEnd(widths[i])).join('  '));

// The same table as markdown, with the machine and date, for the README and closing notes.
const md = [
  `# Kernel benchmarks`,
  '',
  `${new Date().toISOString()} — ${cpu}, ${os.cpus().length} cores, Node ${process.version}${quick ? ' (quick)' : ''}. Command: \`npm run bench:kernels\`.`,
  '',
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...lines.slice(1).map((l) => `| ${l.join(' | ')} |`),
  '',
];
const outDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
writeFileSync(`${outDir}kernels${quick ? '-quick' : ''}.md`, md.join('\n'));
