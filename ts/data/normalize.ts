/**
 * Per-image contrast normalisation (Coates, Lee & Ng 2011's preprocessing of
 * natural-image patches): subtract the image's mean over all its values (so
 * colour differences survive), divide by √(variance + eps). Photographs then
 * differ by their structure, not by how bright or how contrasted they are, and
 * a CAE's first-layer filters stop spending themselves on brightness
 * (docs/images/photo-filters.png; README "A real colour run").
 *
 * Browser-safe; the result is a float dataset (4 bytes per value).
 */
import { ArgumentError, DataError, quote } from '../errors.js';
import { checkResultFloats, datasetArg, ImageDataset } from './dataset.js';
import { optionsOf } from '../util/options.js';
import { type Whitening, whiteningOf } from './whiten.js';

/** `contrastNormalize`'s default eps: what `convae --normalize` trains with, and what an export's graph adds. */
export const CONTRAST_EPS = 1e-3;

/** Options of `contrastNormalize`. */
export interface ContrastOptions {
  /** Added to each image's variance before the square root: keeps flat images from being blown up into noise. Default 1e-3 (values in [0, 1]). */
  eps?: number;
}

/** Each image minus its mean, divided by √(its variance + eps), over all its channels and pixels; labels kept. */
export function contrastNormalize(data: ImageDataset, opts?: ContrastOptions): ImageDataset {
  const op = 'contrastNormalize';
  datasetArg(op, data);
  const eps = optionsOf(op, opts).eps ?? CONTRAST_EPS;
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps))
    throw new ArgumentError(op, 'eps', `must be a finite number > 0, got ${quote(eps)}`);
  const size = data.imageSize;
  checkResultFloats(op, 'data', data.length, size, 'normalised images');
  const out = new Float32Array(data.length * size);
  const img = new Float32Array(size);
  for (let i = 0; i < data.length; i++) {
    data.readImages(i, i + 1, img);
    const { mean, spread } = contrastOf(img, eps);
    const s = 1 / spread;
    for (let t = 0; t < size; t++) out[i * size + t] = (img[t] - mean) * s;
  }
  return ImageDataset.fromFloat32(out, data.shape, data.labels ?? undefined, data.numClasses);
}

/** An image's mean and √(variance + eps): what `contrastNormalize` subtracts and divides by, and `toPixels` undoes. */
function contrastOf(img: Float32Array, eps: number): { mean: number; spread: number } {
  let m = 0;
  for (const v of img) m += v;
  m /= img.length;
  let v2 = 0;
  for (const v of img) v2 += (v - m) ** 2;
  return { mean: m, spread: Math.sqrt(v2 / img.length + eps) };
}

/**
 * Throws an ArgumentError naming `op` and `arg` unless `toPixels` can map images normalised as `input` says back to
 * pixels. A whitened model's are refused. Undoing a local whitening is a deconvolution of each image: a linear
 * system as large as the image (the filter with replicated edges is no circular convolution that a Fourier division
 * would invert), whose solution amplifies most the smooth, strong directions the whitening damped most, by up to
 * √((λmax + ε)/ε), ε what `fitWhitening` added to every eigenvalue: the small smooth errors of a reconstruction
 * would come back as blotches.
 * Not attempted: a model meant to give images back is trained on 'none' or 'contrast' input.
 */
export function checkToPixels(op: string, arg: string, input: TrainingInput): void {
  if (input?.normalize === 'whiten')
    throw new ArgumentError(
      op,
      arg,
      "was trained on whitened images (training.normalize 'whiten'): its reconstructions are not mapped back to pixels (undoing a local whitening is a deconvolution of each image that amplifies the smooth errors it damped); use a model pretrained with --normalize none or contrast",
    );
  if (input?.normalize !== 'none' && input?.normalize !== 'contrast')
    throw new ArgumentError(op, arg, `must have normalize 'none' or 'contrast', got ${quote(input?.normalize)}`);
}

/**
 * Values in a model's input space (reconstructions, n × C·H·W) as pixels: with `input.normalize` 'contrast', each
 * image times √(variance + CONTRAST_EPS) (the eps `convae --normalize` trains with) plus the mean of the same image of `read` (the images before normalisation: those the
 * model was given); with 'none', a copy. Not clipped. 'whiten' is refused (`checkToPixels`).
 */
export function toPixels(values: Float32Array, read: ImageDataset, input: TrainingInput): Float32Array {
  const op = 'toPixels';
  datasetArg(op, read);
  checkToPixels(op, 'input', input);
  const size = read.imageSize;
  if (!(values instanceof Float32Array) || values.length !== read.length * size)
    throw new ArgumentError(
      op,
      'values',
      `must be a Float32Array of ${read.length}·${size} values (one image of read each)`,
    );
  const out = Float32Array.from(values);
  if (input.normalize === 'none') return out;
  const img = new Float32Array(size);
  for (let i = 0; i < read.length; i++) {
    read.readImages(i, i + 1, img);
    const { mean, spread } = contrastOf(img, CONTRAST_EPS);
    for (let t = i * size; t < (i + 1) * size; t++) out[t] = out[t] * spread + mean;
  }
  return out;
}

/** How a saved model's input was normalised in training: its JSON's `training.normalize` and `training.whitening`. */
export interface TrainingInput {
  /** 'contrast': `contrastNormalize`; 'whiten': that, then `whiten` with `whitening`. */
  normalize: 'none' | 'contrast' | 'whiten';
  /** The whitening of 'whiten'. */
  whitening?: Whitening;
}

/**
 * `training.normalize` (and `training.whitening`) of a saved model's JSON, read where `file` says: absent is 'none';
 * anything unknown is refused (a model fed other input than it was trained on gives other outputs, silently).
 */
export function inputOf(training: unknown, file: string): TrainingInput {
  const t = training as { normalize?: unknown; whitening?: unknown } | null | undefined;
  const v = t?.normalize;
  // A whitening beside another normalisation says two things of the same input; whichever we took, the file's
  // author meant the other one somewhere (an edited record). Refused rather than silently half applied.
  if (
    v !== 'whiten' &&
    t !== null &&
    typeof t === 'object' &&
    Object.hasOwn(t, 'whitening') &&
    t.whitening !== undefined
  )
    throw new DataError(
      `${file}: training.whitening is given, but training.normalize is ${JSON.stringify(v ?? 'none')?.slice(0, 40)}: the whitening would be ignored; give normalize 'whiten', or remove the whitening`,
    );
  if (v === undefined || v === 'none') return { normalize: 'none' };
  if (v === 'contrast') return { normalize: 'contrast' };
  if (v === 'whiten') return { normalize: 'whiten', whitening: whiteningOf(t?.whitening, `${file} training`) };
  throw new DataError(
    `${file}: training.normalize must be 'none', 'contrast' or 'whiten', got ${JSON.stringify(v)?.slice(0, 40)}`,
  );
}
