/**
 * The loader in a real browser: headless Chromium (Debian's `chromium`, driven
 * by playwright-core) loads the compiled package (dist/, built by `npm run
 * build`) from a localhost server that serves .wasm as application/wasm, picks
 * a build by feature detection or by name, and runs kernels whose results must
 * match the f64 reference. Each build runs in its own page (one realm, one build).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as R from '../reference/conv.js';
import { BUILD } from '../util/backend.js';
import { expectNear } from '../util/tensors.js';

const root = new URL('../..', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
const MIME: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };

const PAGE = `<!doctype html><html><head><meta charset="utf-8">
<script type="importmap">{ "imports": { "wasm-feature-detect": "/node_modules/wasm-feature-detect/dist/esm/index.js", "comlink": "/node_modules/comlink/dist/esm/comlink.mjs" } }</script>
</head><body>convae loader test</body></html>`;

// Only in one vitest project (the browser picks its own build), and only where Chromium is installed
// (.ci/run installs it; a developer without it sees the test skipped, CI never does).
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`CI needs ${CHROMIUM} for the browser test (.ci/run installs the Debian package chromium)`);

describe.runIf(BUILD === 'simd' && haveChromium)('loader in headless Chromium', () => {
  let server: Server, browser: Browser, base = '';

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
      if (path === '/' || path === '/index.html') {
        res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
        return;
      }
      const file = join(root, path);
      if (!file.startsWith(root) || !(path.startsWith('/dist/') || path.startsWith('/node_modules/wasm-feature-detect/') || path.startsWith('/node_modules/comlink/')) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
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
    const ref = R.conv2dRef(Float64Array.from(Float32Array.from(x)), [2, 3, 7, 6], Float64Array.from(Float32Array.from(w)), [5, 3, 3, 3], null, { sh: 2, sw: 2, ph: 1, pw: 1 });
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
