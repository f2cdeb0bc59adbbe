/**
 * What the check of `convae denoise` at own size costs (docs/denoise.md "The check before writing"): the time of
 * choosing and decoding the files before anything is written (`folderFiles` + `ownSizeFiles`) against a whole run
 * (`denoise`, with `--add-noise gaussian:0.1`), in this process, medians of `runs`, wall and CPU (the process's,
 * workers and decoder threads included). Images kept by the check are not decoded again, so for a folder of small
 * images the check is the run's only decoding.
 * `npx tsx scripts/denoise-check-cost.ts STACK FOLDER [runs]`
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { folderFiles } from '../ts/cli/data.js';
import { denoise } from '../ts/cli/denoise.js';
import { ownSizeFiles } from '../ts/cli/denoise-own.js';
import { loadBackend } from '../ts/backend/backend.js';
import { loadSaved } from '../ts/cli/saved.js';

const [model, data, runsArg] = process.argv.slice(2);
if (!model || !data) throw new Error('usage: npx tsx scripts/denoise-check-cost.ts STACK FOLDER [runs]');
const runs = Number(runsArg ?? 5);
const saved = await loadSaved(await loadBackend(), model, 'stack');
const tiling = { stack: saved.stack!, stride: undefined };
const out = join(tmpdir(), `convae-denoise-check-${process.pid}`);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const check = { wall: [] as number[], cpu: [] as number[] },
  whole = { wall: [] as number[], cpu: [] as number[] };
const timed = async (into: { wall: number[]; cpu: number[] }, f: () => Promise<unknown>) => {
  const t = performance.now(),
    c = cpuMs();
  await f();
  into.wall.push(performance.now() - t);
  into.cpu.push(cpuMs() - c);
};
for (let r = 0; r < runs; r++) {
  await timed(check, async () => ownSizeFiles((await folderFiles({ data }))!, { data }, tiling));
  rmSync(out, { recursive: true, force: true });
  await timed(whole, () =>
    denoise({
      ...{ model, data, out, depth: 1, build: 'auto', quiet: true },
      ...{ addNoise: { type: 'gaussian', std: 0.1 }, noiseSeed: 1 },
    }),
  );
}
rmSync(out, { recursive: true, force: true });
saved.dispose();
const share = (k: 'wall' | 'cpu') =>
  `${median(check[k]).toFixed(0)} of ${median(whole[k]).toFixed(0)} ms (${((100 * median(check[k])) / median(whole[k])).toFixed(1)} %)`;
console.log(`${data}: the check ${share('wall')} wall, ${share('cpu')} CPU; medians of ${runs}`);
