/**
 * What `convae denoise` writes besides the images: denoise.csv (each file, its output, and with `--add-noise` its
 * errors noisy and denoised) and comparison.png (some images clean, noisy and denoised, one row each). Shared by the
 * run on images of the model's size and the run at each image's own size (denoise-own.ts).
 */
import type { ImageNoise } from '../data/imagenoise.js';
import type { ImageErrors } from '../data/quality.js';
import { ArgumentError } from '../errors.js';
import { MAX_RASTER_PIXELS } from '../limits.js';
import { figureSvg } from '../viz/figure.js';
import { gridSize, imageGrid } from '../viz/raster.js';
import { pngDataUrl, svgToPng } from '../viz/render.js';
import { csvField } from './apply.js';

const OP = 'convae denoise';

/** Images shown in comparison.png (as `--limit` takes images), at most. */
export const COMPARISON_IMAGES = 12;

/** Longest side of a comparison.png cell, in the picture's pixels: images are scaled up to it, own-size crops cut to it. */
export const COMPARISON_CELL = 96;

/** The noise, in words for the log and the picture's title. */
export const describeNoise = (z: ImageNoise) =>
  // Not σ: the pictures' embedded font has no Greek.
  z.type === 'gaussian'
    ? `Gaussian noise of standard deviation ${z.std}`
    : // 100 × 0.07 is 7.000000000000001 in floats: the title and log said so.
      `${z.type} noise on ${Number((100 * z.fraction).toPrecision(12))} % of the values`;

/**
 * The scale of comparison.png's `k` cells of `h × w` pixels (as many picture pixels per image pixel as fit
 * COMPARISON_CELL), checked against MAX_RASTER_PIXELS before anything is encoded.
 */
export function comparisonScale(k: number, h: number, w: number): number {
  const scale = Math.max(1, Math.floor(COMPARISON_CELL / Math.max(h, w)));
  const g = gridSize(OP, 3 * k, h * scale, w * scale, { columns: k });
  if (g.width * g.height > MAX_RASTER_PIXELS)
    throw new ArgumentError(
      OP,
      '--add-noise',
      `draws comparison.png of ${k} images of ${h}×${w} px, ${g.width}×${g.height} px, more than ${MAX_RASTER_PIXELS} pixels (MAX_RASTER_PIXELS)`,
    );
  return scale;
}

/**
 * comparison.png: `cells` holds 3·k images of `shape` (clean, then noisy, then denoised, k each), drawn in three
 * named rows at `scale`, under `title`.
 */
export function comparisonPng(
  cells: Float32Array,
  k: number,
  shape: readonly [number, number, number],
  scale: number,
  title: string,
): Uint8Array {
  const [c, h, w] = shape;
  const pad = 1;
  const grid = imageGrid(cells, [3 * k, c, h, w], { columns: k, scale, pad, range: [0, 1] });
  const rowLabels = ['clean', 'noisy', 'denoised'].map((text, r) => ({
    y: pad + r * (h * scale + pad) + (h * scale) / 2,
    text,
  }));
  return svgToPng(
    figureSvg({ href: pngDataUrl(grid), width: grid.width, height: grid.height }, { title, rowLabels, minWidth: 0 }),
  );
}

/** denoise.csv: file and output, and with added noise each image's MSE and PSNR, noisy and denoised. */
export function csvText(
  files: string[],
  outputs: string[],
  noisy: ImageErrors | null,
  denoised: ImageErrors | null,
): string {
  const lines = [`file,output${noisy ? ',noisy_mse,noisy_psnr,denoised_mse,denoised_psnr' : ''}`];
  for (let i = 0; i < files.length; i++) {
    const row = [csvField(files[i]!), csvField(outputs[i]!)];
    if (noisy && denoised)
      row.push(
        noisy.mse[i]!.toPrecision(6),
        noisy.psnr[i]!.toFixed(3),
        denoised.mse[i]!.toPrecision(6),
        denoised.psnr[i]!.toFixed(3),
      );
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}
