/**
 * What an export puts before the network: the input normalisation of the model's JSON `training` record, as convae
 * applies it to raw pixels before the network (`normalized` in ts/cli/data.ts). With it, the exported graph or
 * module takes what `convae predict` takes — raw pixels in [0, 1] — and gives its outputs.
 */
import { CONTRAST_EPS, inputOf, type TrainingInput } from '../data/normalize.js';
import { ArgumentError, DataError, quote } from '../errors.js';

/** The whitening kernel's name: an ONNX initializer, and a buffer in model.safetensors (which `convae import` skips). */
export const NORMALIZE_KERNEL = 'normalize.kernel';

/**
 * The normalisation the `training` record of `modelJsonText` names ('none' without a record), for a model of
 * `channels` input channels; `op` names the caller.
 */
export function exportedInput(op: string, modelJsonText: string, channels: number): TrainingInput {
  let training: unknown;
  try {
    if (typeof modelJsonText !== 'string') throw new TypeError();
    training = (JSON.parse(modelJsonText) as { training?: unknown } | null)?.training;
  } catch {
    // Unread, the export would hold the network alone: other outputs than convae's on raw pixels, without a word.
    throw new ArgumentError(
      op,
      'modelJsonText',
      `must be the model's JSON text (saveModel(model).json), got ${quote(modelJsonText)}`,
    );
  }
  const input = inputOf(training, `${op} modelJsonText`);
  // A graph that fails on every input, written without a word, is worse than no export.
  if (input.whitening && input.whitening.channels !== channels)
    throw new DataError(
      `${op}: training.whitening of modelJsonText whitens ${input.whitening.channels}-channel images, the model takes ${channels}`,
    );
  return input;
}

/** What an export's normalisation does, in words (model.py, README.md, `convae export`'s message); null for none. */
export function normalizationStep(input: TrainingInput): string | null {
  const contrast = `contrast normalisation (each image minus its mean over all its values, divided by √(their variance + ${CONTRAST_EPS}))`;
  const w = input.whitening;
  if (input.normalize === 'contrast') return contrast;
  if (input.normalize === 'whiten' && w)
    return `${contrast}, then the local whitening of training.whitening (a ${w.channels}×${w.channels}×${w.window}×${w.window} convolution, the image's edge rows and columns repeated)`;
  return null;
}
