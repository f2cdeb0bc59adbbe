/**
 * `convae denoise --model DIR --data SPEC --out DIR`: every image goes up through the first `--depth` blocks of the
 * saved stack and back down (`Runner.reconstructThrough`), and its reconstruction is written as a PNG under
 * `OUT/images/`, at the model's input size: a denoising CAE gives back its images cleaned. `OUT/denoise.csv` lists
 * each input file and its output. With `--add-noise` the images given are taken as clean, corrupted first
 * (`addNoise`), and the CSV gives each image's MSE and PSNR, noisy and denoised, against the clean one;
 * `OUT/comparison.png` shows some images clean, noisy and denoised, one row each.
 *
 * A contrast-normalised model reconstructs in its normalised space: each image is mapped back with its own mean and
 * spread (`toPixels`); a whitened model is refused (`checkToPixels` says why).
 */
import { join } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { type ImageNoise, addNoise, checkImageNoise } from '../data/imagenoise.js';
import { checkReconstructThrough } from '../anomaly/score.js';
import { checkToPixels, toPixels } from '../data/normalize.js';
import { imageErrors, type ImageErrors, meanOf, quantize } from '../data/quality.js';
import { ArgumentError } from '../errors.js';
import { writeAtomic } from '../io/files.js';
import { MAX_RASTER_PIXELS } from '../limits.js';
import type { Runner } from '../train/runner.js';
import { figureSvg } from '../viz/figure.js';
import { gridSize, imageGrid } from '../viz/raster.js';
import { loadRenderer, pngDataUrl, svgToPng } from '../viz/render.js';
import { defaultWorkers } from '../worker/pool.js';
import { createRunner } from '../worker/runner.js';
import { csvField, stackDepth } from './apply.js';
import { type AllData, type DataSpec, limitIndices, normalized, resolveAllData } from './data.js';
import { checkDataNotInOut, checkNoLinks, outputNames, writeImages } from './denoise-files.js';
import { checkOutDir, checkOutFile, checkOutsideData } from './outdir.js';
import { loadSaved } from './saved.js';

const OP = 'convae denoise';

/** Images shown in comparison.png (as `--limit` takes images), at most. */
export const COMPARISON_IMAGES = 12;

export interface DenoiseArgs extends DataSpec {
  model: string;
  /** Folder of images/, denoise.csv and (with `addNoise`) comparison.png. */
  out: string;
  /** Blocks the images go up and back down through: 1 to the stack's length. */
  depth: number;
  /** Corrupt the (clean) images first, and measure: `--add-noise`. */
  addNoise?: ImageNoise;
  /** Seed of the added noise. */
  noiseSeed: number;
  build: Build | 'auto';
  /** Workers that reconstruct (default: the cores); 0 = this thread. Same images either way. */
  workers?: number;
  quiet: boolean;
}

/** Mean MSE and PSNR over the images. */
export interface MeanErrors {
  mse: number;
  psnr: number;
}

/** What `denoise` wrote, and with `addNoise` how far the noisy and the denoised images are from the clean ones. */
export interface DenoiseResult {
  /** The input names (a folder's relative paths, or `test#i`). */
  files: string[];
  /** Each image's output, relative to `out`. */
  outputs: string[];
  noisy?: MeanErrors;
  denoised?: MeanErrors;
}

