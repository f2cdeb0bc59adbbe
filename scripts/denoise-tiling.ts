/**
 * `convae denoise --stride --window` measured (docs/denoise.md "The tiling flags"): the command's own function, in
 * this process, on an image folder at its own size with Gaussian noise added (`--add-noise gaussian:σ`, seeds 1…s),
 * for each stride and window. Prints the mean PSNR of the denoised images over the seeds, and the median time of a
 * run, wall and CPU (the process's, workers included), start-up and model loading included, Node's excluded.
 * `npx tsx scripts/denoise-tiling.ts [--std σ] [--seeds s] [--strides 8,16,32] [--workers w] STACK FOLDER`
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TileWindow } from '../ts/anomaly/tiled.js';
import { denoise } from '../ts/cli/denoise.js';

const { values, positionals } = parseArgs({
  options: {
    std: { type: 'string', default: '0.1' },
    seeds: { type: 'string', default: '3' },
    strides: { type: 'string', default: '8,16,32' },
    workers: { type: 'string', default: '2' },
  },
  allowPositionals: true,
});
const [model, data] = positionals;
if (!model || !data)
  throw new Error('usage: npx tsx scripts/denoise-tiling.ts [--std σ] [--seeds s] [--strides a,b] STACK FOLDER');
const out = join(tmpdir(), `convae-denoise-tiling-${process.pid}`);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

console.log('| stride | window | PSNR (dB) | wall (ms) | CPU (ms) |\n|---|---|---|---|---|');
for (const stride of values.strides.split(',').map(Number))
  for (const window of ['hann', 'flat'] as TileWindow[]) {
    const psnr: number[] = [],
      wall: number[] = [],
      cpu: number[] = [];
    for (let seed = 1; seed <= Number(values.seeds); seed++) {
      rmSync(out, { recursive: true, force: true });
      const t = performance.now(),
        c = cpuMs();
      const r = await denoise({
        ...{ model, data, out, depth: 1, build: 'auto', quiet: true, workers: Number(values.workers) },
        ...{ addNoise: { type: 'gaussian', std: Number(values.std) }, noiseSeed: seed, stride, window },
      });
      wall.push(performance.now() - t);
      cpu.push(cpuMs() - c);
      psnr.push(r.denoised!.psnr);
    }
    const mean = psnr.reduce((a, b) => a + b, 0) / psnr.length;
    console.log(
      `| ${stride} | ${window} | ${mean.toFixed(2)} (${Math.min(...psnr).toFixed(2)}–${Math.max(...psnr).toFixed(2)}) | ${median(wall).toFixed(0)} | ${median(cpu).toFixed(0)} |`,
    );
  }
rmSync(out, { recursive: true, force: true });
