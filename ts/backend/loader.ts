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
import { BackendError, quote, truncate } from '../errors.js';
import { importNode } from '../util/nodeimport.js';

/** A wasm build of the kernels: 'relaxed' (SIMD128 + relaxed SIMD), 'simd' (SIMD128) or 'scalar' (no SIMD). */
export type WasmBuild = 'relaxed' | 'simd' | 'scalar';
/** A build of the kernels: 'native' (the Node-API addon, Node only) or a wasm build. */
export type Build = 'native' | WasmBuild;
/** Every build, fastest first: native, relaxed SIMD (fused multiply-add), SIMD128, scalar. */
export const BUILDS: readonly Build[] = ['native', 'relaxed', 'simd', 'scalar'];
const WASM_ISA: readonly WasmBuild[] = ['scalar', 'simd', 'relaxed'];
/** The instruction set the kernels run on: a wasm build's, or the native addon's (chosen by CPU features: x86-64 AVX-512F or AVX2 + FMA, aarch64 NEON). */
export type Isa = WasmBuild | 'avx2' | 'avx512' | 'neon';
// convae_kernels::isa::Isa discriminants the addon's build_isa() reports (1 and 2 are the wasm SIMD builds).
const NATIVE_ISA: Readonly<Record<number, Isa>> = { 0: 'scalar', 3: 'avx2', 4: 'avx512', 5: 'neon' };

/** @internal The ISA of an addon's `build_isa()` code; undefined for a code no native build reports. */
export function nativeIsa(code: number): Isa | undefined {
  return Object.hasOwn(NATIVE_ISA, code) ? NATIVE_ISA[code] : undefined;
}

/**
 * @internal Why `auto` does not take a native addon that loaded with this ISA
 * (undefined: it takes it). x86-64 AVX-512F / AVX2 + FMA: every hot kernel
 * family has a native SIMD path, measured faster than relaxed wasm. aarch64
 * NEON: only the GEMM does yet (the element-wise, pooling and col2im kernels
 * run their scalar twins) and its speed against wasm SIMD128 — the same
 * width there — is unmeasured, so auto keeps wasm; `build: 'native'` forces it.
 */
export function nativeDeclined(isa: Isa): string | undefined {
  if (isa === 'avx512' || isa === 'avx2') return undefined;
  if (isa === 'neon') return "on aarch64 only the GEMM has NEON kernels yet; build: 'native' forces them";
  return 'no AVX2 or AVX-512 on this CPU';
}

/**
 * @internal The kernel functions, as the wasm glue declares them. Kept out of
 * the published declarations: the glue's (wasm-bindgen's) also declare its
 * instantiation helpers with DOM types, which a Node project does not have.
 */
export type Exports = typeof glue;

/**
 * A compiled wasm module (`WebAssembly.Module`). Any object here, so that
 * convae's declarations need no `WebAssembly` types: the DOM lib has them,
 * @types/node 20 does not. `WebAssembly.Module` declares no members, so both
 * directions still type-check: a module passed in, `Backend.module` passed on.
 */
export type WasmModule = object;

