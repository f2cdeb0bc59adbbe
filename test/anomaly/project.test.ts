/**
 * The deconvnet projection against its definition, by hand: one block
 * (2 filters 2×2 on a 4×4 image, tanh, 2×2 pooling of the 3×3 map keeps the
 * top-left 2×2 window) projects map f's strongest activation v to v⁺ times
 * filter f placed where the switch points; and a two-block stack against the
 * definition written out in plain loops (max-pool argmax, unpool, ReLU,
 * transposed convolution with the conv weights).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { projectFeature } from '../../ts/anomaly/project.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { StackedConvAutoencoder, type BlockSpec } from '../../ts/model/autoencoder.js';
import { Rng } from '../../ts/util/rng.js';
import { backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();
const disposables: { dispose(): void }[] = [];
afterAll(() => disposables.forEach((d) => d.dispose()));

/** Plain-loop valid convolution (stride 1) plus bias, then tanh; x [c,h,w], w [o,c,k,k]. */
function convTanh(x: number[][][], w: Float32Array, b: Float32Array, o: number, k: number): number[][][] {
  const c = x.length,
    oh = x[0].length - k + 1,
    ow = x[0][0].length - k + 1;
  return Array.from({ length: o }, (_, f) =>
    Array.from({ length: oh }, (_, i) =>
      Array.from({ length: ow }, (_, j) => {
        let s = b[f];
        for (let ci = 0; ci < c; ci++)
          for (let u = 0; u < k; u++)
            for (let v = 0; v < k; v++) s += x[ci][i + u][j + v] * w[((f * c + ci) * k + u) * k + v];
        return Math.tanh(s);
      }),
    ),
  );
}

/** 2×2 / 2 max pooling: values and the argmax position (first on ties) of each window. */
function pool(x: number[][][]) {
  const oh = Math.floor(x[0].length / 2),
    ow = Math.floor(x[0][0].length / 2);
  return x.map((m) =>
    Array.from({ length: oh }, (_, i) =>
      Array.from({ length: ow }, (_, j) => {
        let best = { v: -Infinity, r: 0, c: 0 };
        for (let u = 0; u < 2; u++)
          for (let v = 0; v < 2; v++)
            if (m[2 * i + u][2 * j + v] > best.v) best = { v: m[2 * i + u][2 * j + v], r: 2 * i + u, c: 2 * j + v };
        return best;
      }),
    ),
  );
}

/** Unpool to an h×w map, rectify, transposed convolution with w [o,c,k,k] (sum of v·filter at each position). */
function unpoolRectifyDeconv(
  code: number[][][],
  sw: ReturnType<typeof pool>,
  h: number,
  wd: number,
  w: Float32Array,
  c: number,
  k: number,
) {
  const o = code.length;
  const up = Array.from({ length: o }, () => Array.from({ length: h }, () => new Array<number>(wd).fill(0)));
  for (let f = 0; f < o; f++)
    for (let i = 0; i < code[f].length; i++)
      for (let j = 0; j < code[f][0].length; j++) up[f][sw[f][i][j].r][sw[f][i][j].c] = code[f][i][j];
  const oh = h + k - 1,
    ow = wd + k - 1;
  const out = Array.from({ length: c }, () => Array.from({ length: oh }, () => new Array<number>(ow).fill(0)));
  for (let f = 0; f < o; f++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < wd; j++) {
        const v = Math.max(0, up[f][i][j]);
        if (v === 0) continue;
        for (let ci = 0; ci < c; ci++)
          for (let u = 0; u < k; u++)
            for (let q = 0; q < k; q++) out[ci][i + u][j + q] += v * w[((f * c + ci) * k + u) * k + q];
      }
  return out;
}

const toNested = (flat: Float32Array, c: number, h: number, w: number) =>
  Array.from({ length: c }, (_, ci) =>
    Array.from({ length: h }, (_, i) => Array.from({ length: w }, (_, j) => flat[(ci * h + i) * w + j])),
  );

