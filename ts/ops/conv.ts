/**
 * conv2d, conv_transpose2d and their gradients (names mirror the Rust kernels:
 * `conv2d_backward_input` ↔ `conv2dBackwardInput`). Weight layouts follow
 * PyTorch: conv2d `[cOut, cIn, kh, kw]`, conv_transpose2d `[cIn, cOut, kh, kw]`,
 * so a tied decoder passes its encoder's weight tensor to convTranspose2d unchanged.
 * Input gradients are overwritten; weight and bias gradients accumulate (+=).
 */
import type { Tensor } from '../backend/memory.js';
import { ShapeError } from '../errors.js';
import { convOut, convTransposeOut, pair, type Pair } from '../shape.js';
import { distinct, expectShape, sameMemory, sizeOrThrow, status, tensorArg } from './check.js';

/** Stride and zero padding of a convolution (one number for both axes, or `[h, w]`); default stride 1, padding 0. */
export interface Conv2dOptions {
  /** Stride, one number or [sh, sw]; default 1. */
  stride?: Pair;
  /** Zero padding on each side, one number or [ph, pw]; default 0. */
  padding?: Pair;
}

/** Options of a transposed convolution: those of the convolution it transposes, plus output padding. */
export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows/columns on the bottom/right of the output (< stride), to pick among output sizes; default 0. */
  outputPadding?: Pair;
}

/** Every size of a conv2d call, computed once and passed to the kernel as plain integers. */
export interface Conv2dGeometry {
  /** Batch size. */
  n: number;
  /** Input channels. */
  cIn: number;
  /** Input height (pixels). */
  h: number;
  /** Input width (pixels). */
  w: number;
  /** Output channels. */
  cOut: number;
  /** Kernel height. */
  kh: number;
  /** Kernel width. */
  kw: number;
  /** Vertical stride. */
  sh: number;
  /** Horizontal stride. */
  sw: number;
  /** Zero padding on top and bottom (rows each side). */
  ph: number;
  /** Zero padding on left and right (columns each side). */
  pw: number;
  /** Output height. */
  oh: number;
  /** Output width. */
  ow: number;
}

/** Shapes of a conv2d from its input shape `[n,cIn,h,w]` and weight shape `[cOut,cIn,kh,kw]`. */
export function conv2dGeometry(
  op: string,
  xShape: readonly number[],
  wShape: readonly number[],
  opts: Conv2dOptions = {},
): Conv2dGeometry {
  const [n, cIn, h, w] = xShape;
  const [cOut, wcIn, kh, kw] = wShape;
  const [sh, sw] = pair(opts.stride ?? 1);
  const [ph, pw] = pair(opts.padding ?? 0);
  if (wcIn !== cIn) {
    throw new ShapeError(
      op,
      'w',
      `[cOut,${cIn},kh,kw] (its input channels must match x's ${cIn})`,
      `[${wShape.join(',')}]`,
    );
  }
  const oh = sizeOrThrow(op, 'height', convOut(h, kh, sh, ph));
  const ow = sizeOrThrow(op, 'width', convOut(w, kw, sw, pw));
  return { n, cIn, h, w, cOut, kh, kw, sh, sw, ph, pw, oh, ow };
}

const convArgs = (g: Conv2dGeometry) => [g.n, g.cIn, g.h, g.w, g.cOut, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw] as const;

function workspace(g: Conv2dGeometry, x: Tensor): number {
  const mem = x.mem;
  const len = mem.exports.conv2d_workspace_len(...convArgs(g));
  if (len < 0) status('conv2d_workspace_len', -len);
  return mem.workspace(len);
}

/** y = conv2d(x, w) + b. x [n,cIn,h,w], w [cOut,cIn,kh,kw], b [cOut] or null, y [n,cOut,oh,ow] (overwritten). */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  tensorArg(op, 'x', x, 4);
  tensorArg(op, 'w', w, 4);
  tensorArg(op, 'y', y, 4);
  const g = conv2dGeometry(op, x.shape, w.shape, opts);
  if (b) {
    tensorArg(op, 'b', b, 1);
    expectShape(op, 'b', b, [g.cOut]);
  }
  expectShape(op, 'y', y, [g.n, g.cOut, g.oh, g.ow]);
  const mem = sameMemory(op, x, w, b, y);
  distinct(op, { y }, { x, w, b });
  const ws = workspace(g, x);
  status(op, mem.exports.conv2d(...convArgs(g), x.ptr, w.ptr, b ? b.ptr : 0, y.ptr, ws));
  return y;
}

