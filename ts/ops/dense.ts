/** dense (fully connected) layer and gemm. Weight `[out, in]` as PyTorch's Linear: y = x·wᵀ + b. */
import type { Tensor } from '../backend/memory.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { distinct, expectShape, sameMemory, status, tensorArg } from './check.js';

function denseGeometry(op: string, xShape: readonly number[], wShape: readonly number[]) {
  const [n, inp] = xShape;
  const [out, winp] = wShape;
  if (winp !== inp)
    throw new ShapeError(op, 'w', `[out,${inp}] (its inputs must match x's ${inp} features)`, `[${wShape.join(',')}]`);
  return { n, inp, out };
}

function workspace(x: Tensor, n: number, inp: number, out: number): number {
  const len = x.mem.exports.dense_workspace_len(n, inp, out);
  if (len < 0) status('dense_workspace_len', -len);
  return x.mem.workspace(len);
}

/** y = x · wᵀ + b. x [n,in], w [out,in], b [out] or null, y [n,out] (overwritten). */
export function dense(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor): Tensor {
  const op = 'dense';
  tensorArg(op, 'x', x, 2);
  tensorArg(op, 'w', w, 2);
  tensorArg(op, 'y', y, 2);
  const { n, inp, out } = denseGeometry(op, x.shape, w.shape);
  if (b) {
    tensorArg(op, 'b', b, 1);
    expectShape(op, 'b', b, [out]);
  }
  expectShape(op, 'y', y, [n, out]);
  const mem = sameMemory(op, x, w, b, y);
  distinct(op, { y }, { x, w, b });
  const ws = workspace(x, n, inp, out);
  status(op, mem.exports.dense(n, inp, out, x.ptr, w.ptr, b ? b.ptr : 0, y.ptr, ws));
  return y;
}

/** dx = dy · w (overwritten). dy [n,out], w [out,in], dx [n,in]. */
export function denseBackwardInput(dy: Tensor, w: Tensor, dx: Tensor): Tensor {
  const op = 'denseBackwardInput';
  tensorArg(op, 'dy', dy, 2);
  tensorArg(op, 'w', w, 2);
  tensorArg(op, 'dx', dx, 2);
  const { n, inp, out } = denseGeometry(op, dx.shape, w.shape);
  expectShape(op, 'dy', dy, [n, out]);
  const mem = sameMemory(op, dy, w, dx);
  distinct(op, { dx }, { dy, w });
  const ws = workspace(dx, n, inp, out);
  status(op, mem.exports.dense_backward_input(n, inp, out, dy.ptr, w.ptr, dx.ptr, ws));
  return dx;
}

/** dw += dyᵀ · x. x [n,in], dy [n,out], dw [out,in]. */
export function denseBackwardWeight(x: Tensor, dy: Tensor, dw: Tensor): Tensor {
  const op = 'denseBackwardWeight';
  tensorArg(op, 'x', x, 2);
  tensorArg(op, 'dy', dy, 2);
  tensorArg(op, 'dw', dw, 2);
  const { n, inp, out } = denseGeometry(op, x.shape, dw.shape);
  expectShape(op, 'dy', dy, [n, out]);
  const mem = sameMemory(op, x, dy, dw);
  distinct(op, { dw }, { x, dy });
  const ws = workspace(x, n, inp, out);
  status(op, mem.exports.dense_backward_weight(n, inp, out, x.ptr, dy.ptr, dw.ptr, ws));
  return dw;
}

/** Transposes, scaling and accumulation of `gemm` (C = alpha·op(A)·op(B) + beta·C). */
export interface GemmOptions {
  /** Use aᵀ: a is [k, m] instead of [m, k]. */
  transA?: boolean;
  /** Use bᵀ: b is [n, k] instead of [k, n]. */
  transB?: boolean;
  /** c += a·b instead of c = a·b. */
  accumulate?: boolean;
}

/** c = op(a) · op(b) (or +=). c [m,n]. */
export function gemm(a: Tensor, b: Tensor, c: Tensor, opts: GemmOptions = {}): Tensor {
  const op = 'gemm';
  tensorArg(op, 'a', a, 2);
  tensorArg(op, 'b', b, 2);
  tensorArg(op, 'c', c, 2);
  const [m, k] = opts.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = opts.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (kb !== k)
    throw new ShapeError(
      op,
      'b',
      `${opts.transB ? `[n,${k}]` : `[${k},n]`} to match a's inner size ${k}`,
      `[${b.shape.join(',')}]`,
    );
  expectShape(op, 'c', c, [m, n]);
  const mem = sameMemory(op, a, b, c);
  distinct(op, { c }, { a, b });
  if (opts.accumulate !== undefined && typeof opts.accumulate !== 'boolean')
    throw new ArgumentError(op, 'accumulate', 'must be a boolean');
  const [rsa, csa] = opts.transA ? [1, m] : [k, 1];
  const [rsb, csb] = opts.transB ? [1, k] : [n, 1];
  const ws = mem.workspace(mem.exports.gemm_workspace_len(m, n, k));
  status(op, mem.exports.gemm(m, n, k, a.ptr, rsa, csa, b.ptr, rsb, csb, c.ptr, n, !!opts.accumulate, ws));
  return c;
}
