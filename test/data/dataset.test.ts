import { describe, expect, it } from 'vitest';
import { ArgumentError, DataError } from '../../ts/errors.js';
import { ImageDataset, type Batch } from '../../ts/data/dataset.js';
import { Rng } from '../../ts/util/rng.js';

/** n images of shape [c,h,w] where every value of image i is i (so a batch's content reveals its indices). */
function numbered(n: number, shape: [number, number, number] = [1, 2, 3], withLabels = true): ImageDataset {
  const size = shape[0] * shape[1] * shape[2];
  const images = new Float32Array(n * size);
  for (let i = 0; i < n; i++) images.fill(i, i * size, (i + 1) * size);
  const labels = withLabels ? Uint8Array.from({ length: n }, (_, i) => i % 10) : null;
  return ImageDataset.fromFloat32(images, shape, labels, withLabels ? 10 : undefined);
}

function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError, nothing was thrown');
}

/** Checks a batch's images and labels against its indices (image i holds the value i). */
function checkBatch(ds: ImageDataset, b: Batch): void {
  const s = ds.imageSize;
  expect(b.images.length).toBe(b.size * s);
  expect(b.indices.length).toBe(b.size);
  for (let k = 0; k < b.size; k++) {
    expect(b.images[k * s]).toBe(b.indices[k]);
    expect(b.images[k * s + s - 1]).toBe(b.indices[k]);
    if (ds.labels) expect(b.labels![k]).toBe(ds.labels[b.indices[k]]);
  }
}

