/** The entry point to the kernels: load a build, make tensors, ask what is running. */
import { ShapeError } from '../errors.js';
import { fmt, numel } from '../shape.js';
import { loadExports, type Build, type LoadOptions } from './loader.js';
import { Memory, type Tensor, type DType } from './memory.js';

/** One loaded wasm build: makes tensors (`empty`, `fromArray`) in its memory and runs the kernels on them. Get one with `loadBackend()`. */
export class Backend {
  /** Which of the three wasm builds is running: 'relaxed', 'simd' or 'scalar'. */
  readonly build: Build;
  /** The wasm memory and its allocator, which tensors live in. */
  readonly mem: Memory;
  /** The compiled module (post it to a worker to skip recompiling there). */
  readonly module: WebAssembly.Module;

  private constructor(build: Build, mem: Memory, module: WebAssembly.Module) {
    this.build = build;
    this.mem = mem;
    this.module = module;
  }

  /** @internal use loadBackend() */
  static async create(opts: LoadOptions): Promise<Backend> {
    const l = await loadExports(opts);
    backend ??= new Backend(l.build, new Memory(l.exports, l.memory), l.module);
    return backend;
  }

  /** A new uninitialised tensor (contents unspecified: fill it before reading). */
  empty(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return this.mem.tensor(shape, dtype);
  }

  /** A new tensor of zeros; the caller disposes it. */
  zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return this.mem.tensor(shape, dtype).fill(0);
  }

  /** A tensor holding a copy of `values` (length must equal the shape's element count). */
  fromArray(shape: readonly number[], values: ArrayLike<number>, dtype: DType = 'f32'): Tensor {
    if (values.length !== numel(shape)) {
      throw new ShapeError(
        'fromArray',
        'values',
        `${numel(shape)} elements for shape ${fmt(shape)}`,
        `${values.length}`,
      );
    }
    return this.mem.tensor(shape, dtype).set(values);
  }

  /** Bytes of wasm linear memory in use by the runtime (grows, never shrinks). */
  get memoryBytes(): number {
    return this.mem.memoryBytes;
  }

  /**
   * In a SIMD build, makes every kernel run its scalar twin (true) or its SIMD
   * path (false). For testing and benchmarking; results of the simd build are
   * bit-identical either way.
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

let backend: Backend | undefined;

/**
 * Loads the kernels (once per thread) and returns the backend.
 * `build: 'auto'` (default) picks relaxed SIMD, then SIMD128, then scalar, by
 * what this runtime validates; name a build to force it.
 */
export function loadBackend(opts: LoadOptions = {}): Promise<Backend> {
  return Backend.create(opts);
}
