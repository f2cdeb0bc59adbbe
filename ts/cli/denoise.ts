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
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { realpath } from 'node:fs/promises';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { type ImageNoise, addNoise, checkImageNoise } from '../data/imagenoise.js';
import { checkReconstructThrough } from '../anomaly/score.js';
import { checkToPixels, toPixels } from '../data/normalize.js';
import { imageErrors, type ImageErrors, meanOf, quantize } from '../data/quality.js';
import { ArgumentError } from '../errors.js';
import { makeDirs, writeAtomic } from '../io/files.js';
import { MAX_RASTER_PIXELS } from '../limits.js';
import type { Runner } from '../train/runner.js';
import { encodePng } from '../viz/png.js';
import { gridSize, imageGrid } from '../viz/raster.js';
import { defaultWorkers } from '../worker/pool.js';
import { createRunner } from '../worker/runner.js';
import { csvField, stackDepth } from './apply.js';
import { type AllData, type DataSpec, imageFolderOf, limitIndices, normalized, resolveAllData } from './data.js';
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
  if (a.addNoise !== undefined) checkImageNoise(OP, '--add-noise', a.addNoise);
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
      const png = comparison(d, shown, [clean, noisy, denoised]);
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
  z.type === 'gaussian' ? `Gaussian noise σ ${z.std}` : `${z.type} noise on ${100 * z.fraction} % of the values`;

/** Refuses an image folder `--data` inside `--out`: its files could be replaced by their own denoised versions. */
async function checkDataNotInOut(data: string, out: string): Promise<void> {
  const dir = await imageFolderOf(data);
  if (dir === null) return;
  const [root, at] = await Promise.all([realpath(dir), realpath(out).catch(() => resolve(out))]);
  const rel = relative(at, root);
  if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) return;
  throw new ArgumentError(
    OP,
    '--out',
    `${out.slice(0, 160)} holds --data ${data.slice(0, 160)}: its images could be replaced by their denoised versions; give --out a folder outside it`,
  );
}

/**
 * Each image's output file, relative to `--out`: `images/` and the folder's relative path with its extension made
 * .png (two inputs that would meet keep their whole name: `a.jpg.png`, `a.png`), or `images/<index>.png` for the
 * fixed-format sets. Every name is checked to stay inside `images/` and to be one image's alone.
 */
export function outputNames(d: AllData): string[] {
  const n = d.data.length;
  if (!d.name.startsWith('folder:')) {
    const digits = String(Math.max(0, n - 1)).length;
    return Array.from({ length: n }, (_, i) => `images/${String(i).padStart(digits, '0')}.png`);
  }
  const parts = d.names.map((name) => {
    const segs = name.split('/');
    // The folder walk gives none of these; a name that had one would write outside images/.
    if (segs.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0')))
      throw new ArgumentError(
        OP,
        '--data',
        `holds a file name that cannot be an output's: ${JSON.stringify(name.slice(0, 160))}`,
      );
    // A backslash is a name's own character on Linux and macOS, a separator on Windows: never one here.
    return segs.map((s) => s.replaceAll('\\', '_'));
  });
  const stem = (segs: string[]) => {
    const last = segs[segs.length - 1]!;
    const dot = last.lastIndexOf('.');
    return [...segs.slice(0, -1), `${dot > 0 ? last.slice(0, dot) : last}.png`].join('/');
  };
  const first = parts.map(stem);
  const count = new Map<string, number>();
  // Compared without case: on a case-insensitive disk (macOS, Windows) `A.png` and `a.png` are one file.
  for (const f of first) count.set(f.toLowerCase(), (count.get(f.toLowerCase()) ?? 0) + 1);
  const names = parts.map((segs, i) => (count.get(first[i]!.toLowerCase())! > 1 ? `${segs.join('/')}.png` : first[i]!));
  const seen = new Set<string>();
  for (const [i, f] of names.entries()) {
    const key = f.toLowerCase();
    if (seen.has(key))
      throw new ArgumentError(
        OP,
        '--data',
        `two files would be written to one output, ${JSON.stringify(f.slice(0, 160))} (the last: ${JSON.stringify(d.names[i]!.slice(0, 160))}): rename one`,
      );
    seen.add(key);
  }
  return names.map((f) => `images/${f}`);
}

/**
 * Refuses a symbolic link among the folders the images go to (`OUT/images` and its sub-folders, where they exist):
 * the images would land wherever it points, the data folder included.
 */
async function checkNoLinks(out: string, outputs: readonly string[]): Promise<void> {
  const root = await realpath(out);
  const dirs = new Set<string>();
  for (const o of outputs) {
    const segs = o.split('/');
    for (let k = 1; k < segs.length; k++) dirs.add(segs.slice(0, k).join('/'));
  }
  for (const dir of dirs) {
    const at = join(root, dir);
    const real = await realpath(at).catch(() => at);
    if (real !== at)
      throw new ArgumentError(
        OP,
        '--out',
        `${join(out, dir).slice(0, 160)} is a symbolic link (to ${real.slice(0, 160)}): the images would be written there; remove it or give another --out`,
      );
  }
}

/** Writes image i's values (pixels in [0, 1], quantised) to `out`/`outputs[i]`, a few at a time, each atomically. */
async function writeImages(out: string, d: AllData, outputs: string[], pixels: Float32Array): Promise<void> {
  const [c, h, w] = d.data.shape;
  const size = c * h * w;
  const madeDirs = new Set<string>();
  const one = async (i: number) => {
    const file = join(out, outputs[i]!);
    const dir = dirname(file);
    if (!madeDirs.has(dir)) {
      await makeDirs(dir);
      madeDirs.add(dir);
    }
    await writeAtomic(file, imagePng(pixels.subarray(i * size, (i + 1) * size), c, h, w));
  };
  for (let i = 0; i < outputs.length; i += 16)
    await Promise.all(Array.from({ length: Math.min(16, outputs.length - i) }, (_, k) => one(i + k)));
}

/** One image (planes, values on the 1/255 grid) as a PNG: grey for one channel, RGB for three. */
export function imagePng(img: Float32Array, c: number, h: number, w: number): Uint8Array {
  const raster = imageGrid(img, [1, c, h, w], { columns: 1, scale: 1, pad: 0, range: [0, 1] });
  return encodePng(raster, { grey: c === 1 });
}

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

/** Rows clean / noisy / denoised of the chosen images. */
function comparison(d: AllData, at: { indices: Uint32Array; scale: number }, rows: Float32Array[]): Uint8Array {
  const [c, h, w] = d.data.shape;
  const size = c * h * w,
    k = at.indices.length;
  const tiles = new Float32Array(3 * k * size);
  rows.forEach((row, r) =>
    at.indices.forEach((i, j) => tiles.set(row.subarray(i * size, (i + 1) * size), (r * k + j) * size)),
  );
  return encodePng(imageGrid(tiles, [3 * k, c, h, w], { columns: k, scale: at.scale, range: [0, 1] }));
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
