/**
 * The linear probe on this thread: its weights against the textbook reference
 * (test/reference/probe.ts) to the bit, over shapes around its blocking of four
 * vectors; `linearProbeAccuracyOn` on the local runner against
 * `linearProbeAccuracy`; the abort signal.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LinearProbe } from '../../ts/anomaly/linearprobe.js';
import { linearProbeAccuracy, linearProbeAccuracyOn } from '../../ts/anomaly/probe.js';
import { ArgumentError } from '../../ts/errors.js';
import { threadRunner } from '../../ts/train/runner.js';
import { backendUnderTest } from '../util/backend.js';
import { clusters } from '../util/clusters.js';
import { referenceProbe } from '../reference/probe.js';
import { thrown } from '../util/thrown.js';

const be = await backendUnderTest();
const runner = threadRunner(be);
const bits = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('linear probe arithmetic', () => {
  // n around multiples of the 4-vector blocks (1–3 left over, fewer than 4 in all), 1 to 5 classes.
  it('weights, biases and accuracy equal the reference to the bit', () => {
    let seed = 1;
    for (const n of [1, 3, 4, 5, 7, 9, 13])
      for (const dim of [1, 2, 7])
        for (const classes of [1, 2, 3, 5]) {
          const train = clusters(seed++, n, dim, classes, 0.5),
            test = clusters(seed++, 11, dim, classes, 0.5);
          // A constant feature (standardised to 0) where there is room for one.
          if (dim > 2) for (let i = 0; i < n; i++) train.e.vectors[i * dim + 1] = 0.25;
          const spec = { classes, steps: 1 + (seed % 7), lr: 0.05, weightDecay: 1e-2 };
          const want = referenceProbe(train.e, train.labels, test.e, test.labels, spec);
          const probe = new LinearProbe(train.e, train.labels, spec);
          for (let t = 1; t <= spec.steps; t++) probe.step(t);
          const name = `n=${n} dim=${dim} classes=${classes} steps=${spec.steps}`;
          const got = Array.from(probe.W);
          const flat = want.weights.flatMap((w, c) => [...w, want.bias[c]]);
          expect(bits(got, flat), name).toBe(true);
          expect(probe.accuracy(test.e, test.labels), name).toBe(want.accuracy);
          expect(linearProbeAccuracy(train.e, train.labels, test.e, test.labels, spec), name).toBe(want.accuracy);
        }
  });

  it('on the local runner: the accuracy of linearProbeAccuracy, bit for bit', async () => {
    for (const [seed, n, dim, classes] of [
      [1, 203, 40, 10],
      [2, 150, 17, 3],
      [3, 61, 9, 2],
    ]) {
      const train = clusters(seed, n, dim, classes, 0.4),
        test = clusters(seed + 100, 97, dim, classes, 0.4);
      const o = { classes, steps: 40 };
      const want = referenceProbe(train.e, train.labels, test.e, test.labels, { ...o, lr: 0.01, weightDecay: 1e-3 });
      expect(want.accuracy).toBeGreaterThan(0);
      expect(want.accuracy).toBeLessThan(1);
      expect(linearProbeAccuracy(train.e, train.labels, test.e, test.labels, o)).toBe(want.accuracy);
      expect(await linearProbeAccuracyOn(runner, train.e, train.labels, test.e, test.labels, o)).toBe(want.accuracy);
      expect(await runner.linearProbeAccuracy(train.e, Array.from(train.labels), test.e, test.labels, o)).toBe(
        want.accuracy,
      );
    }
  });
});

describe('linear probe abort signal', () => {
  const train = clusters(5, 1000, 100, 10, 0.3),
    test = clusters(6, 50, 100, 10, 0.3);

  it('aborted before the call: throws (rejects) with the reason, before any step', async () => {
    const step = vi.spyOn(LinearProbe.prototype, 'step');
    const reason = new Error('stop');
    const signal = AbortSignal.abort(reason);
    expect(thrown(() => linearProbeAccuracy(train.e, train.labels, test.e, test.labels, { signal }))).toBe(reason);
    await expect(linearProbeAccuracyOn(runner, train.e, train.labels, test.e, test.labels, { signal })).rejects.toBe(
      reason,
    );
    const plain = AbortSignal.abort();
    await expect(
      runner.linearProbeAccuracy(train.e, train.labels, test.e, test.labels, { signal: plain }),
    ).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }));
    expect(step).not.toHaveBeenCalled();
  });

  it('aborted while it runs on this thread: rejects with the reason between steps', async () => {
    const step = vi.spyOn(LinearProbe.prototype, 'step');
    const ctl = new AbortController();
    // 100 000 steps would take minutes; the timer fires at one of the probe's breaks for the event loop.
    const run = linearProbeAccuracyOn(runner, train.e, train.labels, test.e, test.labels, {
      steps: 100_000,
      signal: ctl.signal,
    });
    const reason = new Error('enough');
    setTimeout(() => ctl.abort(reason), 50);
    await expect(run).rejects.toBe(reason);
    expect(step.mock.calls.length).toBeGreaterThan(0);
    expect(step.mock.calls.length).toBeLessThan(100_000);
  });

  it("on the local runner this thread's timers run between steps", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      await linearProbeAccuracyOn(runner, train.e, train.labels, test.e, test.labels, { steps: 100 });
      expect(ticks).toBeGreaterThan(2);
    } finally {
      clearInterval(timer);
    }
  });

  it('a signal that is not an AbortSignal is an ArgumentError naming it', async () => {
    for (const signal of ['abort', {}, { aborted: true }, null]) {
      const e = thrown(() =>
        linearProbeAccuracy(train.e, train.labels, test.e, test.labels, { signal: signal as never }),
      );
      expect(e).toBeInstanceOf(ArgumentError);
      expect(e.message).toMatch(/^linearProbeAccuracy: signal must be an AbortSignal, got /);
      await expect(
        runner.linearProbeAccuracy(train.e, train.labels, test.e, test.labels, { signal: signal as never }),
      ).rejects.toThrow(/^Runner\.linearProbeAccuracy: signal must be an AbortSignal/);
    }
  });
});
