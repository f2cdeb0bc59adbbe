/**
 * The first CAE's input noise as `train --noise` and `pretrain --noise` take it (`trainNoiseArg` in commands.ts):
 * a masking fraction, or Gaussian noise. One reading for both commands, so a stack pretrained with a flag and one
 * trained with the same flag get the same block.
 */
import type { Noise } from '../model/noise.js';

/** A masking fraction in [0, 1) (0: none), Gaussian noise of σ `std`, or salt and pepper on a `fraction`. */
export type FirstNoise = number | { type: 'gaussian'; std: number } | { type: 'salt-pepper'; fraction: number };

/** The block's `noise` field: masking as the schema's 'mask' (its kept pixels rescaled), null for 0. */
export const firstNoiseSpec = (n: FirstNoise): Noise | null =>
  typeof n !== 'number' ? n : n > 0 ? { type: 'mask', fraction: n } : null;

/** The noise in a log line, or '' for none. */
export const describeFirstNoise = (n: FirstNoise): string =>
  typeof n === 'number'
    ? n > 0
      ? `${n} masking noise`
      : ''
    : n.type === 'gaussian'
      ? `Gaussian noise σ ${n.std}`
      : `salt-and-pepper noise on ${n.fraction} of the values`;
