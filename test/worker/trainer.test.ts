/**
 * Training in workers against training on this thread: one worker gives the
 * same weights bit for bit; N workers on a global batch B give the weights of
 * one worker on B within float tolerance (uneven parts, a last batch smaller
 * than N); cancellation ends at a completed step; pause holds training;
 * checkpoints and resume pass through; datasets are shared or moved.
 */
import type * as Comlink from 'comlink';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import { ImageDataset } from '../../ts/data/dataset.js';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { ArgumentError, NonFiniteError } from '../../ts/errors.js';
import type { Checkpoint } from '../../ts/train/checkpoint.js';
import { fit, type BatchInfo, type History } from '../../ts/train/fit.js';
import { classifierTask, stackLayerTask } from '../../ts/model/tasks.js';
import type { FitResult, WorkerApi } from '../../ts/worker/protocol.js';
import { Trainer, type TrainResult } from '../../ts/worker/trainer.js';
import { BUILD } from '../util/backend.js';
import { be, bitEqual, classifierOf, data, maxRelDiff, stackOf, weights } from './setup.js';

const trainer = await Trainer.create(be, { size: 3 });
afterAll(() => trainer.dispose());

const sgd = { type: 'sgd', lr: 0.02, momentum: 0.9 } as const;

describe(`Trainer (${BUILD})`, () => {
  it('types: the remote API and fit are typed end to end', () => {
    expectTypeOf<Comlink.Remote<WorkerApi>['fit']>().returns.resolves.toEqualTypeOf<FitResult>();
    expectTypeOf(trainer.fit).returns.resolves.toEqualTypeOf<TrainResult>();
    expectTypeOf<TrainResult['history']>().toEqualTypeOf<History>();
    expectTypeOf(trainer.fit)
      .parameter(2)
      .toHaveProperty('onBatch')
      .toEqualTypeOf<((info: BatchInfo) => void) | undefined>();
  });

  it('one worker = this thread, bit for bit: a CAE layer of a stack and the classifier, with the same events', async () => {
    const a = stackOf(5),
      b = stackOf(5);
    const opts = { epochs: 2, batchSize: 32, seed: 5, optimizer: { type: 'adam', lr: 3e-3 } } as const;
    const seenA: number[] = [],
      seenB: number[] = [];
    await fit(be, stackLayerTask(a, 0), data, { ...opts, onBatch: (i) => seenA.push(i.loss) });
    await fit(be, stackLayerTask(a, 1), data, { ...opts, seed: 6 });
    const r0 = await trainer.fit(b, data, { ...opts, layer: 0, workers: 1, onBatch: (i) => seenB.push(i.loss) });
    await trainer.fit(b, data, { ...opts, seed: 6, layer: 1, workers: 1 });
    expect(bitEqual(weights(a), weights(b))).toBe(true);
    expect(seenB).toEqual(seenA);
    expect(seenB.length).toBe(2 * Math.ceil(data.length / 32));
    expect(Object.keys(r0.params).sort()).toEqual(
      b.blocks[0]
        .params()
        .map((p) => p.name)
        .sort(),
    );

    const c = classifierOf(7),
      d = classifierOf(7);
    const h = await fit(be, classifierTask(c), data, {
      epochs: 1,
      batchSize: 50,
      seed: 7,
      optimizer: sgd,
      validation: 0.2,
    });
    const r = await trainer.fit(d, data, {
      epochs: 1,
      batchSize: 50,
      seed: 7,
      optimizer: sgd,
      validation: 0.2,
      workers: 1,
    });
    expect(bitEqual(weights(c), weights(d))).toBe(true);
    expect(r.history.epochs[0].valAccuracy).toBe(h.epochs[0].valAccuracy);
    [a, b, c, d].forEach((m) => m.dispose());
  }, 60_000);

  for (const [n, allReduce] of [
    [1, 'shared'],
    [2, 'shared'],
    [3, 'shared'],
    [2, 'messages'],
    [3, 'messages'],
  ] as const) {
    it(`data-parallel over ${n} worker(s), all-reduce through ${allReduce === 'shared' ? 'shared memory' : 'messages'} = one worker on the global batch (batch 47: uneven parts; last batch of 36)`, async () => {
      const ref = classifierOf(11),
        par = classifierOf(11);
      const opts = { epochs: 1, batchSize: 47, seed: 11, optimizer: sgd, validation: 0.1 } as const;
      const href = await fit(be, classifierTask(ref), data, opts);
      const losses: number[] = [];
      const r = await trainer.fit(par, data, { ...opts, workers: n, allReduce, onBatch: (i) => losses.push(i.loss) });
      const rel = maxRelDiff(weights(ref), weights(par));
      // Only the summation order of the gradient differs (per part, then across parts).
      expect(rel).toBeLessThan(1e-4);
      if (n === 1) expect(rel).toBe(0);
      expect(losses.length).toBe(Math.ceil(540 / 47));
      expect(r.history.epochs[0].loss).toBeCloseTo(href.epochs[0].loss, 5);
      expect(r.history.epochs[0].valLoss).toBeCloseTo(href.epochs[0].valLoss!, 5);
      expect(r.history.epochs[0].valAccuracy).toBe(href.epochs[0].valAccuracy);
      ref.dispose();
      par.dispose();
    }, 60_000);
  }

  it('augment and lrFactors in workers: 1 worker = this thread bit for bit; 3 workers move the same images (= 1 worker within float tolerance)', async () => {
    const opts = {
      epochs: 2,
      batchSize: 47,
      seed: 12,
      optimizer: sgd,
      augment: { shift: 2 },
      lrFactors: { block0: 0.2 },
    } as const;
    const ref = classifierOf(12),
      one = classifierOf(12),
      three = classifierOf(12);
    await fit(be, classifierTask(ref), data, opts);
    await trainer.fit(one, data, { ...opts, workers: 1 });
    await trainer.fit(three, data, { ...opts, workers: 3 });
    expect(bitEqual(weights(ref), weights(one))).toBe(true);
    expect(maxRelDiff(weights(ref), weights(three))).toBeLessThan(1e-4);
    for (const m of [ref, one, three]) m.dispose();
  }, 60_000);

  it('data-parallel with more workers than images in the last batch (parts of 0 images)', async () => {
    const small = data.take(65); // batches of 32, 32, 1
    const ref = stackOf(2),
      par = stackOf(2);
    const opts = { epochs: 2, batchSize: 32, seed: 2, optimizer: { type: 'adam', lr: 3e-3 } } as const;
    await fit(be, stackLayerTask(ref, 0), small, opts);
    await trainer.fit(par, small, { ...opts, workers: 3 });
    expect(maxRelDiff(weights(ref), weights(par))).toBeLessThan(1e-4);
    const msg = stackOf(2);
    await trainer.fit(msg, small, { ...opts, workers: 3, allReduce: 'messages' });
    expect(maxRelDiff(weights(ref), weights(msg))).toBeLessThan(1e-4);
    msg.dispose();
    ref.dispose();
    par.dispose();
  }, 60_000);

  it('input noise in data-parallel training (each replica reseeds its noise stream): the loss falls and ends near the 1-worker run', async () => {
    const noisy = [
      {
        convs: [{ filters: 6, kernel: 5 }],
        activation: 'tanh',
        pool: { kernel: 2 },
        noise: { type: 'mask', fraction: 0.3 },
      },
    ] as const;
    const run = async (workers: number) => {
      const s = new StackedConvAutoencoder(be, noisy as never, data.shape, 4);
      const r = await trainer.fit(s, data, {
        epochs: 2,
        batchSize: 32,
        seed: 4,
        optimizer: { type: 'adam', lr: 3e-3 },
        workers,
      });
      const w = weights(s);
      s.dispose();
      return { w, h: r.history };
    };
    const one = await run(1),
      two = await run(2);
    expect(two.h.epochs[1].loss).toBeLessThan(two.h.epochs[0].loss);
    expect(Math.abs(two.h.epochs[1].loss - one.h.epochs[1].loss)).toBeLessThan(0.1 * one.h.epochs[1].loss);
  }, 60_000);

  it('predict: logits split over 1 or 3 workers equal this thread, bit for bit; classes are their argmax; new weights reach the workers', async () => {
    const m = classifierOf(12);
    await trainer.fit(m, data, { epochs: 1, batchSize: 50, optimizer: sgd, workers: 1 });
    const test = data.take(301);
    const x = be.fromArray([301, ...test.shape], test.images);
    const want = m.logits(x).toArray(),
      classes = m.predict(x);
    x.dispose();
    for (const workers of [1, 3, 3]) {
      const r = await trainer.predict(m, test, { workers, batchSize: 64 });
      expect(r.logits.length).toBe(301 * 10);
      expect(r.logits.every((v, i) => Object.is(v, want[i]))).toBe(true);
      expect(Array.from(r.classes)).toEqual(Array.from(classes));
    }
    // The workers keep the model between predictions; a change of weights must reach them.
    await trainer.fit(m, data, { epochs: 1, batchSize: 50, optimizer: sgd, workers: 1 });
    const x2 = be.fromArray([301, ...test.shape], test.images);
    const want2 = m.logits(x2).toArray();
    x2.dispose();
    expect(want2.some((v, i) => v !== want[i])).toBe(true);
    const r2 = await trainer.predict(m, test, { workers: 3, batchSize: 64 });
    expect(r2.logits.every((v, i) => Object.is(v, want2[i]))).toBe(true);
    m.dispose();
  }, 60_000);

  it('abort: resolves with history.aborted and the weights of the last completed step (= this thread stopped after as many steps)', async () => {
    for (const n of [1, 2]) {
      const m = classifierOf(3),
        ref = classifierOf(3);
      const ctl = new AbortController();
      const opts = { epochs: 3, batchSize: 20, seed: 3, optimizer: sgd } as const;
      const r = await trainer.fit(m, data, {
        ...opts,
        workers: n,
        signal: ctl.signal,
        onBatch: (i) => i.batch === 4 && ctl.abort(),
      });
      expect(r.history.aborted).toBe(true);
      expect(r.history.steps).toBeGreaterThanOrEqual(4);
      expect(r.history.steps).toBeLessThan(3 * 30);
      const stop = new AbortController();
      let steps = 0;
      await fit(be, classifierTask(ref), data, {
        ...opts,
        signal: stop.signal,
        onBatch: () => ++steps === r.history.steps && stop.abort(),
      });
      expect(maxRelDiff(weights(ref), weights(m))).toBeLessThan(n === 1 ? 1e-30 : 1e-4);
      m.dispose();
      ref.dispose();
    }
    // An already aborted signal: nothing runs, the model is untouched.
    const m = classifierOf(4),
      before = weights(m);
    const r = await trainer.fit(m, data, { epochs: 1, batchSize: 20, optimizer: sgd, signal: AbortSignal.abort() });
    expect(r.history.aborted).toBe(true);
    expect(bitEqual(before, weights(m))).toBe(true);
    m.dispose();
  }, 60_000);

  it('pause holds training (no batches while paused), resume finishes it with the same weights', async () => {
    const m = classifierOf(8),
      ref = classifierOf(8);
    // Long enough that the pause (a message the worker reads between steps) lands before the end.
    const opts = { epochs: 8, batchSize: 30, seed: 8, optimizer: sgd } as const;
    const times: number[] = [];
    let pausedAt = 0;
    const run = trainer.fit(m, data, {
      ...opts,
      workers: 2,
      onBatch: (i) => {
        times.push(performance.now());
        if (i.epoch === 0 && i.batch === 3) {
          trainer.pause();
          pausedAt = performance.now();
          setTimeout(() => trainer.resume(), 400);
        }
      },
    });
    await run;
    await fit(be, classifierTask(ref), data, opts);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(Math.max(...gaps)).toBeGreaterThan(300);
    expect(pausedAt).toBeGreaterThan(0);
    expect(times.length).toBe(8 * 20);
    expect(maxRelDiff(weights(ref), weights(m))).toBeLessThan(1e-4);
    m.dispose();
    ref.dispose();
  }, 60_000);

  it('checkpoints reach the caller after every epoch and resume gives the uninterrupted result', async () => {
    const full = classifierOf(9),
      part = classifierOf(9);
    const opts = { epochs: 2, batchSize: 40, seed: 9, optimizer: sgd } as const;
    await trainer.fit(full, data, { ...opts, workers: 2 });
    const saved: Checkpoint[] = [];
    const ctl = new AbortController();
    await trainer.fit(part, data, {
      ...opts,
      workers: 2,
      signal: ctl.signal,
      checkpoint: {
        save: async (c) => {
          saved.push(c);
          ctl.abort();
        },
      },
    });
    expect(saved.length).toBe(1);
    expect(saved[0].epoch).toBe(1);
    const resumed = classifierOf(100);
    await trainer.fit(resumed, data, { ...opts, workers: 2, resumeFrom: saved[0] });
    expect(maxRelDiff(weights(full), weights(resumed))).toBeLessThan(1e-6);
    [full, part, resumed].forEach((m) => m.dispose());
  }, 60_000);

  it("data: 'transfer' moves the dataset (the caller's buffers detach); 'share' leaves it usable", async () => {
    const own = ImageDataset.fromFloat32(data.images.slice(0, 100 * 784), data.shape, data.labels!.slice(0, 100));
    const m = classifierOf(1);
    await trainer.fit(m, own, { epochs: 1, batchSize: 25, optimizer: sgd, workers: 1, data: 'transfer' });
    expect(own.images.byteLength).toBe(0);
    expect(own.labels!.byteLength).toBe(0);
    const view = data.take(100);
    await expect(
      trainer.fit(m, view, { epochs: 1, batchSize: 25, optimizer: sgd, workers: 1, data: 'transfer' }),
    ).rejects.toThrow(ArgumentError);
    await trainer.fit(m, view, { epochs: 1, batchSize: 25, optimizer: sgd, workers: 2, data: 'share' });
    expect(view.images.byteLength).toBe(100 * 784 * 4);
    m.dispose();
  }, 60_000);

  it('errors keep their class across the thread: a diverging run rejects with NonFiniteError and leaves the model as it was', async () => {
    const m = classifierOf(6),
      before = weights(m);
    const err = await trainer
      .fit(m, data, { epochs: 1, batchSize: 20, optimizer: { type: 'sgd', lr: 1e30 }, workers: 2 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as NonFiniteError).op).toBe('fit');
    expect(bitEqual(before, weights(m))).toBe(true);
    await expect(trainer.fit(m, data, { epochs: 1, batchSize: 20, optimizer: sgd, workers: 4 })).rejects.toThrow(
      /workers must be an integer in \[1, 3\]/,
    );
    const s = stackOf(1);
    await expect(trainer.fit(s, data, { epochs: 1, batchSize: 20, optimizer: sgd, layer: 2 })).rejects.toThrow(
      ArgumentError,
    );
    // The pool still trains after a failed job.
    const r = await trainer.fit(m, data, { epochs: 1, batchSize: 60, optimizer: sgd, workers: 3 });
    expect(r.history.steps).toBe(10);
    m.dispose();
    s.dispose();
  }, 60_000);
});