/** dx = ∂L/∂x of conv2d (overwritten). dy [n,cOut,oh,ow], w [cOut,cIn,kh,kw], dx [n,cIn,h,w]. */
export function conv2dBackwardInput(dy: Tensor, w: Tensor, dx: Tensor, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2dBackwardInput';
  tensorArg(op, 'dy', dy, 4);
  tensorArg(op, 'w', w, 4);
  tensorArg(op, 'dx', dx, 4);
  const g = conv2dGeometry(op, dx.shape, w.shape, opts);
  expectShape(op, 'dy', dy, [g.n, g.cOut, g.oh, g.ow]);
  const mem = sameMemory(op, dy, w, dx);
  distinct(op, { dx }, { dy, w });
  const ws = workspace(g, dx);
  status(op, mem.exports.conv2d_backward_input(...convArgs(g), dy.ptr, w.ptr, dx.ptr, ws));
  return dx;
}

/** dw += ∂L/∂w of conv2d. x [n,cIn,h,w], dy [n,cOut,oh,ow], dw [cOut,cIn,kh,kw]. */
export function conv2dBackwardWeight(x: Tensor, dy: Tensor, dw: Tensor, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2dBackwardWeight';
  tensorArg(op, 'x', x, 4);
  tensorArg(op, 'dy', dy, 4);
  tensorArg(op, 'dw', dw, 4);
  const g = conv2dGeometry(op, x.shape, dw.shape, opts);
  expectShape(op, 'dy', dy, [g.n, g.cOut, g.oh, g.ow]);
  const mem = sameMemory(op, x, dy, dw);
  distinct(op, { dw }, { x, dy });
  const ws = workspace(g, x);
  status(op, mem.exports.conv2d_backward_weight(...convArgs(g), x.ptr, dy.ptr, dw.ptr, ws));
  return dw;
}

/** Every size of a conv_transpose2d call. */
export interface ConvTranspose2dGeometry extends Conv2dGeometry {
  /** Output padding: extra output rows at the bottom (< vertical stride). */
  oph: number;
  /** Output padding: extra output columns on the right (< horizontal stride). */
  opw: number;
}

/** Shapes of a conv_transpose2d from its input `[n,cIn,h,w]` and weight `[cIn,cOut,kh,kw]`. */
export function convTranspose2dGeometry(
  op: string,
  xShape: readonly number[],
  wShape: readonly number[],
  opts: ConvTranspose2dOptions = {},
): ConvTranspose2dGeometry {
  const [n, cIn, h, w] = xShape;
  const [wcIn, cOut, kh, kw] = wShape;
  const [sh, sw] = pair(opts.stride ?? 1);
  const [ph, pw] = pair(opts.padding ?? 0);
  const [oph, opw] = pair(opts.outputPadding ?? 0);
  if (wcIn !== cIn)
    throw new ShapeError(
      op,
      'w',
      `[${cIn},cOut,kh,kw] (its first axis must match x's ${cIn} channels)`,
      `[${wShape.join(',')}]`,
    );
  const oh = sizeOrThrow(op, 'height', convTransposeOut(h, kh, sh, ph, oph));
  const ow = sizeOrThrow(op, 'width', convTransposeOut(w, kw, sw, pw, opw));
  return { n, cIn, h, w, cOut, kh, kw, sh, sw, ph, pw, oh, ow, oph, opw };
}

const convTArgs = (g: ConvTranspose2dGeometry) =>
  [g.n, g.cIn, g.h, g.w, g.cOut, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.oph, g.opw] as const;

function workspaceT(g: ConvTranspose2dGeometry, x: Tensor): number {
  const mem = x.mem;
  const len = mem.exports.conv_transpose2d_workspace_len(...convTArgs(g));
  if (len < 0) status('conv_transpose2d_workspace_len', -len);
  return mem.workspace(len);
}

