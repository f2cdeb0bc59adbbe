// Bundles the worker (ts/worker/worker.ts and everything it imports, comlink
// included) into one ES module, dist/worker.js: the same file runs in Node's
// worker_threads and in a browser's module Worker. The wasm module itself is
// not bundled: the caller posts its compiled WebAssembly.Module.
// Also the browser's image-decoding worker, dist/decode-worker.js (ts/data/decodeworker.ts).
import { build } from 'esbuild';

await build({
  entryPoints: { worker: 'ts/worker/worker.ts', 'decode-worker': 'ts/data/decodeworker.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  mainFields: ['module', 'main'],
  external: ['node:*'],
  sourcemap: true,
  legalComments: 'inline',
  logLevel: 'warning',
});
