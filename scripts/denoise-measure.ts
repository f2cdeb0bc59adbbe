/**
 * The denoising table of README "Denoising": `npx tsx scripts/denoise-measure.ts [--limit n] [--seeds s] STACK...`.
 * For each saved stack (a `convae pretrain` folder) and the MNIST test images: masking 0.5, Gaussian σ 0.3 and
 * salt-and-pepper 0.2 noise (`addNoise`, seeds 1…s), then the mean PSNR and MSE against the clean images of the noisy
 * images, of a 3×3 median filter (written below), and of the stack's reconstructions through depth 1 and 2, mapped
 * to pixels and quantised to 8 bits as `convae denoise` writes them (test/cli/denoise.test.ts checks that the
 * command writes exactly these). Each cell: the mean over seeds, and the spread between them.
 */
import { loadBackend } from '../ts/backend/backend.js';
import { loadSaved } from '../ts/cli/saved.js';
import { normalized } from '../ts/cli/data.js';
import type { ImageDataset } from '../ts/data/dataset.js';
import { addNoise, type ImageNoise } from '../ts/data/imagenoise.js';
import { loadMnist } from '../ts/data/mnist.js';
import { toPixels } from '../ts/data/normalize.js';
import { imageErrors, meanOf, quantize } from '../ts/data/quality.js';
import { createRunner } from '../ts/worker/runner.js';
import { parseArgs } from 'node:util';
import { median3 } from './median3.js';

const { values, positionals: args } = parseArgs({
  options: { limit: { type: 'string', default: '10000' }, seeds: { type: 'string', default: '3' } },
  allowPositionals: true,
});
const limit = Number(values.limit);
const seeds = Number(values.seeds);
if (!args.length) throw new Error('usage: npx tsx scripts/denoise-measure.ts [--limit n] [--seeds s] STACK...');

const NOISES: [string, ImageNoise][] = [
  ['masking 0.5', { type: 'masking', fraction: 0.5 }],
  ['gaussian 0.3', { type: 'gaussian', std: 0.3 }],
  ['salt-pepper 0.2', { type: 'salt-pepper', fraction: 0.2 }],
];

const be = await loadBackend();
const clean = await loadMnist({ split: 'test', limit });
const [, h, w] = clean.shape;
const size = clean.imageSize,
  n = clean.length;
const cleanPx = clean.readImages(0, n);
const runner = await createRunner(be);

/** Mean PSNR and MSE of `images` against the clean ones. */
const score = (images: Float32Array) => {
  const e = imageErrors(cleanPx, images, size);
  return { psnr: meanOf(e.psnr), mse: meanOf(e.mse) };
};

type Cell = { psnr: number[]; mse: number[] };
const cells = new Map<string, Cell>();
const add = (key: string, s: { psnr: number; mse: number }) => {
  const c = cells.get(key) ?? { psnr: [], mse: [] };
  c.psnr.push(s.psnr);
  c.mse.push(s.mse);
  cells.set(key, c);
};

const stacks = await Promise.all(args.map(async (dir) => ({ dir, saved: await loadSaved(be, dir, 'stack') })));
for (const [name, noise] of NOISES)
  for (let seed = 1; seed <= seeds; seed++) {
    const noisy: ImageDataset = addNoise(clean, noise, { seed });
    const noisyPx = noisy.readImages(0, n);
    add(`${name}|noisy`, score(noisyPx));
    add(`${name}|median 3×3`, score(median3(noisyPx, n, h, w)));
    for (const { dir, saved } of stacks)
      for (let depth = 1; depth <= Math.min(2, saved.stack!.blocks.length); depth++) {
        const input = normalized(noisy, saved.input.normalize);
        const y = await runner.reconstructThrough(saved.stack!, input, { depth });
        add(`${name}|${dir} depth ${depth}`, score(quantize(toPixels(y, noisy, saved.input))));
      }
  }
await runner.dispose();
for (const { saved } of stacks) saved.dispose();

const fmt = (v: number[], digits: number) => {
  const m = meanOf(v);
  const spread = Math.max(...v) - Math.min(...v);
  return `${m.toFixed(digits)} (±${(spread / 2).toFixed(digits)})`;
};
console.log(`MNIST test images: ${n}; seeds 1–${seeds}; PSNR in dB (peak 1), mean over images then over seeds\n`);
console.log('| noise | images | PSNR | MSE |\n|---|---|---|---|');
for (const [key, c] of cells) {
  const [noise, what] = key.split('|');
  console.log(`| ${noise} | ${what} | ${fmt(c.psnr, 2)} | ${fmt(c.mse, 4)} |`);
}