/** y = conv_transpose2d(x, w) + b. x [n,cIn,h,w], w [cIn,cOut,kh,kw], b [cOut] or null, y [n,cOut,oh,ow]. */
export function convTranspose2d(
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  y: Tensor,
  opts: ConvTranspose2dOptions = {},
): Tensor {
  const op = 'convTranspose2d';
  tensorArg(op, 'x', x, 4);
  tensorArg(op, 'w', w, 4);
  tensorArg(op, 'y', y, 4);
  const g = convTranspose2dGeometry(op, x.shape, w.shape, opts);
  if (b) {
    tensorArg(op, 'b', b, 1);
    expectShape(op, 'b', b, [g.cOut]);
  }
  expectShape(op, 'y', y, [g.n, g.cOut, g.oh, g.ow]);
  const mem = sameMemory(op, x, w, b, y);
  distinct(op, { y }, { x, w, b });
  const ws = workspaceT(g, x);
  status(op, mem.exports.conv_transpose2d(...convTArgs(g), x.ptr, w.ptr, b ? b.ptr : 0, y.ptr, ws));
  return y;
}

/** dx = ∂L/∂x of conv_transpose2d (overwritten). dy [n,cOut,oh,ow], w [cIn,cOut,kh,kw], dx [n,cIn,h,w]. */
export function convTranspose2dBackwardInput(
  dy: Tensor,
  w: Tensor,
  dx: Tensor,
  opts: ConvTranspose2dOptions = {},
): Tensor {
  const op = 'convTranspose2dBackwardInput';
  tensorArg(op, 'dy', dy, 4);
  tensorArg(op, 'w', w, 4);
  tensorArg(op, 'dx', dx, 4);
  const g = convTranspose2dGeometry(op, dx.shape, w.shape, opts);
  expectShape(op, 'dy', dy, [g.n, g.cOut, g.oh, g.ow]);
  const mem = sameMemory(op, dy, w, dx);
  distinct(op, { dx }, { dy, w });
  const ws = workspaceT(g, dx);
  status(op, mem.exports.conv_transpose2d_backward_input(...convTArgs(g), dy.ptr, w.ptr, dx.ptr, ws));
  return dx;
}

/** dw += ∂L/∂w of conv_transpose2d. x [n,cIn,h,w], dy [n,cOut,oh,ow], dw [cIn,cOut,kh,kw]. */
export function convTranspose2dBackwardWeight(
  x: Tensor,
  dy: Tensor,
  dw: Tensor,
  opts: ConvTranspose2dOptions = {},
): Tensor {
  const op = 'convTranspose2dBackwardWeight';
  tensorArg(op, 'x', x, 4);
  tensorArg(op, 'dy', dy, 4);
  tensorArg(op, 'dw', dw, 4);
  const g = convTranspose2dGeometry(op, x.shape, dw.shape, opts);
  expectShape(op, 'dy', dy, [g.n, g.cOut, g.oh, g.ow]);
  const mem = sameMemory(op, x, dy, dw);
  distinct(op, { dw }, { x, dy });
  const ws = workspaceT(g, x);
  status(op, mem.exports.conv_transpose2d_backward_weight(...convTArgs(g), x.ptr, dy.ptr, dw.ptr, ws));
  return dw;
}

/** db[c] += Σ over batch and positions of dy[n, c, ...]. dy [n,c] (dense) or [n,c,h,w]; db [c]. */
export function biasBackward(dy: Tensor, db: Tensor): Tensor {
  const op = 'biasBackward';
  tensorArg(op, 'dy', dy, null);
  tensorArg(op, 'db', db, 1);
  if (dy.shape.length !== 2 && dy.shape.length !== 4)
    throw new ShapeError(op, 'dy', 'rank 2 [n,c] or rank 4 [n,c,h,w]', `[${dy.shape.join(',')}]`);
  const [n, c] = dy.shape;
  const p = dy.shape.length === 4 ? dy.shape[2] * dy.shape[3] : 1;
  expectShape(op, 'db', db, [c]);
  const mem = sameMemory(op, dy, db);
  distinct(op, { db }, { dy });
  status(op, mem.exports.bias_backward(n, c, p, dy.ptr, db.ptr));
  return db;
}
