/**
 * searchCAE: every candidate of the grid is trained on a worker of the pool
 * and ranked by validation reconstruction error; a candidate's error equals
 * the same training done on this thread (bit for bit); invalid candidates are
 * reported, not fatal; cancellation stops the search.
 */
import { describe, expect, it } from 'vitest';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { evaluateTask } from '../../ts/train/evaluate.js';
import { fit } from '../../ts/train/fit.js';
import { stackLayerTask } from '../../ts/model/tasks.js';
import { blockOf, candidates, searchCAE } from '../../ts/worker/search.js';
import { Trainer } from '../../ts/worker/trainer.js';
import { BUILD } from '../util/backend.js';
import { ArgumentError } from '../../ts/errors.js';
import { MAX_SEARCH_CANDIDATES } from '../../ts/limits.js';
import { be, data } from './setup.js';

describe(`searchCAE (${BUILD})`, () => {
  it('trains the whole grid in parallel, ranks by validation MSE then size; the winner re-trained on this thread gives the same error', async () => {
    const trainer = await Trainer.create(be, { size: 2 });
    try {
      const train = data.take(400),
        validation = data.subset(Array.from({ length: 100 }, (_, i) => 450 + i));
      const seen: number[] = [];
      const res = await searchCAE(trainer, {
        data: train,
        validation,
        featureMaps: [2, 6],
        filterSizes: [3, 5, 31],
        noise: [0, 0.3],
        epochs: 1,
        batchSize: 32,
        seed: 4,
        onCandidate: (_r, done) => seen.push(done),
      });
      expect(res.aborted).toBe(false);
      // A 31×31 filter does not fit a 28×28 image: reported, not fatal.
      expect(res.failed.map((f) => f.candidate.filterSize)).toEqual([31, 31, 31, 31]);
      expect(res.ranked.length).toBe(8);
      expect(seen.length).toBe(8);
      for (let i = 1; i < res.ranked.length; i++)
        expect(res.ranked[i].valLoss).toBeGreaterThanOrEqual(res.ranked[i - 1].valLoss);
      // More maps reconstruct better after the same training here (a sanity check of the ranking, not a law).
      expect(res.best!.candidate.featureMaps).toBe(6);

      const c = res.best!.candidate;
      const stack = new StackedConvAutoencoder(be, [blockOf(c)], train.shape, 4);
      await fit(be, stackLayerTask(stack, 0), train, {
        epochs: 1,
        batchSize: 32,
        seed: 4,
        optimizer: { type: 'adam', lr: c.lr },
      });
      expect(evaluateTask(be, stackLayerTask(stack, 0), validation).loss).toBe(res.best!.valLoss);
      expect(res.best!.parameters).toBe(stack.params().reduce((s, p) => s + p.value.size, 0));
      stack.dispose();
    } finally {
      await trainer.dispose();
    }
  }, 120_000);

  it('random strategy draws distinct candidates; abort stops the search with the finished ones', async () => {
    const grid = candidates({ data, featureMaps: [1, 2, 3, 4], filterSizes: [3, 5, 7], strategy: 'grid' });
    expect(grid.length).toBe(12);
    const some = candidates({
      data,
      featureMaps: [1, 2, 3, 4],
      filterSizes: [3, 5, 7],
      strategy: { random: 5 },
      seed: 2,
    });
    expect(some.length).toBe(5);
    expect(new Set(some.map((c) => `${c.featureMaps}/${c.filterSize}`)).size).toBe(5);
    expect(() => candidates({ data, featureMaps: [], filterSizes: [3] })).toThrow(
      /featureMaps must be a non-empty list/,
    );

    const trainer = await Trainer.create(be, { size: 1 });
    try {
      const ctl = new AbortController();
      const res = await searchCAE(trainer, {
        data,
        featureMaps: [2, 3, 4, 5],
        filterSizes: [3],
        epochs: 2,
        batchSize: 30,
        signal: ctl.signal,
        onCandidate: () => ctl.abort(),
      });
      expect(res.aborted).toBe(true);
      expect(res.ranked.length).toBe(1);
    } finally {
      await trainer.dispose();
    }
  }, 120_000);

  it('a space of more than MAX_SEARCH_CANDIDATES candidates is refused before the grid is built', async () => {
    // 1 000 × 1 000 × 2 = 2 000 000 candidates: built, they would take hundreds of MB (three lists
    // of 1 000 ran a process out of memory before the check); refused, no candidate exists and
    // the trainer is never asked for anything.
    const wide = Array.from({ length: 1000 }, (_, i) => i + 1);
    const space = { data, featureMaps: wide, filterSizes: wide, noise: [0, 0.5] };
    const big =
      /searchCAE: options spans 2 000 000 candidates \(featureMaps 1000 × filterSizes 1000 × noise 2\), at most 100 000/;
    const t0 = performance.now();
    expect(() => candidates(space)).toThrow(ArgumentError);
    expect(() => candidates(space)).toThrow(big);
    expect(() => candidates({ ...space, strategy: { random: 3 } })).toThrow(big);
    const untouched = new Proxy({} as Trainer, {
      get: (_, k) => {
        throw new Error(`the trainer was used (${String(k)})`);
      },
    });
    await expect(searchCAE(untouched, space)).rejects.toThrow(big);
    expect(performance.now() - t0).toBeLessThan(2000);
    // At the limit the grid is built.
    expect(candidates({ data, featureMaps: wide, filterSizes: wide.slice(0, 100) }).length).toBe(MAX_SEARCH_CANDIDATES);
  });
});
