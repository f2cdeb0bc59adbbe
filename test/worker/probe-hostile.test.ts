/**
 * The linear probe's hostile arguments, on this thread, the local runner and a Trainer alike: a signal-like
 * object the worker job cannot remove its listener from, non-finite vectors, labels of the wrong type; and the
 * edge shapes (one vector, one feature, one class) against the textbook reference.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Embeddings } from '../../ts/anomaly/embed.js';
import { linearProbeAccuracy, linearProbeAccuracyOn, type ProbeOptions } from '../../ts/anomaly/probe.js';
import { ArgumentError } from '../../ts/errors.js';
import { MAX_RESULT_FLOATS } from '../../ts/limits.js';
import { threadRunner } from '../../ts/train/runner.js';
import { Trainer } from '../../ts/worker/trainer.js';
import { referenceProbe } from '../reference/probe.js';
import { be, data, stackOf } from './setup.js';

// One worker: a call that kept it would leave every later call waiting.
const trainer = await Trainer.create(be, { size: 1 });
afterAll(() => trainer.dispose());

const vecs = (v: number[], dim = 1): Embeddings => ({ vectors: Float32Array.from(v), n: v.length / dim, dim });
type Args = [Embeddings, ArrayLike<number>, Embeddings, ArrayLike<number>, ProbeOptions?];

/** The outcome on each of the three paths: the accuracy, or the error's class and message. */
async function onEveryPath(...a: Args): Promise<string[]> {
  const paths = [
    async () => linearProbeAccuracy(...a),
    () => linearProbeAccuracyOn(threadRunner(be), ...a),
    () => linearProbeAccuracyOn(trainer, ...a),
  ];
  const out: string[] = [];
  for (const p of paths) {
    const r = await Promise.race([
      p().then(String, (e: Error) => `${e instanceof ArgumentError ? 'ArgumentError' : e.name}: ${e.message}`),
      new Promise<string>((ok) => setTimeout(() => ok('no answer in 10 s'), 10_000)),
    ]);
    out.push(r);
  }
  return out;
}

/** The trainer's one worker still answers. */
async function workerServes(): Promise<void> {
  const r = await Promise.race([
    trainer.linearProbeAccuracy(vecs([0, 1, 5, 6]), [0, 0, 1, 1], vecs([0.5, 5.5]), [0, 1], { classes: 2 }),
    new Promise<string>((ok) => setTimeout(() => ok('no answer in 10 s'), 10_000)),
  ]);
  expect(r).toBe(1);
}

const train = vecs([0, 1, 5, 6]),
  labels = [0, 0, 1, 1],
  test = vecs([0.5, 5.5]),
  testLabels = [0, 1];

describe('linear probe: hostile arguments', () => {
  it('a signal-like object without removeEventListener is an ArgumentError everywhere; the worker is not kept', async () => {
    const signal = { aborted: false, addEventListener() {} } as unknown as AbortSignal;
    const r = await onEveryPath(train, labels, test, testLabels, { classes: 2, signal });
    for (const x of r) expect(x).toMatch(/^ArgumentError: linearProbeAccuracy: signal must be an AbortSignal/);
    await workerServes();
  });

  it('Trainer.fit refuses the same signal-like object before its workers start (it kept them too)', async () => {
    const signal = { aborted: false, addEventListener() {} } as unknown as AbortSignal;
    const stack = stackOf(1);
    try {
      await expect(
        trainer.fit(stack, data, { epochs: 1, batchSize: 32, optimizer: { type: 'adam', lr: 1e-3 }, signal }),
      ).rejects.toThrow(/signal must be an AbortSignal/);
    } finally {
      stack.dispose();
    }
    await workerServes();
  });

  it('a signal whose removeEventListener throws: the call rejects with its error, and the worker goes back', async () => {
    const signal = {
      aborted: false,
      addEventListener() {},
      removeEventListener() {
        throw new Error('hostile');
      },
    } as unknown as AbortSignal;
    await expect(trainer.linearProbeAccuracy(train, labels, test, testLabels, { classes: 2, signal })).rejects.toThrow(
      'hostile',
    );
    await workerServes();
  });

  it('NaN or infinity in a vector is refused, naming vector and feature (it gave an accuracy of 0.5)', async () => {
    for (const x of await onEveryPath(vecs([0, Number.NaN, 5, 6]), labels, test, testLabels, { classes: 2 }))
      expect(x).toMatch(/^ArgumentError: .*train vector 1, feature 0 is NaN/);
    const train2 = vecs([0, 0, 1, 1, 5, 5, 6, 6], 2),
      test2 = vecs([0.5, 0.5, 5, Number.POSITIVE_INFINITY], 2);
    for (const x of await onEveryPath(train2, labels, test2, testLabels, { classes: 2 }))
      expect(x).toMatch(/^ArgumentError: .*test vector 1, feature 1 is Infinity/);
    const inf = vecs([0.5, Number.NEGATIVE_INFINITY]);
    for (const x of await onEveryPath(train, labels, inf, testLabels, { classes: 2 }))
      expect(x).toMatch(/^ArgumentError: .*test vector 1, feature 0 is -Infinity/);
    await workerServes();
  });

  it('labels that are strings or BigInts are quoted as such', async () => {
    for (const x of await onEveryPath(train, '0011' as unknown as number[], test, testLabels, { classes: 2 }))
      expect(x).toMatch(/^ArgumentError: .*trainLabels label 0 is "0", not an integer/);
    for (const x of await onEveryPath(train, labels, test, new BigInt64Array(2) as unknown as number[], {
      classes: 2,
    }))
      expect(x).toMatch(/^ArgumentError: .*testLabels label 0 is 0n, not an integer/);
  });
});

