/**
 * The linear probe on this thread: its weights against the textbook reference
 * (test/reference/probe.ts) to the bit, over shapes around its blocking of four
 * vectors.
 */
import { describe, expect, it } from 'vitest';
import { LinearProbe } from '../../ts/anomaly/linearprobe.js';
import { linearProbeAccuracy } from '../../ts/anomaly/probe.js';
import { clusters } from '../util/clusters.js';
import { referenceProbe } from '../reference/probe.js';

const bits = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

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
});
