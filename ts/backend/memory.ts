/**
 * Ownership of backend memory (wasm linear memory, or the native addon's arena).
 *
 * An address is a byte offset into `memory.buffer`, on either backend. A
 * `Tensor` owns one block from `alloc`, from creation until `dispose()`.
 * Nothing else frees it. The kernels never allocate. Blocks are taken in three
 * places: creating a tensor, `workspace()` — the one scratch block per backend,
 * which an op (conv, its backward) enlarges by reallocation when it needs more
 * than the largest size asked for so far — and `scalarSlot()`, 16 bytes taken
 * once by the first loss op.
 * - wasm: taking a block may grow memory, which detaches every view over
 *   `memory.buffer`. So a call into an op may detach views too: `Tensor.data`
 *   re-creates its view whenever the buffer has changed, and callers must not
 *   keep a view across a tensor creation or an op call.
 * - native: the arena is one ArrayBuffer of fixed size (4 GiB of address
 *   space, committed as it is touched) that never moves or detaches; the addon
 *   instance owns it and frees it when its thread's environment ends. The same
 *   rule for views keeps code correct on both.
 */
import { MemoryError, ShapeError, truncate } from '../errors.js';
import { MAX_TENSOR_ELEMENTS } from '../limits.js';
import { fmt, numel } from '../shape.js';
import type { Exports } from './loader.js';

/** Element type of a tensor: 32-bit float, or 32-bit unsigned integer (pooling switches, labels). */
export type DType = 'f32' | 'u32';

export class Memory {
  private workspacePtr = 0;
  private workspaceFloats = 0;
  private liveBytes = 0;
  private liveCount = 0;

  /** @internal Made by the backend that loaded `exports`. */
  constructor(
    /** @internal The build's kernel functions (typed by declarations convae does not publish: `Exports`). */
    readonly exports: Exports,
    /** Where addresses point: a `WebAssembly.Memory`, or `{ buffer }` over the native arena. */
    readonly memory: { readonly buffer: ArrayBuffer },
    private readonly bytesInUse: () => number = () => memory.buffer.byteLength,
  ) {}

  /** Bytes of memory in use: wasm's memory size (grows, never shrinks), or the bytes of the native arena's live blocks. */
  get memoryBytes(): number {
    return this.bytesInUse();
  }

  /** Bytes and count of tensors alive (created, not disposed), workspace excluded. */
  get live(): { bytes: number; tensors: number } {
    return { bytes: this.liveBytes, tensors: this.liveCount };
  }

  alloc(bytes: number): number {
    // Both backends take a u32 (wasm32; the addon converts like wasm): anything else would wrap to a small block.
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > 4 * MAX_TENSOR_ELEMENTS)
      throw new MemoryError(`convae: cannot allocate ${bytes} bytes (at most ${4 * MAX_TENSOR_ELEMENTS} per block)`);
    const ptr = this.exports.alloc(bytes) >>> 0;
    if (ptr === 0)
      throw new MemoryError(`convae: out of memory allocating ${bytes} bytes (${this.memoryBytes} in use)`);
    this.liveBytes += bytes;
    this.liveCount++;
    return ptr;
  }

  free(ptr: number, bytes: number): void {
    this.exports.free(ptr, bytes);
    this.liveBytes -= bytes;
    this.liveCount--;
  }

  private scalarPtr = 0;

  /** Address of a 4-float block kept for the life of the backend: where kernels write a loss value. */
  scalarSlot(): number {
    if (this.scalarPtr === 0) {
      this.scalarPtr = this.exports.alloc(16) >>> 0;
      if (this.scalarPtr === 0) throw new MemoryError('convae: out of memory');
    }
    return this.scalarPtr;
  }

  /** Address of a workspace of at least `floats` f32s (0 when none is needed). Valid until the next call. */
  workspace(floats: number): number {
    if (floats <= 0) return 0;
    if (floats > this.workspaceFloats) {
      if (this.workspacePtr) this.exports.free(this.workspacePtr, this.workspaceFloats * 4);
      // Grow geometrically so a sequence of slightly larger shapes does not reallocate each time.
      const size = Math.max(floats, Math.ceil(this.workspaceFloats * 1.5));
      const ptr = this.exports.alloc(size * 4) >>> 0;
      if (ptr === 0) {
        this.workspacePtr = 0;
        this.workspaceFloats = 0;
        throw new MemoryError(`convae: out of memory allocating a ${size * 4}-byte workspace`);
      }
      this.workspacePtr = ptr;
      this.workspaceFloats = size;
    }
    return this.workspacePtr;
  }

  tensor(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return new Tensor(this, shape, dtype);
  }
}

/** Shown in errors for a shape from untrusted input: the list cut short. */
const shown = (shape: unknown): string => (Array.isArray(shape) ? truncate(fmt(shape), 200) : typeof shape);

