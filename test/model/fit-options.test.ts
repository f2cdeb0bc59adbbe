/**
 * fit's `augment` (random translations) and `lrFactors` (learning-rate factor
 * per parameter-name prefix), against plain references: a per-pixel shift
 * loop, training on images shifted beforehand, and one SGD step whose update
 * is the gradient times lr times the factor.
 */
import { describe, expect, it } from 'vitest';
import { ImageDataset } from '../../ts/data/dataset.js';
import { ArgumentError } from '../../ts/errors.js';
import { loadMnist } from '../../ts/data/mnist.js';
import { Classifier } from '../../ts/model/classifier.js';
import { checkAugment, drawShifts, shiftImages } from '../../ts/train/augment.js';
import { fit } from '../../ts/train/fit.js';
import { classifierTask } from '../../ts/model/tasks.js';
import { Rng } from '../../ts/util/rng.js';
import { BUILD, backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();
const data = await loadMnist({ split: 'train', limit: 120 });
const blocks = [{ convs: [{ filters: 4, kernel: 5 }] }, { convs: [{ filters: 6, kernel: 3 }] }];
const model = (seed: number) => Classifier.fromBlocks(be, blocks, data.shape, { hidden: [16], classes: 10 }, seed);
const weights = (m: Classifier) => Object.fromEntries(m.params().map((p) => [p.name, p.value.toArray()]));

/** out[c][y][x] = in[c][y − dy][x − dx] inside the image, else 0. */
function shiftReference(img: Float32Array, c: number, h: number, w: number, dx: number, dy: number): Float32Array {
  const out = new Float32Array(img.length);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const sy = y - dy,
          sx = x - dx;
        if (sy >= 0 && sy < h && sx >= 0 && sx < w) out[ch * h * w + y * w + x] = img[ch * h * w + sy * w + sx];
      }
  return out;
}