describe('ImageDataset factories validate their input', () => {
  it('fromFloat32 keeps (shares) the arrays and infers nothing it is told', () => {
    const images = new Float32Array(2 * 6);
    const labels = new Uint8Array([3, 1]);
    const ds = ImageDataset.fromFloat32(images, [1, 2, 3], labels, 4);
    expect(ds.images).toBe(images);
    expect(ds.labels).toBe(labels);
    expect(ds.length).toBe(2);
    expect(ds.shape).toEqual([1, 2, 3]);
    expect(ds.imageSize).toBe(6);
    expect(ds.numClasses).toBe(4);
    expect(ImageDataset.fromFloat32(images, [1, 2, 3], [3, 1]).numClasses).toBe(4); // inferred: max + 1
    expect(ImageDataset.fromFloat32(images, [3, 2, 1]).labels).toBeNull();
    expect(ImageDataset.fromFloat32(images, [3, 2, 1]).numClasses).toBeUndefined();
  });

  it('fromFloat32 errors: empty, wrong length, bad shape, NaN/∞, label count, label range', () => {
    expect(dataError(() => ImageDataset.fromFloat32(new Float32Array(0), [1, 2, 2])).message).toMatch(
      /no images \(empty array\)/,
    );
    expect(dataError(() => ImageDataset.fromFloat32(new Float32Array(10), [1, 2, 2])).message).toMatch(
      /10 values are not a whole number of images of 4 values/,
    );
    expect(dataError(() => ImageDataset.fromFloat32(new Float32Array(4), [1, 0, 4])).message).toMatch(
      /shape must be \[channels, height, width\] of positive integers, got \[1,0,4\]/,
    );
    expect(() => ImageDataset.fromFloat32(new Float32Array(4), [4] as unknown as [number, number, number])).toThrow(
      DataError,
    );
    const nan = new Float32Array(8);
    nan[5] = NaN;
    expect(dataError(() => ImageDataset.fromFloat32(nan, [1, 2, 2])).message).toBe(
      'ImageDataset.fromFloat32: images hold NaN at flat index 5 (image 1); values must be finite',
    );
    nan[5] = -Infinity;
    expect(dataError(() => ImageDataset.fromFloat32(nan, [1, 2, 2])).message).toMatch(
      /images hold -Infinity at flat index 5/,
    );
    const ok = new Float32Array(8);
    expect(dataError(() => ImageDataset.fromFloat32(ok, [1, 2, 2], new Uint8Array(3))).message).toMatch(
      /3 labels for 2 images/,
    );
    expect(dataError(() => ImageDataset.fromFloat32(ok, [1, 2, 2], new Uint8Array([0, 10]), 10)).message).toBe(
      'ImageDataset.fromFloat32: label 1 is 10, not below numClasses 10',
    );
    expect(dataError(() => ImageDataset.fromFloat32(ok, [1, 2, 2], [0, 1.5])).message).toMatch(
      /label 1 is 1.5, not an integer in \[0, 255\]/,
    );
    expect(dataError(() => ImageDataset.fromFloat32(ok, [1, 2, 2], [0, 256])).message).toMatch(/label 1 is 256/);
    expect(dataError(() => ImageDataset.fromFloat32(ok, [1, 2, 2], [0, 1], 0)).message).toMatch(
      /numClasses must be an integer in \[1, 256\]/,
    );
    expect(dataError(() => ImageDataset.fromFloat32(ok, [1, 2, 2], null, 10)).message).toMatch(
      /numClasses given without labels/,
    );
  });

  it('fromUint8 scales by 1/255 (255 → exactly 1) or by a given factor, and validates like fromFloat32', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const ds = ImageDataset.fromUint8(bytes, [1, 16, 16]);
    expect(ds.images[255]).toBe(1);
    expect(ds.images[0]).toBe(0);
    expect(ds.images[51]).toBe(Math.fround(51 / 255));
    expect(ImageDataset.fromUint8(bytes, [1, 16, 16], null, { scale: 2 }).images[255]).toBe(510);
    expect(ImageDataset.fromUint8(new Uint8Array([1, 2, 3, 4]), [1, 1, 2], [0, 1], { numClasses: 2 }).labels).toEqual(
      new Uint8Array([0, 1]),
    );
    expect(dataError(() => ImageDataset.fromUint8(new Uint8Array(0), [1, 1, 1])).message).toMatch(
      /fromUint8: no images/,
    );
    expect(dataError(() => ImageDataset.fromUint8(new Uint8Array(3), [1, 1, 2])).message).toMatch(
      /3 values are not a whole number of images of 2 values/,
    );
    expect(
      dataError(() => ImageDataset.fromUint8(new Uint8Array(4), [1, 1, 2], [0, 7], { numClasses: 5 })).message,
    ).toMatch(/label 1 is 7, not below numClasses 5/);
    expect(dataError(() => ImageDataset.fromUint8(new Uint8Array(4), [1, 1, 2], null, { scale: NaN })).message).toMatch(
      /scale must be a finite number/,
    );
  });

  it('fromImageData: luma of a hand-made 2×2 RGBA image, invert, RGB planes, alpha compositing', () => {
    // pixels: red, green, blue, white at half alpha
    const data = new Uint8ClampedArray([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 128]);
    const img = { data, width: 2, height: 2 };
    const luma = ImageDataset.fromImageData([img], { channels: 1 }, [3]);
    expect(luma.shape).toEqual([1, 2, 2]);
    expect(luma.labels).toEqual(new Uint8Array([3]));
    expect(Array.from(luma.images)).toEqual([0.299, 0.587, 0.114, 1].map(Math.fround));
    const inv = ImageDataset.fromImageData([img], { channels: 1, invert: true });
    expect(Array.from(inv.images)).toEqual([1 - 0.299, 1 - 0.587, 1 - 0.114, 0].map(Math.fround));
    const rgb = ImageDataset.fromImageData([img, img], { channels: 3 });
    expect(rgb.shape).toEqual([3, 2, 2]);
    expect(rgb.length).toBe(2);
    expect(Array.from(rgb.images.subarray(0, 12))).toEqual([1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1]); // R plane, G plane, B plane
    // composited over black, the half-transparent white is 128/255 grey; over white it stays white
    const overBlack = ImageDataset.fromImageData([img], { channels: 1, alpha: 'black' });
    expect(overBlack.images[3]).toBeCloseTo(128 / 255, 6);
    expect(ImageDataset.fromImageData([img], { channels: 1, alpha: 'white' }).images[3]).toBeCloseTo(1, 6);
    // a fully transparent canvas with black strokes: 'ignore' reads black everywhere, 'white' sees the strokes
    const canvas = { data: new Uint8ClampedArray([0, 0, 0, 0, 0, 0, 0, 255]), width: 2, height: 1 };
    expect(Array.from(ImageDataset.fromImageData([canvas], { channels: 1 }).images)).toEqual([0, 0]);
    expect(
      Array.from(ImageDataset.fromImageData([canvas], { channels: 1, alpha: 'white', invert: true }).images),
    ).toEqual([0, 1]);
  });

  it('fromImageData errors: empty list, sizes that differ, wrong data length, bad channels, labels', () => {
    const img = { data: new Uint8ClampedArray(16), width: 2, height: 2 };
    expect(dataError(() => ImageDataset.fromImageData([], { channels: 1 })).message).toMatch(/no images given/);
    expect(
      dataError(() =>
        ImageDataset.fromImageData([img, { data: new Uint8ClampedArray(12), width: 3, height: 1 }], { channels: 1 }),
      ).message,
    ).toMatch(/image 1 is 3×1, image 0 is 2×2/);
    expect(
      dataError(() =>
        ImageDataset.fromImageData([{ data: new Uint8ClampedArray(15), width: 2, height: 2 }], { channels: 1 }),
      ).message,
    ).toMatch(/image 0 has 15 data bytes, 2×2 RGBA needs 16/);
    expect(dataError(() => ImageDataset.fromImageData([img], { channels: 2 as 1 })).message).toMatch(
      /channels must be 1 or 3/,
    );
    expect(dataError(() => ImageDataset.fromImageData([img], { channels: 1 }, [1, 2])).message).toMatch(
      /2 labels for 1 images/,
    );
    expect(dataError(() => ImageDataset.fromImageData([img], { channels: 1, numClasses: 2 }, [2])).message).toMatch(
      /label 0 is 2, not below numClasses 2/,
    );
  });
});

