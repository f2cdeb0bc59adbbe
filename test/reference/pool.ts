/**
 * Double-precision reference max pooling with switches, and max unpooling.
 *
 * Tensors are `planes` (= N·C) row-major planes. A switch is the argmax's index
 * inside its plane of the pooled input, `row·w + col` (PyTorch's convention),
 * one per pooled output.
 *
 * Max semantics (README, crates/convae-kernels/src/pool.rs): the max starts at
 * the window's first element (no 0 or −∞ sentinel, so all-negative windows
 * work), scans the window row by row and is replaced when `v > m` (strict, so
 * the first index wins ties). NaN policy: the first NaN of the window wins (the
 * output is that NaN and the switch is its index); later elements never
 * replace a NaN.
 */

export interface PoolResult {
  y: Float64Array;
  switches: Uint32Array;
  outH: number;
  outW: number;
}

function fail(msg: string): never {
  throw new Error(`reference: ${msg}`);
}

function expectLen(name: string, a: ArrayLike<number>, len: number): void {
  if (a.length !== len) fail(`${name} has length ${a.length}, expected ${len}`);
}

function checkSwitch(s: number, h: number, w: number): void {
  if (!(s < h * w)) fail(`switch ${s} out of plane of ${h}×${w}`);
}

/** Max-pool output size along one axis (no padding): floor((in − k)/s) + 1. */
export function poolOutSize(input: number, k: number, s: number): number {
  if (!Number.isInteger(k) || k < 1 || !Number.isInteger(s) || s < 1)
    fail(`pool kernel ${k} and stride ${s} must be integers ≥ 1`);
  if (input < k) fail(`pool window ${k} larger than input ${input}`);
  return Math.floor((input - k) / s) + 1;
}

/**
 * Max pooling with switches. Window of output (oi, oj): rows oi·sh .. oi·sh+kh−1,
 * cols oj·sw .. oj·sw+kw−1.
 *
 * # Shapes
 * x `[planes, h, w]`, y and switches `[planes, outH, outW]`,
 * outH = floor((h − kh)/sh) + 1 (same for W).
 */
export function maxPool2dRef(
  x: Float64Array,
  planes: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
): PoolResult {
  expectLen('maxPool2d x', x, planes * h * w);
  const outH = poolOutSize(h, kh, sh);
  const outW = poolOutSize(w, kw, sw);
  const y = new Float64Array(planes * outH * outW);
  const switches = new Uint32Array(planes * outH * outW);
  for (let p = 0; p < planes; p++) {
    for (let oi = 0; oi < outH; oi++) {
      for (let oj = 0; oj < outW; oj++) {
        let m = 0;
        let arg = -1; // no element seen yet
        for (let ki = 0; ki < kh; ki++) {
          for (let kj = 0; kj < kw; kj++) {
            const idx = (oi * sh + ki) * w + (oj * sw + kj);
            const v = x[p * h * w + idx];
            if (arg < 0) {
              // Start at the window's first element (whatever it is, NaN included).
              m = v;
              arg = idx;
            } else if (Number.isNaN(m)) {
              // A NaN already won: it stays.
            } else if (Number.isNaN(v)) {
              // First NaN of the window.
              m = v;
              arg = idx;
            } else if (v > m) {
              m = v;
              arg = idx;
            }
          }
        }
        y[(p * outH + oi) * outW + oj] = m;
        switches[(p * outH + oi) * outW + oj] = arg;
      }
    }
  }
  return { y, switches, outH, outW };
}

/**
 * Backward of max pooling: dx = 0, then dx[plane, switch] += dy for every pooled
 * output (an input chosen by several overlapping windows gets their sum).
 *
 * # Shapes
 * dy and switches `[planes, outH, outW]`, returns dx `[planes, h, w]`.
 */
export function maxPool2dBackwardRef(
  dy: Float64Array,
  switches: Uint32Array,
  planes: number,
  h: number,
  w: number,
  outH: number,
  outW: number,
): Float64Array {
  expectLen('maxPool2dBackward dy', dy, planes * outH * outW);
  expectLen('maxPool2dBackward switches', switches, planes * outH * outW);
  const dx = new Float64Array(planes * h * w);
  for (let p = 0; p < planes; p++) {
    for (let k = 0; k < outH * outW; k++) {
      const s = switches[p * outH * outW + k];
      checkSwitch(s, h, w);
      dx[p * h * w + s] += dy[p * outH * outW + k];
    }
  }
  return dx;
}

