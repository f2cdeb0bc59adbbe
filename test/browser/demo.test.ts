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
 *   workers whose gradients are averaged through messages;
 * - the drawing pad's error map and anomaly score against the threshold
 *   fitted on the validation digits: a lattice of strokes scores higher than
 *   a drawn 7 and is flagged; the score agrees with the pictures it shows;
 * - a click on a filter shows the test images that activate it most and the
 *   projections of those activations;
 * - a folder of generated colour images handed to the folder picker is
 *   decoded in workers, trained on in colour (colour filters and
 *   reconstructions), and its pad and filter click work too.
 *
 * Screenshots: test-artifacts/demo.png (trained on MNIST), demo-classifier.png,
 * demo-anomaly.png (the pad and a feature's projections), demo-images.png
 * (trained on the dropped colour images).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../ts/io/safetensors.js';
import { Rng } from '../../ts/util/rng.js';
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
  data: { name: string; shape: number[]; train: number; classes: string[] | null; note: string };
  threshold: { threshold: number; median: number; n: number; depth: number } | null;
  thresholds: number;
  pad: { score: number | null; threshold: number | null; flagged: boolean | null };
  feature: { feature: number; images: number; activations: number[] } | null;
  phase: string;
  build: string;
  isolated: boolean;
  maxWorkers: number;
  steps: number;
  loss: number;
  firstLoss: number;
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

/** Pixels of a canvas whose red, green and blue differ by more than 8: colour, not grey. */
const colourPixels = (page: Page, id: string) =>
  page.evaluate(`(() => {
    const c = document.getElementById(${JSON.stringify(id)});
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 8) n++;
    return n;
  })()`) as Promise<number>;

/** The mean squared difference between two canvases of one size (their RGB bytes / 255), over the channels the model reads. */
const canvasMse = (page: Page, a: string, b: string, channels: number) =>
  page.evaluate(`(() => {
    const px = (id) => { const c = document.getElementById(id); return c.getContext('2d').getImageData(0, 0, c.width, c.height).data; };
    const x = px(${JSON.stringify(a)}), y = px(${JSON.stringify(b)});
    let s = 0, n = 0;
    for (let i = 0; i < x.length; i += 4) for (let k = 0; k < ${channels}; k++) { s += ((x[i + k] - y[i + k]) / 255) ** 2; n++; }
    return s / n;
  })()`) as Promise<number>;

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

/**
 * 160 colour pictures in two class folders, 80 each, of mixed sizes (the page
 * resizes them to 32×32): `discs` (a disc of one colour on another) and
 * `stripes` (stripes of two colours at an angle), colours and positions from a seeded generator.
 */
async function writeShapes(root: string): Promise<void> {
  const rng = new Rng(12345);
  const rand = () => rng.next();
  const colour = () => [0, 1, 2].map(() => Math.floor(40 + 200 * rand()));
  for (const cls of ['discs', 'stripes']) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < 80; i++) {
      const w = [32, 40, 48][i % 3],
        h = [32, 36, 40][(i >> 1) % 3];
      const a = colour(),
        b = colour();
      const px = Buffer.alloc(w * h * 3);
      const cx = w * (0.3 + 0.4 * rand()),
        cy = h * (0.3 + 0.4 * rand()),
        r = Math.min(w, h) * (0.15 + 0.2 * rand());
      const angle = Math.PI * rand(),
        period = 6 + 8 * rand();
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const inside =
            cls === 'discs'
              ? (x - cx) ** 2 + (y - cy) ** 2 < r * r
              : Math.floor((x * Math.cos(angle) + y * Math.sin(angle)) / (period / 2)) % 2 === 0;
          px.set(inside ? a : b, 3 * (y * w + x));
        }
      await sharp(px, { raw: { width: w, height: h, channels: 3 } })
        .png()
        .toFile(join(root, cls, `${String(i).padStart(3, '0')}.png`));
    }
  }
}

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

  /** Draws a lattice of strokes across the pad (nothing like a digit). */
  async function drawLattice(page: Page): Promise<void> {
    const box = (await page.locator('#pad').boundingBox())!;
    const line = async (x0: number, y0: number, x1: number, y1: number) => {
      await page.mouse.move(box.x + x0 * box.width, box.y + y0 * box.height);
      await page.mouse.down();
      await page.mouse.move(box.x + x1 * box.width, box.y + y1 * box.height, { steps: 4 });
      await page.mouse.up();
    };
    for (let v = 0.15; v <= 0.86; v += 0.14) {
      await line(0.15, v, 0.85, v);
      await line(v, 0.15, v, 0.85);
    }
  }

  /** Waits for the threshold fitted after training (or a change), with `count` fits so far at least. */
  const thresholdFitted = (page: Page, count: number) =>
    page.waitForFunction(`window.convaeDemo.thresholds >= ${count} && window.convaeDemo.threshold !== null`, null, {
      timeout: 20_000,
    });

  /** Clicks filter `f` of the filters canvas (grid of kernel × kernel tiles, 1 px apart, 8 a row) and waits for its projections. */
  async function clickFilter(page: Page, f: number, kernel: number): Promise<DemoState['feature']> {
    const box = (await page.locator('#filters').boundingBox())!;
    const size = (await page.evaluate(
      `[document.getElementById('filters').width, document.getElementById('filters').height]`,
    )) as number[];
    const cx = 1 + (f % 8) * (kernel + 1) + kernel / 2,
      cy = 1 + Math.floor(f / 8) * (kernel + 1) + kernel / 2;
    await page
      .locator('#filters')
      .click({ position: { x: (cx / size[0]) * box.width, y: (cy / size[1]) * box.height } });
    await page
      .waitForFunction(`window.convaeDemo.feature?.feature === ${f}`, null, { timeout: 20_000 })
      .catch(async (e) => {
        throw new Error(`${e.message}; the page says: ${await page.textContent('#feature-note')}`);
      });
    return (await demoState(page)).feature;
  }

  it('the pad: error map and anomaly score against the validation threshold; a filter click shows its projections', async () => {
    const { page, errors } = await open(`${base}?seed=1`);
    await page.fill('#workers', '2');
    await page.fill('#epochs', '2');
    const before = (await demoState(page)).thresholds;
    await page.click('#train');
    await page.waitForFunction('window.convaeDemo.phase === "training"', null, { timeout: 10_000 });
    await page.waitForFunction('window.convaeDemo.phase === "idle"', null, { timeout: 40_000, polling: 200 });
    await thresholdFitted(page, before + 1);
    const t = (await demoState(page)).threshold!;
    expect(t.n).toBe(500); // the validation digits
    expect(t.depth).toBe(1);
    expect(t.threshold).toBeGreaterThan(t.median); // flags 5 %: above the median

    await drawSeven(page);
    await page.waitForFunction('window.convaeDemo.pad.score !== null', null, { timeout: 5_000 });
    const seven = (await demoState(page)).pad;
    expect(seven.threshold).toBe(t.threshold);
    expect(seven.flagged).toBe(seven.score! > t.threshold);
    // The score is the mean squared error of the two pictures shown (up to their 8-bit rounding).
    const shownMse = await canvasMse(page, 'pad-small', 'pad-recon', 1);
    expect(Math.abs(shownMse - seven.score!)).toBeLessThan(0.002 + 0.05 * seven.score!);
    expect((await canvasPixels(page, 'pad-error')).distinct).toBeGreaterThan(5);
    expect(await page.textContent('#score')).toMatch(
      /^anomaly score \d\.\d{4} (>|≤) threshold \d\.\d{4}: (unusual|normal)/,
    );

    await page.click('#clear');
    await drawLattice(page);
    await page.waitForFunction(
      `window.convaeDemo.pad.score !== null && window.convaeDemo.pad.score !== ${seven.score}`,
      null,
      {
        timeout: 5_000,
      },
    );
    const lattice = (await demoState(page)).pad;
    console.log(
      `demo pad: threshold ${t.threshold.toFixed(4)} (validation median ${t.median.toFixed(4)}), a drawn 7 scores ${seven.score!.toFixed(4)} (${seven.flagged ? 'flagged' : 'normal'}), a lattice ${lattice.score!.toFixed(4)} (${lattice.flagged ? 'flagged' : 'normal'})`,
    );
    expect(lattice.score!).toBeGreaterThan(seven.score!);
    expect(lattice.flagged).toBe(true);
    expect(await colourPixels(page, 'pad-error')).toBeGreaterThan(20); // the heat map is in colour

    const feature = (await clickFilter(page, 3, 5))!;
    expect(feature.images).toBe(8);
    for (let i = 1; i < feature.activations.length; i++)
      expect(feature.activations[i]).toBeLessThanOrEqual(feature.activations[i - 1]);
    expect((await canvasPixels(page, 'projection')).distinct).toBeGreaterThan(20);
    expect(await page.textContent('#feature-note')).toMatch(/^feature 3 of block 0/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'demo-anomaly.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('a picked folder of colour images: decoded in workers, trained in colour, pad and filter click work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convae-demo-images-'));
    try {
      await writeShapes(join(dir, 'shapes'));
      const { page, errors } = await open(`${base}?seed=1`);
      const fitted = (await demoState(page)).thresholds;
      await page.setInputFiles('#pick-folder', join(dir, 'shapes'));
      await page.waitForFunction(
        'window.convaeDemo.data.name === "shapes" && window.convaeDemo.phase === "idle"',
        null,
        {
          timeout: 30_000,
        },
      );
      const s = await demoState(page);
      expect(s.message).toBe('loaded 160 images');
      expect(s.data.shape).toEqual([3, 32, 32]);
      expect(s.data.classes).toEqual(['discs', 'stripes']);
      expect(s.data.train).toBe(128);
      expect(s.data.note).toMatch(/decoded in workers/);
      await thresholdFitted(page, fitted + 1); // of the fresh model for the new data
      expect((await demoState(page)).threshold!.n).toBe(16);
      expect(await page.isEnabled('#train-stack')).toBe(true);

      await page.fill('#workers', '2');
      await page.fill('#epochs', '60');
      await page.click('#train');
      await page.waitForFunction('window.convaeDemo.steps >= 150 && window.convaeDemo.renders >= 5', null, {
        timeout: 40_000,
        polling: 100,
      });
      const fits = (await demoState(page)).thresholds;
      await page.click('#cancel');
      await page.waitForFunction('window.convaeDemo.phase === "idle"', null, { timeout: 10_000 });
      const after = await demoState(page);
      console.log(
        `demo on dropped colour images: loss ${after.firstLoss.toFixed(4)} → ${after.loss.toFixed(4)} after ${after.steps} steps`,
      );
      // The first batch's loss as the page kept it: read after the fact, it would depend on when the test looked.
      expect(after.loss).toBeLessThan(0.5 * after.firstLoss);
      // Colour filters (an RGB first layer) and colour reconstructions.
      expect(await colourPixels(page, 'filters')).toBeGreaterThan(100);
      expect(await colourPixels(page, 'recon')).toBeGreaterThan(1000);

      await thresholdFitted(page, fits + 1);
      await page.fill('#pen', '#20c040');
      await drawSeven(page);
      await page.waitForFunction('window.convaeDemo.pad.score !== null', null, { timeout: 5_000 });
      const pad = (await demoState(page)).pad;
      expect(pad.flagged).toBe(pad.score! > (await demoState(page)).threshold!.threshold);
      expect(Math.abs((await canvasMse(page, 'pad-small', 'pad-recon', 3)) - pad.score!)).toBeLessThan(
        0.002 + 0.05 * pad.score!,
      );
      expect(await colourPixels(page, 'pad-small')).toBeGreaterThan(20); // drawn in green

      const feature = (await clickFilter(page, 0, 5))!;
      expect(feature.images).toBe(8);
      expect(await colourPixels(page, 'projection')).toBeGreaterThan(50);
      await page.screenshot({ path: join(ARTIFACTS, 'demo-images.png'), fullPage: true });

      // Back to MNIST: grey, 28×28 again.
      await page.click('#use-mnist');
      await page.waitForFunction('window.convaeDemo.data.name === "MNIST"', null, { timeout: 5_000 });
      expect((await demoState(page)).data.shape).toEqual([1, 28, 28]);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

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
