/**
 * Whole-model gradients by finite differences in f64: the model's analytic
 * gradients (f32 kernels through every layer, tied weights included) against
 * central differences of an f64 re-evaluation of the same model with the
 * reference ops (test/util/f64model.ts).
 */
import { afterAll, describe, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { ConvAutoencoder, StackedConvAutoencoder, type BlockSpec } from '../../ts/model/autoencoder.js';
import { Classifier } from '../../ts/model/classifier.js';
import type { Param } from '../../ts/model/layer.js';
import * as RE from '../reference/elementwise.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { forwardF64, type ParamValues } from '../util/f64model.js';
import { expectClose, numericGrad } from '../util/fd.js';
import { Rng } from '../util/rng.js';

const be = await backendUnderTest();
const rng = new Rng(5);
const disposables: { dispose(): void }[] = [];
afterAll(() => disposables.forEach((d) => d.dispose()));

function values(params: Param[]): ParamValues {
  return new Map(params.map((p) => [p.name, Float64Array.from(p.value.data)]));
}

/** Checks every parameter's gradient against finite differences of `lossF64`. */
function checkParams(params: Param[], lossF64: (v: ParamValues) => number, label: string) {
  const base = values(params);
  for (const p of params) {
    const numeric = numericGrad((v) => lossF64(new Map(base).set(p.name, v)), base.get(p.name)!, 1e-6);
    expectClose(p.grad.data, numeric, 3e-3, 2e-6, `${label}: ${p.name}`);
  }
}

/** Inputs with well-separated values, so pooling switches do not move within ±eps. */
const images = (n: number, shape: number[]) => {
  const len = n * shape.reduce((a, b) => a * b);
  return Float32Array.from(rng.distinct(len, 0, 1));
};

describe(`model gradients by finite differences (${BUILD})`, () => {
  const cases: [string, BlockSpec, number[]][] = [
    ['conv 3×3 + tanh + pool 2, tied, sigmoid output', { convs: [{ filters: 3, kernel: 3 }] }, [2, 8, 8]],
    [
      'two convs (stride 2, padding 1), no pooling, tied',
      {
        convs: [
          { filters: 4, kernel: 3, stride: 2, padding: 1 },
          { filters: 3, kernel: 2 },
        ],
        pool: null,
        activation: 'tanh',
      },
      [1, 9, 9],
    ],
    [
      'untied, relu, overlapping pool 3/2',
      {
        convs: [{ filters: 3, kernel: 3 }],
        tied: false,
        activation: 'relu',
        pool: { kernel: 3, stride: 2 },
        outputActivation: 'identity',
      },
      [2, 9, 9],
    ],
    [
      'k-sparse decoding (3 of each 3×3 code map), tanh, pool 2, tied',
      { convs: [{ filters: 3, kernel: 3 }], sparsity: { keep: 0.3 } },
      [2, 8, 8],
    ],
  ];
  for (const [name, spec, shape] of cases) {
    it(`ConvAutoencoder: ${name}`, () => {
      const cae = new ConvAutoencoder(be, spec, shape, { seed: 3 });
      disposables.push(cae);
      const n = 2,
        xv = images(n, shape);
      const x = be.fromArray([n, ...shape], xv);
      disposables.push(x);
      for (const p of cae.params()) p.grad.fill(0);
      cae.trainStep(x);
      const layers = [...cae.encoder.layers, ...cae.decoder.layers];
      const x64 = Float64Array.from(xv);
      checkParams(cae.params(), (v) => RE.mseLossRef(forwardF64(layers, x64, n, v), x64).loss, name);
    });
  }

  it('Classifier built from a 2-block stack: conv, pool, dense, softmax cross-entropy', () => {
    const blocks: BlockSpec[] = [
      { convs: [{ filters: 3, kernel: 3 }] },
      { convs: [{ filters: 4, kernel: 2 }], pool: null },
    ];
    const stack = new StackedConvAutoencoder(be, blocks, [1, 10, 10], 2);
    const clf = Classifier.fromStack(stack, { hidden: [6], classes: 3 }, 4);
    disposables.push(stack, clf);
    const n = 3,
      xv = images(n, [1, 10, 10]),
      labels = [0, 2, 1];
    const x = be.fromArray([n, 1, 10, 10], xv),
      y = be.fromArray([n], labels, 'u32');
    disposables.push(x, y);
    for (const p of clf.params()) p.grad.fill(0);
    clf.trainStep(x, y);
    const x64 = Float64Array.from(xv);
    checkParams(
      clf.params(),
      (v) => RE.softmaxCrossEntropyRef(forwardF64(clf.net.layers, x64, n, v), [n, 3], labels).loss,
      'classifier',
    );
  });

  it('frozen blocks get no gradient', () => {
    const blocks: BlockSpec[] = [{ convs: [{ filters: 2, kernel: 3 }] }];
    const clf = Classifier.fromBlocks(be, blocks, [1, 8, 8], { hidden: [4], classes: 2, freeze: [0] }, 1);
    disposables.push(clf);
    const x = be.fromArray([2, 1, 8, 8], images(2, [1, 8, 8])),
      y = be.fromArray([2], [0, 1], 'u32');
    disposables.push(x, y);
    for (const p of clf.params()) p.grad.fill(0);
    clf.trainStep(x, y);
    const frozen = clf.params().filter((p) => p.name.startsWith('block0.'));
    for (const p of frozen) expectClose(p.grad.data, new Float64Array(p.grad.size), 0, 0, p.name);
  });
});

// Keep the import used in every build (the suite prints which build it checked).
void cv;
