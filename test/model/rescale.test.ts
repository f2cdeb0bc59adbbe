/**
 * rescaleConvs (capping each conv layer's pre-activation spread before fine-tuning) and the
 * rule `convae train` / `convae paper --rescale` apply it by. The reference for the first
 * layer is a plain scalar convolution written here; deeper layers are checked through the
 * model's own forward pass after the fact.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Backend, Classifier, ImageDataset } from '../../ts/index.js';
import { ArgumentError, DataError } from '../../ts/errors.js';
import { rescaleConvs } from '../../ts/train/rescale.js';
import { rescaleIfSaturated } from '../../ts/cli/saturation-note.js';
import type { Conv2D } from '../../ts/model/layers.js';
import { Rng } from '../../ts/util/rng.js';
import { backendUnderTest } from '../util/backend.js';

let be: Backend;
beforeAll(async () => {
  be = await backendUnderTest();
});

const SHAPE: [number, number, number] = [2, 12, 12];
const blocks = [
  { convs: [{ filters: 5, kernel: 3 }], activation: 'tanh' as const, pool: { kernel: 2 } },
  { convs: [{ filters: 7, kernel: 3 }], activation: 'tanh' as const, pool: null },
];
const head = { hidden: [8], classes: 3 };

function images(n: number, seed = 3): ImageDataset {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * 2 * 12 * 12 }, () => rng.next());
  return ImageDataset.fromFloat32(
    x,
    SHAPE,
    Uint8Array.from({ length: n }, (_, i) => i % 3),
    3,
  );
}

/** A classifier whose conv weights are `factor` times their random start, as a saturated pretrained stack's are. */
function inflated(factor: number): Classifier {
  const clf = Classifier.fromBlocks(be, blocks, SHAPE, head, 5);
  const rng = new Rng(9);
  // Biases start at zero; a pretrained stack's are not, and they must scale with the weights.
  for (const p of clf.params())
    if (p.name.startsWith('block'))
      for (let j = 0; j < p.value.data.length; j++)
        p.value.data[j] = p.name.endsWith('bias') ? factor * 0.05 * (rng.next() - 0.5) : p.value.data[j] * factor;
  return clf;
}

const convOf = (clf: Classifier, name: string) => clf.net.layers.find((l) => l.name === name) as Conv2D;

/** Standard deviation of the first conv's outputs before tanh, by a plain loop over every image, filter and position. */
function firstConvStd(clf: Classifier, data: ImageDataset, n: number): number {
  const [w, b] = convOf(clf, 'block0.conv0')
    .params()
    .map((p) => p.value.data);
  const x = data.readImages(0, n);
  const [c, h, wd] = SHAPE;
  let s1 = 0,
    s2 = 0,
    count = 0;
  for (let i = 0; i < n; i++)
    for (let f = 0; f < 5; f++)
      for (let oy = 0; oy + 3 <= h; oy++)
        for (let ox = 0; ox + 3 <= wd; ox++) {
          let v = b[f];
          for (let ch = 0; ch < c; ch++)
            for (let ky = 0; ky < 3; ky++)
              for (let kx = 0; kx < 3; kx++)
                v += w[((f * c + ch) * 3 + ky) * 3 + kx] * x[((i * c + ch) * h + oy + ky) * wd + ox + kx];
          s1 += v;
          s2 += v * v;
          count++;
        }
  return Math.sqrt(s2 / count - (s1 / count) ** 2);
}

