/** The entry point to the kernels: load a build, make tensors, ask what is running. */
import { BackendError, ShapeError } from '../errors.js';
import { fmt, numel } from '../shape.js';
import { type Build, type Isa, type LoadOptions, type NativeThreads, type WasmModule, loadExports } from './loader.js';
import { Memory, type Tensor, type DType } from './memory.js';
import { checkKernelThreads } from './threads.js';

/** One loaded build (native addon or wasm): makes tensors (`empty`, `fromArray`) in its memory and runs the kernels on them. Get one with `loadBackend()`. */
export class Backend {
  /** Which build is running: 'native' (the Node-API addon), or the wasm build 'relaxed', 'simd' or 'scalar'. */
  readonly build: Build;
  /** The instruction set the kernels use: the wasm build's, or for native the CPU's ('avx512', 'avx2', 'neon' — aarch64, GEMM only so far — or 'scalar'). */
  readonly isa: Isa;
  /** The memory (wasm linear memory, or the native arena) and its allocator, which tensors live in. */
  readonly mem: Memory;
  /** The compiled wasm module (a `WebAssembly.Module`: post it to a worker to skip recompiling there); undefined for the native build. */
  readonly module: WasmModule | undefined;
  /** What a worker passes to `loadBackend` to run this same build (the compiled module, or the addon's file). */
  readonly workerOptions: Readonly<LoadOptions> & { readonly build: Build };

  private readonly pool: NativeThreads | undefined;

  private constructor(
    build: Build,
    isa: Isa,
    mem: Memory,
    module: WasmModule | undefined,
    addon?: string,
    pool?: NativeThreads,
  ) {
    this.build = build;
    this.isa = isa;
    this.mem = mem;
    this.module = module;
    this.pool = pool;
    this.workerOptions = Object.freeze(build === 'native' ? { build, addon } : { build, module });
  }

  /** @internal use loadBackend() */
  static async create(opts: LoadOptions): Promise<Backend> {
    const l = await loadExports(opts);
    let be = backends.get(l.build);
    if (!be) {
      be = new Backend(l.build, l.isa, new Memory(l.exports, l.memory, l.memoryBytes), l.module, l.addon, l.threads);
      backends.set(l.build, be);
    }
    return be;
  }

  /**
   * How many threads each kernel call may use. Native: the addon's intra-op
   * pool for the calls made from this thread (each worker has its own
   * setting; default 1). wasm builds: always 1 (parallel training there is
   * `Trainer`'s data-parallel workers).
   */
  get threads(): number {
    return this.pool ? this.pool.get() : 1;
  }

  /** The largest count `setThreads` accepts: 64 on native, 1 on wasm builds. */
  get maxThreads(): number {
    return this.pool ? this.pool.max : 1;
  }

  /**
   * Sets how many threads each kernel call made from this thread may use (see
   * `threads`). Results do not depend on it, except the convolution weight
   * gradients, which are the same for the same count and differ in rounding
   * across counts. Throws ArgumentError unless `n` is an integer in
   * [1, maxThreads]; on a wasm build, BackendError for `n > 1` (they run one
   * thread: a silent no-op would hide that nothing runs in parallel).
   */
  setThreads(n: number): void {
    this.checkThreads(n);
    const status = this.pool?.set(n) ?? 0;
    if (status !== 0) throw new BackendError(`convae: the addon refused ${n} threads (status ${status})`);
  }

  /** @internal `setThreads`'s checks alone: throws what it would throw, changes nothing. */
  checkThreads(n: number): void {
    checkKernelThreads('Backend.setThreads', this.build, n, this.maxThreads);
  }

  /** A new uninitialised tensor (contents unspecified: fill it before reading). */
  empty(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return this.mem.tensor(shape, dtype);
  }

  /** A new tensor of zeros; the caller disposes it. */
  zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return this.mem.tensor(shape, dtype).fill(0);
  }

  /**
   * A tensor holding a copy of `values` (length must equal the shape's element count). `values` may be a view
   * of this backend's own memory (another tensor's `data`): it is viewed again after the new tensor is
   * allocated, since allocating may grow wasm memory and detach it.
   */
  fromArray(shape: readonly number[], values: ArrayLike<number>, dtype: DType = 'f32'): Tensor {
    if (values.length !== numel(shape)) {
      throw new ShapeError(
        'fromArray',
        'values',
        `${numel(shape)} elements for shape ${fmt(shape)}`,
        `${values.length}`,
      );
    }
    const own = ArrayBuffer.isView(values) && values.buffer === this.mem.memory.buffer ? values : null;
    const at = own && {
      View: own.constructor as Float32ArrayConstructor,
      offset: own.byteOffset,
      length: values.length,
    };
    const t = this.mem.tensor(shape, dtype);
    return t.set(at ? new at.View(this.mem.memory.buffer, at.offset, at.length) : values);
  }

  /**
   * Bytes of memory in use. wasm: the size of linear memory (grows, never
   * shrinks). native: the bytes of the arena's live blocks (tensors, the
   * workspace, the loss slot), which fall again when they are freed.
   */
  get memoryBytes(): number {
    return this.mem.memoryBytes;
  }

  /**
   * In a SIMD build, makes every kernel run its scalar twin (true) or its SIMD
   * path (false). For testing and benchmarking; results of the simd build are
   * bit-identical either way. Native: pins the kernels called from this
   * thread to scalar, in every part of a parallel call too (`threads`).
   */
  setForceScalar(on: boolean): void {
    this.mem.exports.set_force_scalar(on);
  }

  /** Runs `iters` rounds of f32x4 multiply + add over independent accumulators (peak probe). */
  peakMulAdd(iters: number): number {
    return this.mem.exports.peak_mul_add(iters);
  }

  /** Same with relaxed-SIMD fused multiply-add (mul + add in builds without it). */
  peakFma(iters: number): number {
    return this.mem.exports.peak_fma(iters);
  }
}

// One Backend per build per realm: the native one and (at most) one wasm build.
const backends = new Map<Build, Backend>();

/**
 * Loads the kernels (once per thread) and returns the backend.
 * `build: 'auto'` (default) picks, in Node, the native addon where it loads and
 * has a SIMD path on this CPU (else one notice line, and wasm), then relaxed
 * SIMD, SIMD128, scalar wasm by what this runtime validates; name a build to
 * force it (a build that cannot run is a BackendError).
 */
export function loadBackend(opts: LoadOptions = {}): Promise<Backend> {
  return Backend.create(opts);
}
