/**
 * Fuzzing saved anomaly detectors through `AnomalyDetector.load(be, json, weights)`: the JSON (any field replaced
 * by hostile values, unknown and prototype keys, deep nesting) and the weights (cut, flipped, NaN, missing, extra,
 * renamed, wrong dtype or shape, the reference codes too). A valid file must load to a detector that scores and
 * flags as the saved one did, bit for bit; anything refused must be refused with a typed error before allocating.
 */
import { afterAll, describe, it } from 'vitest';
import { AnomalyDetector } from '../../ts/anomaly/detector.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { Rng } from '../../ts/util/rng.js';
import { backendUnderTest } from '../util/backend.js';
import { type Expect, expectClean, fuzzCase, Gen, report, snapshot } from './harness.js';
import { addKey, damageWeights, replaceField } from './mutate.js';

const be = await backendUnderTest();
const before = snapshot(be);
afterAll(() => report('detector files', be, before));

const rng = new Rng(17);
const images = (n: number) =>
  ImageDataset.fromFloat32(
    Float32Array.from({ length: n * 100 }, () => rng.next()),
    [1, 10, 10],
  );
const normal = images(12),
  test = images(6);
const stack = new StackedConvAutoencoder(
  be,
  [{ convs: [{ filters: 2, kernel: 3 }] }, { convs: [{ filters: 3, kernel: 2 }], pool: null }],
  [1, 10, 10],
  2,
);
const saved = [
  AnomalyDetector.fit(stack, normal, images(8), { score: { type: 'neighbours', depth: 2, k: 3 } }),
  AnomalyDetector.fit(stack, normal, images(8), { score: { type: 'reconstruction', depth: 1 } }),
].map((d) => ({ ...d.save({ normalize: 'none' }), want: d.detect(test) }));
stack.dispose();

const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

/** Loads; a file that is the saved one must score and flag as before; any loaded detector must score `test`. */
const verifyLoad =
  (json: string, weights: Uint8Array, want: { scores: Float64Array; flags: Uint8Array } | null) => () => {
    const { detector } = AnomalyDetector.load(be, json, weights, { source: 'fuzz' });
    try {
      const got = detector.detect(test);
      if (want) return same(got.scores, want.scores) && same(got.flags, want.flags);
      return got.scores.length === test.length;
    } finally {
      detector.stack.dispose();
    }
  };

describe('fuzz: detector files (JSON and weights)', () => {
  it('400 detector files', async () => {
    const g = new Gen(4242);
    for (let i = 0; i < 400; i++) {
      const s = saved[i % saved.length];
      const kind = i % 10;
      let json = s.json;
      let weights = s.weights;
      let exp: Expect = 'invalid';
      let label = '';
      if (kind === 0) {
        exp = 'valid';
        label = 'valid';
      } else if (kind <= 4) {
        // A field replaced by a hostile value.
        const r = replaceField(g, json, () =>
          g.pick<unknown>([g.junk(), g.junk(), '__proto__', [3, 3], 1e9, 2 ** 32, -1, Number.NaN, 1e300]),
        );
        const { at: p, orig, v } = r;
        json = r.json;
        label = r.label;
        const top = p.length === 1 ? p[0] : null;
        if (JSON.stringify(v) === JSON.stringify(orig)) exp = 'either';
        else if (top === 'format' || top === 'version' || top === 'stack' || top === 'score') exp = 'invalid';
        else if (top === 'threshold') exp = typeof v === 'number' && Number.isFinite(v) ? 'either' : 'invalid';
        else exp = 'either'; // a field inside the stack or the score may change into another valid one
      } else if (kind <= 6) {
        // Unknown keys, prototype keys, deep nesting: refused everywhere but in the free-form `training`.
        const k = addKey(g, json);
        json = k.json;
        label = `key ${k.key.slice(0, 12)} at ${k.at.join('.') || 'top'}${k.deep ? ` deep ${k.depth}` : ''}`;
      } else {
        // The weights, the reference codes among them.
        const d = damageWeights(g, weights);
        weights = d.weights;
        exp = d.exp;
        label = `weights ${d.how} ${d.tensor}`;
      }
      const want = exp === 'valid' ? s.want : null;
      await fuzzCase(be, 'detector files', `#${i} ${label}`, exp, () => verifyLoad(json, weights, want));
    }
    expectClean('detector files');
  }, 90_000);
});
