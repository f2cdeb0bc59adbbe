/**
 * Tiled denoising of whole photographs (docs/anomaly.md "Denoising photographs at their own size"):
 * `npx tsx scripts/photo-denoise.ts [--std σ] [--seeds s] [--workers w] STACK PHOTO...`.
 * Each photo is decoded at its own size as `convae denoise` reads it, Gaussian noise of σ added (`addNoise`, seeds
 * 1…s, clipped), and the mean PSNR against the clean photo is printed for the noisy photo, a 3×3 median filter
 * (scripts/median3.ts) and `reconstructTiled` with several strides and windows, quantised to 8 bits as the command
 * writes them. "seams": the largest mean squared error of one phase of the tile grid (pixels whose position from
 * the grid's start, modulo the stride, is the same; rows and columns averaged) over the mean, so 1 is an error
 * spread evenly and a seam shows as a larger number. `--picture FILE`: the first photo's top right (160×120 pixels
 * from (384, 32), twice enlarged), seed 1, without overlap (left) and with the default tiling (right).
 */
import { reconstructTiled, type TileWindow } from '../ts/anomaly/tiled.js';
import { loadBackend } from '../ts/backend/backend.js';
import { loadSaved } from '../ts/cli/saved.js';
import { ImageDataset } from '../ts/data/dataset.js';
import { decodeImageFile } from '../ts/data/imagefolder.js';
import { addNoise } from '../ts/data/imagenoise.js';
import { imageErrors, meanOf, quantize } from '../ts/data/quality.js';
import { createRunner } from '../ts/worker/runner.js';
import sharp from 'sharp';
import { imagePng } from '../ts/cli/denoise-files.js';
import { parseArgs } from 'node:util';
import { median3 } from './median3.js';

const { values, positionals } = parseArgs({
  options: {
    picture: { type: 'string' },
    std: { type: 'string', default: '0.1' },
    seeds: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
  },
  allowPositionals: true,
});
const picture = values.picture;
const std = Number(values.std);
const seeds = Number(values.seeds);
const workers = Number(values.workers);
const [stackDir, ...photos] = positionals;
if (!stackDir || !photos.length)
  throw new Error('usage: npx tsx scripts/photo-denoise.ts [--std σ] [--seeds s] [--workers w] STACK PHOTO...');

const be = await loadBackend();
const saved = await loadSaved(be, stackDir, 'stack');
const stack = saved.stack!;
const [c, th] = stack.inputShape as [number, number, number];
const runner = await createRunner(be, { workers });
const VARIANTS: [string, number, TileWindow][] = [
  [`stride ${th} (no overlap), flat`, th, 'flat'],
  [`stride ${th / 2}, flat`, th / 2, 'flat'],
  [`stride ${th / 2}, hann`, th / 2, 'hann'],
  [`stride ${th / 4}, flat`, th / 4, 'flat'],
  [`stride ${th / 4}, hann`, th / 4, 'hann'],
  [`stride ${th / 8}, hann`, th / 8, 'hann'],
];

/** The seam measure of the file's comment, for a grid of `stride` starting `stride − tile` before the image. */
function seams(clean: Float32Array, got: Float32Array, h: number, w: number, stride: number): number {
  const pad = th - stride;
  const rows = new Float64Array(stride),
    cols = new Float64Array(stride),
    nr = new Float64Array(stride),
    nc = new Float64Array(stride);
  let all = 0;
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const e = (got[(ch * h + y) * w + x]! - clean[(ch * h + y) * w + x]!) ** 2;
        all += e;
        rows[(y + pad) % stride]! += e;
        nr[(y + pad) % stride]! += 1;
        cols[(x + pad) % stride]! += e;
        nc[(x + pad) % stride]! += 1;
      }
  const mean = all / (c * h * w);
  let worst = 0;
  for (let p = 0; p < stride; p++) worst = Math.max(worst, (rows[p]! / nr[p]! + cols[p]! / nc[p]!) / 2);
  return worst / mean;
}

/** The `--picture` crops: no overlap on the left, the default on the right. */
async function sideBySide(file: string, pngs: Uint8Array[]): Promise<void> {
  const crops = await Promise.all(
    pngs.map((png) =>
      sharp(png)
        .extract({ left: 384, top: 32, width: 160, height: 120 })
        .resize(320, 240, { kernel: 'nearest' })
        .png()
        .toBuffer(),
    ),
  );
  await sharp({ create: { width: 648, height: 240, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(crops.map((input, i) => ({ input, left: 328 * i, top: 0 })))
    .png({ compressionLevel: 9 })
    .toFile(file);
}

const table = new Map<string, { psnr: number[]; seams: number[]; ms: number[] }>();
const add = (row: string, psnr: number, seam = Number.NaN, ms = Number.NaN) => {
  const r = table.get(row) ?? { psnr: [], seams: [], ms: [] };
  r.psnr.push(psnr);
  r.seams.push(seam);
  r.ms.push(ms);
  table.set(row, r);
};
try {
  for (const photo of photos) {
    const img = await decodeImageFile(photo, { channels: c as 1 | 3 });
    const shape: [number, number, number] = [c, img.height, img.width];
    const clean = ImageDataset.fromUint8(img.planes, shape, null, { store: 'uint8' });
    console.error(`${photo}: ${img.width}×${img.height}`);
    const size = clean.imageSize;
    const psnr = (v: Float32Array) => imageErrors(clean.images, v, size).psnr[0]!;
    for (let seed = 1; seed <= seeds; seed++) {
      const noisy = addNoise(clean, { type: 'gaussian', std }, { seed }).images;
      add('noisy', psnr(noisy));
      add('median 3×3', psnr(quantize(median3(noisy, c, img.height, img.width))));
      for (const [name, stride, window] of VARIANTS) {
        const t0 = performance.now();
        const y = quantize(await reconstructTiled(runner, stack, noisy, shape, { stride, window, input: saved.input }));
        add(name, psnr(y), seams(clean.images, y, img.height, img.width, stride), performance.now() - t0);
      }
      if (picture && photo === photos[0] && seed === 1) {
        const at = async (o: { stride?: number; window?: TileWindow }) =>
          imagePng(
            quantize(await reconstructTiled(runner, stack, noisy, shape, { ...o, input: saved.input })),
            ...shape,
          );
        await sideBySide(picture, [await at({ stride: th, window: 'flat' }), await at({})]);
      }
    }
  }
  console.log(
    `σ ${std}, ${photos.length} photo(s) × ${seeds} seed(s), ${runner.where}; mean PSNR (dB) [min … max], seams, ms per photo`,
  );
  console.log('| | PSNR dB | seams | ms |\n|---|---|---|---|');
  for (const [row, r] of table) {
    const seam = meanOf(r.seams),
      ms = meanOf(r.ms);
    console.log(
      `| ${row} | ${meanOf(r.psnr).toFixed(2)} [${Math.min(...r.psnr).toFixed(2)} … ${Math.max(...r.psnr).toFixed(2)}] | ${Number.isNaN(seam) ? '' : seam.toFixed(3)} | ${Number.isNaN(ms) ? '' : ms.toFixed(0)} |`,
    );
  }
} finally {
  await runner.dispose();
  saved.dispose();
}