/** Options of `loadBackend`: which build to load and where its files are. */
export interface LoadOptions {
  /**
   * Which build to run. `'auto'` (default): in Node the native addon when it
   * loads and has its SIMD kernels on this CPU (x86-64 AVX-512F or AVX2 + FMA;
   * not yet aarch64, where only the GEMM is NEON), else the best wasm build this
   * runtime validates (with one notice line on stderr when native was expected
   * but could not be used); elsewhere the best wasm build.
   */
  build?: Build | 'auto';
  /** A compiled module (`WebAssembly.Module`) of the chosen wasm build (e.g. posted to a worker), to skip fetching and compiling. */
  module?: WasmModule;
  /** The native addon's file (e.g. posted to a worker, so it loads the same binary); default: found by the loader. */
  addon?: string;
  /**
   * Where to fetch each wasm build. Default: `wasmUrl(build)`, the file beside
   * this module, which Vite and webpack 5 copy into a bundle by themselves;
   * esbuild does not, so its users name the copies it makes (README, "With a
   * bundler"). A build left out is fetched from its default place.
   */
  wasmUrls?: Partial<Record<WasmBuild, string | URL>>;
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

/** @internal Compiles a build from `given` (default: the file next to this module), read from disk in Node, by fetch (application/wasm) elsewhere. */
export async function compileBuild(build: WasmBuild, given?: string | URL): Promise<WebAssembly.Module> {
  let url = wasmUrl(build);
  try {
    if (given !== undefined) url = new URL(given, globalThis.location?.href);
    if (isNode && url.protocol === 'file:') {
      const { readFile } = await importNode('fs/promises');
      return await WebAssembly.compile(await readFile(url));
    }
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status} for ${url.href}`);
    if (typeof WebAssembly.compileStreaming === 'function' && res.headers.get('Content-Type') === 'application/wasm') {
      return await WebAssembly.compileStreaming(res);
    }
    return await WebAssembly.compile(await res.arrayBuffer());
  } catch (e) {
    const from = truncate(given === undefined ? url.href : String(given), 200);
    // The default place is wrong when a bundler moved the code but not the .wasm files (esbuild).
    const hint =
      given === undefined && !isNode ? "; if a bundler left it out, give its URL in loadBackend's wasmUrls" : '';
    throw new BackendError(
      `convae: could not load the ${build} wasm build from ${from}: ${(e as Error).message}${hint}`,
    );
  }
}

/** @internal A loaded build: its exports, the memory its addresses point into, and what a worker needs to load the same. */
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
  /** The native addon's intra-op pool (the ops called from this realm's thread); wasm builds have none. */
  threads?: NativeThreads;
}

/** The addon's thread-count functions (crates/convae-node: `set_threads` returns a status code, 0 = done). */
export interface NativeThreads {
  get(): number;
  set(n: number): number;
  /** The largest count `set` accepts. */
  readonly max: number;
}

let loadedWasm: Loaded | undefined;

async function loadWasm(build: WasmBuild, opts: LoadOptions): Promise<Loaded> {
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
  const mod = opts.module ?? (await compileBuild(build, opts.wasmUrls?.[build]));
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
  return new URL(/* webpackIgnore: true */ rel, import.meta.url).href;
}

/** Loads the addon once per realm (`addon`: its file; default: found by ./native.ts). Never throws. */
function loadNative(addon?: string): Promise<NativeResult> {
  native ??= (async (): Promise<NativeResult> => {
    try {
      const mod = (await import(
        /* @vite-ignore */ /* webpackIgnore: true */ nativeModuleUrl()
      )) as typeof import('./native.js');
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
      const isa = nativeIsa((x.build_isa as () => number)());
      if (!isa) return { ok: false, reason: `${a.path} reports an unknown instruction set`, disabled: false };
      const bytes = x.memory_bytes as () => number;
      const threadFns = ['set_threads', 'get_threads', 'max_threads'].filter((k) => typeof x[k] !== 'function');
      if (threadFns.length) return { ok: false, reason: `${a.path} lacks ${threadFns.join(', ')}`, disabled: false };
      return {
        ok: true,
        loaded: {
          build: 'native',
          isa,
          exports: x as unknown as Exports,
          memory: { buffer: memory },
          memoryBytes: bytes,
          addon: a.path,
          threads: {
            get: x.get_threads as () => number,
            set: x.set_threads as (n: number) => number,
            max: (x.max_threads as () => number)(),
          },
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
 * @internal Loads (once per realm) the chosen build and returns its exports. Asking for
 * another wasm build after one is loaded throws: the glue holds one instance per realm.
 */
export async function loadExports(opts: LoadOptions = {}): Promise<Loaded> {
  const l = await load(opts);
  first ??= l;
  return l;
}

/** A typo in `wasmUrls` would silently fetch the default place: refuse it before anything loads. */
function checkWasmUrls(urls: unknown): void {
  if (urls === undefined) return;
  if (typeof urls !== 'object' || urls === null || Array.isArray(urls))
    throw new BackendError(`convae: wasmUrls must be an object of URLs by build, not ${quote(urls)}`);
  const wasm = BUILDS.filter((b): b is WasmBuild => b !== 'native');
  for (const [k, v] of Object.entries(urls)) {
    if (!wasm.includes(k as WasmBuild))
      throw new BackendError(`convae: wasmUrls has an unknown build ${quote(k)}; its builds are ${wasm.join(', ')}`);
    if (typeof v !== 'string' && !(v instanceof URL))
      throw new BackendError(`convae: wasmUrls.${k} must be a string or URL, not ${quote(v)}`);
  }
}

/** The first build loaded in this realm: what `auto` returns from then on. */
let first: Loaded | undefined;

async function load(opts: LoadOptions): Promise<Loaded> {
  const asked = opts.build ?? 'auto';
  if (asked !== 'auto' && !BUILDS.includes(asked))
    throw new BackendError(
      `convae: unknown build '${truncate(String(asked), 40)}'; choose one of ${BUILDS.join(', ')} or 'auto'`,
    );
  checkWasmUrls(opts.wasmUrls);
  if (asked === 'native') {
    if (!isNode) throw new BackendError('convae: the native build runs in Node only (browsers use wasm)');
    const r = await loadNative(opts.addon);
    if (!r.ok) throw new BackendError(`convae: the native build cannot load: ${truncate(r.reason, 300)}`);
    return r.loaded;
  }
  if (asked !== 'auto') return loadWasm(asked, opts);
  // auto: what this realm already runs, else native where it has a SIMD path, else the best wasm build.
  if (first) return first;
  const best = (await wasmBuilds())[0];
  if (isNode) {
    const r = await loadNative(opts.addon);
    const declined = r.ok ? nativeDeclined(r.loaded.isa) : undefined;
    if (r.ok && !declined) return r.loaded;
    if (declined) notice(declined, best);
    else if (!r.ok && !r.disabled) notice(r.reason, best);
  }
  return loadWasm(best, opts);
}
