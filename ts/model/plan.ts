/**
 * A stack of CAE blocks planned on an input shape without allocating a parameter: the code size at each depth, and
 * the smallest square images the blocks take (a command refuses too-small images with that size, not with the
 * first layer that ran out of pixels).
 */
import type { Backend } from '../backend/backend.js';
import { ArgumentError, ConvaeError } from '../errors.js';
import { MAX_IMAGE_SIDE, MAX_SPATIAL_SIZE } from '../limits.js';
import { type BlockSpec, ConvAutoencoder } from './autoencoder.js';
import { numel } from '../shape.js';
import { describe } from './schema.js';

/** The blocks a stack of `blocks` on `inputShape` would have, planned (`init: null`): shapes and layers, nothing allocated. */
export function plannedBlocks(
  be: Backend,
  blocks: readonly BlockSpec[],
  inputShape: readonly number[],
): ConvAutoencoder[] {
  const out: ConvAutoencoder[] = [];
  let shape = inputShape;
  for (const [k, spec] of blocks.entries()) {
    out.push(new ConvAutoencoder(be, spec, shape, { name: `block${k}`, first: k === 0 }, null));
    shape = out[k].codeShape;
  }
  return out;
}

/** Floats per image at each depth of a stack of `blocks` on `inputShape` (depth 0: the pixels), planned: nothing allocated. */
export function plannedCodeSizes(be: Backend, blocks: readonly BlockSpec[], inputShape: readonly number[]): number[] {
  return [numel(inputShape), ...plannedBlocks(be, blocks, inputShape).map((b) => numel(b.codeShape))];
}

const plans = (be: Backend, blocks: readonly BlockSpec[], shape: readonly number[]): boolean => {
  try {
    plannedCodeSizes(be, blocks, shape);
    return true;
  } catch (e) {
    if (e instanceof ConvaeError) return false;
    throw e;
  }
};

/**
 * The smallest side s such that `blocks` plan on `channels`×s×s images, or null when no side up to MAX_IMAGE_SIDE
 * does. Every layer's output size is non-decreasing in its input size (floor((in + 2p − k)/s) + 1 for conv and pool),
 * so once a side fits, larger ones do until the planner's size limits refuse them: the search doubles up from 1 to
 * the first side that fits, then halves the gap below it, and never plans the largest images unless it must.
 * `blocks` not an array, or `channels` not an integer in [1, MAX_SPATIAL_SIZE], is an ArgumentError.
 */
export function smallestInputSide(be: Backend, blocks: readonly BlockSpec[], channels: number): number | null {
  // What no side can change is refused, not reported as null ("no side fits"), which every plan would have said.
  if (!Array.isArray(blocks)) throw new ArgumentError('smallestInputSide', 'blocks', 'must be an array of block specs');
  if (!(Number.isInteger(channels) && channels >= 1 && channels <= MAX_SPATIAL_SIZE))
    throw new ArgumentError(
      'smallestInputSide',
      'channels',
      `must be an integer in [1, ${MAX_SPATIAL_SIZE}], got ${describe(channels)}`,
    );
  let hi = 1;
  while (!plans(be, blocks, [channels, hi, hi])) {
    if (hi >= MAX_IMAGE_SIDE) return null;
    hi = Math.min(2 * hi, MAX_IMAGE_SIDE);
  }
  let lo = Math.floor(hi / 2) + 1; // hi fits, hi/2 did not (or hi is 1)
  if (hi === 1) lo = 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (plans(be, blocks, [channels, mid, mid])) hi = mid;
    else lo = mid + 1;
  }
  return hi;
}
