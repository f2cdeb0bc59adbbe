/**
 * The native backend against the simd wasm build on the same training runs
 * (both backends in this realm, same seeds, same real MNIST images): a CAE
 * layer of a stack (conv, pool, unpool, transposed conv, Adam) and the CNN
 * classifier (dense layers, cross-entropy, SGD with momentum).
 * - native kernels (FMA, 8 x 32 tiles) agree within float tolerance;
 * - native pinned to its scalar twins runs the simd build's summation order,
 *   so it agrees bit for bit.
 */
import { describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { loadMnist } from '../../ts/data/mnist.js';
import { backendUnderTest } from '../util/backend.js';
import { bitEqual, maxRelDiff, weights } from '../worker/setup.js';

const native = await backendUnderTest();
const simd = await cv.loadBackend({ build: 'simd' });
const data = await loadMnist({ split: 'train', limit: 256 });
const blocks: cv.BlockSpec[] = [
  { convs: [{ filters: 6, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
  { convs: [{ filters: 8, kernel: 3 }], activation: 'tanh', pool: { kernel: 2 } },
];

async function run(be: cv.Backend, scalar = false) {
  be.setForceScalar(scalar);
  try {
    const stack = new cv.StackedConvAutoencoder(be, blocks, data.shape, 5);
    const cae = await cv.fit(be, cv.stackLayerTask(stack, 0), data, {
      epochs: 1,
      batchSize: 64,
      seed: 5,
      optimizer: { type: 'adam', lr: 3e-3 },
    });
    const clf = cv.Classifier.fromStack(stack, { hidden: [24], classes: 10 }, 5);
    const cnn = await cv.fit(be, cv.classifierTask(clf), data, {
      epochs: 1,
      batchSize: 64,
      seed: 5,
      optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 },
    });
    const out = {
      stack: weights(stack),
      clf: weights(clf),
      losses: [...cae.epochs, ...cnn.epochs].map((e) => e.loss),
    };
    clf.dispose();
    stack.dispose();
    return out;
  } finally {
    be.setForceScalar(false);
  }
}

describe('native vs the simd wasm build, 4 training steps of a CAE and 4 of the CNN', () => {
  it('native kernels: the same weights within 1e-5 (relative to the largest weight; measured 7e-8), the same losses within 1e-5', async () => {
    const [a, b] = [await run(native), await run(simd)];
    const d = { stack: maxRelDiff(a.stack, b.stack), clf: maxRelDiff(a.clf, b.clf) };
    expect(d.stack).toBeLessThan(1e-5);
    expect(d.clf).toBeLessThan(1e-5);
    // FMA and other blockings change roundings: equal bits would mean the native kernels did not run.
    if (native.isa !== 'scalar') expect(bitEqual(a.clf, b.clf)).toBe(false);
    a.losses.forEach((l, i) => expect(Math.abs(l - b.losses[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(l))));
  });

  it('native scalar twins: bit for bit the simd build', async () => {
    const [a, b] = [await run(native, true), await run(simd)];
    expect(bitEqual(a.stack, b.stack)).toBe(true);
    expect(bitEqual(a.clf, b.clf)).toBe(true);
    expect(a.losses).toEqual(b.losses);
  });
});
