/**
 * Specs written `as const` (deeply readonly arrays and literal types) are accepted wherever the API
 * takes a model description, a search space or a list of parameters: this file only type-checks if they are (`npm test`
 * runs `tsc --noEmit` over test/ first), and the models built from them match the mutable-spec ones.
 */
import { describe, expect, it } from 'vitest';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { Classifier } from '../../ts/model/classifier.js';
import { exportWeights, importWeights } from '../../ts/model/serialize.js';
import { Optimizer } from '../../ts/train/optimizer.js';
import { candidates } from '../../ts/worker/search.js';
import { backendUnderTest } from '../util/backend.js';

const blocks = [
  {
    convs: [
      { filters: 3, kernel: 3 },
      { filters: 4, kernel: 3, padding: 1 },
    ],
    pool: { kernel: 2 },
  },
  { convs: [{ filters: 5, kernel: 3 }], activation: 'relu', pool: null, tied: false },
] as const;
const head = { hidden: [16, 8], classes: 10, freeze: [0] } as const;
const shape = [1, 12, 12] as const;

describe('readonly (as const) specs', () => {
  it('build the same stack and classifier as mutable copies of them', async () => {
    const be = await backendUnderTest();
    const stack = new StackedConvAutoencoder(be, blocks, shape, 7);
    const copy = new StackedConvAutoencoder(be, structuredClone(blocks) as never, [...shape], 7);
    const clf = Classifier.fromBlocks(be, blocks, shape, head, 3);
    const clfCopy = Classifier.fromBlocks(
      be,
      structuredClone(blocks) as never,
      [...shape],
      structuredClone(head) as never,
      3,
    );
    try {
      expect(stack.toJSON()).toEqual(copy.toJSON());
      expect(clf.toJSON()).toEqual(clfCopy.toJSON());
      const values = (ps: readonly { value: { toArray(): Float32Array } }[]) =>
        ps.map((p) => Array.from(p.value.toArray()));
      expect(values(stack.params())).toEqual(values(copy.params()));
      expect(values(clf.params())).toEqual(values(clfCopy.params()));
      // A frozen parameter list (what a caller keeps as `readonly Param[]`) saves, loads and trains.
      const frozen = Object.freeze(copy.params());
      importWeights(frozen, exportWeights(Object.freeze(stack.params())), 'stack');
      expect(values(frozen)).toEqual(values(stack.params()));
      expect(new Optimizer(be, frozen, { type: 'sgd', lr: 0.1 }).steps).toBe(0);
    } finally {
      for (const m of [stack, copy, clf, clfCopy]) m.dispose();
    }
  });

  it('give a search space', () => {
    const space = { featureMaps: [4, 8], filterSizes: [3, 5], noise: [0, 0.3], tied: [true, false] } as const;
    expect(candidates(space).length).toBe(16);
  });
});