describe('projectFeature', () => {
  it('one block, 2 filters 2×2 on 4×4: v⁺ · filter f at the switch position, the rest 0', () => {
    const stack = new StackedConvAutoencoder(
      be,
      [{ convs: [{ filters: 2, kernel: 2 }], activation: 'tanh', pool: { kernel: 2 } }],
      [1, 4, 4],
      2,
    );
    disposables.push(stack);
    const conv = stack.blocks[0].convs[0];
    conv.weight.value.set([1, 0, 0, -1, 0.5, 0.5, 0.5, 0.5]);
    conv.bias!.value.set([0, 0.1]);
    // Filter 0 sees x[i][j] − x[i+1][j+1]; its 3×3 map's top-left 2×2 window peaks at (1,0): 0.9 − 0 = 0.9.
    const img = [0, 0, 0, 0, 0.9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.2];
    const data = ImageDataset.fromFloat32(Float32Array.from(img), [1, 4, 4]);
    for (const [feature, v, r, c] of [
      [0, Math.tanh(0.9), 1, 0],
      // Filter 1 (mean-ish) at (0,0) and (1,0) both see the 0.9: the first in the window wins the tie.
      [1, Math.tanh(0.45 + 0.1), 0, 0],
    ] as const) {
      const p = projectFeature(stack, data, { block: 0, feature, top: 1 });
      expect(p.indices).toEqual([0]);
      expect(p.activations[0]).toBeCloseTo(v, 6);
      const want = new Array(16).fill(0);
      const w = feature === 0 ? [1, 0, 0, -1] : [0.5, 0.5, 0.5, 0.5];
      for (let u = 0; u < 2; u++) for (let q = 0; q < 2; q++) want[(r + u) * 4 + c + q] = v * w[u * 2 + q];
      for (let t = 0; t < 16; t++) expect(p.projections[t]).toBeCloseTo(want[t], 6);
    }
  });

  it('two blocks (3 maps 3×3, then 2 maps 2×2) on 14×14: equals the definition in plain loops; top images by activation', () => {
    const blocks: BlockSpec[] = [
      { convs: [{ filters: 3, kernel: 3 }], activation: 'tanh', pool: { kernel: 2 } },
      { convs: [{ filters: 2, kernel: 2 }], activation: 'tanh', pool: { kernel: 2 } },
    ];
    const stack = new StackedConvAutoencoder(be, blocks, [1, 14, 14], 5);
    disposables.push(stack);
    const rng = new Rng(3);
    const n = 6;
    const images = Float32Array.from({ length: n * 196 }, () => rng.next());
    const data = ImageDataset.fromFloat32(images, [1, 14, 14]);
    const [c0, c1] = [stack.blocks[0].convs[0], stack.blocks[1].convs[0]];
    const w0 = c0.weight.value.toArray(),
      b0 = c0.bias!.value.toArray(),
      w1 = c1.weight.value.toArray(),
      b1 = c1.bias!.value.toArray();
    const feature = 1;
    // Reference: forward each image, find the strongest activation of the map, project it down.
    const ref = Array.from({ length: n }, (_, i) => {
      const x = toNested(images.subarray(i * 196, (i + 1) * 196), 1, 14, 14);
      const a0 = convTanh(x, w0, b0, 3, 3); // 3×12×12
      const p0 = pool(a0); // 3×6×6
      const a1 = convTanh(
        p0.map((m) => m.map((row) => row.map((e) => e.v))),
        w1,
        b1,
        2,
        2,
      ); // 2×5×5
      const p1 = pool(a1); // 2×2×2
      let best = { v: -Infinity, i: 0, j: 0 };
      for (let r = 0; r < 2; r++)
        for (let c = 0; c < 2; c++) if (p1[feature][r][c].v > best.v) best = { v: p1[feature][r][c].v, i: r, j: c };
      const code = [0, 1].map((f) =>
        [0, 1].map((r) => [0, 1].map((c) => (f === feature && r === best.i && c === best.j ? best.v : 0))),
      );
      const d1 = unpoolRectifyDeconv(code, p1, 5, 5, w1, 3, 2); // 3×6×6
      const d0 = unpoolRectifyDeconv(d1, p0, 12, 12, w0, 1, 3); // 1×14×14
      return { strength: best.v, pixels: d0.flat(2) };
    });
    const order = ref.map((_, i) => i).sort((a, b) => ref[b].strength - ref[a].strength);
    // One batch, and the top images projected in batches of 2 and 1 (each batch's own switches).
    for (const batchSize of [4, 2, 1]) {
      const p = projectFeature(stack, data, { block: 1, feature, top: 3, batchSize });
      expect(p.indices).toEqual(order.slice(0, 3));
      p.indices.forEach((img, t) => {
        expect(p.activations[t]).toBeCloseTo(ref[img].strength, 5);
        const got = p.projections.subarray(t * 196, (t + 1) * 196);
        const want = ref[img].pixels;
        expect(want.some((v) => v !== 0)).toBe(true);
        for (let q = 0; q < 196; q++)
          expect(got[q], `batch ${batchSize}, image ${t}, pixel ${q}`).toBeCloseTo(want[q], 5);
      });
    }
  });

  it('rejects a block or feature that does not exist', () => {
    const stack = new StackedConvAutoencoder(
      be,
      [{ convs: [{ filters: 2, kernel: 2 }], pool: { kernel: 2 } }],
      [1, 4, 4],
      2,
    );
    disposables.push(stack);
    const data = ImageDataset.fromFloat32(new Float32Array(16), [1, 4, 4]);
    expect(() => projectFeature(stack, data, { block: 1, feature: 0 })).toThrow(/depth|block/);
    expect(() => projectFeature(stack, data, { block: 0, feature: 2 })).toThrow(/feature/);
    expect(() => projectFeature(stack, data, { block: 0, feature: 0, top: 2 })).toThrow(/top/);
  });
});

describe('projections that grow backend memory', () => {
  // Before: projectDown copied a layer's output with be.fromArray(h.shape, h.data): the view was taken before the
  // copy's allocation, which grew wasm memory and detached it, so `convae features --top 2000` failed with
  // "tensor.set: values must be 23040000 elements for shape [2000,20,24,24], got 0".
  it('2 000 images of a 20-map block project like one image at a time', async () => {
    const fresh = await backendUnderTest();
    const stack = new StackedConvAutoencoder(fresh, [{ convs: [{ filters: 20, kernel: 5 }] }], [1, 28, 28]);
    const rng = new Rng(3);
    const data = ImageDataset.fromFloat32(
      Float32Array.from({ length: 2000 * 784 }, () => rng.next()),
      [1, 28, 28],
    );
    const all = projectFeature(stack, data, { block: 0, feature: 3, top: 2000 });
    expect(all.projections.length).toBe(2000 * 784);
    const one = projectFeature(stack, data.subset([all.indices[0]]), { block: 0, feature: 3, top: 1 });
    expect(all.projections.subarray(0, 784)).toEqual(one.projections);
    stack.dispose();
  });
});
