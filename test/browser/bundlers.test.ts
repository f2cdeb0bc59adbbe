/**
 * The packed package in browser apps built by the bundlers the README names,
 * each used as its section "With a bundler" says: webpack 5 with its defaults,
 * esbuild with the worker script as an entry point and the wasm builds through
 * its file loader, Vite with `?url`, Next.js (a static export, with Turbopack
 * and with webpack) with a client component. Each build must finish without an
 * error or warning, and each app (test/fixtures/bundlers/) must load the
 * relaxed build in headless Chromium and train in two module Workers, with the
 * losses Node gets from the same package, data and seed.
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { promisify } from 'node:util';
import { build as esbuild } from 'esbuild';
import type { Browser } from 'playwright-core';
import { createLogger, build as vite } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD } from '../util/backend.js';
import { haveChromium, launchChromium, serveStatic, type StaticServer } from '../util/browser.js';
import { npm, repoRoot } from '../util/pack.js';

const FIXTURES = join(repoRoot, 'test/fixtures/bundlers');
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** The little of webpack's Node API used here. */
type Webpack = (
  config: object,
  done: (err: Error | null, stats?: { toJson(o: object): { errors?: unknown[]; warnings?: unknown[] } }) => void,
) => { close(done: () => void): void };

const requireHere = createRequire(join(repoRoot, 'package.json'));
/** Whether a dev dependency is installed: CI must have it; elsewhere its apps are skipped, with a warning. */
function installed(name: string): boolean {
  try {
    requireHere.resolve(name);
    return true;
  } catch {
    if (process.env.CI) throw new Error(`CI needs ${name} (a dev dependency) for the bundler tests`);
    console.warn(`bundlers.test: ${name} is not installed; its app is skipped`);
    return false;
  }
}
const webpack = installed('webpack') ? (requireHere('webpack') as Webpack) : undefined;
const nextCli = installed('next') ? requireHere.resolve('next/dist/bin/next') : undefined;

interface Run {
  build?: string;
  shared?: boolean;
  losses?: number[];
  /** The first codes of the trained stack. */
  codes?: number[];
  /** The trained codes' UMAP map, x0, y0, … */
  map?: number[];
  /** k-means clusters in that map. */
  clusters?: number[];
  error?: string;
}

