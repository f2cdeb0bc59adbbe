/**
 * Fuzzing model files through the public `loadModel(be, json, weights)`: the
 * architecture JSON (any field replaced by hostile values, unknown and
 * prototype keys, deep nesting, huge sizes) and the weights (cut, flipped,
 * NaN, missing/extra/renamed tensors, wrong dtypes and shapes). A valid file
 * must load to exactly its values and survive save → load.
 *
 * The expectations are those of the strict loader (the model-contract work:
 * lenient fields refused, limits checked before allocation, NaN weights
 * refused). Until that loader is in the tree, the probe below finds the old
 * one and this suite only reports the failing classes (and still asserts that
 * no case pollutes a prototype or hangs).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ConvaeError } from '../../ts/errors.js';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { Classifier } from '../../ts/model/classifier.js';
import { loadModel, saveModel } from '../../ts/model/serialize.js';
import { backendUnderTest } from '../util/backend.js';
import { type Expect, fuzzCase, Gen, report, snapshot, tally } from './harness.js';
import { addKey, damageWeights, replaceField } from './mutate.js';

const be = await backendUnderTest();
const before = snapshot(be);
afterAll(() => report('model files', be, before));

const models = [
  Classifier.fromBlocks(
    be,
    [{ convs: [{ filters: 2, kernel: 3 }], noise: { type: 'mask', fraction: 0.2 } }],
    [1, 8, 8],
    { hidden: [4], classes: 3 },
    1,
  ),
  new StackedConvAutoencoder(
    be,
    [{ convs: [{ filters: 2, kernel: 3 }] }, { convs: [{ filters: 3, kernel: 2 }] }],
    [1, 12, 12],
    2,
  ),
];
const saved = models.map((m) => ({
  ...saveModel(m, { note: 'fuzz' }),
  values: m.params().map((p) => p.value.toArray()),
}));
models.forEach((m) => m.dispose());

/** Whether the strict loader is in the tree: a lenient field (`pool: "x"`) must be refused. */
function strictLoader(): boolean {
  const j = JSON.parse(saved[0].json);
  j.blocks[0].pool = 'x';
  try {
    loadModel(be, JSON.stringify(j), saved[0].weights, 'probe').model.dispose();
    return false;
  } catch (e) {
    return e instanceof ConvaeError;
  }
}
const STRICT = strictLoader();

/** Loads, checks the values bit for bit, saves again, loads again. */
const verifyLoad = (json: string, weights: Uint8Array, values: Float32Array[] | null) => () => {
  const { model } = loadModel(be, json, weights, 'fuzz');
  try {
    const got = model.params().map((p) => p.value.toArray());
    if (values) {
      expect(got.length).toBe(values.length);
      got.forEach((v, i) => expect(new Uint8Array(v.buffer)).toEqual(new Uint8Array(values[i].buffer)));
    }
    const again = saveModel(model);
    const back = loadModel(be, again.json, again.weights, 'again').model;
    back.params().forEach((p, i) => expect(p.value.toArray()).toEqual(got[i]));
    back.dispose();
  } finally {
    model.dispose();
  }
};

const SMALL_INT = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 64;

/** Block fields whose null means "none" (no pooling, no input noise, a dense code): ts/model/schema.ts. */
const NULLABLE = new Set(['pool', 'noise', 'sparsity']);

describe('fuzz: model files (JSON and weights)', () => {
  it(`1 000 model files${STRICT ? '' : ' (old loader: reporting only)'}`, async () => {
    const g = new Gen(2026);
    for (let i = 0; i < 1000; i++) {
      const s = saved[i % saved.length];
      const kind = i % 10;
      let json = s.json;
      let weights = s.weights;
      let exp: Expect = 'invalid';
      let label = '';
      if (kind === 0) {
        exp = 'valid';
        label = 'valid';
      } else if (kind <= 5) {
        // A field replaced by a hostile value.
        const r = replaceField(g, json, () =>
          g.pick<unknown>([
            g.junk(),
            g.junk(),
            'toString',
            '__proto__',
            [3, 3, 3],
            '0.3',
            [0.3],
            1e9,
            2 ** 31,
            2 ** 32,
            [2000000],
            2000000,
            -1,
            Number.NaN,
          ]),
        );
        const { at: p, orig, v } = r;
        json = r.json;
        label = r.label;
        if (JSON.stringify(v) === JSON.stringify(orig)) exp = 'valid';
        else if (typeof orig === 'number' && SMALL_INT(v)) exp = 'either';
        else if (typeof orig === 'boolean' && typeof v === 'boolean') exp = 'either';
        else if (
          p.at(-1) === 'activation' &&
          typeof v === 'string' &&
          ['tanh', 'relu', 'sigmoid', 'identity', 'leakyRelu'].includes(v)
        )
          exp = 'either';
        else if (p.at(-1) === 'seed' && Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32)
          exp = 'either'; // any 32-bit seed is a valid seed
        else if (NULLABLE.has(String(p.at(-1))) && JSON.stringify(v) === 'null')
          exp = 'either'; // null (NaN serialises as null) means none of it: a valid architecture, and the weights may still fit
        else if (p.at(-1) === 'pool' && JSON.stringify(v) === '{}') exp = 'either'; // every field defaulted: 2×2 pooling, as specs write it
        if (exp === 'valid') exp = 'either'; // the weights still fit only if the architecture did not change
      } else if (kind === 6) {
        // Unknown keys, prototype keys, deep nesting.
        const k = addKey(g, json);
        json = k.json;
        label = `key ${k.key.slice(0, 12)} ${k.deep ? `deep ${k.depth}` : ''}`;
        exp = k.deep ? 'invalid' : 'either';
      } else {
        // The weights.
        const d = damageWeights(g, weights);
        weights = d.weights;
        exp = d.exp;
        label = `weights ${d.how}`;
      }
      const values = exp === 'valid' ? s.values : null;
      await fuzzCase(be, 'model files', `${label}`, exp, () => verifyLoad(json, weights, values));
    }
    const t = tally('model files');
    if (STRICT) expect(t.failures, t.failures.join('\n')).toEqual([]);
    else {
      console.log(
        `old loader: ${t.other} of ${t.tried} model-file cases not as the strict loader will do; classes:\n${[...t.classes].sort().join('\n')}`,
      );
      expect([...t.classes].filter((f) => /Object.prototype or Array.prototype changed|took \d+ ms/.test(f))).toEqual(
        [],
      );
    }
  }, 90_000);
});
