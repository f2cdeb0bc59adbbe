import { describe, expect, it } from 'vitest';
import { ImageDataset } from '../../ts/data/dataset.js';
import { ArgumentError, DataError } from '../../ts/errors.js';
import { Rng } from '../../ts/util/rng.js';

/** 23 images of [3, 2, 2] with pseudo-random bytes, and the floats they stand for (v / 255, computed here). */
function pair() {
  const n = 23,
    s = 12;
  const bytes = new Uint8Array(n * s);
  const rng = new Rng(7);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rng.next() * 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 4);
  const expected = Float32Array.from(bytes, (v) => v / 255);
  const ds = ImageDataset.fromUint8(bytes, [3, 2, 2], labels, { store: 'uint8' });
  return { n, s, bytes, labels, expected, ds };
}

describe('ImageDataset byte storage (fromUint8 store: uint8)', () => {
  it('keeps the bytes, converts per batch to exactly v/255, and never materialises the floats in batches', () => {
    const { n, s, bytes, expected, ds } = pair();
    expect(ds.bytes).toBe(bytes);
    expect(ds.byteScale).toBe(1 / 255);
    expect(ds.length).toBe(n);
    for (const reuse of [false, true]) {
      let seen = 0;
      for (const b of ds.batches(5, { reuseBuffers: reuse })) {
        for (let k = 0; k < b.size; k++) {
          const i = b.indices[k];
          expect(Array.from(b.images.subarray(k * s, (k + 1) * s))).toEqual(
            Array.from(expected.subarray(i * s, (i + 1) * s)),
          );
        }
        seen += b.size;
      }
      expect(seen).toBe(n);
    }
    for (const b of ds.batches(4, { shuffle: true, rng: new Rng(3), reuseBuffers: true })) {
      for (let k = 0; k < b.size; k++) {
        const i = b.indices[k];
        expect(b.images[k * s + 5]).toBe(expected[i * s + 5]);
        expect(b.labels![k]).toBe(i % 4);
      }
    }
    // Still byte-stored: nothing above converted the whole set.
    expect((ds as unknown as { floats: unknown }).floats).toBeNull();
    expect(Array.from(ds.image(7))).toEqual(Array.from(expected.subarray(7 * s, 8 * s)));
    expect(Array.from(ds.readImages(2, 4))).toEqual(Array.from(expected.subarray(2 * s, 4 * s)));
  });

  it('gives the same batches as the float-stored dataset of the same bytes, shuffled with the same seed', () => {
    const { bytes, labels, ds } = pair();
    const ref = ImageDataset.fromUint8(bytes, [3, 2, 2], labels);
    const a = [...ds.batches(6, { shuffle: true, rng: new Rng(11) })];
    const b = [...ref.batches(6, { shuffle: true, rng: new Rng(11) })];
    expect(a.length).toBe(b.length);
    a.forEach((x, k) => {
      expect(Array.from(x.indices)).toEqual(Array.from(b[k].indices));
      expect(x.images).toEqual(b[k].images);
    });
  });

  it('subset, take and split stay byte-stored and hold the right images', () => {
    const { s, expected, ds } = pair();
    const sub = ds.subset([5, 0, 5]);
    expect(sub.bytes).not.toBeNull();
    expect(Array.from(sub.images.subarray(s, 2 * s))).toEqual(Array.from(expected.subarray(0, s)));
    expect(Array.from(sub.labels!)).toEqual([1, 0, 1]);
    const head = ds.take(3);
    expect(head.bytes!.buffer).toBe(ds.bytes!.buffer);
    expect(head.length).toBe(3);
    const { train, validation } = ds.split(0.25, 1);
    expect(train.length + validation.length).toBe(23);
    expect(train.bytes).not.toBeNull();
    expect(ImageDataset.fromUint8(ds.bytes!, ds.shape, null, { scale: ds.byteScale!, store: 'uint8' }).images).toEqual(
      expected,
    );
  });

  it('images converts once and keeps the result; a custom scale is applied', () => {
    const { ds, expected } = pair();
    const f = ds.images;
    expect(f).toEqual(expected);
    expect(ds.images).toBe(f);
    const two = ImageDataset.fromUint8(new Uint8Array([0, 1, 255, 3]), [1, 2, 2], null, { scale: 2, store: 'uint8' });
    expect(Array.from(two.readImages(0, 1))).toEqual([0, 2, 510, 6]);
  });

  it('rejects a bad store and a bad readImages range or buffer', () => {
    expect(() =>
      ImageDataset.fromUint8(new Uint8Array(4), [1, 2, 2], null, { store: 'f16' as unknown as 'uint8' }),
    ).toThrow(DataError);
    const { ds } = pair();
    expect(() => ds.readImages(3, 3)).toThrow(ArgumentError);
    expect(() => ds.readImages(0, 24)).toThrow(ArgumentError);
    expect(() => ds.readImages(0, 2, new Float32Array(5))).toThrow(/at least 24 floats/);
  });
});
