/**
 * Classifier.logits (inference) pools before a monotone activation; its logits
 * must equal the training-mode layer order's (net.forward in eval mode):
 * bit for bit for relu/identity, within float rounding of the approximations
 * for tanh and sigmoid; blocks without pooling keep the plain order; predict
 * goes through the same path.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();
const disposables: { dispose(): void }[] = [];
afterAll(() => disposables.forEach((d) => d.dispose()));

function fill(t: cv.Tensor, seed: number, lo: number, hi: number) {
  const d = t.data;
  let s = seed >>> 0;
  for (let i = 0; i < d.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    d[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return t;
}

describe('Classifier.logits: pool before a monotone activation', () => {
  const cases: { act: cv.Activation; exact: boolean; tol: number }[] = [
    { act: 'relu', exact: true, tol: 0 },
    { act: 'identity', exact: true, tol: 0 },
    { act: 'leakyRelu', exact: true, tol: 0 },
    { act: 'tanh', exact: false, tol: 1e-6 },
    { act: 'sigmoid', exact: false, tol: 1e-6 },
  ];
  for (const { act, exact, tol } of cases) {
    it(`act=${act} blocks=[6 5×5 pool2, 8 3×3 pool2] dense [16] x=[5,1,16,16]: logits ${exact ? 'bit-equal to' : `within ${tol} of`} the layer order`, () => {
      const blocks: cv.BlockSpec[] = [
        { convs: [{ filters: 6, kernel: 5 }], activation: act, pool: { kernel: 2 } },
        { convs: [{ filters: 8, kernel: 3 }], activation: act, pool: { kernel: 2 } },
      ];
      const clf = cv.Classifier.fromBlocks(be, blocks, [1, 16, 16], { hidden: [16], classes: 4 }, 3);
      disposables.push(clf);
      for (const p of clf.params()) if (p.name.endsWith('bias')) fill(p.value, 99, -0.3, 0.3);
      const x = fill(be.empty([5, 1, 16, 16]), 7, -2, 2);
      disposables.push(x);
      const want = clf.net.forward(x, false).toArray();
      const got = clf.logits(x).toArray();
      if (exact) expect(Array.from(got)).toEqual(Array.from(want));
      else
        for (let i = 0; i < want.length; i++)
          expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i])));
      expect(Array.from(clf.predict(x))).toEqual(Array.from(cv.argmaxRows(clf.logits(x))));
    });
  }

  it('blocks without pooling keep the layer order: logits bit-equal', () => {
    const clf = cv.Classifier.fromBlocks(
      be,
      [{ convs: [{ filters: 4, kernel: 3 }], activation: 'tanh', pool: null }],
      [1, 10, 10],
      { hidden: [8], classes: 3 },
      5,
    );
    disposables.push(clf);
    const x = fill(be.empty([3, 1, 10, 10]), 11, -1, 1);
    disposables.push(x);
    expect(Array.from(clf.logits(x).toArray())).toEqual(Array.from(clf.net.forward(x, false).toArray()));
  });
});