describe(`fit options: augment and lrFactors (${BUILD})`, () => {
  it('shiftImages = a per-pixel reference for moves inside, at and beyond the image size, 1 and 3 channels, non-square', () => {
    const rng = new Rng(3);
    for (const [c, h, w] of [
      [1, 5, 7],
      [3, 4, 4],
      [2, 1, 6],
    ]) {
      const moves: [number, number][] = [];
      for (let dx = -w - 1; dx <= w + 1; dx++) for (let dy = -h - 1; dy <= h + 1; dy++) moves.push([dx, dy]);
      const n = moves.length,
        size = c * h * w;
      const x = Float32Array.from({ length: n * size }, () => rng.next() + 0.5);
      const shifts = Int32Array.from(moves.flat());
      // The images are the last n of the shift list: `first` skips the moves of other replicas' images.
      const padded = new Int32Array(2 * (n + 3));
      padded.set(shifts, 6);
      const got = x.slice();
      shiftImages(got, [n, c, h, w], padded, 3, new Float32Array(size));
      for (let j = 0; j < n; j++) {
        const want = shiftReference(x.subarray(j * size, (j + 1) * size), c, h, w, moves[j][0], moves[j][1]);
        expect(got.subarray(j * size, (j + 1) * size), `c=${c} h=${h} w=${w} move=${moves[j]}`).toEqual(want);
      }
    }
  });

  it('drawShifts: every move in [−s, s] occurs, nothing outside; the same generator state gives the same moves', () => {
    const d = drawShifts(5000, 2, new Rng(9));
    expect(new Set(d)).toEqual(new Set([-2, -1, 0, 1, 2]));
    expect(drawShifts(5000, 2, new Rng(9))).toEqual(d);
    expect(drawShifts(10, 0, new Rng(9))).toEqual(new Int32Array(20));
  });

  it('fit with augment = fit without it on the same images shifted beforehand, bit for bit (one batch per epoch)', async () => {
    const n = data.length,
      seed = 4,
      shift = 2;
    const a = model(1),
      b = model(1);
    const opts = { epochs: 1, batchSize: n, seed, optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 } } as const;
    await fit(be, classifierTask(a), data, { ...opts, augment: { shift } });
    // What fit draws: the epoch's order from Rng(seed), the moves from a stream of their own for epoch 0.
    const order = new Rng(seed).permutation(n);
    const moves = new Rng(seed);
    moves.reseed(0x5a17);
    const d = drawShifts(n, shift, moves);
    const size = data.imageSize,
      shifted = data.images.slice();
    for (let j = 0; j < n; j++) {
      const i = order[j];
      shifted.set(
        shiftReference(data.images.subarray(i * size, (i + 1) * size), 1, 28, 28, d[2 * j], d[2 * j + 1]),
        i * size,
      );
    }
    await fit(be, classifierTask(b), ImageDataset.fromFloat32(shifted, data.shape, data.labels!, 10), opts);
    expect(weights(a)).toEqual(weights(b));
    // And the moves did something: training on the unshifted images gives other weights.
    const c = model(1);
    await fit(be, classifierTask(c), data, opts);
    expect(weights(c)['block0.conv0.weight']).not.toEqual(weights(a)['block0.conv0.weight']);
    // shift 0 is no augmentation at all.
    const z = model(1);
    await fit(be, classifierTask(z), data, { ...opts, augment: { shift: 0 } });
    expect(weights(z)).toEqual(weights(c));
    for (const m of [a, b, c, z]) m.dispose();
  });

  it('lrFactors: one SGD step moves each parameter by lr × factor × its gradient; 0 keeps it; the longest prefix wins', async () => {
    const seed = 2,
      lr = 0.1;
    const opts = { epochs: 1, batchSize: data.length, seed, optimizer: { type: 'sgd', lr } } as const;
    const plain = model(5),
      scaled = model(5),
      start = weights(plain);
    await fit(be, classifierTask(plain), data, opts);
    await fit(be, classifierTask(scaled), data, {
      ...opts,
      lrFactors: { block0: 0, 'block0.conv0.bias': 1, block1: 0.25, dense0: 1 },
    });
    const p = weights(plain),
      s = weights(scaled);
    for (const name of Object.keys(start)) {
      const f = name === 'block0.conv0.weight' ? 0 : name.startsWith('block1.') ? 0.25 : 1;
      for (let i = 0; i < start[name].length; i++) {
        const step = p[name][i] - start[name][i]; // = −lr · grad
        expect(s[name][i] - start[name][i], `${name}[${i}]`).toBeCloseTo(f * step, 6);
      }
      if (f === 0) expect(s[name]).toEqual(start[name]);
      if (f === 1) expect(s[name]).toEqual(p[name]);
    }
    plain.dispose();
    scaled.dispose();
  });

  it('bad augment and lrFactors are ArgumentErrors before any step; the model is unchanged', async () => {
    const m = model(3),
      before = weights(m);
    const sgd = { type: 'sgd', lr: 0.05 } as const;
    const bad: object[] = [
      { augment: { shift: -1 } },
      { augment: { shift: 1.5 } },
      { augment: { shift: '2' } },
      { augment: null },
      { augment: { shift: 1, flip: true } },
      { lrFactors: { block0: -0.1 } },
      { lrFactors: { block0: Number.NaN } },
      { lrFactors: { block0: '0.1' } },
      { lrFactors: { blk: 0.1 } },
      { lrFactors: { block: 0.1 } }, // a prefix ends at a dot: 'block' names nothing
      { lrFactors: [0.1] },
      { lrFactors: JSON.parse('{"__proto__": 0.1}') },
      { lrFactors: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 1])) },
    ];
    let steps = 0;
    for (const o of bad)
      await expect(
        fit(be, classifierTask(m), data, { epochs: 1, batchSize: 20, optimizer: sgd, onBatch: () => steps++, ...o }),
        JSON.stringify(o),
      ).rejects.toBeInstanceOf(ArgumentError);
    expect(steps).toBe(0);
    expect(weights(m)).toEqual(before);
    expect(() => checkAugment('x', { shift: 3 })).not.toThrow();
    m.dispose();
  });
});
