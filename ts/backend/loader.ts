/**
 * Loads the kernels: the native addon (Node only) or one of the three wasm
 * builds, behind one contract (`Exports`: the same functions, names, argument
 * checks and status codes; `memory.buffer`: where addresses point).
 *
 * - wasm: the wasm-bindgen glue (ts/wasm/convae_wasm.js) is byte-identical for
 *   the three builds (scripts/build-wasm.sh checks it) and holds a single
 *   instance per JavaScript realm, so a realm runs at most one wasm build.
 * - native: the addon (crates/convae-node) is context-aware: each realm (the
 *   main thread, each worker) that loads it gets its own instance and arena.
 *   It is found and loaded by the Node-only module ./native.ts, reached by a
 *   dynamic import whose specifier is computed here at run time, so bundlers
 *   leave it alone and browsers never fetch it.
 * A realm may hold the native backend and one wasm build at the same time.
 */
import { relaxedSimd, simd } from 'wasm-feature-detect';
import init, * as glue from '../wasm/convae_wasm.js';
import { BackendError, truncate } from '../errors.js';

/** A wasm build of the kernels: 'relaxed' (SIMD128 + relaxed SIMD), 'simd' (SIMD128) or 'scalar' (no SIMD). */
export type WasmBuild = 'relaxed' | 'simd' | 'scalar';
/** A build of the kernels: 'native' (the Node-API addon, Node only) or a wasm build. */
export type Build = 'native' | WasmBuild;
/** Every build, fastest first: native, relaxed SIMD (fused multiply-add), SIMD128, scalar. */
export const BUILDS: readonly Build[] = ['native', 'relaxed', 'simd', 'scalar'];
const WASM_ISA: readonly WasmBuild[] = ['scalar', 'simd', 'relaxed'];
/** The instruction set the kernels run on: a wasm build's, or the native addon's (chosen by CPU features). */
export type Isa = WasmBuild | 'avx2' | 'avx512';
// convae_kernels::isa::Isa discriminants the addon's build_isa() reports.
const NATIVE_ISA: Readonly<Record<number, Isa>> = { 0: 'scalar', 3: 'avx2', 4: 'avx512' };

export type Exports = typeof glue;

