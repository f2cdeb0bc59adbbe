/**
 * The model contract: a kind the worker, the Trainer and serialization were
 * not written for (`cae`, a standalone ConvAutoencoder) trains in workers
 * through the registry, equals the same training on this thread, and its
 * result saves and loads. A validation fraction is split once by the caller.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ConvAutoencoder } from '../../ts/model/autoencoder.js';
import { loadModel, saveModel } from '../../ts/model/serialize.js';
import { evaluateTask } from '../../ts/train/evaluate.js';
import { threadRunner } from '../../ts/train/runner.js';
import { createRunner } from '../../ts/worker/runner.js';
import { Trainer } from '../../ts/worker/trainer.js';
import { be, bitEqual, data, maxRelDiff, weights } from './setup.js';

const small = data.take(192);
const caeOf = () =>
  new ConvAutoencoder(be, { convs: [{ filters: 4, kernel: 5 }], noise: { type: 'mask', fraction: 0.2 } }, data.shape, {
    seed: 3,
  });
const opts = { epochs: 2, batchSize: 32, optimizer: { type: 'adam', lr: 3e-3 } as const, seed: 2, validation: 0.25 };

describe('a model kind of its own (cae) in workers', async () => {
  const trainer = await Trainer.create(be, { size: 2 });
  afterAll(() => trainer.dispose());

  it('1 worker = this thread, bit for bit (validation split included); 2 workers train it too; it saves and loads', async () => {
    const here = caeOf(),
      one = caeOf(),
      two = caeOf();
    const h0 = (await threadRunner(be).fit(here, small, opts)).history;
    const h1 = (await trainer.fit(one, small, { ...opts, workers: 1 })).history;
    expect(bitEqual(weights(one), weights(here))).toBe(true);
    expect(h1.epochs.map((e) => e.valLoss)).toEqual(h0.epochs.map((e) => e.valLoss));
    const h2 = (await trainer.fit(two, small, { ...opts, workers: 2 })).history;
    // Two replicas draw their own noise: close to, not equal to, one worker.
    expect(h2.epochs[1].loss).toBeLessThan(h2.epochs[0].loss * 1.05);
    expect(maxRelDiff(weights(one), weights(two))).toBeLessThan(0.2);
    const s = saveModel(two);
    const back = loadModel(be, s.json, s.weights, { kind: 'cae' }).model;
    expect(bitEqual(weights(back), weights(two))).toBe(true);
    expect(evaluateTask(be, back.task(), small).loss).toBe(evaluateTask(be, two.task(), small).loss);
    for (const m of [here, one, two, back]) m.dispose();
  }, 60_000);

  it('createRunner: 0 workers is this thread, N is a Trainer', async () => {
    const r0 = await createRunner(be, { workers: 0 });
    expect(r0.where).toBe('this thread');
    const r2 = await createRunner(be, { workers: 2 });
    expect(r2.where).toBe('2 workers');
    await r2.dispose();
  });
});
