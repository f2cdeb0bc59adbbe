/**
 * AnomalyDetector: its threshold flags the asked fraction of the normal
 * validation images it was fitted on, its scores are the neighbour / reconstruction
 * scores they claim to be; and the probes on hand-made vectors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AnomalyDetector } from '../../ts/anomaly/detector.js';
import { encode } from '../../ts/anomaly/embed.js';
import { knnAccuracy, linearProbeAccuracy } from '../../ts/anomaly/probe.js';
import { neighbourScores, reconstructionScores } from '../../ts/anomaly/score.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { Rng } from '../../ts/util/rng.js';
import { backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();
const stack = new StackedConvAutoencoder(
  be,
  [
    { convs: [{ filters: 3, kernel: 3 }], pool: { kernel: 2 } },
    { convs: [{ filters: 4, kernel: 3 }], pool: { kernel: 2 } },
  ],
  [1, 14, 14],
  3,
);
afterAll(() => stack.dispose());
const rng = new Rng(21);
const images = (n: number) =>
  ImageDataset.fromFloat32(
    Float32Array.from({ length: n * 196 }, () => rng.next()),
    [1, 14, 14],
  );
const normal = images(60),
  validation = images(200);

describe('AnomalyDetector', () => {
  for (const fpr of [0.01, 0.05, 0.2]) {
    for (const score of [
      { type: 'neighbours', depth: 2, k: 3 } as const,
      { type: 'reconstruction', depth: 1 } as const,
    ]) {
      it(`${score.type}, fpr=${fpr}: flags ⌊fpr·200⌋ of the 200 validation images`, () => {
        const det = AnomalyDetector.fit(stack, normal, validation, { score, threshold: { fpr } });
        const d = det.detect(validation);
        expect(d.flags.reduce((a, b) => a + b, 0)).toBe(Math.floor(fpr * 200 + 1e-9));
        const want =
          score.type === 'neighbours'
            ? neighbourScores(be, encode(stack, normal, { depth: 2 }), encode(stack, validation, { depth: 2 }), {
                k: 3,
              })
            : reconstructionScores(stack, validation, { depth: 1 }).scores;
        expect(Array.from(d.scores)).toEqual(Array.from(want));
      });
    }
  }

  it('by default scores the mean distance to the 5 nearest normal codes at the deepest code', () => {
    const det = AnomalyDetector.fit(stack, normal, validation);
    expect(det.spec).toEqual({ type: 'neighbours', depth: 2, k: 5 });
    const want = neighbourScores(be, encode(stack, normal, { depth: 2 }), encode(stack, validation, { depth: 2 }), {
      k: 5,
    });
    expect(Array.from(det.score(validation))).toEqual(Array.from(want));
  });

  it('with fewer than 5 normal images the default k is their number; a larger k given is refused', () => {
    const three = normal.take(3);
    const det = AnomalyDetector.fit(stack, three, validation);
    expect(det.spec).toEqual({ type: 'neighbours', depth: 2, k: 3 });
    const want = neighbourScores(be, encode(stack, three, { depth: 2 }), encode(stack, validation, { depth: 2 }), {
      k: 3,
    });
    expect(Array.from(det.score(validation))).toEqual(Array.from(want));
    expect(() =>
      AnomalyDetector.fit(stack, three, validation, { score: { type: 'neighbours', depth: 2, k: 4 } }),
    ).toThrow(/score\.k must be an integer in \[1, 3\]/);
  });

  it('rejects a score deeper than the stack and k beyond the normal set', () => {
    expect(() =>
      AnomalyDetector.fit(stack, normal, validation, { score: { type: 'reconstruction', depth: 3 } }),
    ).toThrow(/depth/);
    expect(() =>
      AnomalyDetector.fit(stack, normal, validation, { score: { type: 'neighbours', depth: 1, k: 61 } }),
    ).toThrow(/k/);
  });
});

describe('probes on hand-made vectors', () => {
  // Two classes on either side of x = 0, spread along y.
  const pts = (xs: number[][]) => ({ vectors: Float32Array.from(xs.flat()), n: xs.length, dim: 2 });
  const train = pts([
    [-2, 0],
    [-1, 5],
    [-3, -4],
    [2, 1],
    [1, -5],
    [3, 4],
  ]);
  const trainLabels = [0, 0, 0, 1, 1, 1];
  const test = pts([
    [-0.5, 4],
    [0.5, -4],
    [-2, 2],
    [2, -2],
  ]);

  it('1-NN: each test point takes the label of its hand-computed nearest training point', () => {
    // Nearest: (−0.5,4)→(−1,5) 0; (0.5,−4)→(1,−5) 1; (−2,2)→(−2,0) 0; (2,−2)→(2,1) 1.
    expect(knnAccuracy(be, train, trainLabels, test, [0, 1, 0, 1], { k: 1, classes: 2 })).toBe(1);
    expect(knnAccuracy(be, train, trainLabels, test, [1, 1, 0, 1], { k: 1, classes: 2 })).toBe(0.75);
  });

  it('linear probe separates classes split by a line', () => {
    expect(linearProbeAccuracy(train, trainLabels, test, [0, 1, 0, 1], { classes: 2, steps: 300 })).toBe(1);
  });
});