describe('linear probe: sizes', () => {
  /** A Float32Array that says it holds `length` values: the size check must refuse it before reading one. */
  const claiming = (length: number): Float32Array => {
    const v = new Float32Array(4);
    Object.defineProperty(v, 'length', { value: length });
    return v;
  };
  it('train and test values past MAX_RESULT_FLOATS / 2 are refused on every path, before any is read', async () => {
    const dim = 1024,
      n = MAX_RESULT_FLOATS / 2 / dim; // exactly at the bound with the one test vector below: one over
    const big = { vectors: claiming(n * dim), n, dim };
    const one = { vectors: new Float32Array(dim), n: 1, dim };
    for (const x of await onEveryPath(big, new Uint8Array(n), one, [0], { classes: 1 }))
      expect(x).toMatch(
        /^ArgumentError: .*train and test hold \(524288 \+ 1\) vectors × 1024 features .*MAX_RESULT_FLOATS/,
      );
    await workerServes();
  });
});

describe('linear probe: vectors on a SharedArrayBuffer or a detached one', () => {
  it('shared: the same accuracy as from an ordinary buffer; detached: an ArgumentError', async () => {
    const shared = new Float32Array(new SharedArrayBuffer(16));
    shared.set(train.vectors);
    const want = await onEveryPath(train, labels, test, testLabels, { classes: 2 });
    expect(await onEveryPath({ ...train, vectors: shared }, labels, test, testLabels, { classes: 2 })).toEqual(want);
    const gone = Float32Array.from(train.vectors);
    structuredClone(gone.buffer, { transfer: [gone.buffer] });
    for (const x of await onEveryPath({ ...train, vectors: gone }, labels, test, testLabels, { classes: 2 }))
      expect(x).toMatch(/^ArgumentError: .*train holds 0 floats, not n·dim = 4/);
    await workerServes();
  });
});

describe('linear probe: edge shapes, the same on every path as the reference', () => {
  const cases: [string, Args, number][] = [
    ['n = 1, one class', [vecs([1]), [0], vecs([2]), [0], { classes: 1 }], 1],
    ['n = 1 of two classes', [vecs([1]), [1], vecs([2, 3]), [0, 1], { classes: 2 }], 2],
    ['dim = 1', [vecs([1, 2, 3, 4]), [0, 0, 1, 1], vecs([1, 4]), [0, 1], { classes: 2 }], 2],
    ['a constant feature', [vecs([1, 0, 1, 0, 1, 9, 1, 9], 2), [0, 0, 1, 1], vecs([1, 0, 1, 9], 2), [0, 1]], 10],
  ];
  for (const [name, a, classes] of cases)
    it(name, async () => {
      const want = referenceProbe(a[0], a[1], a[2], a[3], { classes, steps: 150, lr: 0.01, weightDecay: 1e-3 });
      const r = await onEveryPath(...a);
      expect(r).toEqual([String(want.accuracy), String(want.accuracy), String(want.accuracy)]);
    });
});
