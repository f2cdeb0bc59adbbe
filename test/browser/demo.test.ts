/**
 * The demo page (demo/, issue 6) in a real browser: the test writes the MNIST
 * subset, builds the page with Vite's own `build` (as `npm run build:demo`
 * does, into test-artifacts/demo-site/), serves it with `vite preview` (the
 * configuration's COOP/COEP headers: cross-origin isolated, so two workers
 * train data-parallel), and drives headless Chromium through it:
 *
 * - trains a CAE live: the loss must fall below LOSS_TARGET, the filters and
 *   reconstructions must be drawn (canvases not blank, and changed from the
 *   untrained model's), a digit drawn on the pad is reconstructed;
 * - the longest main-thread task while training (PerformanceObserver
 *   'longtask' entries, plus a 10 ms timer's longest gap for the record) must
 *   stay under LONG_TASK_MS;
 * - cancel, download the weights (.safetensors + .json), reload the page
 *   (a fresh random model) and load the two files back: the reconstructions
 *   and filters must be drawn pixel for pixel as before;
 * - `?build=scalar` runs the scalar build (no SIMD) and says so;
 * - a page served without the isolation headers says so and trains on two
 *   workers whose gradients are averaged through messages.
 *
 * The screenshot of the trained page is saved as test-artifacts/demo.png.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../ts/io/safetensors.js';
import { BUILD } from '../util/backend.js';
import { ROOT as root, haveChromium, launchChromium, serveStatic, type StaticServer } from '../util/browser.js';

const SITE = join(root, 'test-artifacts/demo-site');
const ARTIFACTS = join(root, 'test-artifacts');
/** The mean squared reconstruction error (convae's 1/(2n) Σ (x − y)²) the page's first CAE must fall below; it starts near 0.1. */
const LOSS_TARGET = 0.02;
// Chromium reports only tasks of ≥ 50 ms as long tasks, so `< 50` meant "none at all": one 50 ms task
// (a GC or layout on a shared machine) failed a CI run while the page trained smoothly. A main thread
// that trains, or waits on the workers, blocks for seconds; 100 ms still tells those apart.
const LONG_TASK_MS = 100;

interface DemoState {
  phase: string;
  build: string;
  isolated: boolean;
  maxWorkers: number;
  steps: number;
  loss: number;
  renders: number;
  longestRenderMs: number;
  accuracy: number | null;
  message: string;
}

/** A canvas's size, a checksum of its RGBA bytes and how many distinct values it holds (1–2: blank). */
interface CanvasPixels {
  width: number;
  height: number;
  sum: number;
  distinct: number;
}

const canvasPixels = (page: Page, id: string) =>
  page.evaluate(`(() => {
    const c = document.getElementById(${JSON.stringify(id)});
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 2166136261 >>> 0;
    const seen = new Set();
    for (let i = 0; i < d.length; i++) { h = Math.imul(h ^ d[i], 16777619) >>> 0; if ((i & 3) === 0) seen.add(d[i]); }
    return { width: c.width, height: c.height, sum: h, distinct: seen.size };
  })()`) as Promise<CanvasPixels>;

const demoState = (page: Page) => page.evaluate('window.convaeDemo') as Promise<DemoState>;

/** Records long tasks (with their start times) and the longest gap of a 10 ms timer, from the page's first script on. */
const MONITOR = `
  window.__longTasks = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration }); })
    .observe({ type: 'longtask', buffered: true });
  window.__gap = { from: Infinity, max: 0, last: 0 };
  setInterval(() => {
    const now = performance.now(), g = window.__gap;
    if (now >= g.from && g.last >= g.from) g.max = Math.max(g.max, now - g.last - 10);
    g.last = now;
  }, 10);
`;