/**
 * Throws ShapeError unless `shape` is a list of safe integers ≥ 1 whose product
 * is at most MAX_TENSOR_ELEMENTS (checked as it multiplies, so nothing overflows).
 */
export function checkTensorShape(shape: readonly number[]): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 1))
    throw new ShapeError('tensor', 'shape', 'a list of integers ≥ 1', shown(shape));
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > MAX_TENSOR_ELEMENTS)
      throw new ShapeError(
        'tensor',
        'shape',
        `at most ${MAX_TENSOR_ELEMENTS} elements (MAX_TENSOR_ELEMENTS)`,
        shown(shape),
      );
  }
}

/** An f32 (or u32) array in backend memory (wasm or the native arena) with a shape (NCHW for images). It owns its memory from creation until `dispose()`; `data` is a view that is rebuilt after memory grows. */
export class Tensor {
  /** Dimensions, outermost first (NCHW for images); frozen. */
  readonly shape: readonly number[];
  /** Number of elements (product of `shape`). */
  readonly size: number;
  private _ptr: number;
  private view: Float32Array | Uint32Array | undefined;
  /** For a view made by reshape(): the tensor that owns the memory. */
  private readonly base: Tensor | undefined;

  /** Allocates in `mem` (use `Backend.empty`/`zeros` instead); throws ShapeError for a bad shape. */
  constructor(
    /** The backend memory this tensor lives in. */
    readonly mem: Memory,
    shape: readonly number[],
    /** Element type: 'f32' (read `data`) or 'u32' (read `u32`, e.g. pooling switches). */
    readonly dtype: DType = 'f32',
    base?: Tensor,
  ) {
    checkTensorShape(shape);
    this.shape = Object.freeze([...shape]);
    this.size = numel(shape);
    this.base = base;
    this._ptr = base ? base.ptr : mem.alloc(this.size * 4);
  }

  /**
   * The same memory seen with another shape of the same size (no copy). The
   * view owns nothing: it is valid while this tensor is, and its dispose() does nothing.
   */
  reshape(shape: readonly number[]): Tensor {
    if (numel(shape) !== this.size)
      throw new ShapeError('reshape', 'shape', `${this.size} elements like ${fmt(this.shape)}`, fmt(shape));
    return new Tensor(this.mem, shape, this.dtype, this.base ?? this);
  }

  /** Address (byte offset into the backend memory); throws after dispose(). */
  get ptr(): number {
    if (this._ptr === 0 || this.base?.disposed) throw new MemoryError('convae: tensor used after dispose()');
    return this._ptr;
  }

  /** True once this tensor (or the tensor a view shares memory with) has been disposed. */
  get disposed(): boolean {
    return this._ptr === 0 || !!this.base?.disposed;
  }

  /** A live view of an f32 tensor. Re-created if memory grew; do not keep it across a tensor creation. */
  get data(): Float32Array {
    if (this.dtype !== 'f32')
      throw new ShapeError('tensor.data', 'dtype', 'f32 (use .u32 for u32 tensors)', this.dtype);
    return this.liveView() as Float32Array;
  }

  /** A live view of a u32 tensor (switches, labels). */
  get u32(): Uint32Array {
    if (this.dtype !== 'u32')
      throw new ShapeError('tensor.u32', 'dtype', 'u32 (use .data for f32 tensors)', this.dtype);
    return this.liveView() as Uint32Array;
  }

  private liveView(): Float32Array | Uint32Array {
    const buf = this.mem.memory.buffer;
    const ptr = this.ptr;
    if (!this.view || this.view.buffer !== buf) {
      this.view = this.dtype === 'f32' ? new Float32Array(buf, ptr, this.size) : new Uint32Array(buf, ptr, this.size);
    }
    return this.view;
  }

  /** Copies `values` in; its length must equal the tensor's size. */
  set(values: ArrayLike<number>): this {
    if (values.length !== this.size) {
      throw new ShapeError(
        'tensor.set',
        'values',
        `${this.size} elements for shape ${fmt(this.shape)}`,
        `${values.length}`,
      );
    }
    (this.dtype === 'f32' ? this.data : this.u32).set(values);
    return this;
  }

  /** Sets every element to `v`; returns this tensor. */
  fill(v: number): this {
    (this.dtype === 'f32' ? this.data : this.u32).fill(v);
    return this;
  }

  /** A copy of the contents, detached from backend memory. */
  toArray(): Float32Array {
    return this.data.slice();
  }

  /** Frees the memory (idempotent; does nothing for a reshape() view). */
  dispose(): void {
    if (this.base) return;
    if (this._ptr === 0) return;
    this.mem.free(this._ptr, this.size * 4);
    this._ptr = 0;
    this.view = undefined;
  }
}
