/**
 * The linear probe on a Trainer: in a worker, the accuracy of
 * `linearProbeAccuracy` and of the local runner bit for bit (and of the
 * textbook reference); the caller's arrays copied, never moved; the abort
 * signal stops the worker between steps; bad arguments are refused before any
 * worker starts; a rejected call leaves the trainer as it was.
 */
import { getEventListeners } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { linearProbeAccuracy, linearProbeAccuracyOn } from '../../ts/anomaly/probe.js';
import { ArgumentError } from '../../ts/errors.js';
import { MAX_MESSAGE_CHARS } from '../../ts/limits.js';
import { threadRunner } from '../../ts/train/runner.js';
import { Trainer } from '../../ts/worker/trainer.js';
import { referenceProbe } from '../reference/probe.js';
import { clusters } from '../util/clusters.js';
import { be } from './setup.js';

const trainer = await Trainer.create(be, { size: 2 });
afterAll(() => trainer.dispose());

const train = clusters(11, 301, 100, 10, 0.25),
  test = clusters(12, 97, 100, 10, 0.25);
const o = { steps: 60 };
const want = referenceProbe(train.e, train.labels, test.e, test.labels, {
  classes: 10,
  steps: 60,
  lr: 0.01,
  weightDecay: 1e-3,
}).accuracy;

describe('linear probe in workers', () => {
  it('the accuracy of linearProbeAccuracy and of this thread, bit for bit', async () => {
    expect(want).toBeGreaterThan(0);
    expect(want).toBeLessThan(1);
    expect(linearProbeAccuracy(train.e, train.labels, test.e, test.labels, o)).toBe(want);
    expect(await linearProbeAccuracyOn(threadRunner(be), train.e, train.labels, test.e, test.labels, o)).toBe(want);
    expect(await linearProbeAccuracyOn(trainer, train.e, train.labels, test.e, test.labels, o)).toBe(want);
    // Two at once (one worker each), labels as plain arrays, vectors as views into larger buffers.
    const other = clusters(13, 120, 7, 3, 0.5),
      otherTest = clusters(14, 41, 7, 3, 0.5);
    const padded = new Float32Array(5 + other.e.vectors.length);
    padded.set(other.e.vectors, 5);
    const view = { ...other.e, vectors: padded.subarray(5) };
    const o3 = { classes: 3, steps: 25, lr: 0.03 };
    const [a, b] = await Promise.all([
      trainer.linearProbeAccuracy(train.e, Array.from(train.labels), test.e, Array.from(test.labels), o),
      trainer.linearProbeAccuracy(view, other.labels, otherTest.e, otherTest.labels, o3),
    ]);
    expect(a).toBe(want);
    expect(b).toBe(linearProbeAccuracy(other.e, other.labels, otherTest.e, otherTest.labels, o3));
  });

  it("this thread's timers run while the worker trains the probe", async () => {
    const big = clusters(16, 2000, 100, 10, 0.35);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      await trainer.linearProbeAccuracy(big.e, big.labels, test.e, test.labels, { steps: 100 });
      expect(ticks).toBeGreaterThan(2);
      ticks = 0;
      linearProbeAccuracy(big.e, big.labels, test.e, test.labels, { steps: 100 });
      expect(ticks).toBe(0);
    } finally {
      clearInterval(timer);
    }
  });

  it("copies the caller's vectors and labels: nothing detached or changed", async () => {
    const before = Float32Array.from(train.e.vectors),
      labels = Uint8Array.from(train.labels);
    await trainer.linearProbeAccuracy(train.e, train.labels, test.e, test.labels, o);
    expect(train.e.vectors.length).toBe(before.length);
    expect(train.labels.length).toBe(labels.length);
    expect(test.e.vectors.buffer.byteLength).toBeGreaterThan(0);
    expect(train.e.vectors.every((v, i) => Object.is(v, before[i]))).toBe(true);
    expect(train.labels.every((v, i) => v === labels[i])).toBe(true);
  });

  it('an abort stops the worker between steps: rejects with the reason, the worker serves the next call', async () => {
    const ctl = new AbortController(),
      reason = new Error('stop the probe');
    const live = trainer.pool.live;
    // 100 000 steps of 2 000 vectors would take minutes.
    const big = clusters(15, 2000, 100, 10, 0.35);
    const run = trainer.linearProbeAccuracy(big.e, big.labels, test.e, test.labels, {
      steps: 100_000,
      signal: ctl.signal,
    });
    setTimeout(() => ctl.abort(reason), 100);
    const t0 = performance.now();
    await expect(run).rejects.toBe(reason);
    // Not a speed figure: without the abort the call runs for minutes.
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
    expect(trainer.pool.live).toBe(live);
    expect(await trainer.linearProbeAccuracy(train.e, train.labels, test.e, test.labels, o)).toBe(want);
  });

  it('aborted before the call, or a bad argument: rejected before any worker starts', async () => {
    const fresh = await Trainer.create(be, { size: 1 });
    try {
      const reason = new Error('never started');
      const signal = AbortSignal.abort(reason);
      await expect(fresh.linearProbeAccuracy(train.e, train.labels, test.e, test.labels, { signal })).rejects.toBe(
        reason,
      );
      await expect(linearProbeAccuracyOn(fresh, train.e, train.labels, test.e, test.labels, { signal })).rejects.toBe(
        reason,
      );
      const bad: [string, () => Promise<number>][] = [
        ['classes', () => fresh.linearProbeAccuracy(train.e, train.labels, test.e, test.labels, { classes: 1.5 })],
        ['steps', () => fresh.linearProbeAccuracy(train.e, train.labels, test.e, test.labels, { steps: 0 })],
        [
          'signal',
          () => fresh.linearProbeAccuracy(train.e, train.labels, test.e, test.labels, { signal: {} as never }),
        ],
        ['test', () => fresh.linearProbeAccuracy(train.e, train.labels, { ...test.e, dim: 4 }, test.labels)],
        ['testLabels', () => fresh.linearProbeAccuracy(train.e, train.labels, test.e, train.labels)],
        [
          'options',
          () =>
            fresh.linearProbeAccuracy(train.e, train.labels, test.e, test.labels, { ['x'.repeat(1e6)]: 1 } as never),
        ],
        [
          'lr',
          () =>
            linearProbeAccuracyOn(fresh, train.e, train.labels, test.e, test.labels, { lr: 'x'.repeat(1e6) as never }),
        ],
      ];
      for (const [arg, call] of bad) {
        const e = await call().then(
          () => new Error('resolved'),
          (x: Error) => x,
        );
        expect(e, arg).toBeInstanceOf(ArgumentError);
        expect((e as ArgumentError).arg, arg).toBe(arg);
        expect(e.message.length, arg).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
        expect(e.message, arg).toMatch(/^(Trainer\.)?linearProbeAccuracy: /);
      }
      expect(fresh.pool.live).toBe(0);
    } finally {
      await fresh.dispose();
    }
  });
});
