import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, FormatError } from '../../ts/errors.js';
import { FASHION_MNIST_CLASSES, parseFashionMnistJson } from '../../ts/data/fashion.js';
import { loadFashionMnist } from '../../ts/data/mnist.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const img = (v: number): string => `[${new Array(784).fill(v).join(',')}]`;

describe('Fashion-MNIST from the fashion-mnist package', () => {
  /*
   * Facts about fashion-mnist 1.1.0, checked independently (JSON.parse of each
   * src/clothes/<label>.json): 7 000 images per class, 784 integers 0–255 each;
   * class 0 also holds two empty arrays (positions 1000 and 7001). The original
   * Fashion-MNIST training image 0 (an ankle boot whose rows 3 and 4 are below)
   * is image 899 of class 9, i.e. train index 899 × 10 + 9 in our interleaved order.
   * Mean pixel of our train split: 0.28601786702518 (the usual 0.2860).
   */
  it('train: 60 000 images [1,28,28], 6 000 per class, labels cycling 0…9', async () => {
    const ds = await loadFashionMnist({ split: 'train' });
    expect(ds.length).toBe(60000);
    expect(ds.shape).toEqual([1, 28, 28]);
    expect(ds.numClasses).toBe(10);
    const hist = new Array<number>(10).fill(0);
    for (const l of ds.labels!) hist[l]++;
    expect(hist).toEqual(new Array(10).fill(6000));
    expect(Array.from(ds.labels!.subarray(0, 20))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    const boot = Array.from(ds.image(899 * 10 + 9).subarray(3 * 28, 5 * 28), (v) => Math.round(v * 255));
    expect(boot.join(' ')).toBe(
      '0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 13 73 0 0 1 4 0 0 0 0 1 1 0 ' +
        '0 0 0 0 0 0 0 0 0 0 0 0 3 0 36 136 127 62 54 0 0 0 1 3 4 0 0 3',
    );
    let sum = 0;
    for (const v of ds.images) sum += v;
    expect(sum / ds.images.length).toBeCloseTo(0.28601786702518, 6);
    expect(FASHION_MNIST_CLASSES[9]).toBe('Ankle boot');
  });

  it('test: 10 000 images, 1 000 per class; limit keeps the classes balanced', async () => {
    const ds = await loadFashionMnist({ split: 'test' });
    expect(ds.length).toBe(10000);
    const hist = new Array<number>(10).fill(0);
    for (const l of ds.labels!) hist[l]++;
    expect(hist).toEqual(new Array(10).fill(1000));
    const small = await loadFashionMnist({ split: 'test', limit: 25 });
    expect(small.length).toBe(25);
    expect(Array.from(small.labels!)).toEqual(Array.from({ length: 25 }, (_, i) => i % 10));
    expect(small.images).toEqual(ds.images.subarray(0, 25 * 784));
  });
});

describe('parseFashionMnistJson', () => {
  it('reads images, skips empty arrays, allows JSON whitespace', () => {
    const r = parseFashionMnistJson(enc(` { "data" : [ ${img(1)} , [ ] ,\n${img(255)}\t] } \n`), 'x.json');
    expect(r.count).toBe(2);
    expect(r.skippedEmpty).toBe(1);
    expect(r.pixels.length).toBe(1568);
    expect(r.pixels[0]).toBe(1);
    expect(r.pixels[1567]).toBe(255);
    expect(parseFashionMnistJson(enc('{"data":[]}'), 'x').count).toBe(0);
  });

  it('rejects anything else with a FormatError naming the place', () => {
    const bad: [string, RegExp][] = [
      ['', /expected '\{' at byte 0/],
      ['{"labels":[]}', /expected the single key "data"/],
      [`{"data":[${img(1).replace(/1\]$/, '256]')}]}`, /image 0: pixel 783 is above 255/],
      [`{"data":[[1,2,3]]}`, /image 0 has 3 pixels, expected 784 \(28×28\)/],
      [`{"data":[${img(0).replace(']', ',0]')}]}`, /image 0 has more than 784 pixels/],
      [`{"data":[[],[-1]]}`, /image 1: expected a pixel value/],
      [`{"data":[[0.5]]}`, /image 0: expected ',' or '\]' after a pixel/],
      [`{"data":[[01]]}`, /leading zero/],
      [`{"data":[${img(0)}]}x`, /trailing bytes after the JSON object/],
      [`{"data":[${img(0)}`, /expected ',' or '\]' after an image/],
      [`{"data":[${img(0)}],"more":1}`, /expected '\}'/],
    ];
    for (const [text, re] of bad) {
      const fn = () => parseFashionMnistJson(enc(text), 'x.json');
      expect(fn).toThrow(FormatError);
      expect(fn).toThrow(re);
    }
  });

  describe('loadFashionMnist({dir})', () => {
    const dir = mkdtempSync(join(tmpdir(), 'convae-fashion-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('splits each class 6/7 train, 1/7 test, in order', async () => {
      // class c: 7 images, image j filled with 10·c + j
      for (let c = 0; c < 10; c++)
        writeFileSync(
          join(dir, `${c}.json`),
          `{"data":[${Array.from({ length: 7 }, (_, j) => img(10 * c + j)).join(',')}]}`,
        );
      const train = await loadFashionMnist({ split: 'train', dir });
      const test = await loadFashionMnist({ split: 'test', dir });
      expect(train.length).toBe(60);
      expect(test.length).toBe(10);
      expect(Array.from({ length: 12 }, (_, i) => Math.round(train.image(i)[0] * 255))).toEqual([
        0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 1, 11,
      ]);
      expect(Array.from({ length: 10 }, (_, i) => Math.round(test.image(i)[0] * 255))).toEqual([
        6, 16, 26, 36, 46, 56, 66, 76, 86, 96,
      ]);
    });

    it('a missing class file is a DataError, a damaged one a FormatError naming it', async () => {
      writeFileSync(join(dir, '3.json'), '{"data":[[1,2]]}');
      await expect(loadFashionMnist({ split: 'train', dir })).rejects.toThrow(
        `${join(dir, '3.json')}: not a fashion-mnist class file: image 0 has 2 pixels`,
      );
      rmSync(join(dir, '3.json'));
      await expect(loadFashionMnist({ split: 'train', dir })).rejects.toThrow(DataError);
      await expect(loadFashionMnist({ split: 'train', dir })).rejects.toThrow(/class 3: .*3\.json does not exist/);
    });
  });
});
