/**
 * `reconstructTiled` against a reference written apart from it: the image padded by reflection into an explicit
 * larger array (indices bounced back and forth, one step at a time), every tile cut from it and reconstructed alone
 * by the float64 reference layers of test/reference (test/util/f64model.ts), blended with 2-D window sums in float64.
 * Plus: an image of the tile's size is `reconstructThrough`'s result bit for bit; an identity "stack" gives the
 * image back (the weights sum to one everywhere); workers give this thread's floats; `tileCount` is the tiles sent,
 * as the reference lays them, and `onProgress` counts them; bad calls are refused before anything is allocated.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { reconstructThrough } from '../../ts/anomaly/score.js';
import { mirrorIndex, reconstructTiled, type TiledOptions, tileCount } from '../../ts/anomaly/tiled.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { ArgumentError } from '../../ts/errors.js';
import { MAX_TILED_PIXELS } from '../../ts/limits.js';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { type Runner, threadRunner } from '../../ts/train/runner.js';
import { createRunner } from '../../ts/worker/runner.js';
import { Rng } from '../../ts/util/rng.js';
import { backendUnderTest, BUILD } from '../util/backend.js';
import { forwardF64, type ParamValues } from '../util/f64model.js';
import { tileStarts } from '../util/tiles.js';

const be = await backendUnderTest();
const T = 8;
/** Two blocks on 3×8×8 tiles: conv 3×3 'same' → pool 2 → 4×4 → conv 3×3 'same' → pool 2 → 2×2. */
const stack = new StackedConvAutoencoder(
  be,
  [
    { convs: [{ filters: 4, kernel: 3, padding: 1 }], activation: 'tanh', pool: { kernel: 2 } },
    { convs: [{ filters: 3, kernel: 3, padding: 1 }], activation: 'tanh', pool: { kernel: 2 } },
  ],
  [3, T, T],
  5,
);
const here = threadRunner(be);
const workers = await createRunner(be, { workers: 2 });
afterAll(async () => {
  await workers.dispose();
  stack.dispose();
});

const imageOf = (c: number, h: number, w: number, seed: number) => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: c * h * w }, () => rng.next());
};
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/** Reflection about the end pixels, by bouncing: independent of mirrorIndex's modular arithmetic. */
function bounce(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

/** Tile starts along an axis of the reference (test/util/tiles.ts). */
const starts = (len: number, s: number) => tileStarts(len, T, s);

/** The whole reference: pad, cut, reconstruct each tile alone in f64, blend with 2-D weight sums. */
function reference(
  img: Float32Array,
  [c, h, w]: [number, number, number],
  { depth = 1, stride = T / 2, window = 'hann', contrast = false },
): Float64Array {
  const win = (x: number) => (window === 'flat' ? 1 : Math.sin((Math.PI * (x + 0.5)) / T) ** 2);
  const ys = starts(h, stride),
    xs = starts(w, stride);
  const values: ParamValues = new Map(stack.params().map((p) => [p.name, Float64Array.from(p.value.data)]));
  const blocks = stack.blocks.slice(0, depth);
  const layers = [...blocks.flatMap((b) => b.encoder.layers), ...blocks.reverse().flatMap((b) => b.decoder.layers)];
  const acc = new Float64Array(c * h * w),
    wsum = new Float64Array(h * w);
  for (const y0 of ys)
    for (const x0 of xs) {
      const tile = new Float64Array(c * T * T);
      for (let ch = 0; ch < c; ch++)
        for (let y = 0; y < T; y++)
          for (let x = 0; x < T; x++)
            tile[(ch * T + y) * T + x] = img[(ch * h + bounce(y0 + y, h)) * w + bounce(x0 + x, w)]!;
      let mean = 0,
        spread = 1;
      if (contrast) {
        mean = tile.reduce((a, b) => a + b, 0) / tile.length;
        spread = Math.sqrt(tile.reduce((a, b) => a + (b - mean) ** 2, 0) / tile.length + 1e-3);
        for (let i = 0; i < tile.length; i++) tile[i] = (tile[i]! - mean) / spread;
      }
      const r = forwardF64(layers, tile, 1, values);
      for (let y = 0; y < T; y++)
        for (let x = 0; x < T; x++) {
          const iy = y0 + y,
            ix = x0 + x;
          if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
          const wt = win(y) * win(x);
          wsum[iy * w + ix] += wt;
          for (let ch = 0; ch < c; ch++) acc[(ch * h + iy) * w + ix] += wt * (r[(ch * T + y) * T + x]! * spread + mean);
        }
    }
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) acc[ch * h * w + p] /= wsum[p]!;
  return acc;
}

const worst = (a: Float32Array, b: Float64Array) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** A runner whose "reconstruction" is the tile itself: what is left is the cutting and the blending. */
const identity = {
  reconstructThrough: async (_s: unknown, d: ImageDataset) => Float32Array.from(d.images),
} as unknown as Runner;

