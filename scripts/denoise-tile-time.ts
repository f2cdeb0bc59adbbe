/**
 * Time per tile of `reconstructTiled` (what `MAX_DENOISE_TILES` in ts/cli/denoise-own.ts is justified with): one
 * synthetic image of `H×W` (uniform noise, the stack's channels) reconstructed through `workers` workers at each
 * stride, depth 1, Hann window; prints the tiles, the median wall and CPU time of `runs` runs (CPU: the process's,
 * workers included, which a loaded machine does not inflate as it does the wall time) and both per tile.
 * `npx tsx scripts/denoise-tile-time.ts [--size 640x427] [--strides 4,8,16] [--workers 2] [--runs 3] STACK`
 */
import { parseArgs } from 'node:util';
import { reconstructTiled, tileCount } from '../ts/anomaly/tiled.js';
import { loadBackend } from '../ts/backend/backend.js';
import { loadSaved } from '../ts/cli/saved.js';
import { Rng } from '../ts/util/rng.js';
import { createRunner } from '../ts/worker/runner.js';

const { values, positionals } = parseArgs({
  options: {
    size: { type: 'string', default: '640x427' },
    strides: { type: 'string', default: '4,8,16' },
    workers: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
  },
  allowPositionals: true,
});
const [model] = positionals;
if (!model) throw new Error('usage: npx tsx scripts/denoise-tile-time.ts [--size WxH] [--strides a,b] STACK');
const [w, h] = values.size.split('x').map(Number) as [number, number];
const be = await loadBackend();
const saved = await loadSaved(be, model, 'stack');
const stack = saved.stack!;
const c = stack.inputShape[0]!;
const rng = new Rng(1);
const image = Float32Array.from({ length: c * h * w }, () => rng.next());
const runner = await createRunner(be, { workers: Number(values.workers) });
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
console.log(
  `| ${w}×${h}, stride | tiles | wall ms | CPU ms (medians of ${values.runs}) | µs a tile, wall | CPU |\n|---|---|---|---|---|---|`,
);
for (const stride of values.strides.split(',').map(Number)) {
  const tiles = tileCount(stack, h, w, stride);
  const wall: number[] = [],
    cpu: number[] = [];
  for (let r = 0; r < Number(values.runs); r++) {
    const t = performance.now(),
      c0 = cpuMs();
    await reconstructTiled(runner, stack, image, [c, h, w], { stride });
    wall.push(performance.now() - t);
    cpu.push(cpuMs() - c0);
  }
  const per = (ms: number) => ((1000 * ms) / tiles).toFixed(0);
  console.log(
    `| ${stride} | ${tiles} | ${median(wall).toFixed(0)} | ${median(cpu).toFixed(0)} | ${per(median(wall))} | ${per(median(cpu))} |`,
  );
}
await runner.dispose();
saved.dispose();