describe('rescaleConvs', () => {
  it('brings every conv layer that spreads wider than maxStd to exactly maxStd, in order, bias included', () => {
    const clf = inflated(40);
    const data = images(40);
    const before = firstConvStd(clf, data, 40);
    expect(before).toBeGreaterThan(2);
    const bias0 = Float32Array.from(convOf(clf, 'block0.conv0').params()[1].value.data);
    const r = rescaleConvs(clf, data, { images: 40, batchSize: 16 });
    expect(r.map((x) => x.layer)).toEqual(['block0.conv0', 'block1.conv0']);
    expect(r[0].std).toBeCloseTo(before, 3);
    expect(r[0].scale).toBeCloseTo(1 / before, 5);
    expect(firstConvStd(clf, data, 40)).toBeCloseTo(1, 4);
    const bias = convOf(clf, 'block0.conv0').params()[1].value.data;
    expect(bias0.some((v) => Math.abs(v) > 0.1)).toBe(true);
    bias.forEach((v, j) => expect(v).toBeCloseTo(bias0[j] * r[0].scale, 6));
    // The second layer, measured after the first was scaled: its outputs now spread by exactly 1 too.
    expect(r[1].scale).toBeLessThan(1);
    const again = rescaleConvs(clf, data, { images: 40 });
    for (const x of again) {
      expect(x.std).toBeCloseTo(1, 3);
      expect(x.scale).toBeCloseTo(1, 3);
    }
    clf.dispose();
  });

  it('leaves layers at or under maxStd alone, bit for bit (a random start, or a higher cap)', () => {
    const clf = Classifier.fromBlocks(be, blocks, SHAPE, head, 5);
    const data = images(20);
    const weights = clf.params().map((p) => Float32Array.from(p.value.data));
    const r = rescaleConvs(clf, data);
    expect(r.every((x) => x.scale === 1 && x.std > 0 && x.std < 1)).toBe(true);
    const big = inflated(40);
    const w2 = big.params().map((p) => Float32Array.from(p.value.data));
    expect(rescaleConvs(big, data, { maxStd: 1e5 }).every((x) => x.scale === 1)).toBe(true);
    clf.params().forEach((p, i) => expect(p.value.data).toEqual(weights[i]));
    big.params().forEach((p, i) => expect(p.value.data).toEqual(w2[i]));
    clf.dispose();
    big.dispose();
  });

  it('takes its statistics from the first `images` images only', () => {
    const data = images(30);
    const a = inflated(40),
      b = inflated(40);
    rescaleConvs(a, data, { images: 10 });
    rescaleConvs(b, data.take(10));
    a.params().forEach((p, i) => expect(p.value.data).toEqual(b.params()[i].value.data));
    expect(firstConvStd(a, data, 10)).toBeCloseTo(1, 4);
    a.dispose();
    b.dispose();
  });

  it('refuses bad arguments with a typed error before changing anything', () => {
    const clf = inflated(40);
    const data = images(8);
    const weights = clf.params().map((p) => Float32Array.from(p.value.data));
    for (const opts of [
      { maxStd: 0 },
      { maxStd: -1 },
      { maxStd: Number.NaN },
      { maxStd: 'x' as unknown as number },
      { images: 0 },
      { images: 1.5 },
      { batchSize: 0 },
    ])
      expect(() => rescaleConvs(clf, data, opts)).toThrow(ArgumentError);
    expect(() => rescaleConvs({} as Classifier, data)).toThrow(ArgumentError);
    const wrong = ImageDataset.fromFloat32(new Float32Array(4 * 16), [1, 4, 4], Uint8Array.from([0, 1, 2, 0]), 3);
    expect(() => rescaleConvs(clf, wrong)).toThrow(DataError);
    clf.params().forEach((p, i) => expect(p.value.data).toEqual(weights[i]));
    clf.dispose();
  });
});

describe('rescaleIfSaturated (the rule of convae train and paper --rescale)', () => {
  it('scales only when some block has more than half its codes in the tails', () => {
    const data = images(16);
    for (const [shares, expected] of [
      [[0.1, 0.51], [2]],
      [
        [0.9, 0.6],
        [1, 2],
      ],
      [[0.1, 0.5], []],
      [[null, null], []],
    ] as [(number | null)[], number[]][]) {
      const clf = inflated(40);
      const before = clf.params().map((p) => Float32Array.from(p.value.data));
      const r = rescaleIfSaturated(clf, shares, data);
      expect(r.blocks).toEqual(expected);
      const changed = clf.params().some((p, i) => p.value.data.some((v, j) => v !== before[i][j]));
      expect(changed).toBe(expected.length > 0);
      expect(r.scaled.length > 0).toBe(expected.length > 0);
      clf.dispose();
    }
  });
});
