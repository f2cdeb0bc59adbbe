/** Images too small for a command's stack, refused by the size the stack needs rather than by the layer that ran out of pixels. */
import type { Backend } from '../backend/backend.js';
import { ArgumentError, ConvaeError } from '../errors.js';
import type { BlockSpec } from '../model/autoencoder.js';
import { plannedCodeSizes, smallestInputSide } from '../model/plan.js';

/**
 * Plans `blocks` on images of `shape` ([channels, height, width]); when they do not fit, an ArgumentError naming
 * `--size`, the smallest square size that fits, and `others` (the command's flags that shrink what the stack needs,
 * e.g. "a smaller --kernel or --pool"). Images at least that side that still do not plan are too large (a layer's
 * output over the size limits): an ArgumentError asking for a smaller `--size`. Nothing is allocated.
 */
export function checkImagesFit(
  be: Backend,
  op: string,
  blocks: readonly BlockSpec[],
  shape: readonly number[],
  others?: string,
): void {
  try {
    plannedCodeSizes(be, blocks, shape);
  } catch (e) {
    if (!(e instanceof ConvaeError)) throw e;
    const [c, h, w] = shape as [number, number, number];
    const side = smallestInputSide(be, blocks, c);
    // Images at least the smallest side that fits are refused for their size limits (a layer's output too large),
    // not for want of pixels: a smaller --size, not a larger one.
    if (side !== null && h >= side && w >= side)
      throw new ArgumentError(
        op,
        '--size',
        `${h}x${w}: the images are too large for the stack (${e.message}): give a smaller --size`,
      );
    const fix = side === null ? '' : `; the stack takes ${side}x${side} or larger: give --size ${side}x${side}`;
    throw new ArgumentError(
      op,
      '--size',
      `${h}x${w}: the images are too small for the stack (${e.message})${fix}${others ? `, or ${others}` : ''}`,
    );
  }
}
