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
import { defineConfig } from 'vite';

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

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
});
