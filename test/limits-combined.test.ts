/**
 * Inputs that are each valid but together ask for more than memory or time
 * allows (the class of the search-space product bug): each is refused with a
 * typed error naming the options, the size and the limit, before anything is
 * allocated. Every case here failed differently before its fix (noted per test).
 */
import { describe, expect, it } from 'vitest';
import * as cv from '../ts/index.js';
import { MAX_MESSAGE_CHARS, MAX_TENSOR_ELEMENTS } from '../ts/limits.js';
import { backendUnderTest } from './util/backend.js';

const be = await backendUnderTest();

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe("a layer's output for one image over MAX_TENSOR_ELEMENTS", () => {
  // Before: constructed (the parameters are 65 536 floats); the first forward threw a ShapeError after fit had
  // allocated the optimizer and fed the batch.
  it('is a ModelError at construction, naming the layer, the shape and the limit; nothing allocated', () => {
    const live = { ...be.mem.live };
    const e = thrown(
      () => new cv.ConvAutoencoder(be, { convs: [{ filters: 65536, kernel: 1 }], pool: null }, [1, 1024, 1024]),
    );
    expect(e).toBeInstanceOf(cv.ModelError);
    expect(e.message).toContain('cae.conv0 (Conv2D)');
    expect(e.message).toContain('[65536,1024,1024]');
    expect(e.message).toContain(String(MAX_TENSOR_ELEMENTS));
    expect(e.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(be.mem.live).toEqual(live);
  });

  it('in a stack and a classifier too; the largest that fits is accepted', () => {
    const blocks = [{ convs: [{ filters: 4, kernel: 1 }], pool: null }, { convs: [{ filters: 2 ** 24, kernel: 1 }] }];
    expect(() => new cv.StackedConvAutoencoder(be, blocks, [1, 32, 32])).toThrow(/block1\.conv0 \(Conv2D\)/);
    expect(() => cv.Classifier.fromBlocks(be, blocks, [1, 32, 32], { hidden: [4], classes: 2 })).toThrow(cv.ModelError);
    // 2^18 filters × 32 × 32 = 2^28 elements: at the limit, accepted (1×1 kernels: 2^20 parameters).
    const m = new cv.ConvAutoencoder(be, { convs: [{ filters: 2 ** 18, kernel: 1 }], pool: null }, [1, 32, 32]);
    expect(m.codeShape).toEqual([2 ** 18, 32, 32]);
    m.dispose();
  });
});
