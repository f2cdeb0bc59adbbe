/**
 * A byte-stored dataset (fromUint8 with store: 'uint8') goes to the workers as
 * its bytes, not as floats: a quarter of the memory on the wire and in shared
 * memory, and nothing converted beforehand. Training on it in a worker is
 * training on this thread, bit for bit.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ImageDataset } from '../../ts/data/dataset.js';
import { fit } from '../../ts/train/fit.js';
import { classifierTask } from '../../ts/train/tasks.js';
import { Trainer } from '../../ts/worker/trainer.js';
import { datasetFromWire, datasetWire } from '../../ts/worker/wire.js';
import { BUILD } from '../util/backend.js';
import { be, bitEqual, classifierOf, data, weights } from './setup.js';

const trainer = await Trainer.create(be, { size: 2 });
afterAll(() => trainer.dispose());

// The MNIST subset back to its bytes (MNIST floats are exactly v/255).
const pixels = Uint8Array.from(data.images, (v) => Math.round(v * 255));
const byteData = () => ImageDataset.fromUint8(pixels, data.shape, data.labels, { store: 'uint8' });

describe(`byte-stored datasets in workers (${BUILD})`, () => {
  it('cross as bytes with their scale, in every mode, and come back as the same images', () => {
    for (const mode of ['share', 'copy'] as const) {
      const d = byteData();
      const { wire } = datasetWire(d, mode);
      expect(wire.images).toBeInstanceOf(Uint8Array);
      expect(wire.images.length).toBe(pixels.length);
      expect(wire.scale).toBe(1 / 255);
      const back = datasetFromWire(wire);
      expect(back.bytes).not.toBeNull();
      expect(back.readImages(0, back.length)).toEqual(data.images);
    }
    const scaled = ImageDataset.fromUint8(new Uint8Array([0, 1, 2, 3]), [1, 2, 2], null, {
      scale: 0.5,
      store: 'uint8',
    });
    const back = datasetFromWire(datasetWire(scaled, 'copy').wire);
    expect(back.byteScale).toBe(0.5);
    expect([...back.readImages(0, 1)]).toEqual([0, 0.5, 1, 1.5]);
    // A float-stored dataset still crosses as floats.
    expect(datasetWire(data, 'copy').wire.images).toBeInstanceOf(Float32Array);
    expect(datasetWire(data, 'copy').wire.scale).toBeUndefined();
  });

  it('one worker on the bytes = this thread on the floats, bit for bit', async () => {
    const a = classifierOf(11),
      b = classifierOf(11);
    const opts = { epochs: 1, batchSize: 40, seed: 3, optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 } } as const;
    await fit(be, classifierTask(a), data, { ...opts, validation: 0.2 });
    await trainer.fit(b, byteData(), { ...opts, validation: 0.2, workers: 1 });
    expect(bitEqual(weights(a), weights(b))).toBe(true);
    a.dispose();
    b.dispose();
  }, 60_000);
});
