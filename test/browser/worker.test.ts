/**
 * Training in module Workers in a real browser: headless Chromium loads the
 * built package (dist/, the same bundled dist/worker.js Node uses) from a
 * localhost server, trains a small CAE layer with a Trainer, receives progress
 * events per batch, and must end with the weights and losses Node computes
 * for the same seed and build. The page is served cross-origin isolated
 * (COOP/COEP), so SharedArrayBuffer exists and two workers average gradients
 * in shared memory; without isolation they average through messages.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../ts/data/mnist.js';
import { StackedConvAutoencoder, type BlockSpec } from '../../ts/model/autoencoder.js';
import { Trainer } from '../../ts/worker/trainer.js';
import { BUILD, backendUnderTest } from '../util/backend.js';

const root = new URL('../..', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
const MIME: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json', '.map': 'application/json' };
const SERVED = ['/dist/', '/node_modules/wasm-feature-detect/', '/node_modules/comlink/'];
const PAGE = `<!doctype html><html><head><meta charset="utf-8">
<script type="importmap">{ "imports": {
  "wasm-feature-detect": "/node_modules/wasm-feature-detect/dist/esm/index.js",
  "comlink": "/node_modules/comlink/dist/esm/comlink.mjs"
} }</script>
</head><body>convae worker test</body></html>`;

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`CI needs ${CHROMIUM} for the browser test (.ci/run installs the Debian package chromium)`);

const blocks: BlockSpec[] = [{ convs: [{ filters: 6, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } }];
const opts = { layer: 0, epochs: 3, batchSize: 25, seed: 3, optimizer: { type: 'adam', lr: 1e-2 } } as const;

describe.runIf(BUILD === 'simd' && haveChromium)('Trainer in headless Chromium (module Workers)', () => {
  let server: Server, browser: Browser, base = '';

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/worker.js'))) throw new Error('dist/worker.js is missing: run `npm run build` first (npm test does)');
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const isolated = url.searchParams.get('isolated') !== '0' && !(req.headers.referer ?? '').includes('isolated=0');
      const headers: Record<string, string> = isolated ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {};
      const path = normalize(decodeURIComponent(url.pathname));
      if (path === '/' || path === '/index.html') {
        res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(PAGE);
        return;
      }
      const file = join(root, path);
      if (!file.startsWith(root) || !SERVED.some((p) => path.startsWith(p)) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { ...headers, 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => server?.close(ok));
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
      return { losses, epochs: r.history.epochs.map((e) => e.loss), weight: Array.from(stack.blocks[0].convs[0].weight.value.toArray()) };
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
    })()`)) as { isolated: boolean; shared?: boolean; build?: string; losses?: number[]; epochs?: number[]; weight?: number[]; error?: string };
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
