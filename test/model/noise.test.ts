/**
 * Input noise of denoising autoencoders (ts/model/noise.ts): masking keeps
 * each pixel with probability 1 − f, scaled by 1/(1 − f) unless `rescale` is
 * false; Gaussian noise adds N(0, std²). Checked against the analytic
 * expectations with binomial / normal bounds, and by what the rescaling is
 * for: a CAE trained with masking reconstructs clean images better with it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { loadMnist } from '../../ts/data/mnist.js';
import { StackedConvAutoencoder, type BlockSpec } from '../../ts/model/autoencoder.js';
import { checkNoise, corrupt, type Noise } from '../../ts/model/noise.js';
import { fit } from '../../ts/train/fit.js';
import { stackLayerTask } from '../../ts/model/tasks.js';
import { Rng } from '../../ts/util/rng.js';
import { backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();
const N = 200_000;
const src = Float32Array.from({ length: N }, (_, i) => ((i * 7919) % 1000) / 999);
const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

describe('corrupt', () => {
  for (const f of [0.1, 0.3, 0.5]) {
    it(`masking f=${f}: each pixel is 0 or x/(1−f); ${f * 100} % zeroed (5σ); the mean is the clean mean (5σ)`, () => {
      const dst = new Float32Array(N);
      corrupt({ type: 'mask', fraction: f }, src, dst, new Rng(7));
      let zeros = 0,
        wrong = 0;
      for (let i = 0; i < N; i++) {
        if (dst[i] === 0) zeros++;
        else if (!(Math.abs(dst[i] - src[i] / (1 - f)) <= 1e-6 * (1 + src[i]))) wrong++;
      }
      expect(wrong).toBe(0);
      const srcZeros = src.filter((v) => v === 0).length;
      const p = f + (1 - f) * (srcZeros / N);
      expect(Math.abs(zeros - N * p)).toBeLessThan(5 * Math.sqrt(N * p * (1 - p)));
      // Var of one pixel: x²·f/(1−f); the bound on the mean of N of them.
      const var1 = ((sum(src.map((v) => v * v)) / N) * f) / (1 - f);
      expect(Math.abs(sum(dst) / N - sum(src) / N)).toBeLessThan(5 * Math.sqrt(var1 / N));
    });
  }

  it('masking with rescale: false keeps pixels unchanged, and the mean is (1 − f) times the clean mean', () => {
    const f = 0.3,
      dst = new Float32Array(N);
    corrupt({ type: 'mask', fraction: f, rescale: false }, src, dst, new Rng(8));
    expect(dst.filter((v, i) => v !== 0 && v !== src[i]).length).toBe(0);
    expect(dst.filter((v, i) => v === 0 && src[i] !== 0).length).toBeGreaterThan(0.25 * N);
    const var1 = (sum(src.map((v) => v * v)) / N) * f * (1 - f);
    expect(Math.abs(sum(dst) / N - ((1 - f) * sum(src)) / N)).toBeLessThan(5 * Math.sqrt(var1 / N));
  });

  it('gaussian std=0.2: the difference has mean 0 and standard deviation 0.2 (5σ bounds)', () => {
    const dst = new Float32Array(N);
    corrupt({ type: 'gaussian', std: 0.2 }, src, dst, new Rng(9));
    const d = dst.map((v, i) => v - src[i]);
    const mean = sum(d) / N,
      sd = Math.sqrt(sum(d.map((v) => (v - mean) ** 2)) / N);
    expect(Math.abs(mean)).toBeLessThan((5 * 0.2) / Math.sqrt(N));
    expect(Math.abs(sd - 0.2)).toBeLessThan((5 * 0.2) / Math.sqrt(2 * N));
  });

  it('salt-pepper f=0.2: each value is kept or 0 or 1; 10 % set to each (5σ); the kept ones unchanged', () => {
    const f = 0.2,
      dst = new Float32Array(N);
    corrupt({ type: 'salt-pepper', fraction: f }, src, dst, new Rng(10));
    // Counted on values that are neither 0 nor 1 already, so each changed one is seen.
    let zeros = 0,
      ones = 0,
      inner = 0,
      wrong = 0;
    for (let i = 0; i < N; i++) {
      if (src[i] === 0 || src[i] === 1) continue;
      inner++;
      if (dst[i] === 0) zeros++;
      else if (dst[i] === 1) ones++;
      else if (dst[i] !== src[i]) wrong++;
    }
    expect(wrong).toBe(0);
    const sd = 5 * Math.sqrt(inner * (f / 2) * (1 - f / 2));
    expect(Math.abs(zeros - (inner * f) / 2)).toBeLessThan(sd);
    expect(Math.abs(ones - (inner * f) / 2)).toBeLessThan(sd);
  });

  it('gaussian std=0.5 with clip: the values of the same draws, clipped to [0, 1]', () => {
    const dst = new Float32Array(N);
    corrupt({ type: 'gaussian', std: 0.5, clip: true }, src, dst, new Rng(11));
    const rng = new Rng(11);
    const want = Float32Array.from(src, (x) => Math.min(1, Math.max(0, x + 0.5 * rng.normal())));
    expect(dst).toEqual(want);
    // Not a vacuous clip: a sixth of the values sit on each bound or more.
    expect(dst.filter((v) => v === 0).length).toBeGreaterThan(N / 10);
    expect(dst.filter((v) => v === 1).length).toBeGreaterThan(N / 10);
  });

  it('fraction 0 and std 0 leave the image as it is', () => {
    const a = new Float32Array(N),
      b = new Float32Array(N);
    corrupt({ type: 'mask', fraction: 0 }, src, a, new Rng(1));
    corrupt({ type: 'gaussian', std: 0 }, src, b, new Rng(1));
    expect(a).toEqual(src);
    expect(b).toEqual(src);
    corrupt({ type: 'salt-pepper', fraction: 0 }, src, a, new Rng(1));
    expect(a).toEqual(src);
  });
});

describe('bad noise specs are refused with a ModelError naming the block', () => {
  const bad: [string, unknown][] = [
    ['fraction 1', { type: 'mask', fraction: 1 }],
    ['fraction −0.1', { type: 'mask', fraction: -0.1 }],
    ['fraction NaN', { type: 'mask', fraction: NaN }],
    ['rescale "yes"', { type: 'mask', fraction: 0.3, rescale: 'yes' }],
    ['std −1', { type: 'gaussian', std: -1 }],
    ['std Infinity', { type: 'gaussian', std: Infinity }],
    ['clip "yes"', { type: 'gaussian', std: 0.1, clip: 'yes' }],
    ['type "salt"', { type: 'salt', fraction: 0.1 }],
    ['salt-pepper fraction 1', { type: 'salt-pepper', fraction: 1 }],
    ['salt-pepper without a fraction', { type: 'salt-pepper' }],
    ['salt-pepper with a std', { type: 'salt-pepper', fraction: 0.1, std: 0.1 }],
  ];
  for (const [what, noise] of bad) {
    it(what, () => {
      expect(() => checkNoise(noise as Noise, 'block0')).toThrow(cv.ModelError);
      expect(
        () =>
          new StackedConvAutoencoder(be, [{ convs: [{ filters: 2, kernel: 3 }], noise: noise as Noise }], [1, 8, 8]),
      ).toThrow(/blocks\[0\]\.noise/);
      expect(
        () =>
          new StackedConvAutoencoder(be, [{ convs: [{ filters: 2, kernel: 3 }], noise: noise as Noise }], [1, 8, 8]),
      ).toThrow(cv.ModelError);
    });
  }
});

describe('what the rescaling is for', () => {
  const disposables: { dispose(): void }[] = [];
  afterAll(() => disposables.forEach((d) => d.dispose()));

  it('a CAE trained with 50 % masking reconstructs clean test images with < 0.6× the MSE when kept pixels are rescaled (measured 0.40×)', async () => {
    const data = await loadMnist({ split: 'train', limit: 2000 });
    const test = await loadMnist({ split: 'test', limit: 500 });
    const x = be.fromArray([500, 1, 28, 28], test.images);
    disposables.push(x);
    const cleanMse = async (rescale: boolean) => {
      const blocks: BlockSpec[] = [
        { convs: [{ filters: 6, kernel: 5 }], noise: { type: 'mask', fraction: 0.5, rescale } },
      ];
      const s = new StackedConvAutoencoder(be, blocks, data.shape, 1);
      disposables.push(s);
      await fit(be, stackLayerTask(s, 0), data, {
        epochs: 4,
        batchSize: 20,
        seed: 1,
        optimizer: { type: 'adam', lr: 1e-2 },
      });
      return s.blocks[0].loss(x);
    };
    const rescaled = await cleanMse(true),
      plain = await cleanMse(false);
    expect(rescaled).toBeLessThan(0.6 * plain);
  });
});
