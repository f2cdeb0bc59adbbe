/**
 * max_pool2d with switches (argmax indices inside each (n, c) plane), its
 * backward (scatter-add through the switches), max_unpool2d (scatter into a
 * zeroed map of the original size) and its backward (gather).
 *
 * Tie and NaN policy (the kernel's): a window's max starts at its first element
 * and is replaced only by a strictly greater value, so the first index wins
 * ties; the first NaN in a window wins (the output is NaN) so a diverged
 * activation shows up instead of being hidden.
 */
import type { Tensor } from '../backend/memory.js';
import { pair, poolOut, poolStride, type Pair } from '../shape.js';
import { distinct, expectShape, sameMemory, sizeOrThrow, status, tensorArg } from './check.js';

/** Window size and stride of a max-pooling; default 2×2 with stride equal to the window. */
export interface Pool2dOptions {
  /** Window size, one number or [kh, kw]; default 2. */
  kernel?: Pair;
  /** Stride; default = kernel (non-overlapping). Smaller strides overlap. */
  stride?: Pair;
}

/** Input and output sizes of a pooling, as `pool2dGeometry` computes them. */
export interface Pool2dGeometry {
  /** Batch size. */
  n: number;
  /** Channels (unchanged by pooling). */
  c: number;
  /** Input height (pixels). */
  h: number;
  /** Input width (pixels). */
  w: number;
  /** Window height. */
  kh: number;
  /** Window width. */
  kw: number;
  /** Vertical stride. */
  sh: number;
  /** Horizontal stride. */
  sw: number;
  /** Output height. */
  oh: number;
  /** Output width. */
  ow: number;
}

/** Shapes of a max pooling of an input shaped `[n, c, h, w]`. */
export function pool2dGeometry(op: string, xShape: readonly number[], opts: Pool2dOptions = {}): Pool2dGeometry {
  const [n, c, h, w] = xShape;
  const [kh, kw] = pair(opts.kernel ?? 2);
  const [sh, sw] = pair(poolStride([kh, kw], opts.stride));
  const oh = sizeOrThrow(op, 'height', poolOut(h, kh, sh));
  const ow = sizeOrThrow(op, 'width', poolOut(w, kw, sw));
  return { n, c, h, w, kh, kw, sh, sw, oh, ow };
}

const poolArgs = (g: Pool2dGeometry) => [g.n * g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw] as const;

/** y = window maxima, switches = their argmax. x [n,c,h,w]; y (f32) and switches (u32) [n,c,oh,ow]. */
export function maxPool2d(x: Tensor, y: Tensor, switches: Tensor, opts: Pool2dOptions = {}): Tensor {
  const op = 'maxPool2d';
  tensorArg(op, 'x', x, 4);
  tensorArg(op, 'y', y, 4);
  tensorArg(op, 'switches', switches, 4, 'u32');
  const g = pool2dGeometry(op, x.shape, opts);
  expectShape(op, 'y', y, [g.n, g.c, g.oh, g.ow]);
  expectShape(op, 'switches', switches, [g.n, g.c, g.oh, g.ow]);
  const mem = sameMemory(op, x, y, switches);
  distinct(op, { y, switches }, { x });
  status(op, mem.exports.max_pool2d(...poolArgs(g), x.ptr, y.ptr, switches.ptr));
  return y;
}

/** dx = dy scattered (added) through the switches, zero elsewhere. dy, switches [n,c,oh,ow]; dx [n,c,h,w]. */
export function maxPool2dBackward(dy: Tensor, switches: Tensor, dx: Tensor, opts: Pool2dOptions = {}): Tensor {
  const op = 'maxPool2dBackward';
  tensorArg(op, 'dy', dy, 4);
  tensorArg(op, 'switches', switches, 4, 'u32');
  tensorArg(op, 'dx', dx, 4);
  const g = pool2dGeometry(op, dx.shape, opts);
  expectShape(op, 'dy', dy, [g.n, g.c, g.oh, g.ow]);
  expectShape(op, 'switches', switches, [g.n, g.c, g.oh, g.ow]);
  const mem = sameMemory(op, dy, switches, dx);
  distinct(op, { dx }, { dy, switches });
  status(op, mem.exports.max_pool2d_backward(...poolArgs(g), dy.ptr, switches.ptr, dx.ptr));
  return dx;
}

/**
 * y = zeros of the original size with x placed (added) at the switches. x, switches [n,c,oh,ow]; y [n,c,h,w].
 * `opts` describe the pooling that made the switches; y's shape gives the original size.
 */
export function maxUnpool2d(x: Tensor, switches: Tensor, y: Tensor, opts: Pool2dOptions = {}): Tensor {
  const op = 'maxUnpool2d';
  tensorArg(op, 'x', x, 4);
  tensorArg(op, 'switches', switches, 4, 'u32');
  tensorArg(op, 'y', y, 4);
  const g = pool2dGeometry(op, y.shape, opts);
  expectShape(op, 'x', x, [g.n, g.c, g.oh, g.ow]);
  expectShape(op, 'switches', switches, [g.n, g.c, g.oh, g.ow]);
  const mem = sameMemory(op, x, switches, y);
  distinct(op, { y }, { x, switches });
  status(op, mem.exports.max_unpool2d(...poolArgs(g), x.ptr, switches.ptr, y.ptr));
  return y;
}

/** dx = dy gathered at the switches. dy [n,c,h,w]; switches, dx [n,c,oh,ow]. */
export function maxUnpool2dBackward(dy: Tensor, switches: Tensor, dx: Tensor, opts: Pool2dOptions = {}): Tensor {
  const op = 'maxUnpool2dBackward';
  tensorArg(op, 'dy', dy, 4);
  tensorArg(op, 'switches', switches, 4, 'u32');
  tensorArg(op, 'dx', dx, 4);
  const g = pool2dGeometry(op, dy.shape, opts);
  expectShape(op, 'dx', dx, [g.n, g.c, g.oh, g.ow]);
  expectShape(op, 'switches', switches, [g.n, g.c, g.oh, g.ow]);
  const mem = sameMemory(op, dy, switches, dx);
  distinct(op, { dx }, { dy, switches });
  status(op, mem.exports.max_unpool2d_backward(...poolArgs(g), dy.ptr, switches.ptr, dx.ptr));
  return dx;
}
