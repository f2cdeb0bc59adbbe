// Bundles the worker (ts/worker/worker.ts and everything it imports, comlink
// included) into one ES module, dist/worker.js: the same file runs in Node's
// worker_threads and in a browser's module Worker. The wasm module itself is
// not bundled: the caller posts its compiled WebAssembly.Module.
// Also the browser's image-decoding worker, dist/decode-worker.js (ts/data/decodeworker.ts).
//
// The Node-only native loader (ts/backend/native.ts) is not in the bundle
// either: the loader imports it by a specifier computed at run time, which
// esbuild (and Vite) leave alone. In the bundle that specifier is
// ./worker-native.js (the define below), built here beside it; a worker only
// imports it when the caller runs the native build.
import { build } from 'esbuild';

// The package leaves the maps out (package.json "files"), so a packed bundle must not point at one: a
// bundler's dev server would report the missing file on every start. `prepack` bundles again with
// --packed; working copies keep linked maps.
const packing = process.argv.includes('--packed');

const common = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  sourcemap: !packing,
  legalComments: 'inline',
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: { worker: 'ts/worker/worker.ts', 'decode-worker': 'ts/data/decodeworker.ts' },
  outdir: 'dist',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  external: ['node:*'],
  define: { __CONVAE_NATIVE_MODULE__: JSON.stringify('./worker-native.js') },
});

await build({
  ...common,
  entryPoints: ['ts/backend/native.ts'],
  outfile: 'dist/worker-native.js',
  platform: 'node',
});
