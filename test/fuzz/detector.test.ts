/**
 * Fuzzing saved anomaly detectors through `AnomalyDetector.load(be, json, weights)`: the JSON (any field replaced
 * by hostile values, unknown and prototype keys, deep nesting) and the weights (cut, flipped, NaN, missing, extra,
 * renamed, wrong dtype or shape, the reference codes too). A valid file must load to a detector that scores and
 * flags as the saved one did, bit for bit; anything refused must be refused with a typed error before allocating.
 */
import { afterAll, describe, it } from 'vitest';
import { AnomalyDetector } from '../../ts/anomaly/detector.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../../ts/io/safetensors.js';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { Rng } from '../../ts/util/rng.js';
import { backendUnderTest } from '../util/backend.js';
import { deepJson, type Expect, expectClean, fuzzCase, Gen, report, snapshot } from './harness.js';

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

type Path = (string | number)[];
function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (at[0] === 'training') return out;
  out.push(at);
  if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) paths(x, [...at, Array.isArray(v) ? Number(k) : k], out);
  return out;
}
const get = (o: unknown, p: Path) => p.reduce<unknown>((x, k) => (x as Record<string, unknown>)?.[k], o);
function set(o: unknown, p: Path, v: unknown): void {
  const parent = get(o, p.slice(0, -1)) as Record<string | number, unknown>;
  Object.defineProperty(parent, p[p.length - 1], { value: v, enumerable: true, writable: true, configurable: true });
}
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
        const j = JSON.parse(json);
        const p = g.pick(paths(j).filter((q) => q.length > 0));
        const orig = get(j, p);
        const v = g.pick<unknown>([g.junk(), g.junk(), '__proto__', [3, 3], 1e9, 2 ** 32, -1, Number.NaN, 1e300]);
        set(j, p, v);
        json = JSON.stringify(j) ?? 'null';
        label = `field ${p.join('.')} = ${String(JSON.stringify(v)).slice(0, 60)}`;
        const top = p.length === 1 ? p[0] : null;
        if (JSON.stringify(v) === JSON.stringify(orig)) exp = 'either';
        else if (top === 'format' || top === 'version' || top === 'stack' || top === 'score') exp = 'invalid';
        else if (top === 'threshold') exp = typeof v === 'number' && Number.isFinite(v) ? 'either' : 'invalid';
        else exp = 'either'; // a field inside the stack or the score may change into another valid one
      } else if (kind <= 6) {
        // Unknown keys, prototype keys, deep nesting: refused everywhere but in the free-form `training`.
        const j = JSON.parse(json);
        const objs = paths(j).filter((q) => {
          const v = get(j, q);
          return v && typeof v === 'object' && !Array.isArray(v);
        });
        const p = g.pick(objs);
        const key = g.pick(['__proto__', 'constructor', 'prototype', 'extra', 'x'.repeat(10000)]);
        const deep = g.bool(0.5);
        const d = g.int(100, 20000);
        set(get(j, p), [key], 0);
        json = JSON.stringify(j).replace(
          `${JSON.stringify(key)}:0`,
          `${JSON.stringify(key)}:${deep ? deepJson(d) : '{"polluted":1}'}`,
        );
        label = `key ${key.slice(0, 12)} at ${p.join('.') || 'top'}${deep ? ` deep ${d}` : ''}`;
      } else {
        // The weights, the reference codes among them.
        const f = decodeSafetensors(weights, 'w');
        const tensors: Record<string, SafetensorsTensor> = {};
        for (const [k, v] of Object.entries(f.tensors)) set(tensors, [k], v);
        const n = g.pick(Object.keys(tensors));
        const t = tensors[n] as { dtype: 'F32'; shape: number[]; data: Float32Array };
        const m = g.pick(['truncate', 'flip', 'nan', 'remove', 'extra', 'rename', 'dtype', 'shape'] as const);
        label = `weights ${m} ${n}`;
        if (m === 'truncate') weights = weights.subarray(0, g.int(0, weights.length - 1));
        else if (m === 'flip') {
          weights = weights.slice();
          weights[g.int(0, weights.length - 1)] ^= 1 << g.int(0, 7);
          exp = 'either';
        } else {
          if (m === 'nan') {
            const d = t.data.slice();
            d[g.int(0, d.length - 1)] = g.pick([Number.NaN, Infinity, -Infinity]);
            set(tensors, [n], { ...t, data: d });
          } else if (m === 'remove') delete tensors[n];
          else if (m === 'extra') set(tensors, [g.name()], { dtype: 'F32', shape: [1], data: new Float32Array(1) });
          else if (m === 'rename') {
            set(tensors, [`${n}x`], t);
            delete tensors[n];
          } else if (m === 'dtype')
            set(tensors, [n], { dtype: 'U32', shape: t.shape, data: new Uint32Array(t.data.buffer) });
          else set(tensors, [n], { ...t, shape: [t.data.length, 1, 1, 1, 1].slice(0, t.shape.length === 5 ? 4 : 5) });
          weights = encodeSafetensors(tensors);
        }
      }
      const want = exp === 'valid' ? s.want : null;
      await fuzzCase(be, 'detector files', `#${i} ${label}`, exp, () => verifyLoad(json, weights, want));
    }
    expectClean('detector files');
  }, 90_000);
});
