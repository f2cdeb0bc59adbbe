/**
 * The demo page, built the usual way with Vite. It imports the package by its
 * name (`convae`, resolved to this repository's dist/ through package.json's
 * exports, as an installed package would be), so `npm run build` comes first;
 * the demo scripts run it.
 *
 *   npm run demo          dev server on http://localhost:5173
 *   npm run build:demo    static site in demo-dist/ (`npm run preview:demo` serves it)
 *
 * Both servers send the cross-origin isolation headers: SharedArrayBuffer,
 * hence data-parallel training in several workers, needs them. A static host
 * must send them too (or the page trains in one worker and says so).
 */
import { fileURLToPath } from 'node:url';
import { createLogger, defineConfig } from 'vite';

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// The wasm-bindgen glue's default `new URL('convae_wasm_bg.wasm', import.meta.url)` is never used (convae's
// loader passes the module of the build it picked, dist/wasm/convae-<build>.wasm, which Vite does copy):
// drop Vite's warning that it cannot resolve it at build time.
const logger = createLogger();
for (const level of ['warn', 'warnOnce'] as const) {
  const log = logger[level];
  logger[level] = (msg, opts) => (msg.includes('convae_wasm_bg.wasm') ? undefined : log(msg, opts));
}

export default defineConfig({
  root: here('.'),
  // Relative asset URLs: the built site works from any folder of a static host.
  base: './',
  server: { headers: ISOLATION_HEADERS, fs: { allow: [here('..')] } },
  preview: { headers: ISOLATION_HEADERS },
  build: {
    outDir: here('../demo-dist'),
    emptyOutDir: true,
    target: 'es2022',
  },
  customLogger: logger,
});
