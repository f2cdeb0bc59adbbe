/**
 * The demo page in Firefox ESR too (Debian's `firefox-esr`, driven by
 * puppeteer-core over WebDriver BiDi; playwright-core cannot drive a stock
 * Firefox): built with Vite and served by `vite preview` (cross-origin
 * isolated) as in demo.test.ts, it must load a SIMD build, train a CAE in two
 * workers until the loss is below LOSS_TARGET, draw its filters and
 * reconstructions, and cancel. Skipped without Firefox, unless CI=true
 * (scripts/runtimes.sh installs it there).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD } from '../util/backend.js';
import { ROOT as root } from '../util/browser.js';

const FIREFOX = '/usr/bin/firefox-esr';
const haveFirefox = existsSync(FIREFOX);
if (!haveFirefox && process.env.CI && process.env.CONVAE_FIREFOX !== '0')
  throw new Error(
    `CI needs ${FIREFOX} for the Firefox test (scripts/runtimes.sh installs the Debian package firefox-esr)`,
  );
const SITE = join(root, 'test-artifacts/demo-site-firefox');
const LOSS_TARGET = 0.02;

describe.runIf(BUILD === 'simd' && haveFirefox)('demo page (Vite build) in headless Firefox ESR', () => {
  let server: PreviewServer, browser: Browser;

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
      preview: { host: '127.0.0.1', port: 4189, strictPort: false },
    });
    browser = await puppeteer.launch({
      browser: 'firefox',
      protocol: 'webDriverBiDi',
      executablePath: FIREFOX,
      headless: true,
      extraPrefsFirefox: { 'network.proxy.type': 0, 'app.update.enabled': false },
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const state = (page: Page) =>
    page.evaluate(() => (window as unknown as { convaeDemo: Record<string, unknown> }).convaeDemo) as Promise<{
      phase: string;
      build: string;
      isolated: boolean;
      steps: number;
      loss: number;
      renders: number;
      message: string;
    }>;
  /** Distinct red values of a canvas (1–2: blank). */
  const distinct = (page: Page, id: string) =>
    page.evaluate((id) => {
      const c = document.getElementById(id) as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4) seen.add(d[i]);
      return seen.size;
    }, id);

  it(`trains a CAE in 2 workers (loss < ${LOSS_TARGET}), draws its pictures, cancels`, async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.setViewport({ width: 1400, height: 900 });
    await page.goto(`${server.resolvedUrls!.local[0]}?seed=1`);
    await page.waitForFunction('["idle", "failed"].includes(window.convaeDemo?.phase)', { timeout: 60_000 });
    const start = await state(page);
    expect(start.phase, start.message).toBe('idle');
    expect(start.isolated).toBe(true);
    expect(['relaxed', 'simd']).toContain(start.build);
    await page.evaluate(() => {
      for (const [id, v] of [
        ['workers', '2'],
        ['epochs', '30'],
      ]) {
        const el = document.getElementById(id) as HTMLInputElement;
        el.value = v;
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }
    });
    await page.click('#train');
    await page.waitForFunction(`window.convaeDemo.loss < ${LOSS_TARGET} && window.convaeDemo.renders >= 5`, {
      timeout: 60_000,
      polling: 100,
    });
    await page.click('#cancel');
    await page.waitForFunction('window.convaeDemo.phase === "idle"', { timeout: 20_000 });
    const end = await state(page);
    expect(end.loss).toBeLessThan(LOSS_TARGET);
    expect(await distinct(page, 'filters')).toBeGreaterThan(8);
    expect(await distinct(page, 'recon')).toBeGreaterThan(8);
    mkdirSync(join(root, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(root, 'test-artifacts/demo-firefox.png') });
    expect(errors).toEqual([]);
    console.log(`demo in Firefox ESR: ${end.build} build, loss ${end.loss.toFixed(4)} after ${end.steps} steps`);
    await page.close();
  }, 180_000);
});