describe.runIf(BUILD === 'simd' && haveChromium)('the packed package in bundled browser apps', () => {
  let dir = '',
    out = '',
    server: StaticServer,
    browser: Browser,
    node: Run;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'convae-bundlers-'));
    out = join(dir, 'out');
    // The tarball as a user installs it, with its dependencies taken from this repository's node_modules
    // rather than the registry: the bundlers only read them, and the test stays offline and quick.
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], repoRoot)) as { filename: string }[];
    const pkg = join(dir, 'node_modules', 'convae');
    mkdirSync(pkg, { recursive: true });
    execFileSync('tar', ['-xzf', join(dir, packed[0].filename), '-C', pkg, '--strip-components=1']);
    const deps = Object.keys(JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).dependencies);
    // The Next app's own dependencies, installed beside convae as in a user's app.
    if (nextCli) deps.push('next', 'react', 'react-dom');
    for (const d of deps) {
      mkdirSync(join(dir, 'node_modules', d, '..'), { recursive: true });
      symlinkSync(join(repoRoot, 'node_modules', d), join(dir, 'node_modules', d));
    }
    cpSync(FIXTURES, dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // Node 20 runs the relaxed build behind a flag, as the browser runs it by default; without the addon.
    node = JSON.parse(
      execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', 'node.js'], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, CONVAE_NATIVE: '0' },
      }),
    );
    server = await serveStatic({
      root: out,
      prefixes: ['/webpack/', '/esbuild/', '/esbuild-unnamed/', '/vite/', '/next/'],
      headers: () => ISOLATION,
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Opens out/<name>/index.html and waits for the app's result. */
  async function runPage(name: string): Promise<Run> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.base}/${name}/index.html`);
    await page.waitForFunction('globalThis.result', null, { timeout: 30_000 });
    const r = (await page.evaluate('globalThis.result')) as Run;
    await page.close();
    expect(errors).toEqual([]);
    return r;
  }

  /** Bytes of the .js and .wasm files a build wrote, for the log. */
  function sizes(name: string): string {
    const kb = (ext: string) =>
      readdirSync(join(out, name), { recursive: true, encoding: 'utf8' })
        .filter((f) => extname(f) === ext)
        .reduce((s, f) => s + statSync(join(out, name, f)).size / 1024, 0)
        .toFixed(0);
    return `${kb('.js')} KiB of JavaScript, ${kb('.wasm')} KiB of wasm`;
  }

  function expectTrained(r: Run): void {
    expect(r.error).toBeUndefined();
    expect(r.build).toBe('relaxed');
    expect(r.shared).toBe(true);
    expect(r.losses!.every(Number.isFinite)).toBe(true);
    expect(r.losses![2]).toBeLessThan(r.losses![0]);
    // Same wasm build, data and seed as in Node: equal to float rounding.
    r.losses!.forEach((l, i) => expect(Math.abs(l - node.losses![i])).toBeLessThanOrEqual(1e-6 * node.losses![i]));
    // The codes, the map and the clusters, in the bundle (umap-js through a dynamic import). The codes are Node's
    // (equal here, bit for bit); the layout is not compared: from the same codes and seed Chromium's umap-js gives
    // another layout than Node 20's (its arithmetic in another engine), so a map of its own, and clusters.
    r.codes!.forEach((v, i) => expect(Math.abs(v - node.codes![i]!)).toBeLessThanOrEqual(1e-5));
    expect(r.map).toHaveLength(128);
    expect(r.map!.every(Number.isFinite)).toBe(true);
    expect(r.clusters).toHaveLength(64);
    expect(new Set(r.clusters)).toEqual(new Set([0, 1, 2]));
  }

  it('Node trains the reference run', () => {
    expect(node.error).toBeUndefined();
    expect(node.build).toBe('relaxed');
    expect(node.losses![2]).toBeLessThan(node.losses![0]);
    expect(new Set(node.clusters).size).toBe(3);
  });

  it.runIf(!!webpack)(
    'webpack 5, default configuration',
    async () => {
      const t = Date.now();
      const json = await new Promise<{ errors?: unknown[]; warnings?: unknown[] }>((ok, fail) => {
        const compiler = webpack!(
          { mode: 'production', context: dir, entry: './webpack.js', output: { path: join(out, 'webpack') } },
          (err, stats) =>
            compiler.close(() =>
              err ? fail(err) : ok(stats!.toJson({ all: false, errors: true, warnings: true, errorDetails: false })),
            ),
        );
      });
      const messages = (l: unknown[] = []) => l.map((m) => (m as { message: string }).message.split('\n')[0]);
      expect(messages(json.errors)).toEqual([]);
      expect(messages(json.warnings)).toEqual([]);
      console.log(`webpack: built in ${Date.now() - t} ms, ${sizes('webpack')}`);
      writePage('webpack', '<script src="main.js"></script>');
      expectTrained(await runPage('webpack'));
    },
    60_000,
  );

  it('esbuild, the worker as an entry point and the wasm builds through the file loader', async () => {
    const t = Date.now();
    const r = await esbuild({
      absWorkingDir: dir,
      entryPoints: { app: 'esbuild.js', 'convae-worker': 'node_modules/convae/dist/worker.js' },
      bundle: true,
      format: 'esm',
      loader: { '.wasm': 'file' },
      outdir: join(out, 'esbuild'),
      logLevel: 'silent',
    });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    console.log(`esbuild: built in ${Date.now() - t} ms, ${sizes('esbuild')}`);
    writePage('esbuild', '<script type="module" src="app.js"></script>');
    expectTrained(await runPage('esbuild'));
  }, 60_000);

  it('esbuild without the files named: typed errors that name the file and the option to pass', async () => {
    await esbuild({
      absWorkingDir: dir,
      entryPoints: { app: 'esbuild-unnamed.js' },
      bundle: true,
      format: 'esm',
      loader: { '.wasm': 'file' },
      outdir: join(out, 'esbuild-unnamed'),
      logLevel: 'silent',
    });
    writePage('esbuild-unnamed', '<script type="module" src="app.js"></script>');
    const r = (await runPage('esbuild-unnamed')) as Run & { errors: string[] };
    expect(r.error).toBeUndefined();
    const [wasm, worker] = r.errors;
    expect(wasm).toMatch(/^BackendError: .*\/wasm\/convae-relaxed\.wasm: HTTP 404 .*wasmUrls/);
    expect(worker).toMatch(/^WorkerError: .*worker script http:\/\/.*\/worker\.js.*workerUrl/);
  }, 60_000);

  it('Vite, the worker script through ?url', async () => {
    const t = Date.now();
    const warnings: string[] = [];
    const logger = createLogger('warn');
    logger.warn = (msg) => warnings.push(msg);
    logger.warnOnce = (msg) => warnings.push(msg);
    writePage('.', '<script type="module" src="./vite.js"></script>', dir);
    await vite({
      root: dir,
      configFile: false,
      base: './',
      logLevel: 'warn',
      customLogger: logger,
      build: { outDir: join(out, 'vite'), emptyOutDir: true },
    });
    expect(warnings).toEqual([]);
    console.log(`vite: built in ${Date.now() - t} ms, ${sizes('vite')}`);
    expectTrained(await runPage('vite'));
  }, 60_000);

  // Turbopack is Next's default bundler, webpack its other. Each build replaces out/next/, the base path the
  // export's pages and chunks refer to.
  for (const [name, flags] of [
    ['Turbopack', []],
    ['webpack', ['--webpack']],
  ] as const)
    it.runIf(!!nextCli)(
      `Next.js (${name}), a static export whose client component names no file`,
      async () => {
        const t = Date.now();
        const app = join(dir, 'next');
        // No telemetry: no notice in the output, no request to the network.
        const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
        const r = await promisify(execFile)(process.execPath, [nextCli!, 'build', ...flags], {
          cwd: app,
          env,
          timeout: 150_000,
        });
        expect(r.stdout).toContain(`(${name})`);
        expect(r.stderr.split('\n').filter(Boolean)).toEqual([]);
        rmSync(join(out, 'next'), { recursive: true, force: true });
        mkdirSync(out, { recursive: true });
        renameSync(join(app, 'out'), join(out, 'next'));
        console.log(`next (${name}): built in ${Date.now() - t} ms, ${sizes('next')}`);
        expectTrained(await runPage('next'));
      },
      180_000,
    );

  /** An app's page: its script on an otherwise empty page, in out/<name>/ (or `root`). */
  function writePage(name: string, script: string, root = out): void {
    mkdirSync(join(root, name), { recursive: true });
    writeFileSync(join(root, name, 'index.html'), `<!doctype html><meta charset="utf-8">${script}`);
  }
});
