/**
 * The loader in a real browser: headless Chromium (Debian's `chromium`, driven
 * by playwright-core) loads the compiled package (dist/, built by `npm run
 * build`) from a localhost server that serves .wasm as application/wasm, picks
 * a build by feature detection or by name, and runs kernels whose results must
 * match the f64 reference. Each build runs in its own page (one realm, one build).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as R from '../reference/conv.js';
import { BUILD } from '../util/backend.js';
import { PACKAGE_PAGE, ROOT, haveChromium, launchChromium, serveStatic, type StaticServer } from '../util/browser.js';
import { expectNear } from '../util/tensors.js';

// Only in one vitest project (the browser picks its own build).
describe.runIf(BUILD === 'simd' && haveChromium)('loader in headless Chromium', () => {
  let server: StaticServer,
    browser: Browser,
    base = '';

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/index.js')))
      throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    server = await serveStatic({ page: PACKAGE_PAGE });
    base = server.base;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const x = Array.from({ length: 2 * 3 * 7 * 6 }, (_, i) => Math.sin(i * 0.7));
  const w = Array.from({ length: 5 * 3 * 3 * 3 }, (_, i) => Math.cos(i * 1.3) * 0.5);

  async function runIn(build: string) {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/`);
    // A string, not a function: vitest would rewrite a function's dynamic import() for Node.
    const out = (await page.evaluate(`(async () => {
      const [build, x, w] = ${JSON.stringify([build, x, w])};
      const cv = await import('/dist/index.js');
      const be = await cv.loadBackend({ build });
      const xt = be.fromArray([2, 3, 7, 6], x), wt = be.fromArray([5, 3, 3, 3], w), y = be.empty([2, 5, 4, 3]);
      cv.conv2d(xt, wt, null, y, { stride: [2, 2], padding: 1 });
      const p = be.empty([2, 5, 2, 1]), s = be.empty([2, 5, 2, 1], 'u32');
      cv.maxPool2d(y, p, s);
      return { build: be.build, supported: await cv.supportedBuilds(), y: Array.from(y.data), switches: Array.from(s.u32) };
    })()`)) as { build: string; supported: string[]; y: number[]; switches: number[] };
    await page.close();
    expect(errors).toEqual([]);
    return out;
  }

  it('auto picks relaxed SIMD in current Chromium, and every build runs and agrees with the reference', async () => {
    const ref = R.conv2dRef(
      Float64Array.from(Float32Array.from(x)),
      [2, 3, 7, 6],
      Float64Array.from(Float32Array.from(w)),
      [5, 3, 3, 3],
      null,
      { sh: 2, sw: 2, ph: 1, pw: 1 },
    );
    const auto = await runIn('auto');
    expect(auto.supported).toEqual(['relaxed', 'simd', 'scalar']);
    expect(auto.build).toBe('relaxed');
    for (const build of ['relaxed', 'simd', 'scalar']) {
      const r = await runIn(build);
      expect(r.build).toBe(build);
      expectNear(`conv2d in Chromium (${build})`, r.y, ref.y, 1e-5, 1e-5);
      expect(r.switches.every((v) => v < 12)).toBe(true);
    }
  }, 60_000);
});