describe(`reconstructTiled (${BUILD})`, () => {
  it('mirrorIndex reflects about the end pixels at any distance, as bouncing does', () => {
    for (const n of [1, 2, 3, 7])
      for (let i = -40; i < 40; i++) expect(mirrorIndex(i, n), `${i} of ${n}`).toBe(bounce(i, n));
  });

  const cases: [string, [number, number, number], { depth?: number; stride?: number; window?: 'hann' | 'flat' }][] = [
    ['19×13, default stride 4, hann', [3, 19, 13], {}],
    ['19×13, depth 2', [3, 19, 13], { depth: 2 }],
    ['17×30, stride 3', [3, 17, 30], { stride: 3 }],
    ['17×30, stride 8 (no overlap), flat', [3, 17, 30], { stride: 8, window: 'flat' }],
    ['20×9, stride 1', [3, 20, 9], { stride: 1 }],
    ['5×3, smaller than the tile', [3, 5, 3], {}],
    ['1×1', [3, 1, 1], {}],
    ['8×21, one axis the tile’s', [3, 8, 21], { stride: 5 }],
  ];
  for (const [name, shape, o] of cases)
    it(`equals the float64 reference: ${name}`, async () => {
      const img = imageOf(...shape, shape[1] * 31 + shape[2]);
      const got = await reconstructTiled(here, stack, img, shape, { ...o, tilesPerCall: 7, batchSize: 3 });
      expect(worst(got, reference(img, shape, o))).toBeLessThan(2e-5);
    });

  it('a contrast-normalised stack: each tile normalised alone and mapped back (reference likewise)', async () => {
    const shape: [number, number, number] = [3, 14, 11];
    const img = imageOf(...shape, 9);
    const got = await reconstructTiled(here, stack, img, shape, { input: { normalize: 'contrast' } });
    expect(worst(got, reference(img, shape, { contrast: true }))).toBeLessThan(2e-5);
  });

  it('an image of the tile’s size is reconstructThrough’s result, bit for bit (any stride or window)', async () => {
    const img = imageOf(3, T, T, 4);
    const want = reconstructThrough(stack, ImageDataset.fromFloat32(img, [3, T, T]), 1);
    for (const o of [{}, { stride: 1 }, { window: 'flat' as const }])
      expect(same(await reconstructTiled(here, stack, img, [3, T, T], o), want)).toBe(true);
  });

  it('an identity reconstruction gives the image back: the weights sum to one at every pixel', async () => {
    for (const [shape, o] of [
      [[3, 19, 13], {}],
      [[3, 40, 9], { stride: 3 }],
      [[3, 17, 30], { stride: 7, window: 'flat' }],
      [[3, 2, 5], {}],
    ] as [[number, number, number], TiledOptions][]) {
      const img = imageOf(...shape, 3);
      const got = await reconstructTiled(identity, stack, img, shape, o);
      expect(worst(got, Float64Array.from(img))).toBeLessThan(1e-6);
    }
  });

  it('tileCount is the tiles it sends, as the reference lays them; onProgress counts them up to that total', async () => {
    const sent: number[] = [];
    const counting = {
      reconstructThrough: async (_s: unknown, d: ImageDataset) => {
        sent.push(d.length);
        return Float32Array.from(d.images);
      },
    } as unknown as Runner;
    for (const [h, w] of [
      [1, 1],
      [5, 3],
      [8, 8],
      [9, 8],
      [19, 13],
      [40, 9],
      [17, 30],
    ] as const)
      for (const stride of [undefined, 1, 3, 5, 8]) {
        const want = starts(h, stride ?? T / 2).length * starts(w, stride ?? T / 2).length;
        const at = `${h}×${w} stride ${stride}`;
        expect(tileCount(stack, h, w, stride), at).toBe(want);
        sent.length = 0;
        const calls: [number, number][] = [];
        const onProgress = (done: number, total: number) => calls.push([done, total]);
        await reconstructTiled(counting, stack, imageOf(3, h, w, 1), [3, h, w], {
          stride,
          tilesPerCall: 7,
          onProgress,
        });
        expect(
          sent.reduce((a, b) => a + b, 0),
          at,
        ).toBe(want);
        // After each call of the runner: 7 tiles more each time, the last call the rest.
        expect(calls, at).toEqual(sent.map((_, k) => [Math.min(7 * (k + 1), want), want]));
      }
    await expect(
      reconstructTiled(here, stack, imageOf(3, 9, 9, 1), [3, 9, 9], { onProgress: 5 as never }),
    ).rejects.toThrow(/onProgress must be a function/);
  });

  it('tileCount refuses what reconstructTiled refuses: an ArgumentError naming the argument, never Infinity or NaN', () => {
    // Each was a number before: Infinity (stride 0), NaN, a count at a stride reconstructTiled refuses, a TypeError.
    const long = 'x'.repeat(100_000);
    for (const [args, arg] of [
      [[stack, 9, 9, 0], 'stride'],
      [[stack, 9, 9, -1], 'stride'],
      [[stack, 9, 9, 2.5], 'stride'],
      [[stack, 9, 9, T + 1], 'stride'],
      [[stack, 9, 9, long], 'stride'],
      [[stack, Number.NaN, 9], 'height'],
      [[stack, 0, 9], 'height'],
      [[stack, 9, -5], 'width'],
      [[stack, 9, 1e300], 'width'],
      [[stack, 9, MAX_TILED_PIXELS + 1], 'width'],
      [[stack, long, 9], 'height'],
      [[null, 9, 9], 'stack'],
      [[{ inputShape: [3, 8, 8] }, 9, 9], 'stack'],
    ] as const) {
      let err: unknown;
      try {
        tileCount(...(args as unknown as Parameters<typeof tileCount>));
      } catch (e) {
        err = e;
      }
      expect(err, `${arg} ${String(args[1]).slice(0, 9)} ${String(args[3]).slice(0, 9)}`).toBeInstanceOf(ArgumentError);
      expect((err as Error).message).toMatch(new RegExp(`^tileCount: ${arg} must be`));
      expect((err as Error).message.length).toBeLessThan(300);
    }
    // The largest sides pass, their count the reference's.
    expect(tileCount(stack, MAX_TILED_PIXELS, 1, T)).toBe(starts(MAX_TILED_PIXELS, T).length * starts(1, T).length);
  });

  it('two workers give this thread’s floats bit for bit; the tiles per call change nothing but rounding', async () => {
    const shape: [number, number, number] = [3, 23, 18];
    const img = imageOf(...shape, 11);
    for (const o of [
      { tilesPerCall: 10, batchSize: 4 },
      { depth: 2, stride: 3, tilesPerCall: 1000, batchSize: 8 },
    ]) {
      const want = await reconstructTiled(here, stack, img, shape, o);
      expect(same(await reconstructTiled(workers, stack, img, shape, o), want)).toBe(true);
      const one = await reconstructTiled(here, stack, img, shape, { ...o, tilesPerCall: 1 });
      expect(worst(one, Float64Array.from(want))).toBeLessThan(1e-6);
    }
  });

  it('refuses bad calls with an ArgumentError naming the option, before anything is allocated', async () => {
    const img = imageOf(3, 10, 10, 1);
    const shape: [number, number, number] = [3, 10, 10];
    const bad: [unknown[], RegExp][] = [
      [[{}, stack, img, shape], /runner must be a Runner/],
      [[here, null, img, shape], /stack must be a CAE stack/],
      [[here, stack, img, shape, { depth: 3 }], /depth must be an integer in \[1, 2\]/],
      [[here, stack, img, [1, 10, 10]], /shape gives 1 channel\(s\); the stack reads 3/],
      [[here, stack, img, [3, 10]], /shape must be \[channels, height, width\]/],
      [[here, stack, img, [3, 0, 10]], /shape must be/],
      [[here, stack, img, [3, 10, 11]], /image must be a Float32Array of 3·10·11 values/],
      [[here, stack, Array.from(img), shape], /image must be a Float32Array/],
      [[here, stack, img, [3, 4097, 4097]], new RegExp(`more than ${MAX_TILED_PIXELS} \\(MAX_TILED_PIXELS\\)`)],
      [[here, stack, img, shape, { stride: 0 }], /stride must be an integer in \[1, 8\]/],
      [[here, stack, img, shape, { stride: 9 }], /stride must be/],
      [[here, stack, img, shape, { stride: 2.5 }], /stride must be/],
      [[here, stack, img, shape, { window: 'gauss' }], /window must be 'hann' or 'flat'/],
      [[here, stack, img, shape, { batchSize: 0 }], /batchSize must be an integer/],
      [[here, stack, img, shape, { tilesPerCall: 0 }], /tilesPerCall must be an integer in \[1, 65536\]/],
      [[here, stack, img, shape, { input: { normalize: 'whiten' } }], /input was trained on whitened images/],
      [[here, stack, img, shape, { input: { normalize: 'other' } }], /input must have normalize/],
      [[here, stack, img, shape, 5], /options/],
      // A misspelt option was the default without a word; a NaN was a DataError of ImageDataset.fromFloat32.
      [[here, stack, img, shape, { strides: 4 }], /options has an unknown field "strides"/],
      [
        [here, stack, img.map((v, i) => (i === 7 ? Number.NaN : v)), shape],
        /image value 7 is NaN: finite values needed/,
      ],
    ];
    // 4 096 maps of 8×8 a tile: at most 1 024 tiles a pass (MAX_TENSOR_ELEMENTS); 2 601 tiles of a 200×200 image.
    const wide = new StackedConvAutoencoder(
      be,
      [{ convs: [{ filters: 4096, kernel: 3, padding: 1 }], activation: 'tanh', pool: { kernel: 2 } }],
      [3, T, T],
      1,
    );
    const big = imageOf(3, 200, 200, 2);
    bad.push([
      [here, wide, big, [3, 200, 200], { batchSize: 2000, tilesPerCall: 4000 }],
      /^reconstructTiled: batchSize of 2000 images does not fit through 1 block\(s\) of this stack: at most 1024/,
    ]);
    for (const [args, re] of bad) {
      const call = (reconstructTiled as (...a: unknown[]) => Promise<Float32Array>)(...args);
      await expect(call, String(re)).rejects.toThrow(ArgumentError);
      await expect(call).rejects.toThrow(re);
    }
    wide.dispose();
  });
});
