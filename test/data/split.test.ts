/**
 * `splitDataset` (its `groups`: whole groups to a part, for the patches of one image) and `labelledSubset`, the
 * labelled images of `convae paper` and `convae train --labels`.
 */
import { describe, expect, it } from 'vitest';
import { ImageDataset } from '../../ts/data/dataset.js';
import { labelledSubset, splitDataset } from '../../ts/data/split.js';
import { ArgumentError, DataError } from '../../ts/errors.js';
import { Rng } from '../../ts/util/rng.js';

/** 100 one-pixel images whose pixel is their index, labelled index mod 10. */
const ds = ImageDataset.fromFloat32(
  Float32Array.from({ length: 100 }, (_, i) => i),
  [1, 1, 1],
  Uint8Array.from({ length: 100 }, (_, i) => i % 10),
  10,
);
const indices = (d: ImageDataset) => Array.from(d.images);

describe('labelledSubset', () => {
  it('n distinct images of the dataset, each with its own label, the same for the same seed and n', () => {
    const s = labelledSubset(ds, 30, 2);
    const idx = indices(s);
    expect(idx).toHaveLength(30);
    expect(new Set(idx).size).toBe(30);
    for (const [k, i] of idx.entries()) {
      expect(Number.isInteger(i) && i >= 0 && i < 100).toBe(true);
      expect(s.labels![k]).toBe(i % 10);
    }
    expect(indices(labelledSubset(ds, 30, 2))).toEqual(idx);
    expect(indices(labelledSubset(ds, 100, 2)).sort((a, b) => a - b)).toEqual(indices(ds));
  });

  it('another seed or another size draws anew (a size is not a prefix of a larger one)', () => {
    expect(indices(labelledSubset(ds, 30, 3))).not.toEqual(indices(labelledSubset(ds, 30, 2)));
    expect(indices(labelledSubset(ds, 31, 2)).slice(0, 30)).not.toEqual(indices(labelledSubset(ds, 30, 2)));
  });

  it("keeps the draw the published tables used: the first n of Rng(seed · 7919 + n)'s permutation", () => {
    // docs/paper-results.md's subsets; changing the draw would make its commands give other numbers.
    const want = Array.from(new Rng(2 * 7919 + 30).permutation(100).subarray(0, 30));
    expect(indices(labelledSubset(ds, 30, 2))).toEqual(want);
  });

  it('refuses sizes outside 1 … length with a DataError', () => {
    for (const n of [0, 101, -1, 2.5, Number.NaN]) expect(() => labelledSubset(ds, n, 1)).toThrow(DataError);
    expect(() => labelledSubset(ds, 101, 1)).toThrow(/it needs 1 to 100/);
  });
});

