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
    let m = 0;
    for (const v of img) m += v;
    m /= size;
    let v2 = 0;
    for (const v of img) v2 += (v - m) ** 2;
    const s = 1 / Math.sqrt(v2 / size + eps);
    for (let t = 0; t < size; t++) out[i * size + t] = (img[t] - m) * s;
  }
  return ImageDataset.fromFloat32(out, data.shape, data.labels ?? undefined, data.numClasses);
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
