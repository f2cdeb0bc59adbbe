/** Shared fixtures of the worker suites: a small real MNIST subset, models, and weight comparisons. */
import { loadMnist } from '../../ts/data/mnist.js';
import { StackedConvAutoencoder, type BlockSpec } from '../../ts/model/autoencoder.js';
import { Classifier } from '../../ts/model/classifier.js';
import { backendUnderTest } from '../util/backend.js';

export const be = await backendUnderTest();
export const data = await loadMnist({ split: 'train', limit: 600 });
export const blocks: BlockSpec[] = [
  { convs: [{ filters: 6, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
  { convs: [{ filters: 8, kernel: 3 }], activation: 'tanh', pool: { kernel: 2 } },
];

export const stackOf = (seed: number) => new StackedConvAutoencoder(be, blocks, data.shape, seed);
export const classifierOf = (seed: number) => Classifier.fromStack(stackOf(seed), { hidden: [24], classes: 10 }, seed);

export const weights = (m: { params(): { name: string; value: { toArray(): Float32Array } }[] }) =>
  Object.fromEntries(m.params().map((p) => [p.name, p.value.toArray()]));

/** Largest |a − b| over every parameter, relative to the largest |a| (both models have the same parameters). */
export function maxRelDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let d = 0,
    m = 0;
  for (const k of Object.keys(a)) {
    const x = a[k],
      y = b[k];
    if (!y || y.length !== x.length) throw new Error(`parameter ${k} missing or resized`);
    for (let i = 0; i < x.length; i++) {
      d = Math.max(d, Math.abs(x[i] - y[i]));
      m = Math.max(m, Math.abs(x[i]));
    }
  }
  return d / m;
}

export function bitEqual(a: Record<string, Float32Array>, b: Record<string, Float32Array>): boolean {
  return Object.keys(a).every((k) => a[k].length === b[k].length && a[k].every((v, i) => Object.is(v, b[k][i])));
}
