/**
 * What the browser tests share: a localhost server for the repository's
 * dist/ and the few node_modules a page imports (with an import map, as a
 * page without a bundler would), and headless Chromium (Debian's `chromium`,
 * driven by playwright-core). A developer without Chromium sees the tests
 * skipped; CI (CI=true) fails instead, since .ci/run installs it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI)
  throw new Error(`CI needs ${CHROMIUM} for the browser tests (.ci/run installs the Debian package chromium)`);

const MIME: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.html': 'text/html',
  '.json': 'application/json',
  '.map': 'application/json',
  '.css': 'text/css',
  '.png': 'image/png',
};

/** A page that can import the built package by path (`import('/dist/index.js')`). */
export const PACKAGE_PAGE = `<!doctype html><html><head><meta charset="utf-8">
<script type="importmap">{ "imports": {
  "wasm-feature-detect": "/node_modules/wasm-feature-detect/dist/esm/index.js",
  "comlink": "/node_modules/comlink/dist/esm/comlink.mjs",
  "image-size": "/node_modules/image-size/dist/esm/index.js",
  "munkres": "/node_modules/munkres/dist/munkres.mjs",
  "onnx-buf": "/node_modules/onnx-buf/dist/onnx_pb.js",
  "@bufbuild/protobuf": "/node_modules/@bufbuild/protobuf/dist/esm/index.js",
  "@bufbuild/protobuf/codegenv2": "/node_modules/@bufbuild/protobuf/dist/esm/codegenv2/index.js"
} }</script>
</head><body>convae test page</body></html>`;

/** What PACKAGE_PAGE imports: the built package and the dependencies its import map names. */
export const PACKAGE_PREFIXES: readonly string[] = [
  '/dist/',
  '/node_modules/wasm-feature-detect/',
  '/node_modules/comlink/',
  '/node_modules/image-size/',
  '/node_modules/munkres/',
  '/node_modules/onnx-buf/',
  '/node_modules/@bufbuild/protobuf/',
];

export interface StaticServer {
  server: Server;
  base: string;
  close(): Promise<void>;
}

/**
 * Serves `page` at / and files under `root` whose path starts with one of `prefixes`;
 * `headers(req)` adds response headers (e.g. cross-origin isolation).
 */
export async function serveStatic(opts: {
  root?: string;
  page?: string;
  prefixes?: readonly string[];
  headers?: (req: IncomingMessage) => Record<string, string>;
}): Promise<StaticServer> {
  const root = opts.root ?? ROOT;
  const prefixes = opts.prefixes ?? PACKAGE_PREFIXES;
  const server = createServer((req, res) => {
    const headers = opts.headers?.(req) ?? {};
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (opts.page !== undefined && (path === '/' || path === '/index.html')) {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(opts.page);
      return;
    }
    const file = join(root, path);
    if (!file.startsWith(root) || !prefixes.some((p) => path.startsWith(p)) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { ...headers, 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' })
      .end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