export async function denoise(a: DenoiseArgs): Promise<DenoiseResult> {
  const log = (s: string) => a.quiet || console.error(s);
  if (a.addNoise !== undefined) {
    checkImageNoise(OP, '--add-noise', a.addNoise);
    loadRenderer(); // comparison.png is drawn through SVG: without a renderer, stop before anything is read
  }
  // The images written there would be read back by the next run on --data; and --data inside --out could be overwritten.
  await checkOutsideData(OP, [{ flag: '--out', path: a.out, folder: true }], [{ flag: '--data', spec: a.data }]);
  await checkDataNotInOut(a.data, a.out);
  const be = await loadBackend({ build: a.build });
  const saved = await loadSaved(be, a.model, 'stack');
  let runner: Runner | undefined;
  try {
    const stack = saved.stack!;
    checkToPixels(OP, '--model', saved.input);
    const depth = stackDepth(OP, a.depth, stack, a.model);
    // Read as the files are (pixels in [0, 1]); the model's normalisation is applied below, after any added noise.
    const d = await resolveAllData({ ...a, normalize: 'none' }, saved.inputShape);
    const n = d.data.length;
    // Everything that can be refused is refused before an image is encoded.
    checkReconstructThrough(OP, stack, d.data, { depth });
    const outputs = outputNames(d);
    await checkOutDir(a.out);
    await checkNoLinks(a.out, outputs);
    await checkOutFile(join(a.out, 'denoise.csv'), '--out');
    if (a.addNoise) await checkOutFile(join(a.out, 'comparison.png'), '--out');
    const shown = a.addNoise ? comparisonLayout(d) : null;
    log(
      `${OP}: ${n} images of ${d.name.slice(0, 120)}${a.addNoise ? `, with ${describeNoise(a.addNoise)} added (seed ${a.noiseSeed})` : ''}; through ${depth} block(s) and back`,
    );

    const given = a.addNoise ? addNoise(d.data, a.addNoise, { seed: a.noiseSeed }) : d.data;
    runner = await createRunner(be, { workers: a.workers ?? (await defaultWorkers()) });
    const recon = await runner.reconstructThrough(stack, normalized(given, saved.input.normalize), { depth });
    // What the PNGs hold: the errors below are those of the files written.
    const denoised = quantize(toPixels(recon, given, saved.input));
    await writeImages(a.out, d, outputs, denoised);

    const size = d.data.imageSize;
    const clean = a.addNoise ? d.data.readImages(0, n) : null;
    const noisy = clean ? given.readImages(0, n) : null;
    const noisyErr = clean && noisy ? imageErrors(clean, noisy, size) : null;
    const denoisedErr = clean ? imageErrors(clean, denoised, size) : null;
    await writeAtomic(join(a.out, 'denoise.csv'), csvText(d.names, outputs, noisyErr, denoisedErr));
    if (shown && clean && noisy) {
      const title = `${d.name.slice(0, 60)}, ${describeNoise(a.addNoise!)}: PSNR ${meanOf(noisyErr!.psnr).toFixed(2)} dB noisy, ${meanOf(denoisedErr!.psnr).toFixed(2)} dB denoised (depth ${depth}, mean of ${n} images)`;
      const png = comparison(d, shown, [clean, noisy, denoised], title);
      await writeAtomic(join(a.out, 'comparison.png'), png);
    }
    const result: DenoiseResult = { files: d.names, outputs };
    if (noisyErr && denoisedErr) {
      result.noisy = { mse: meanOf(noisyErr.mse), psnr: meanOf(noisyErr.psnr) };
      result.denoised = { mse: meanOf(denoisedErr.mse), psnr: meanOf(denoisedErr.psnr) };
    }
    return result;
  } finally {
    await runner?.dispose();
    saved.dispose();
  }
}

const describeNoise = (z: ImageNoise) =>
  // Not σ: the pictures' embedded font has no Greek.
  z.type === 'gaussian'
    ? `Gaussian noise of standard deviation ${z.std}`
    : `${z.type} noise on ${100 * z.fraction} % of the values`;

/** comparison.png's images and scale, checked before anything is encoded. */
function comparisonLayout(d: AllData): { indices: Uint32Array; scale: number } {
  const [, h, w] = d.data.shape;
  const k = Math.min(COMPARISON_IMAGES, d.data.length);
  const scale = Math.max(1, Math.floor(96 / Math.max(h, w)));
  const g = gridSize(OP, 3 * k, h * scale, w * scale, { columns: k });
  if (g.width * g.height > MAX_RASTER_PIXELS)
    throw new ArgumentError(
      OP,
      '--add-noise',
      `draws comparison.png of ${k} images of ${h}×${w} px, ${g.width}×${g.height} px, more than ${MAX_RASTER_PIXELS} pixels (MAX_RASTER_PIXELS)`,
    );
  return { indices: limitIndices(d.data, d.name, k, 1), scale };
}

/** Rows clean / noisy / denoised of the chosen images, each row named, the noise and the mean PSNRs above them. */
function comparison(
  d: AllData,
  at: { indices: Uint32Array; scale: number },
  rows: Float32Array[],
  title: string,
): Uint8Array {
  const [c, h, w] = d.data.shape;
  const size = c * h * w,
    k = at.indices.length;
  const tiles = new Float32Array(3 * k * size);
  rows.forEach((row, r) =>
    at.indices.forEach((i, j) => tiles.set(row.subarray(i * size, (i + 1) * size), (r * k + j) * size)),
  );
  const pad = 1;
  const grid = imageGrid(tiles, [3 * k, c, h, w], { columns: k, scale: at.scale, pad, range: [0, 1] });
  const rowLabels = ['clean', 'noisy', 'denoised'].map((text, r) => ({
    y: pad + r * (h * at.scale + pad) + (h * at.scale) / 2,
    text,
  }));
  return svgToPng(
    figureSvg({ href: pngDataUrl(grid), width: grid.width, height: grid.height }, { title, rowLabels, minWidth: 0 }),
  );
}

/** denoise.csv: file and output, and with added noise each image's MSE and PSNR, noisy and denoised. */
function csvText(files: string[], outputs: string[], noisy: ImageErrors | null, denoised: ImageErrors | null): string {
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
