/**
 * k-sparse decoding (`sparsity: { keep }` of a block, the KSparse layer):
 * forward = a plain sort-based reference over maps with ties and extremes,
 * the gradient passes only where a value passed, the code handed on stays
 * dense, the field is saved and checked like every other. Lifetime sparsity
 * (`sparsity.lifetime`) = the spatial reference, then per channel only the
 * batch's strongest maps; in training only.
 */
import { describe, expect, it } from 'vitest';
import { ModelError } from '../../ts/errors.js';
import { ConvAutoencoder, StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { Classifier } from '../../ts/model/classifier.js';
import { KSparse } from '../../ts/model/layers.js';
import { loadModel, saveModel } from '../../ts/model/serialize.js';
import { resolveArchitecture } from '../../ts/export/arch.js';
import { kSparseRef, lifetimeRef } from '../reference/pool.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { Rng } from '../util/rng.js';
import { Rng as LibRng } from '../../ts/util/rng.js';

const be = await backendUnderTest();
const rng = new Rng(11);

describe(`k-sparse decoding (${BUILD})`, () => {
  it('KSparse forward = the sort-based reference: k = max(1, round(keep·h·w)) per map, ties to the first positions', () => {
    for (const [c, h, w, keep] of [
      [3, 4, 5, 0.1],
      [2, 3, 3, 0.5],
      [1, 2, 2, 1],
      [4, 1, 7, 0.01],
    ] as const) {
      const layer = new KSparse('s', keep);
      layer.build(be, [c, h, w], new LibRng(1));
      const n = 3,
        size = n * c * h * w;
      // Values from a small set: many ties at the threshold.
      const xv = Float32Array.from({ length: size }, () => Math.floor(rng.next() * 4) - 1.5);
      const x = be.fromArray([n, c, h, w], xv);
      const y = layer.forward(x).toArray();
      const k = Math.max(1, Math.round(keep * h * w));
      expect(layer.k).toBe(k);
      const ref = kSparseRef(xv, n * c, h * w, k);
      expect(Array.from(y), `c=${c} h=${h} w=${w} keep=${keep}`).toEqual(Array.from(ref.y));
      const dy = Float32Array.from({ length: size }, () => rng.next() + 1);
      const dx = layer.backward(be.fromArray([n, c, h, w], dy), true)!.toArray();
      expect(Array.from(dx)).toEqual(Array.from(dy, (g, i) => (ref.kept[i] ? g : 0)));
      x.dispose();
      layer.dispose();
    }
  });

  it('lifetime: in training, per channel only the maps of the images with the largest winners pass; outside training none is dropped', () => {
    for (const [n, c, h, w, keep, lifetime] of [
      [8, 3, 4, 5, 0.1, 0.25],
      [5, 2, 3, 3, 0.5, 0.5],
      [3, 4, 2, 2, 1, 0.01],
      [6, 1, 1, 7, 0.3, 1],
    ] as const) {
      const layer = new KSparse('s', keep, lifetime);
      layer.build(be, [c, h, w], new LibRng(1));
      const size = n * c * h * w;
      const xv = Float32Array.from({ length: size }, () => Math.floor(rng.next() * 6) - 2.5);
      const x = be.fromArray([n, c, h, w], xv);
      const spatial = kSparseRef(xv, n * c, h * w, layer.k);
      const ref = lifetimeRef(spatial, n, c, h * w, lifetime);
      const label = `n=${n} c=${c} h=${h} w=${w} keep=${keep} lifetime=${lifetime}`;
      expect(Array.from(layer.forward(x, true).toArray()), label).toEqual(Array.from(ref.y));
      const dy = Float32Array.from({ length: size }, () => rng.next() + 1);
      const dx = layer.backward(be.fromArray([n, c, h, w], dy), true)!.toArray();
      expect(Array.from(dx), label).toEqual(Array.from(dy, (g, i) => (ref.kept[i] ? g : 0)));
      expect(Array.from(layer.forward(x, false).toArray()), label).toEqual(Array.from(spatial.y));
      x.dispose();
      layer.dispose();
    }
  });

  it('the decoder sees the sparse code; encode (what the next block and a classifier get) stays dense', () => {
    const shape = [1, 12, 12];
    const spec = { convs: [{ filters: 4, kernel: 3 }], sparsity: { keep: 0.2 } };
    const sparse = new ConvAutoencoder(be, spec, shape, { seed: 2 });
    const dense = new ConvAutoencoder(be, { ...spec, sparsity: null }, shape, { seed: 2 });
    const x = be.fromArray(
      [2, ...shape],
      Float32Array.from({ length: 288 }, () => rng.next()),
    );
    const hs = sparse.encode(x).toArray(),
      hd = dense.encode(x).toArray();
    expect(hs).toEqual(hd);
    expect(hs.filter((v) => v === 0).length).toBe(0);
    const ys = sparse.reconstruct(x).toArray(),
      yd = dense.reconstruct(x).toArray();
    expect(ys).not.toEqual(yd);
    // The classifier built from a sparse stack computes the dense code: the same logits as one from the dense stack.
    const a = new StackedConvAutoencoder(be, [spec], shape, 3),
      b = new StackedConvAutoencoder(be, [{ ...spec, sparsity: null }], shape, 3);
    const ca = Classifier.fromStack(a, { hidden: [5], classes: 3 }, 1),
      cb = Classifier.fromStack(b, { hidden: [5], classes: 3 }, 1);
    expect(ca.logits(x).toArray()).toEqual(cb.logits(x).toArray());
    for (const m of [sparse, dense, a, b, ca, cb, x]) m.dispose();
  });

  it('saved and loaded with the block; bad values are ModelErrors naming the field', () => {
    const stack = new StackedConvAutoencoder(
      be,
      [{ convs: [{ filters: 2, kernel: 3 }], sparsity: { keep: 0.25 } }, { convs: [{ filters: 3, kernel: 3 }] }],
      [1, 14, 14],
      4,
    );
    const saved = saveModel(stack);
    const loaded = loadModel(be, saved.json, saved.weights).model as StackedConvAutoencoder;
    expect(loaded.specs[0].sparsity).toEqual({ keep: 0.25 });
    expect(loaded.specs[1].sparsity).toBeNull();
    const x = be.fromArray(
      [1, 1, 14, 14],
      Float32Array.from({ length: 196 }, () => rng.next()),
    );
    expect(loaded.blocks[0].reconstruct(x).toArray()).toEqual(stack.blocks[0].reconstruct(x).toArray());
    for (const bad of [
      0,
      -0.1,
      1.5,
      Number.NaN,
      '0.1',
      null,
      { keep: 0 },
      { keep: 2 },
      { keep: 0.1, k: 3 },
      {},
      { keep: 0.1, lifetime: 0 },
      { keep: 0.1, lifetime: 1.5 },
      { keep: 0.1, lifetime: '0.2' },
    ]) {
      const sparsity = bad === null ? undefined : typeof bad === 'object' ? bad : { keep: bad };
      if (sparsity === undefined) continue;
      expect(
        () => new ConvAutoencoder(be, { convs: [{ filters: 2, kernel: 3 }], sparsity: sparsity as never }, [1, 8, 8]),
        JSON.stringify(sparsity),
      ).toThrow(ModelError);
    }
    expect(
      () => new ConvAutoencoder(be, { convs: [{ filters: 2, kernel: 3 }], sparsity: 0.1 as never }, [1, 8, 8]),
    ).toThrow(/sparsity/);
    // Exporters have no k-sparse op yet: a sparse stack is refused by name; its classifier (dense) exports.
    expect(() => resolveArchitecture(stack)).toThrow(/KSparse cannot be exported/);
    const clf = Classifier.fromStack(stack, { hidden: [4], classes: 2 }, 1);
    expect(resolveArchitecture(clf).kind).toBe('classifier');
    for (const m of [stack, loaded, x, clf]) m.dispose();
  });
});
