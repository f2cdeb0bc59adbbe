/**
 * Images too large for a stack (a layer's output over MAX_TENSOR_ELEMENTS) are refused naming --size as too large,
 * not as too small with a --size that already fits ("--size 600x600: the images are too small for the stack …; give
 * --size 16x16" was what pretrain said of --maps 4096,4096 on 600×600 images).
 */
import { describe, expect, it } from 'vitest';
import { checkImagesFit } from '../../ts/cli/fits.js';
import type { BlockSpec } from '../../ts/index.js';
import { BUILD, backendUnderTest } from '../util/backend.js';

describe.runIf(BUILD === 'simd')('checkImagesFit', () => {
  const blocks: BlockSpec[] = [
    { convs: [{ filters: 4096, kernel: 5 }], pool: { kernel: 2 } },
    { convs: [{ filters: 4096, kernel: 5 }], pool: { kernel: 2 } },
  ];
  const folder = { flag: '--data', name: 'folder:photos' };
  it('too large: says so and asks for a smaller --size', async () => {
    const be = await backendUnderTest();
    expect(() => checkImagesFit(be, 'convae pretrain', blocks, [3, 600, 600], folder, 'a smaller --kernel')).toThrow(
      /^convae pretrain: --size 600x600: the images are too large for the stack \(.*MAX_TENSOR_ELEMENTS\)\): give a smaller --size$/,
    );
  });
  it('too small: still the smallest side that fits', async () => {
    const be = await backendUnderTest();
    expect(() => checkImagesFit(be, 'convae pretrain', blocks, [3, 8, 8], folder)).toThrow(
      /too small for the stack .*give --size 16x16$/,
    );
    expect(() => checkImagesFit(be, 'convae pretrain', blocks, [3, 16, 16], folder)).not.toThrow();
  });
  // --size resizes folder images only: MNIST's 28×28 were said to be "--size 28x28" too small, "give --size 82x82".
  it('a set whose images have their own size (MNIST, IDX): names its flag, not --size', async () => {
    const be = await backendUnderTest();
    const big: BlockSpec[] = [{ convs: [{ filters: 4, kernel: 27 }], pool: { kernel: 2 } }, ...blocks.slice(1)];
    const mnist = { flag: '--data', name: 'mnist' };
    expect(() => checkImagesFit(be, 'convae train', big, [1, 28, 28], mnist, 'a smaller --kernel')).toThrow(
      /^convae train: --data mnist: its 28x28 images are too small for the stack \(.*\); the stack takes 38x38 or larger: give a smaller --kernel$/,
    );
    expect(() =>
      checkImagesFit(be, 'convae detect', blocks, [3, 600, 600], { flag: '--normal-data', name: 'idx:/d' }),
    ).toThrow(
      /^convae detect: --normal-data idx:\/d: its 600x600 images are too large for the stack \(.*MAX_TENSOR_ELEMENTS\)\)$/,
    );
  });
});
