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
  it('too large: says so and asks for a smaller --size', async () => {
    const be = await backendUnderTest();
    expect(() => checkImagesFit(be, 'convae pretrain', blocks, [3, 600, 600], 'a smaller --kernel')).toThrow(
      /^convae pretrain: --size 600x600: the images are too large for the stack \(.*MAX_TENSOR_ELEMENTS\)\): give a smaller --size$/,
    );
  });
  it('too small: still the smallest side that fits', async () => {
    const be = await backendUnderTest();
    expect(() => checkImagesFit(be, 'convae pretrain', blocks, [3, 8, 8])).toThrow(
      /too small for the stack .*give --size 16x16$/,
    );
    expect(() => checkImagesFit(be, 'convae pretrain', blocks, [3, 16, 16])).not.toThrow();
  });
});