/** Options of `loadBackend`: which build to load and where its files are. */
export interface LoadOptions {
  /**
   * Which build to run. `'auto'` (default): in Node the native addon when it
   * loads and has a SIMD path on this CPU, else the best wasm build this
   * runtime validates (with one notice line on stderr when native was expected
   * but could not be used); elsewhere the best wasm build.
   */
  build?: Build | 'auto';
  /** A compiled module of the chosen wasm build (e.g. posted to a worker), to skip fetching and compiling. */
  module?: WebAssembly.Module;
  /** The native addon's file (e.g. posted to a worker, so it loads the same binary); default: found by the loader. */
  addon?: string;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

/** The wasm builds this runtime can run, best first. */
async function wasmBuilds(): Promise<WasmBuild[]> {
  const out: WasmBuild[] = [];
  if ((await simd()) && (await relaxedSimd())) out.push('relaxed');
  if (await simd()) out.push('simd');
  out.push('scalar');
  return out;
}

/** The builds this runtime can run, best first: 'native' where the addon loads (Node), then the wasm builds it validates. */
export async function supportedBuilds(): Promise<Build[]> {
  const wasm = await wasmBuilds();
  if (!isNode) return wasm;
  return (await loadNative()).ok ? ['native', ...wasm] : wasm;
}

/** Where the .wasm file of a build sits: next to the glue, so bundlers pick it up. */
export function wasmUrl(build: WasmBuild): URL {
  switch (build) {
    case 'relaxed':
      return new URL('../wasm/convae-relaxed.wasm', import.meta.url);
    case 'simd':
      return new URL('../wasm/convae-simd.wasm', import.meta.url);
    case 'scalar':
      return new URL('../wasm/convae-scalar.wasm', import.meta.url);
  }
}

/** Compiles a build: from the file next to this module in Node, by fetch (application/wasm) elsewhere. */
export async function compileBuild(build: WasmBuild): Promise<WebAssembly.Module> {
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

/** A loaded build: its exports, the memory its addresses point into, and what a worker needs to load the same. */
export interface Loaded {
  build: Build;
  isa: Isa;
  exports: Exports;
  memory: { readonly buffer: ArrayBuffer };
  /** Bytes of memory in use (wasm: the memory's size; native: the bytes of the arena's live blocks). */
  memoryBytes: () => number;
  /** The compiled wasm module (wasm builds). */
  module?: WebAssembly.Module;
  /** The addon's file (native). */
  addon?: string;
}

let loadedWasm: Loaded | undefined;

async function loadWasm(build: WasmBuild, module?: WebAssembly.Module): Promise<Loaded> {
  const supported = await wasmBuilds();
  if (!supported.includes(build)) {
    throw new BackendError(
      `convae: this runtime cannot run the ${build} build (supported: ${supported.join(', ')})` +
        (build === 'relaxed' ? '; Node 20 needs --experimental-wasm-relaxed-simd' : ''),
    );
  }
  if (loadedWasm) {
    if (loadedWasm.build !== build) {
      throw new BackendError(
        `convae: the ${loadedWasm.build} build is already loaded in this realm; one realm runs one wasm build (use a worker for another)`,
      );
    }
    return loadedWasm;
  }
  const mod = module ?? (await compileBuild(build));
  const raw = (await init({ module_or_path: mod })) as unknown as { memory: WebAssembly.Memory };
  const isa = WASM_ISA[glue.build_isa()];
  if (isa !== build) throw new BackendError(`convae: asked for the ${build} build but the module reports ${isa}`);
  loadedWasm = {
    build,
    isa,
    exports: glue,
    memory: raw.memory,
    memoryBytes: () => raw.memory.buffer.byteLength,
    module: mod,
  };
  return loadedWasm;
}

/** The functions every build exports: the wasm glue's, minus its instantiation helpers. */
export function exportNames(): string[] {
  return Object.keys(glue)
    .filter((k) => k !== 'default' && k !== 'initSync' && typeof (glue as Record<string, unknown>)[k] === 'function')
    .sort();
}

type NativeResult = { ok: true; loaded: Loaded } | { ok: false; reason: string; disabled: boolean };
let native: Promise<NativeResult> | undefined;

// The Node-only module, by a specifier bundlers cannot follow. In the worker
// bundle (scripts/bundle-worker.mjs) it is dist/worker-native.js beside it.
declare const __CONVAE_NATIVE_MODULE__: string | undefined;
function nativeModuleUrl(): string {
  const rel =
    typeof __CONVAE_NATIVE_MODULE__ === 'string'
      ? __CONVAE_NATIVE_MODULE__
      : import.meta.url.endsWith('.ts')
        ? './native.ts'
        : './native.js';
  return new URL(rel, import.meta.url).href;
}

/** Loads the addon once per realm (`addon`: its file; default: found by ./native.ts). Never throws. */
function loadNative(addon?: string): Promise<NativeResult> {
  native ??= (async (): Promise<NativeResult> => {
    try {
      const mod = (await import(/* @vite-ignore */ nativeModuleUrl())) as typeof import('./native.js');
      let a: import('./native.js').NativeAddon;
      try {
        a = mod.loadAddon(addon);
      } catch (e) {
        return { ok: false, reason: (e as Error).message, disabled: e instanceof mod.NativeDisabled };
      }
      const x = a.exports;
      const missing = exportNames().filter((k) => typeof x[k] !== 'function');
      if (missing.length) return { ok: false, reason: `${a.path} lacks ${missing.join(', ')}`, disabled: false };
      const memory = x.memory;
      if (!(memory instanceof ArrayBuffer) || typeof x.memory_bytes !== 'function')
        return { ok: false, reason: `${a.path} exports no arena`, disabled: false };
      const isa = NATIVE_ISA[(x.build_isa as () => number)()];
      if (!isa) return { ok: false, reason: `${a.path} reports an unknown instruction set`, disabled: false };
      const bytes = x.memory_bytes as () => number;
      return {
        ok: true,
        loaded: {
          build: 'native',
          isa,
          exports: x as unknown as Exports,
          memory: { buffer: memory },
          memoryBytes: bytes,
          addon: a.path,
        },
      };
    } catch (e) {
      return { ok: false, reason: (e as Error).message, disabled: false };
    }
  })();
  return native;
}

let warned = false;
/** The one notice line of a fallback from native to wasm (once per realm). */
function notice(reason: string, to: WasmBuild): void {
  if (warned) return;
  warned = true;
  console.warn(`convae: native kernels unavailable (${truncate(reason, 200)}); using the ${to} wasm build`);
}

/**
 * Loads (once per realm) the chosen build and returns its exports. Asking for
 * another wasm build after one is loaded throws: the glue holds one instance per realm.
 */
export async function loadExports(opts: LoadOptions = {}): Promise<Loaded> {
  const l = await load(opts);
  first ??= l;
  return l;
}

/** The first build loaded in this realm: what `auto` returns from then on. */
let first: Loaded | undefined;

async function load(opts: LoadOptions): Promise<Loaded> {
  const asked = opts.build ?? 'auto';
  if (asked !== 'auto' && !BUILDS.includes(asked))
    throw new BackendError(
      `convae: unknown build '${truncate(String(asked), 40)}'; choose one of ${BUILDS.join(', ')} or 'auto'`,
    );
  if (asked === 'native') {
    if (!isNode) throw new BackendError('convae: the native build runs in Node only (browsers use wasm)');
    const r = await loadNative(opts.addon);
    if (!r.ok) throw new BackendError(`convae: the native build cannot load: ${truncate(r.reason, 300)}`);
    return r.loaded;
  }
  if (asked !== 'auto') return loadWasm(asked, opts.module);
  // auto: what this realm already runs, else native where it has a SIMD path, else the best wasm build.
  if (first) return first;
  const best = (await wasmBuilds())[0];
  if (isNode) {
    const r = await loadNative(opts.addon);
    if (r.ok && r.loaded.isa !== 'scalar') return r.loaded;
    if (r.ok) notice('no AVX2 or AVX-512 on this CPU', best);
    else if (!r.disabled) notice(r.reason, best);
  }
  return loadWasm(best, opts.module);
}