describe('ImageDataset subset, take, split', () => {
  const ds = numbered(50);

  it('subset copies the chosen images in order (repeats allowed); take shares the buffer', () => {
    const sub = ds.subset([7, 3, 7]);
    expect(sub.length).toBe(3);
    expect(Array.from(sub.images.filter((_, i) => i % 6 === 0))).toEqual([7, 3, 7]);
    expect(Array.from(sub.labels!)).toEqual([7, 3, 7]);
    expect(sub.images.buffer).not.toBe(ds.images.buffer);
    expect(sub.numClasses).toBe(10);
    expect(dataError(() => ds.subset([])).message).toMatch(/no indices given/);
    expect(dataError(() => ds.subset([0, 50])).message).toMatch(/index 1 is 50, not an integer in \[0, 50\)/);
    expect(() => ds.subset([1.5])).toThrow(DataError);
    const head = ds.take(5);
    expect(head.length).toBe(5);
    expect(head.images.buffer).toBe(ds.images.buffer);
    expect(head.images.length).toBe(30);
    expect(head.labels!.length).toBe(5);
    expect(ds.take(500)).toBe(ds);
    expect(() => ds.take(0)).toThrow(ArgumentError);
  });

  it('split is a deterministic partition by seed', () => {
    const a = ds.split(0.2, 42);
    const b = ds.split(0.2, 42);
    const c = ds.split(0.2, 43);
    const ids = (d: ImageDataset) => Array.from({ length: d.length }, (_, i) => d.image(i)[0]);
    expect(a.validation.length).toBe(10);
    expect(a.train.length).toBe(40);
    expect(ids(a.validation)).toEqual(ids(b.validation));
    expect(ids(a.train)).toEqual(ids(b.train));
    expect(ids(c.validation)).not.toEqual(ids(a.validation));
    // a partition of 0..49, each part in dataset order, labels travelling with their images
    expect([...ids(a.train), ...ids(a.validation)].sort((x, y) => x - y)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    expect(ids(a.validation)).toEqual([...ids(a.validation)].sort((x, y) => x - y));
    expect(Array.from(a.validation.labels!)).toEqual(ids(a.validation).map((i) => i % 10));
    // it is not just the first or last images
    expect(ids(a.validation)).not.toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it('split refuses fractions that leave a part empty', () => {
    expect(() => ds.split(0, 1)).toThrow(ArgumentError);
    expect(() => ds.split(1, 1)).toThrow(ArgumentError);
    expect(dataError(() => ds.split(0.001, 1)).message).toMatch(/leaves 0 for validation and 50 for training/);
    expect(dataError(() => numbered(1).split(0.5, 1)).message).toMatch(/both need at least one/);
  });
});

describe('ImageDataset.batches', () => {
  const ds = numbered(23);

  it('without shuffle: dataset order, views of the dataset (no copy), last batch smaller', () => {
    const batches = Array.from(ds.batches(5));
    expect(batches.map((b) => b.size)).toEqual([5, 5, 5, 5, 3]);
    batches.forEach((b) => checkBatch(ds, b));
    expect(Array.from(batches[1].indices)).toEqual([5, 6, 7, 8, 9]);
    expect(batches[1].images.buffer).toBe(ds.images.buffer);
    expect(batches[1].labels!.buffer).toBe(ds.labels!.buffer);
    expect(Array.from(ds.batches(5, { dropLast: true })).map((b) => b.size)).toEqual([5, 5, 5, 5]);
    expect(Array.from(ds.batches(100)).map((b) => b.size)).toEqual([23]);
    expect(Array.from(ds.batches(100, { dropLast: true }))).toEqual([]);
  });

  it('with shuffle: every index exactly once per epoch, a new order each epoch', () => {
    const rng = new Rng(7);
    const epochs: number[][] = [];
    const iterable = ds.batches(4, { shuffle: true, rng });
    for (let e = 0; e < 3; e++) {
      const seen: number[] = [];
      for (const b of iterable) {
        checkBatch(ds, b);
        seen.push(...b.indices);
      }
      expect(seen.length).toBe(23);
      expect([...seen].sort((x, y) => x - y)).toEqual(Array.from({ length: 23 }, (_, i) => i));
      epochs.push(seen);
    }
    expect(epochs[1]).not.toEqual(epochs[0]);
    expect(epochs[2]).not.toEqual(epochs[1]);
    expect(epochs[0]).not.toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it('with shuffle and dropLast: full batches only, no index twice', () => {
    const seen: number[] = [];
    for (const b of ds.batches(5, { shuffle: true, rng: new Rng(1), dropLast: true })) {
      expect(b.size).toBe(5);
      seen.push(...b.indices);
    }
    expect(seen.length).toBe(20);
    expect(new Set(seen).size).toBe(20);
  });

  it('the same rng state gives the same epoch (resume from a checkpoint)', () => {
    const rng = new Rng(123);
    Array.from(ds.batches(4, { shuffle: true, rng })); // epoch 1
    const saved = rng.state;
    const epoch2 = Array.from(ds.batches(4, { shuffle: true, rng }), (b) => Array.from(b.indices));
    const resumed = new Rng(0);
    resumed.state = saved;
    expect(Array.from(ds.batches(4, { shuffle: true, rng: resumed }), (b) => Array.from(b.indices))).toEqual(epoch2);
  });

  it('shuffled batches are fresh arrays, or one reused pair with reuseBuffers', () => {
    const fresh = Array.from(ds.batches(5, { shuffle: true, rng: new Rng(2) }));
    expect(fresh[0].images.buffer).not.toBe(fresh[1].images.buffer);
    fresh.forEach((b) => checkBatch(ds, b)); // still valid after the iteration ended
    const buffers = new Set<ArrayBufferLike>();
    for (const b of ds.batches(5, { shuffle: true, rng: new Rng(2), reuseBuffers: true })) {
      checkBatch(ds, b);
      buffers.add(b.images.buffer);
    }
    expect(buffers.size).toBe(1);
  });

  it('unlabelled datasets give null labels; bad arguments are ArgumentErrors', () => {
    const u = numbered(3, [2, 1, 1], false);
    for (const b of u.batches(2, { shuffle: true, rng: new Rng(3) })) expect(b.labels).toBeNull();
    expect(() => ds.batches(0)).toThrow(ArgumentError);
    expect(() => ds.batches(2.5)).toThrow(/batchSize must be a positive integer/);
    expect(() => ds.batches(2, { shuffle: true })).toThrow(/rng is required with shuffle/);
  });
});