describe('splitDataset', () => {
  /** n one-pixel images whose pixel is their index. */
  const numbered = (n: number) =>
    ImageDataset.fromFloat32(
      Float32Array.from({ length: n }, (_, i) => i),
      [1, 1, 1],
      null,
    );
  const parts = (r: ReturnType<typeof splitDataset>) => ({
    train: Array.from(r.train.indices),
    validation: r.validation ? Array.from(r.validation.indices) : [],
    test: r.test ? Array.from(r.test.indices) : [],
  });

  it('without groups: the images of the first round(n·f) places of Rng(seed).permutation(n), each part in order', () => {
    const r = splitDataset(numbered(50), { validation: 0.1, test: 0.2, seed: 4 });
    const perm = Array.from(new Rng(4).permutation(50));
    const asc = (a: number[]) => [...a].sort((x, y) => x - y);
    expect(parts(r)).toEqual({
      validation: asc(perm.slice(0, 5)),
      test: asc(perm.slice(5, 15)),
      train: asc(perm.slice(15)),
    });
    // Each part's images are the source's images at its indices.
    expect(Array.from(r.test!.data.images)).toEqual(parts(r).test);
  });

  // Groups of unequal sizes, numbered out of order and not consecutively (as any caller's ids may be).
  const ids = [907, 3, 41, 12, 3000, 5, 77, 600, 18, 2];
  const groups = Uint32Array.from({ length: 400 }, (_, i) => ids[(i * 7 + (i >> 3)) % ids.length]!);

  it('groups: every image of a group in one part; round(groups·f) groups held out, drawn by the seed', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const r = splitDataset(numbered(400), { validation: 0.1, test: 0.2, seed, groups });
      const p = parts(r);
      expect([...p.train, ...p.validation, ...p.test].sort((a, b) => a - b)).toEqual(
        Array.from({ length: 400 }, (_, i) => i),
      );
      const held = (a: number[]) => new Set(a.map((i) => groups[i]));
      const [tr, va, te] = [held(p.train), held(p.validation), held(p.test)];
      // No group in two parts, and each part whole: every image of its groups.
      for (const g of te) expect(tr.has(g) || va.has(g), `seed ${seed} group ${g}`).toBe(false);
      for (const g of va) expect(tr.has(g), `seed ${seed} group ${g}`).toBe(false);
      expect(p.test.length).toBe(Array.from(groups).filter((g) => te.has(g)).length);
      // Of 10 groups: round(10·0.1) = 1 for validation, round(10·0.2) = 2 for test, the other 7 for training.
      expect([va.size, te.size, tr.size]).toEqual([1, 2, 7]);
      // The permutation of the 10 groups in ascending order of their ids: the first 1 validation, the next 2 test.
      const sortedIds = [...ids].sort((a, b) => a - b);
      const perm = Array.from(new Rng(seed).permutation(10), (k) => sortedIds[k]!);
      expect([...va]).toEqual(perm.slice(0, 1));
      expect([...te].sort((a, b) => a - b)).toEqual(perm.slice(1, 3).sort((a, b) => a - b));
      // Reproducible.
      expect(parts(splitDataset(numbered(400), { validation: 0.1, test: 0.2, seed, groups }))).toEqual(p);
    }
    // Another seed holds out other groups (six seeds, not all the same pair).
    const tests = [1, 2, 3, 4, 5, 6].map((seed) =>
      JSON.stringify(
        [
          ...new Set(
            parts(splitDataset(numbered(400), { validation: 0, test: 0.2, seed, groups })).test.map((i) => groups[i]),
          ),
        ].sort(),
      ),
    );
    expect(new Set(tests).size).toBeGreaterThan(1);
  });

  it('groups of one image each split as no groups do; a plain array is taken like a typed one', () => {
    const ds = numbered(30);
    const each = Array.from({ length: 30 }, (_, i) => i);
    const plain = parts(splitDataset(ds, { validation: 0.2, test: 0.2, seed: 9 }));
    expect(parts(splitDataset(ds, { validation: 0.2, test: 0.2, seed: 9, groups: each }))).toEqual(plain);
    expect(parts(splitDataset(ds, { validation: 0.2, test: 0.2, seed: 9, groups: Uint32Array.from(each) }))).toEqual(
      plain,
    );
  });

  it('refuses groups that are not one integer in [0, 2^32) per image, and too few groups for the parts', () => {
    const ds = numbered(6);
    const bad: [unknown, RegExp][] = [
      [[0, 1, 2], /splitDataset: groups has 3 entries for 6 images/],
      ['aaaaaa', /splitDataset: groups must be an array of one integer per image/],
      [null, /splitDataset: groups must be an array/],
      [[0, 1, 2, 3, 4, 1.5], /splitDataset: groups\[5\] must be an integer in \[0, 2\^32\), got 1\.5/],
      [[0, 1, -1, 3, 4, 5], /groups\[2\] must be an integer/],
      [[0, 1, 2, 3, 4, 2 ** 32], /groups\[5\] must be an integer/],
      [[0, 1, 2, 3, 4, '5'], /groups\[5\] must be an integer in \[0, 2\^32\), got "5"/],
    ];
    for (const [groups, msg] of bad) {
      let e: unknown;
      try {
        splitDataset(ds, { test: 0.2, validation: 0, seed: 1, groups: groups as never });
      } catch (x) {
        e = x;
      }
      expect(e, String(groups)).toBeInstanceOf(ArgumentError);
      expect((e as Error).message).toMatch(msg);
    }
    // Six images in two groups: round(2·0.2) = 0 groups for test.
    expect(() => splitDataset(ds, { test: 0.2, validation: 0, seed: 1, groups: [4, 4, 4, 9, 9, 9] })).toThrow(
      /^splitDataset: 6 images in 2 groups split 0\/0\.2 leave 2 for training, 0 for validation and 0 for test; each part asked for needs at least one \(a group goes to one part whole\)$/,
    );
    expect(() => splitDataset(ds, { test: 0.2, validation: 0, seed: 1, groups: [4, 4, 4, 9, 9, 9] })).toThrow(
      DataError,
    );
    // Three groups: round(3·0.2) = 1 held out, with all its images.
    const three = [4, 4, 7, 9, 9, 9];
    for (const seed of [1, 2, 3, 4]) {
      const test = Array.from(splitDataset(ds, { test: 0.2, validation: 0, seed, groups: three }).test!.indices);
      const g = three[test[0]!]!;
      expect(test).toEqual(three.flatMap((v, i) => (v === g ? [i] : [])));
    }
  });
});
