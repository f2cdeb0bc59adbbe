/**
 * Loads one of the three wasm builds of the kernel crate and wires it to the
 * wasm-bindgen glue. The glue (ts/wasm/convae_wasm.js) is generated once and is
 * byte-identical for the three builds (scripts/build-wasm.sh checks it); it holds
 * a single instance per JavaScript realm, so a realm (the main thread, or one
 * worker) runs exactly one build. Workers each get their own.
 */
import { relaxedSimd, simd } from 'wasm-feature-detect';
import init, * as glue from '../wasm/convae_wasm.js';
import { BackendError } from '../errors.js';

/** A wasm build of the kernels: 'relaxed' (SIMD128 + relaxed SIMD), 'simd' (SIMD128) or 'scalar' (no SIMD). */
export type Build = 'relaxed' | 'simd' | 'scalar';
/** Every wasm build, fastest first: relaxed SIMD (fused multiply-add), SIMD128, scalar. */
export const BUILDS: readonly Build[] = ['relaxed', 'simd', 'scalar'];
const ISA_NAMES: readonly Build[] = ['scalar', 'simd', 'relaxed'];

export type Exports = typeof glue;

/** Options of `loadBackend`: which build to load and where its files are. */
export interface LoadOptions {
  /** Which build to run; `'auto'` (default) picks the best this runtime validates. */
  build?: Build | 'auto';
  /** A compiled module of the chosen build (e.g. posted to a worker), to skip fetching and compiling. */
  module?: WebAssembly.Module;
}

/** The builds this runtime can run, best first. */
export async function supportedBuilds(): Promise<Build[]> {
  const out: Build[] = [];
  if ((await simd()) && (await relaxedSimd())) out.push('relaxed');
  if (await simd()) out.push('simd');
  out.push('scalar');
  return out;
}

/** Where the .wasm file of a build sits: next to the glue, so bundlers pick it up. */
export function wasmUrl(build: Build): URL {
  switch (build) {
    case 'relaxed':
      return new URL('../wasm/convae-relaxed.wasm', import.meta.url);
    case 'simd':
      return new URL('../wasm/convae-simd.wasm', import.meta.url);
    case 'scalar':
      return new URL('../wasm/convae-scalar.wasm', import.meta.url);
  }
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

/** Compiles a build: from the file next to this module in Node, by fetch (application/wasm) elsewhere. */
export async function compileBuild(build: Build): Promise<WebAssembly.Module> {
  const url = wasmUrl(build);
  try {
    if (isNode && url.protocol === 'file:') {
      const { readFile } = await import(/* @vite-ignore */ 'node:fs/promises');
      return await WebAssembly.compile(await readFile(url));
    }
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status} for ${url.href}`);
    if (typeof WebAssembly.compileStreaming === 'function' && res.headers.get('Content-Type') === 'application/wasm') {
      return await WebAssembly.compileStreaming(res);
    }
    return await WebAssembly.compile(await res.arrayBuffer());
  } catch (e) {
    throw new BackendError(`convae: could not load the ${build} wasm build from ${url.href}: ${(e as Error).message}`);
  }
}

export interface Loaded {
  build: Build;
  exports: Exports;
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
}

let loaded: Loaded | undefined;

/**
 * Loads (once per realm) the chosen build and returns its exports. Asking for a
 * different build after one is loaded throws: the glue holds one instance per realm.
 */
export async function loadExports(opts: LoadOptions = {}): Promise<Loaded> {
  const supported = await supportedBuilds();
  let build: Build;
  if (!opts.build || opts.build === 'auto') {
    build = loaded?.build ?? supported[0];
  } else {
    build = opts.build;
    if (!BUILDS.includes(build))
      throw new BackendError(`convae: unknown build '${String(build)}'; choose one of ${BUILDS.join(', ')} or 'auto'`);
    if (!supported.includes(build)) {
      throw new BackendError(
        `convae: this runtime cannot run the ${build} build (supported: ${supported.join(', ')})` +
          (build === 'relaxed' ? '; Node 20 needs --experimental-wasm-relaxed-simd' : ''),
      );
    }
  }
  if (loaded) {
    if (loaded.build !== build) {
      throw new BackendError(
        `convae: the ${loaded.build} build is already loaded in this realm; one realm runs one build (use a worker for another)`,
      );
    }
    return loaded;
  }
  const module = opts.module ?? (await compileBuild(build));
  const raw = (await init({ module_or_path: module })) as unknown as { memory: WebAssembly.Memory };
  const isa = ISA_NAMES[glue.build_isa()];
  if (isa !== build) throw new BackendError(`convae: asked for the ${build} build but the module reports ${isa}`);
  loaded = { build, exports: glue, memory: raw.memory, module };
  return loaded;
}
