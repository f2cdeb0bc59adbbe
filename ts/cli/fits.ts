/** Images too small for a command's stack, refused by the size the stack needs rather than by the layer that ran out of pixels. */
import type { Backend } from '../backend/backend.js';
import { ArgumentError, ConvaeError } from '../errors.js';
import type { BlockSpec } from '../model/autoencoder.js';
import { plannedCodeSizes, smallestInputSide } from '../model/plan.js';

/** The images a command plans its stack on: the flag that gave them and what they are (`TrainData.name`). */
export interface ImageSource {
  /** `--data`, `--normal-data`, …: named when the images' size is the data's own. */
  flag: string;
  /** `mnist`, `cifar10:DIR`, `idx:DIR`, `folder:DIR`: only a folder's images take the size of `--size`. */
  name: string;
}

/**
 * Plans `blocks` on images of `shape` ([channels, height, width]); when they do not fit, an ArgumentError. For an image
 * folder it names `--size`, the smallest square size that fits, and `others` (the command's flags that shrink what the
 * stack needs, e.g. "a smaller --kernel or --pool"); for a set whose images have their own size (MNIST, CIFAR-10, IDX
 * files), which `--size` does not change, it names the data's flag and `others` alone. Images at least that side that
 * still do not plan are too large (a layer's output over the size limits). Nothing is allocated.
 */
export function checkImagesFit(
  be: Backend,
  op: string,
  blocks: readonly BlockSpec[],
  shape: readonly number[],
  source: ImageSource,
  others?: string,
): void {
  try {
    plannedCodeSizes(be, blocks, shape);
  } catch (e) {
    if (!(e instanceof ConvaeError)) throw e;
    const [c, h, w] = shape as [number, number, number];
    const side = smallestInputSide(be, blocks, c);
    // Images at least the smallest side that fits are refused for their size limits (a layer's output too large),
    // not for want of pixels: smaller images, not larger ones.
    const large = side !== null && h >= side && w >= side;
    if (!source.name.startsWith('folder:')) {
      const fix = large ? '' : side === null ? '' : `; the stack takes ${side}x${side} or larger`;
      throw new ArgumentError(
        op,
        source.flag,
        `${source.name.slice(0, 160)}: its ${h}x${w} images are too ${large ? 'large' : 'small'} for the stack (${e.message})${fix}${others && !large ? `: give ${others}` : ''}`,
      );
    }
    if (large)
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
