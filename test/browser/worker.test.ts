/**
 * Training in module Workers in a real browser: headless Chromium loads the
 * built package (dist/, the same bundled dist/worker.js Node uses) from a
 * localhost server, trains a small CAE layer with a Trainer, receives progress
 * events per batch, and must end with the weights and losses Node computes
 * for the same seed and build. The page is served cross-origin isolated
 * (COOP/COEP), so SharedArrayBuffer exists and two workers average gradients
 * in shared memory; without isolation they average through messages.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../ts/data/mnist.js';
import { StackedConvAutoencoder, type BlockSpec } from '../../ts/model/autoencoder.js';
import { Trainer } from '../../ts/worker/trainer.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { PACKAGE_PAGE, ROOT, haveChromium, launchChromium, serveStatic, type StaticServer } from '../util/browser.js';

const blocks: BlockSpec[] = [{ convs: [{ filters: 6, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } }];
const opts = { layer: 0, epochs: 3, batchSize: 25, seed: 3, optimizer: { type: 'adam', lr: 1e-2 } } as const;
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

describe.runIf(BUILD === 'simd' && haveChromium)('Trainer in headless Chromium (module Workers)', () => {
  let server: StaticServer,
    browser: Browser,
    base = '';

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/worker.js')))
      throw new Error('dist/worker.js is missing: run `npm run build` first (npm test does)');
    // ?isolated=0 pages (and what they load) are served without the isolation headers.
    server = await serveStatic({
      page: PACKAGE_PAGE,
      headers: (req) =>
        String(req.url).includes('isolated=0') || String(req.headers.referer ?? '').includes('isolated=0')
          ? { 'Access-Control-Allow-Origin': '*' }
          : { ...ISOLATION, 'Access-Control-Allow-Origin': '*' },
    });
    base = server.base;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Node's result: the same package code, build and seed, trained by a Node Trainer. */
  async function nodeRun(images: Float32Array, workers: number) {
    const be = await backendUnderTest();
    const { ImageDataset } = await import('../../ts/data/dataset.js');
    const data = ImageDataset.fromFloat32(images, [1, 28, 28]);
    const trainer = await Trainer.create(be, { size: workers });
    const stack = new StackedConvAutoencoder(be, blocks, data.shape, 3);
    const losses: number[] = [];
    try {
      const r = await trainer.fit(stack, data, { ...opts, workers, onBatch: (i) => losses.push(i.loss) });
      return {
        losses,
        epochs: r.history.epochs.map((e) => e.loss),
        weight: Array.from(stack.blocks[0].convs[0].weight.value.toArray()),
      };
    } finally {
      stack.dispose();
      await trainer.dispose();
    }
  }

  async function browserRun(images: Float32Array, workers: number, isolated: boolean) {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/?isolated=${isolated ? 1 : 0}`);
    const out = (await page.evaluate(`(async () => {
      const [images, blocks, opts, workers] = ${JSON.stringify([Array.from(images), blocks, opts, workers])};
      const cv = await import('/dist/index.js');
      const be = await cv.loadBackend({ build: 'simd' });
      const data = cv.ImageDataset.fromFloat32(Float32Array.from(images), [1, 28, 28]);
      const trainer = await cv.Trainer.create(be, { size: 2 });
      const stack = new cv.StackedConvAutoencoder(be, blocks, data.shape, 3);
      const losses = [];
      try {
        const r = await trainer.fit(stack, data, { ...opts, workers, onBatch: (i) => losses.push(i.loss) });
        return { isolated: crossOriginIsolated, shared: cv.canShareMemory(), build: be.build, losses, epochs: r.history.epochs.map((e) => e.loss),
          weight: Array.from(stack.blocks[0].convs[0].weight.value.toArray()) };
      } catch (e) {
        return { isolated: crossOriginIsolated, error: e.name + ': ' + e.message };
      } finally {
        await trainer.dispose();
      }
    })()`)) as {
      isolated: boolean;
      shared?: boolean;
      build?: string;
      losses?: number[];
      epochs?: number[];
      weight?: number[];
      error?: string;
    };
    await page.close();
    expect(errors).toEqual([]);
    return out;
  }

  const images = (async () => (await loadMnist({ split: 'train', limit: 200 })).images)();

  for (const workers of [1, 2]) {
    it(`${workers} worker(s), cross-origin isolated page: progress per batch, the loss falls, and Node gives the same numbers`, async () => {
      const x = await images;
      const b = await browserRun(x, workers, true);
      expect(b.error).toBeUndefined();
      expect(b.isolated).toBe(true);
      expect(b.shared).toBe(true);
      expect(b.build).toBe('simd');
      expect(b.losses!.length).toBe(3 * 8);
      expect(b.epochs![2]).toBeLessThan(b.epochs![0]);
      expect(b.losses!.at(-1)!).toBeLessThan(b.losses![0] * 0.6);
      const n = await nodeRun(x, workers);
      // Same wasm, same engine family: equal within float tolerance (bit-equal in practice).
      b.losses!.forEach((l, i) => expect(Math.abs(l - n.losses[i])).toBeLessThanOrEqual(1e-6 * n.losses[i]));
      const maxW = Math.max(...n.weight.map(Math.abs));
      b.weight!.forEach((w, i) => expect(Math.abs(w - n.weight[i])).toBeLessThanOrEqual(1e-5 * maxW));
    }, 60_000);
  }

  it('a worker script on another origin (a CDN, Next.js assetPrefix) starts through a same-origin blob: module', async () => {
    const other = base.replace('127.0.0.1', 'localhost');
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/?isolated=1`);
    const out = (await page.evaluate(`(async () => {
      const cv = await import('/dist/index.js');
      const be = await cv.loadBackend({ build: 'simd' });
      const images = new Float32Array(64 * 784).map((_, i) => ((i * 7919) % 255) / 255);
      const data = cv.ImageDataset.fromFloat32(images, [1, 28, 28]);
      const trainer = await cv.Trainer.create(be, { size: 2, workerUrl: '${other}/dist/worker.js' });
      const stack = new cv.StackedConvAutoencoder(be, ${JSON.stringify(blocks)}, data.shape, 3);
      try {
        const r = await trainer.fit(stack, data, { ...${JSON.stringify(opts)}, workers: 2 });
        return { shared: cv.canShareMemory(), epochs: r.history.epochs.map((e) => e.loss) };
      } catch (e) {
        return { error: e.name + ': ' + e.message };
      } finally {
        await trainer.dispose();
      }
    })()`)) as { shared?: boolean; epochs?: number[]; error?: string };
    await page.close();
    expect(errors).toEqual([]);
    expect(out.error).toBeUndefined();
    expect(out.shared).toBe(true);
    expect(out.epochs![2]).toBeLessThan(out.epochs![0]);
  }, 60_000);

  it('without cross-origin isolation (no SharedArrayBuffer): 1 and 2 workers train, the 2 averaging through messages, with the numbers Node gives', async () => {
    const x = await images;
    for (const workers of [1, 2]) {
      const b = await browserRun(x, workers, false);
      expect(b.isolated).toBe(false);
      expect(b.error).toBeUndefined();
      expect(b.shared).toBe(false);
      expect(b.epochs![2]).toBeLessThan(b.epochs![0]);
      const n = await nodeRun(x, workers);
      b.losses!.forEach((l, i) => expect(Math.abs(l - n.losses[i])).toBeLessThanOrEqual(1e-6 * n.losses[i]));
    }
  }, 60_000);
});
