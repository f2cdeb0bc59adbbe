/** Trainer.fit and searchCAE check their options before any worker trains (ts/train/options.ts). */
import { afterAll, describe, expect, it } from 'vitest';
import { ArgumentError, DataError } from '../../ts/errors.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { searchCAE } from '../../ts/worker/search.js';
import { Trainer } from '../../ts/worker/trainer.js';
import { be, classifierOf, data, stackOf, weights } from './setup.js';

describe('worker options', async () => {
  const trainer = await Trainer.create(be, { size: 1 });
  afterAll(() => trainer.dispose());
  const sgd = { type: 'sgd' as const, lr: 0.05 };

  it('Trainer.fit: bad options reject with typed errors and the model is untouched', async () => {
    const m = classifierOf(3);
    const before = weights(m);
    const bad: [object, unknown][] = [
      [{ epochs: 1, batchSize: 20, optimizer: { type: 'sgd', lr: Infinity } }, ArgumentError],
      [{ epochs: 1, batchSize: 20, optimizer: null }, ArgumentError],
      [
        { epochs: 1, batchSize: 20, optimizer: sgd, schedule: { type: 'step', every: 1, gamma: Number.NaN } },
        ArgumentError,
      ],
      [{ epochs: 1, batchSize: 20, optimizer: sgd, checkpoint: { every: 0, save: () => {} } }, ArgumentError],
      [{ epochs: 1, batchSize: 20, optimizer: sgd, validation: 0.2, earlyStopping: { patience: 1.5 } }, ArgumentError],
      [{ epochs: 1, batchSize: 20, optimizer: sgd, onEpoch: 'x' }, ArgumentError],
      [{ epochs: 1, batchSize: 20, optimizer: sgd, resumeFrom: {} }, ArgumentError],
      [
        {
          epochs: 1,
          batchSize: 20,
          optimizer: sgd,
          validation: ImageDataset.fromFloat32(new Float32Array(2 * 784), [1, 28, 28]),
        },
        DataError,
      ],
    ];
    for (const [opts, cls] of bad)
      await expect(trainer.fit(m, data, opts as never), JSON.stringify(opts)).rejects.toBeInstanceOf(cls);
    await expect(trainer.fit(m, null as never, { epochs: 1, batchSize: 20, optimizer: sgd })).rejects.toBeInstanceOf(
      ArgumentError,
    );
    const stack = stackOf(1);
    await expect(trainer.fit(stack, data, { epochs: 1, batchSize: 20, optimizer: sgd, layer: 5 })).rejects.toThrow(
      /layer/,
    );
    stack.dispose();
    expect(weights(m)).toEqual(before);
    m.dispose();
  });

  it('searchCAE: learningRates [Infinity] rejects before any candidate is trained', async () => {
    let batches = 0;
    const r = searchCAE(trainer, {
      data,
      featureMaps: [2],
      filterSizes: [3],
      learningRates: [Infinity],
      onBatch: () => batches++,
    });
    await expect(r).rejects.toBeInstanceOf(ArgumentError);
    expect(batches).toBe(0);
  });
});