/**
 * Max unpooling: y = 0 of the original size, then y[plane, switch] += x for
 * every pooled element (scatter-ADD, so two switches naming one position sum).
 *
 * # Shapes
 * x and switches `[planes, outH, outW]` (the pooled size), returns y `[planes, h, w]`
 * (the size before pooling).
 */
export function maxUnpool2dRef(
  x: Float64Array,
  switches: Uint32Array,
  planes: number,
  outH: number,
  outW: number,
  h: number,
  w: number,
): Float64Array {
  expectLen('maxUnpool2d x', x, planes * outH * outW);
  expectLen('maxUnpool2d switches', switches, planes * outH * outW);
  const y = new Float64Array(planes * h * w);
  for (let p = 0; p < planes; p++) {
    for (let k = 0; k < outH * outW; k++) {
      const s = switches[p * outH * outW + k];
      checkSwitch(s, h, w);
      y[p * h * w + s] += x[p * outH * outW + k];
    }
  }
  return y;
}

/**
 * Backward of max unpooling: a gather, dx[plane, k] = dy[plane, switch[plane, k]].
 *
 * # Shapes
 * dy `[planes, h, w]`, switches `[planes, outH, outW]`, returns dx `[planes, outH, outW]`.
 */
export function maxUnpool2dBackwardRef(
  dy: Float64Array,
  switches: Uint32Array,
  planes: number,
  outH: number,
  outW: number,
  h: number,
  w: number,
): Float64Array {
  expectLen('maxUnpool2dBackward dy', dy, planes * h * w);
  expectLen('maxUnpool2dBackward switches', switches, planes * outH * outW);
  const dx = new Float64Array(planes * outH * outW);
  for (let p = 0; p < planes; p++) {
    for (let k = 0; k < outH * outW; k++) {
      const s = switches[p * outH * outW + k];
      checkSwitch(s, h, w);
      dx[p * outH * outW + k] = dy[p * h * w + s];
    }
  }
  return dx;
}

/**
 * k-sparse code, the plain way: in each plane, the positions ordered by value
 * (larger first, the earlier position first among equals), the first k kept.
 *
 * # Shapes
 * x `[planes, size]`, returns y and the kept mask, both `[planes, size]`.
 */
export function kSparseRef(x: ArrayLike<number>, planes: number, size: number, k: number) {
  expectLen('kSparse x', x, planes * size);
  const y = new Float64Array(planes * size),
    kept = new Uint8Array(planes * size);
  for (let p = 0; p < planes; p++) {
    const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => x[p * size + b] - x[p * size + a] || a - b);
    for (const i of order.slice(0, k)) {
      y[p * size + i] = x[p * size + i];
      kept[p * size + i] = 1;
    }
  }
  return { y, kept };
}

/**
 * Lifetime sparsity after `kSparseRef` (Makhzani & Frey 2015): per channel, the
 * images ranked by their map's largest kept value; the first max(1, round(lifetime·n))
 * keep their map (ties to the lower image index), the others lose it.
 */
export function lifetimeRef(
  spatial: { y: Float64Array; kept: Uint8Array },
  n: number,
  c: number,
  size: number,
  lifetime: number,
) {
  const y = Float64Array.from(spatial.y),
    kept = Uint8Array.from(spatial.kept);
  const keepImages = Math.max(1, Math.round(lifetime * n));
  for (let ch = 0; ch < c; ch++) {
    const at = (b: number) => (b * c + ch) * size;
    const winner = (b: number) => {
      let best = -Infinity;
      for (let i = 0; i < size; i++) if (kept[at(b) + i]) best = Math.max(best, y[at(b) + i]);
      return best;
    };
    const order = Array.from({ length: n }, (_, b) => b).sort((a, b) => winner(b) - winner(a) || a - b);
    for (const b of order.slice(keepImages))
      for (let i = 0; i < size; i++) {
        y[at(b) + i] = 0;
        kept[at(b) + i] = 0;
      }
  }
  return { y, kept };
}
