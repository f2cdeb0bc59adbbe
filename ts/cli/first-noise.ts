/**
 * The first CAE's input noise as `train --noise` and `pretrain --noise` take it (`trainNoiseArg` in commands.ts):
 * a masking fraction, or Gaussian noise. One reading for both commands, so a stack pretrained with a flag and one
 * trained with the same flag get the same block.
 */
import type { Noise } from '../model/noise.js';

/**
 * A masking fraction in [0, 1) (0: none; the kept pixels rescaled), masking as `--add-noise masking:f` draws it,
 * Gaussian noise of σ `std`, or salt and pepper on a `fraction`.
 */
export type FirstNoise =
  | number
  | { type: 'masking'; fraction: number }
  | { type: 'gaussian'; std: number }
  | { type: 'salt-pepper'; fraction: number };

/**
 * The block's `noise` field: a fraction as the schema's 'mask' with its kept pixels rescaled (the expectation of
 * the input stays the clean image, which features for a classifier want), null for 0. On pixels (no normalisation)
 * the spelt-out noises are the corruption a stored image has, as `--add-noise` draws it: Gaussian noise clipped to
 * [0, 1] (trained without the clipping, a stack denoised clipped noise 1.5 dB worse), and `masking:f`'s kept pixels
 * left as they are (trained with them rescaled, a stack gave masked images back dimmer, 3 dB worse: README
 * "Denoising"). On normalised inputs, which are not pixels, they are neither clipped nor left unscaled.
 */
export const firstNoiseSpec = (n: FirstNoise, pixels: boolean): Noise | null =>
  typeof n !== 'number'
    ? n.type === 'gaussian'
      ? { ...n, clip: pixels }
      : n.type === 'masking'
        ? { type: 'mask', fraction: n.fraction, rescale: !pixels }
        : n
    : n > 0
      ? { type: 'mask', fraction: n }
      : null;

/** The noise in a log line, or '' for none. */
export const describeFirstNoise = (n: FirstNoise): string =>
  typeof n === 'number'
    ? n > 0
      ? `${n} masking noise`
      : ''
    : n.type === 'gaussian'
      ? `Gaussian noise σ ${n.std}`
      : n.type === 'masking'
        ? `masking noise on ${n.fraction} of the values (the rest as they are)`
        : `salt-and-pepper noise on ${n.fraction} of the values`;
