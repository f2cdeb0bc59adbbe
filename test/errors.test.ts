import { describe, expect, it } from 'vitest';
import { compileBuild, wasmUrl } from '../ts/backend/loader.js';
import * as cv from '../ts/index.js';
import { BUILD, backendUnderTest } from './util/backend.js';

describe('typed errors before anything reaches wasm', async () => {
  const be = await backendUnderTest();
  const x = be.zeros([2, 3, 8, 8]);
  const w = be.zeros([4, 3, 3, 3]);

  it('conv2d: wrong output shape names the argument and both shapes', () => {
    const y = be.zeros([2, 4, 5, 5]);
    const err = (() => {
      try {
        cv.conv2d(x, w, null, y);
      } catch (e) {
        return e;
      }
    })() as cv.ShapeError;
    expect(err).toBeInstanceOf(cv.ShapeError);
    expect(err.op).toBe('conv2d');
    expect(err.arg).toBe('y');
    expect(err.expected).toBe('[2,4,6,6]');
    expect(err.got).toBe('[2,4,5,5]');
    y.dispose();
  });

  it('conv2d: channel mismatch, wrong rank, bad bias, kernel larger than input', () => {
    const y = be.zeros([2, 4, 6, 6]);
    const w2 = be.zeros([4, 2, 3, 3]);
    expect(() => cv.conv2d(x, w2, null, y)).toThrow(/conv2d: w must be \[cOut,3,kh,kw\]/);
    const flat = be.zeros([2, 192]);
    expect(() => cv.conv2d(flat, w, null, y)).toThrow(cv.ShapeError);
    const b = be.zeros([3]);
    expect(() => cv.conv2d(x, w, b, y)).toThrow(/b must be \[4\]/);
    const wBig = be.zeros([4, 3, 9, 9]);
    expect(() => cv.conv2d(x, wBig, null, y)).toThrow(cv.ArgumentError);
    expect(() => cv.conv2d(x, w, null, y, { stride: 0 })).toThrow(cv.ArgumentError);
    expect(() => cv.conv2d(x, w, null, y, { padding: 3 })).toThrow(/padding 3 must be smaller than the kernel 3/);
    for (const t of [y, w2, flat, b, wBig]) t.dispose();
  });

  it('an output may not be one of the inputs', () => {
    const sq = be.zeros([4, 4]);
    expect(() => cv.gemm(sq, sq, sq)).toThrow(/c must be a different tensor from a/);
    sq.dispose();
  });

  it('pooling: window larger than the input, u32 switches required', () => {
    const h = be.zeros([1, 1, 3, 3]);
    const y = be.zeros([1, 1, 1, 1]);
    const s = be.zeros([1, 1, 1, 1], 'u32');
    expect(() => cv.maxPool2d(h, y, s, { kernel: 4 })).toThrow(/window 4 is larger than the input 3/);
    const sf = be.zeros([1, 1, 1, 1]);
    expect(() => cv.maxPool2d(h, y, sf, { kernel: 3 })).toThrow(/switches must be dtype u32/);
    for (const t of [h, y, s, sf]) t.dispose();
  });

  it('a switch pointing outside its plane is refused by the wasm layer (KernelError), not read out of bounds', () => {
    const p = be.zeros([1, 1, 2, 2]);
    const s = be.fromArray([1, 1, 2, 2], [0, 1, 2, 999], 'u32');
    const y = be.zeros([1, 1, 4, 4]);
    expect(() => cv.maxUnpool2d(p, s, y)).toThrow(cv.KernelError);
    for (const t of [p, s, y]) t.dispose();
  });

  it('losses and optimizers: labels out of range, bad hyper-parameters, unknown activation', () => {
    const logits = be.zeros([2, 3]);
    const labels = be.fromArray([2], [1, 3], 'u32');
    expect(() => cv.softmaxCrossEntropy(logits, labels)).toThrow(/labels must be < 3 classes, got 3 at index 1/);
    const p = be.zeros([5]),
      g = be.zeros([5]),
      v = be.zeros([5]),
      v4 = be.zeros([4]);
    expect(() => cv.sgdStep(p, g, v, { lr: NaN })).toThrow(/lr must be a finite number/);
    expect(() => cv.sgdStep(p, g, v4, { lr: 0.1 })).toThrow(cv.ShapeError);
    expect(() => cv.adamStep(p, g, v, be.zeros([5]), { lr: 0.1, step: 0 })).toThrow(/step must be an integer ≥ 1/);
    // @ts-expect-error an unknown activation is a type error too
    expect(() => cv.activation('gelu', p, g)).toThrow(/kind must be one of/);
    expect(() => cv.activation('leakyRelu', p, g, 1.5)).toThrow(/alpha must be a finite number in \[0/);
    for (const t of [logits, labels, p, g, v, v4]) t.dispose();
  });

  it('checkFinite finds the first NaN', () => {
    const t = be.fromArray([4], [0, 1, NaN, Infinity]);
    expect(() => cv.checkFinite('test', 't', t)).toThrow(/t holds NaN at flat index 2/);
    t.dispose();
  });

  it('fromArray with the wrong length', () => {
    expect(() => be.fromArray([2, 2], [1, 2, 3])).toThrow(/values must be 4 elements for shape \[2,2\], got 3/);
  });

  it('one realm runs one wasm build: asking for another is a BackendError', async () => {
    if (BUILD === 'native') {
      // Beside native a realm may load one wasm build, and only one.
      expect((await cv.loadBackend({ build: 'scalar' })).build).toBe('scalar');
      await expect(cv.loadBackend({ build: 'simd' })).rejects.toThrow(cv.BackendError);
      expect((await cv.loadBackend()).build).toBe('native'); // auto: the first build this realm loaded
    } else {
      const other = BUILD === 'scalar' ? 'simd' : 'scalar';
      await expect(cv.loadBackend({ build: other })).rejects.toThrow(cv.BackendError);
    }
    await expect(cv.loadBackend({ build: 'avx' as cv.Build })).rejects.toThrow(/unknown build/);
  });

  it('wasmUrls: a build compiles from the URL given; one that cannot be read is a BackendError naming it', async () => {
    const scalar = wasmUrl('scalar');
    expect(await compileBuild('simd', scalar)).toBeInstanceOf(WebAssembly.Module); // the URL, not the build's name, decides
    const missing = new URL('no-such.wasm', scalar);
    await expect(compileBuild('scalar', missing)).rejects.toThrow(cv.BackendError);
    await expect(compileBuild('scalar', missing)).rejects.toThrow(`scalar wasm build from ${missing.href}: ENOENT`);
  });

  it('wasmUrls: a misspelt build, a URL that is not one, or not an object is refused before anything loads', async () => {
    const bad: [unknown, RegExp][] = [
      [{ simd128: 'x.wasm' }, /unknown build "simd128"; its builds are relaxed, simd, scalar/],
      [{ native: 'x.node' }, /unknown build "native"/],
      [{ simd: 5 }, /wasmUrls.simd must be a string or URL, not 5/],
      ['simd.wasm', /wasmUrls must be an object/],
      [['simd.wasm'], /wasmUrls must be an object/],
    ];
    for (const [wasmUrls, msg] of bad) {
      const call = cv.loadBackend({ build: BUILD, wasmUrls } as cv.LoadOptions);
      await expect(call).rejects.toThrow(cv.BackendError);
      await expect(cv.loadBackend({ build: BUILD, wasmUrls } as cv.LoadOptions)).rejects.toThrow(msg);
    }
    const long = 'x'.repeat(1e6);
    const e = await cv.loadBackend({ wasmUrls: { [long]: long } } as cv.LoadOptions).catch((x: Error) => x);
    expect((e as Error).message.length).toBeLessThan(1000);
  });
});
