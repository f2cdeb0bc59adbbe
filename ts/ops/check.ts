/** Argument checks shared by the ops: each throws a typed error naming the op and argument. */
import { ArgumentError, KernelError, NonFiniteError, ShapeError } from '../errors.js';
import type { Memory, Tensor } from '../backend/memory.js';
import { fmt } from '../shape.js';

export function tensorArg(
  op: string,
  arg: string,
  t: Tensor,
  rank: number | null,
  dtype: 'f32' | 'u32' = 'f32',
): Tensor {
  if (t === null || typeof t !== 'object' || !('shape' in t)) throw new ArgumentError(op, arg, 'must be a Tensor');
  if (t.disposed) throw new ArgumentError(op, arg, 'was disposed');
  if (t.dtype !== dtype) throw new ShapeError(op, arg, `dtype ${dtype}`, t.dtype);
  if (rank !== null && t.shape.length !== rank)
    throw new ShapeError(op, arg, `rank ${rank}`, `${fmt(t.shape)} (rank ${t.shape.length})`);
  return t;
}

export function expectShape(op: string, arg: string, t: Tensor, expected: readonly number[]): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(op, arg, fmt(expected), fmt(t.shape));
  }
}

export function sizeOrThrow(op: string, what: string, v: number | string): number {
  if (typeof v === 'string') throw new ArgumentError(op, what, v);
  return v;
}

export function intArg(op: string, arg: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new ArgumentError(op, arg, `must be an integer ≥ ${min}, got ${v}`);
  return v;
}

export function numberArg(op: string, arg: string, v: number, lo = -Infinity, hi = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    throw new ArgumentError(op, arg, `must be a finite number in [${lo}, ${hi}], got ${v}`);
  }
  return v;
}

/** All tensors of one call must live in the same wasm memory. */
export function sameMemory(op: string, ...ts: (Tensor | null | undefined)[]): Memory {
  const first = ts.find((t) => t) as Tensor;
  for (const t of ts) {
    if (t && t.mem !== first.mem) throw new ArgumentError(op, 'tensors', 'come from different backends');
  }
  return first.mem;
}

/** Outputs must not share memory with inputs (the kernels read inputs while writing outputs). */
export function distinct(op: string, outs: Record<string, Tensor | null>, ins: Record<string, Tensor | null>): void {
  for (const [on, o] of Object.entries(outs)) {
    if (!o) continue;
    for (const [iname, i] of Object.entries(ins)) {
      if (i && i.ptr === o.ptr) throw new ArgumentError(op, on, `must be a different tensor from ${iname}`);
    }
  }
}

export function status(op: string, code: number): void {
  if (code !== 0) throw new KernelError(op, code);
}

/** Throws NonFiniteError at the first NaN or ±Infinity of an f32 tensor. */
export function checkFinite(op: string, arg: string, t: Tensor): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) throw new NonFiniteError(op, arg, i, d[i]);
  }
}
