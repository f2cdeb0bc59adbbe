/**
 * The first CAE's input noise as `train --noise` and `pretrain --noise` take it (`trainNoiseArg` in commands.ts):
 * a masking fraction, or Gaussian noise. One reading for both commands, so a stack pretrained with a flag and one
 * trained with the same flag get the same block.
 */
import type { Noise } from '../model/noise.js';

/** A masking fraction in [0, 1) (0: none), Gaussian noise of σ `std`, or salt and pepper on a `fraction`. */
export type FirstNoise = number | { type: 'gaussian'; std: number } | { type: 'salt-pepper'; fraction: number };

/**
 * The block's `noise` field: masking as the schema's 'mask' (its kept pixels rescaled), null for 0. On pixels (no
 * normalisation) Gaussian noise is clipped to [0, 1], as a noisy image is stored: trained without the clipping, a
 * stack denoised clipped noise 1.5 dB worse (README "Denoising").
 */
export const firstNoiseSpec = (n: FirstNoise, pixels: boolean): Noise | null =>
  typeof n !== 'number'
    ? n.type === 'gaussian'
      ? { ...n, clip: pixels }
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
      : `salt-and-pepper noise on ${n.fraction} of the values`;