describe.runIf(BUILD === 'simd' && haveChromium)('demo page (Vite build) in headless Chromium', () => {
  let server: PreviewServer,
    plain: StaticServer,
    browser: Browser,
    base = '',
    plainBase = '';

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/worker.js')))
      throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    execFileSync(process.execPath, [join(root, 'demo/scripts/make-data.mjs')], { stdio: 'pipe' });
    const configFile = join(root, 'demo/vite.config.ts');
    await build({ configFile, mode: 'production', logLevel: 'warn', build: { outDir: SITE } });
    server = await preview({
      configFile,
      mode: 'production',
      logLevel: 'warn',
      build: { outDir: SITE },
      preview: { host: '127.0.0.1', port: 4179, strictPort: false },
    });
    base = server.resolvedUrls!.local[0];
    // The same site without the isolation headers, as a plain static host would serve it.
    plain = await serveStatic({
      root: SITE,
      page: readFileSync(join(SITE, 'index.html'), 'utf8'),
      prefixes: ['/assets/', '/data/'],
    });
    plainBase = `${plain.base}/`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await plain?.close();
  });

  async function open(url: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.addInitScript(MONITOR);
    await page.goto(url);
    await page.waitForFunction('["idle", "failed"].includes(window.convaeDemo?.phase)', null, { timeout: 30_000 });
    const s = await demoState(page);
    expect(s.phase, s.message).toBe('idle');
    return { page, errors };
  }

  /** Draws a 7 on the pad with the mouse. */
  async function drawSeven(page: Page): Promise<void> {
    const box = (await page.locator('#pad').boundingBox())!;
    const at = (x: number, y: number) => [box.x + x * box.width, box.y + y * box.height] as const;
    await page.mouse.move(...at(0.25, 0.22));
    await page.mouse.down();
    for (const [x, y] of [
      [0.5, 0.22],
      [0.75, 0.22],
      [0.62, 0.5],
      [0.5, 0.8],
    ])
      await page.mouse.move(...at(x, y), { steps: 6 });
    await page.mouse.up();
  }

  it(`trains live (loss < ${LOSS_TARGET}, pictures drawn, main thread free), cancels, downloads the weights and loads them back`, async () => {
    const t0 = performance.now();
    const { page, errors } = await open(`${base}?seed=1`);
    const start = await demoState(page);
    expect(start.isolated).toBe(true);
    expect(start.build).toBe('relaxed'); // current Chromium validates relaxed SIMD
    expect(await page.textContent('#env')).toContain('cross-origin isolated: yes');
    expect(start.maxWorkers).toBeGreaterThanOrEqual(2);
    const untrained = { filters: await canvasPixels(page, 'filters'), recon: await canvasPixels(page, 'recon') };

    await page.fill('#workers', '2');
    await page.fill('#epochs', '30'); // cancelled long before the end
    const clickAt = (await page.evaluate('performance.now()')) as number;
    await page.evaluate(`window.__gap.from = ${clickAt}`);
    await page.click('#train');
    await page.waitForFunction(`window.convaeDemo.loss < ${LOSS_TARGET} && window.convaeDemo.renders >= 5`, null, {
      timeout: 30_000,
      polling: 100,
    });
    await drawSeven(page); // input during training
    await page.waitForTimeout(600); // a few more snapshots, with the digit on the pad
    expect((await demoState(page)).phase).toBe('training');
    // Pause holds the workers before their next step; resume goes on.
    await page.click('#pause');
    await page.waitForTimeout(200);
    const paused = (await demoState(page)).steps;
    await page.waitForTimeout(400);
    expect((await demoState(page)).steps).toBe(paused);
    expect((await demoState(page)).phase).toBe('paused');
    await page.click('#resume');
    await page.waitForFunction(`window.convaeDemo.steps > ${paused} + 20`, null, { timeout: 10_000 });
    await page.click('#cancel');
    await page.waitForFunction('window.convaeDemo.phase === "idle"', null, { timeout: 10_000 });
    const cancelAt = (await page.evaluate('performance.now()')) as number;
    expect(await page.textContent('#stage')).toMatch(/^cancelled/);

    // The main thread while training: no task of 50 ms or more.
    const tasks = ((await page.evaluate('window.__longTasks')) as { start: number; duration: number }[]).filter(
      (t) => t.start >= clickAt && t.start <= cancelAt,
    );
    const gap = (await page.evaluate('window.__gap.max')) as number;
    const longest = Math.max(0, ...tasks.map((t) => t.duration));
    const after = await demoState(page);
    console.log(
      `demo: loss ${after.loss.toFixed(4)} after ${after.steps} steps (${((cancelAt - clickAt) / 1000).toFixed(1)} s, 2 workers), ${after.renders} redraws (longest ${after.longestRenderMs.toFixed(1)} ms), ` +
        `long tasks while training: ${tasks.length ? `${tasks.map((t) => t.duration.toFixed(0)).join(', ')} ms` : 'none (Chromium reports tasks ≥ 50 ms)'}, longest 10 ms-timer gap ${gap.toFixed(1)} ms`,
    );
    expect(longest).toBeLessThan(LONG_TASK_MS);
    expect(after.loss).toBeLessThan(LOSS_TARGET);

    // Pictures: drawn, not blank, and no longer the untrained model's.
    const trained = { filters: await canvasPixels(page, 'filters'), recon: await canvasPixels(page, 'recon') };
    expect(trained.filters.distinct).toBeGreaterThan(20);
    expect(trained.recon.distinct).toBeGreaterThan(50);
    expect(trained.filters.sum).not.toBe(untrained.filters.sum);
    expect(trained.recon.sum).not.toBe(untrained.recon.sum);
    expect((await canvasPixels(page, 'pad-small')).distinct).toBeGreaterThan(5);
    expect((await canvasPixels(page, 'pad-recon')).distinct).toBeGreaterThan(5);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true });

    // Download the two files of the model.
    const saved: string[] = [];
    for (const id of ['#download-stack-weights', '#download-stack-json']) {
      const [d] = await Promise.all([page.waitForEvent('download'), page.click(id)]);
      const path = join(ARTIFACTS, 'demo-downloads', d.suggestedFilename());
      await d.saveAs(path);
      saved.push(path);
    }
    expect(saved.map((p) => p.split('/').pop())).toEqual(['convae-cae.safetensors', 'convae-cae.json']);
    const json = JSON.parse(readFileSync(saved[1], 'utf8'));
    expect(json).toMatchObject({
      format: 'convae-model',
      kind: 'stack',
      inputShape: [1, 28, 28],
      blocks: [{ convs: [{ filters: 16, kernel: 5 }], tied: true, noise: { type: 'mask', fraction: 0.3 } }],
    });
    const st = decodeSafetensors(readFileSync(saved[0]), saved[0]);
    expect(st.tensors['block0.conv0.weight'].shape).toEqual([16, 1, 5, 5]);
    expect(Object.keys(st.tensors).sort()).toEqual(['block0.conv0.bias', 'block0.conv0.weight', 'block0.deconv0.bias']);

    // A fresh page (an untrained model), then load the files: the same pictures as before the download.
    await page.reload();
    await page.waitForFunction('window.convaeDemo?.phase === "idle"', null, { timeout: 30_000 });
    expect((await canvasPixels(page, 'recon')).sum).not.toBe(trained.recon.sum);
    await page.setInputFiles('#load', saved);
    await page.waitForFunction('window.convaeDemo.message.startsWith("load")', null, { timeout: 10_000 });
    expect((await demoState(page)).message).toBe('loaded stack');
    expect(await canvasPixels(page, 'recon')).toEqual(trained.recon);
    expect(await canvasPixels(page, 'filters')).toEqual(trained.filters);
    expect(errors).toEqual([]);
    await page.close();
    console.log(`demo: main test took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, 60_000);

  it('the 2-layer stack and the classifier: test accuracy shown, a drawn digit classified', async () => {
    const { page, errors } = await open(`${base}?seed=1`);
    await page.fill('#workers', '2');
    await page.fill('#epochs', '1');
    await drawSeven(page);
    await page.click('#train-stack');
    await page.waitForFunction('window.convaeDemo.phase === "idle"', null, { timeout: 40_000, polling: 200 });
    expect(await page.textContent('#stage')).toBe('done');
    const s = await demoState(page);
    // 1 epoch per CAE block and 1 of fine-tuning on 4 000 images: about 92 % on the 1 000 test images.
    expect(s.accuracy).toBeGreaterThan(0.85);
    expect(await page.textContent('#accuracy')).toMatch(/^\d+\.\d\d %$/);
    expect(await page.textContent('#prediction')).toMatch(/^predicted: \d \(\d+\.\d %\)$/);
    expect(await page.isEnabled('#download-classifier-weights')).toBe(true);
    console.log(
      `demo: stack + classifier, test accuracy ${(100 * s.accuracy!).toFixed(1)} %, the drawn 7 → ${await page.textContent('#prediction')}`,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'demo-classifier.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('?build=scalar runs the scalar build (no SIMD), says so, and trains', async () => {
    const { page, errors } = await open(`${base}?build=scalar`);
    expect((await demoState(page)).build).toBe('scalar');
    expect(await page.textContent('#env')).toContain('scalar, no SIMD');
    await page.fill('#epochs', '30');
    await page.click('#train');
    // From about 0.1 to half of it: the scalar build learns too (3.5–4× slower than SIMD).
    await page.waitForFunction('window.convaeDemo.loss < 0.05 && window.convaeDemo.renders >= 3', null, {
      timeout: 30_000,
      polling: 100,
    });
    await page.click('#cancel');
    await page.waitForFunction('window.convaeDemo.phase === "idle"', null, { timeout: 10_000 });
    expect(await page.textContent('#stage')).toMatch(/^cancelled/);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('without the isolation headers: says so, and trains on two workers averaging through messages', async () => {
    const { page, errors } = await open(plainBase);
    const s = await demoState(page);
    expect(s.isolated).toBe(false);
    expect(s.maxWorkers).toBeGreaterThanOrEqual(2);
    expect(await page.textContent('#env')).toContain('not cross-origin isolated');
    await page.fill('#workers', '2');
    await page.fill('#epochs', '30');
    await page.click('#train');
    await page.waitForFunction('window.convaeDemo.steps >= 30', null, { timeout: 30_000, polling: 100 });
    await page.click('#cancel');
    await page.waitForFunction('window.convaeDemo.phase === "idle"', null, { timeout: 10_000 });
    expect(await page.textContent('#stage')).toMatch(/^cancelled/);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
