/**
 * Double-precision reference convolutions, written straight from their
 * definitions with plain nested loops (no im2col, no GEMM, no reuse of one op
 * to build another), so each can be checked by reading.
 *
 * Conventions (docs/DESIGN.md): NCHW, row-major.
 * - conv2d weight `[C_out, C_in, kh, kw]` (PyTorch Conv2d), bias `[C_out]`.
 * - conv_transpose2d weight `[C_in, C_out, kh, kw]` (PyTorch ConvTranspose2d),
 *   bias `[C_out]`.
 * Every function returns freshly allocated arrays (the wasm kernels' overwrite /
 * accumulate rule is the test's business, not the reference's).
 */

export type Shape4 = readonly [number, number, number, number];

export interface Conv2dParams {
  /** Stride along H, W (≥ 1). */
  sh: number;
  sw: number;
  /** Zero padding along H, W (≥ 0), on both sides. */
  ph: number;
  pw: number;
}

export interface ConvTranspose2dParams extends Conv2dParams {
  /** Output padding along H, W: extra rows/cols at the bottom/right (< stride). */
  oph: number;
  opw: number;
}

export interface ConvResult {
  y: Float64Array;
  outH: number;
  outW: number;
}

function fail(msg: string): never {
  throw new Error(`reference: ${msg}`);
}

function expectLen(name: string, a: ArrayLike<number>, len: number): void {
  if (a.length !== len) fail(`${name} has length ${a.length}, expected ${len}`);
}

function checkConvParams(p: Conv2dParams): void {
  for (const [k, v] of [
    ['sh', p.sh],
    ['sw', p.sw],
  ] as const)
    if (!Number.isInteger(v) || v < 1) fail(`${k} = ${v} must be an integer ≥ 1`);
  for (const [k, v] of [
    ['ph', p.ph],
    ['pw', p.pw],
  ] as const)
    if (!Number.isInteger(v) || v < 0) fail(`${k} = ${v} must be an integer ≥ 0`);
}

/** conv2d output size along one axis: floor((in + 2p − k) / s) + 1. */
export function conv2dOutSize(input: number, k: number, s: number, p: number): number {
  if (input + 2 * p < k) fail(`kernel ${k} larger than padded input ${input} + 2·${p}`);
  return Math.floor((input + 2 * p - k) / s) + 1;
}

/** conv_transpose2d output size along one axis: (in − 1)·s − 2p + k + op. */
export function convTranspose2dOutSize(input: number, k: number, s: number, p: number, op: number): number {
  if (!Number.isInteger(op) || op < 0 || op >= s) fail(`output padding ${op} must be an integer in [0, stride ${s})`);
  const out = (input - 1) * s - 2 * p + k + op;
  if (out < 1) fail(`transposed conv output size ${out} < 1`);
  return out;
}

// ---------------------------------------------------------------------------
// conv2d
// ---------------------------------------------------------------------------

/**
 * conv2d (cross-correlation, as in PyTorch):
 *   y[n,o,i,j] = b[o] + Σ_{c,ki,kj} x[n,c, i·sh − ph + ki, j·sw − pw + kj] · w[o,c,ki,kj]
 * with x = 0 outside the input.
 *
 * # Shapes
 * x `[N, C_in, H, W]`, w `[C_out, C_in, kh, kw]`, bias `[C_out]` or null,
 * y `[N, C_out, outH, outW]`, outH = floor((H + 2ph − kh)/sh) + 1 (same for W).
 */
export function conv2dRef(
  x: Float64Array,
  xShape: Shape4,
  w: Float64Array,
  wShape: Shape4,
  bias: Float64Array | null,
  p: Conv2dParams,
): ConvResult {
  const [N, C, H, W] = xShape;
  const [O, Cw, KH, KW] = wShape;
  if (Cw !== C) fail(`conv2d: weight C_in ${Cw} != input channels ${C}`);
  checkConvParams(p);
  expectLen('conv2d x', x, N * C * H * W);
  expectLen('conv2d w', w, O * C * KH * KW);
  if (bias !== null) expectLen('conv2d bias', bias, O);
  const outH = conv2dOutSize(H, KH, p.sh, p.ph);
  const outW = conv2dOutSize(W, KW, p.sw, p.pw);
  const y = new Float64Array(N * O * outH * outW);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          let s = bias === null ? 0 : bias[o];
          for (let c = 0; c < C; c++) {
            for (let ki = 0; ki < KH; ki++) {
              for (let kj = 0; kj < KW; kj++) {
                const r = i * p.sh - p.ph + ki;
                const q = j * p.sw - p.pw + kj;
                if (r < 0 || r >= H || q < 0 || q >= W) continue; // zero padding
                s += x[((n * C + c) * H + r) * W + q] * w[((o * C + c) * KH + ki) * KW + kj];
              }
            }
          }
          y[((n * O + o) * outH + i) * outW + j] = s;
        }
      }
    }
  }
  return { y, outH, outW };
}

/**
 * Gradient of conv2d with respect to its input, given dL/dy:
 * walks the forward loops and, for each product x[·]·w[·] that went into
 * y[n,o,i,j], adds dy[n,o,i,j]·w[o,c,ki,kj] to dx at the x position used.
 *
 * # Shapes
 * dy `[N, C_out, outH, outW]` (outH, outW from the conv2d formula), returns dx `[N, C_in, H, W]`.
 */
export function conv2dBackwardInputRef(
  dy: Float64Array,
  xShape: Shape4,
  w: Float64Array,
  wShape: Shape4,
  p: Conv2dParams,
): Float64Array {
  const [N, C, H, W] = xShape;
  const [O, Cw, KH, KW] = wShape;
  if (Cw !== C) fail(`conv2d backward input: weight C_in ${Cw} != input channels ${C}`);
  checkConvParams(p);
  const outH = conv2dOutSize(H, KH, p.sh, p.ph);
  const outW = conv2dOutSize(W, KW, p.sw, p.pw);
  expectLen('conv2d dy', dy, N * O * outH * outW);
  expectLen('conv2d w', w, O * C * KH * KW);
  const dx = new Float64Array(N * C * H * W);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          const g = dy[((n * O + o) * outH + i) * outW + j];
          for (let c = 0; c < C; c++) {
            for (let ki = 0; ki < KH; ki++) {
              for (let kj = 0; kj < KW; kj++) {
                const r = i * p.sh - p.ph + ki;
                const q = j * p.sw - p.pw + kj;
                if (r < 0 || r >= H || q < 0 || q >= W) continue;
                dx[((n * C + c) * H + r) * W + q] += g * w[((o * C + c) * KH + ki) * KW + kj];
              }
            }
          }
        }
      }
    }
  }
  return dx;
}

/**
 * Gradient of conv2d with respect to its weight, given dL/dy:
 *   dw[o,c,ki,kj] = Σ_{n,i,j} dy[n,o,i,j] · x[n,c, i·sh − ph + ki, j·sw − pw + kj]
 * (terms outside the input are zero).
 *
 * # Shapes
 * x `[N, C_in, H, W]`, dy `[N, C_out, outH, outW]`, returns dw `[C_out, C_in, kh, kw]`.
 */
export function conv2dBackwardWeightRef(
  x: Float64Array,
  xShape: Shape4,
  dy: Float64Array,
  wShape: Shape4,
  p: Conv2dParams,
): Float64Array {
  const [N, C, H, W] = xShape;
  const [O, Cw, KH, KW] = wShape;
  if (Cw !== C) fail(`conv2d backward weight: weight C_in ${Cw} != input channels ${C}`);
  checkConvParams(p);
  const outH = conv2dOutSize(H, KH, p.sh, p.ph);
  const outW = conv2dOutSize(W, KW, p.sw, p.pw);
  expectLen('conv2d x', x, N * C * H * W);
  expectLen('conv2d dy', dy, N * O * outH * outW);
  const dw = new Float64Array(O * C * KH * KW);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          const g = dy[((n * O + o) * outH + i) * outW + j];
          for (let c = 0; c < C; c++) {
            for (let ki = 0; ki < KH; ki++) {
              for (let kj = 0; kj < KW; kj++) {
                const r = i * p.sh - p.ph + ki;
                const q = j * p.sw - p.pw + kj;
                if (r < 0 || r >= H || q < 0 || q >= W) continue;
                dw[((o * C + c) * KH + ki) * KW + kj] += g * x[((n * C + c) * H + r) * W + q];
              }
            }
          }
        }
      }
    }
  }
  return dw;
}

/**
 * Gradient of a per-channel bias added to an `[N, C, P]` tensor (P = plane
 * size, e.g. outH·outW for conv, 1 for dense): db[c] = Σ_{n,k} dy[n,c,k].
 */
export function biasBackwardRef(dy: Float64Array, n: number, c: number, plane: number): Float64Array {
  expectLen('bias dy', dy, n * c * plane);
  const db = new Float64Array(c);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let k = 0; k < plane; k++) db[ch] += dy[(b * c + ch) * plane + k];
    }
  }
  return db;
}

// ---------------------------------------------------------------------------
// conv_transpose2d
// ---------------------------------------------------------------------------

/**
 * conv_transpose2d by its scatter definition (PyTorch ConvTranspose2d):
 *   y[n,o,·,·] = b[o], then for every n,c,i,j,o,ki,kj
 *   y[n,o, i·sh − ph + ki, j·sw − pw + kj] += x[n,c,i,j] · w[c,o,ki,kj]
 * dropping targets outside the output.
 *
 * # Shapes
 * x `[N, C_in, H, W]`, w `[C_in, C_out, kh, kw]`, bias `[C_out]` or null,
 * y `[N, C_out, outH, outW]`, outH = (H − 1)·sh − 2ph + kh + oph (same for W).
 */
export function convTranspose2dRef(
  x: Float64Array,
  xShape: Shape4,
  w: Float64Array,
  wShape: Shape4,
  bias: Float64Array | null,
  p: ConvTranspose2dParams,
): ConvResult {
  const [N, C, H, W] = xShape;
  const [Cw, O, KH, KW] = wShape;
  if (Cw !== C) fail(`conv_transpose2d: weight C_in ${Cw} != input channels ${C}`);
  checkConvParams(p);
  expectLen('conv_transpose2d x', x, N * C * H * W);
  expectLen('conv_transpose2d w', w, C * O * KH * KW);
  if (bias !== null) expectLen('conv_transpose2d bias', bias, O);
  const outH = convTranspose2dOutSize(H, KH, p.sh, p.ph, p.oph);
  const outW = convTranspose2dOutSize(W, KW, p.sw, p.pw, p.opw);
  const y = new Float64Array(N * O * outH * outW);
  if (bias !== null) {
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++) for (let k = 0; k < outH * outW; k++) y[(n * O + o) * outH * outW + k] = bias[o];
  }
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          const v = x[((n * C + c) * H + i) * W + j];
          for (let o = 0; o < O; o++) {
            for (let ki = 0; ki < KH; ki++) {
              for (let kj = 0; kj < KW; kj++) {
                const r = i * p.sh - p.ph + ki;
                const q = j * p.sw - p.pw + kj;
                if (r < 0 || r >= outH || q < 0 || q >= outW) continue; // dropped
                y[((n * O + o) * outH + r) * outW + q] += v * w[((c * O + o) * KH + ki) * KW + kj];
              }
            }
          }
        }
      }
    }
  }
  return { y, outH, outW };
}

/**
 * Gradient of conv_transpose2d with respect to its input, given dL/dy: each
 * x[n,c,i,j] was multiplied by w[c,o,ki,kj] into y at (r, q), so
 *   dx[n,c,i,j] = Σ_{o,ki,kj} dy[n,o,r,q] · w[c,o,ki,kj] over in-range (r, q).
 *
 * # Shapes
 * dy `[N, C_out, outH, outW]`, returns dx `[N, C_in, H, W]`.
 */
export function convTranspose2dBackwardInputRef(
  dy: Float64Array,
  xShape: Shape4,
  w: Float64Array,
  wShape: Shape4,
  p: ConvTranspose2dParams,
): Float64Array {
  const [N, C, H, W] = xShape;
  const [Cw, O, KH, KW] = wShape;
  if (Cw !== C) fail(`conv_transpose2d backward input: weight C_in ${Cw} != input channels ${C}`);
  checkConvParams(p);
  const outH = convTranspose2dOutSize(H, KH, p.sh, p.ph, p.oph);
  const outW = convTranspose2dOutSize(W, KW, p.sw, p.pw, p.opw);
  expectLen('conv_transpose2d dy', dy, N * O * outH * outW);
  expectLen('conv_transpose2d w', w, C * O * KH * KW);
  const dx = new Float64Array(N * C * H * W);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          let s = 0;
          for (let o = 0; o < O; o++) {
            for (let ki = 0; ki < KH; ki++) {
              for (let kj = 0; kj < KW; kj++) {
                const r = i * p.sh - p.ph + ki;
                const q = j * p.sw - p.pw + kj;
                if (r < 0 || r >= outH || q < 0 || q >= outW) continue;
                s += dy[((n * O + o) * outH + r) * outW + q] * w[((c * O + o) * KH + ki) * KW + kj];
              }
            }
          }
          dx[((n * C + c) * H + i) * W + j] = s;
        }
      }
    }
  }
  return dx;
}

/**
 * Gradient of conv_transpose2d with respect to its weight, given dL/dy:
 *   dw[c,o,ki,kj] = Σ_{n,i,j} x[n,c,i,j] · dy[n,o, i·sh − ph + ki, j·sw − pw + kj]
 * over in-range targets.
 *
 * # Shapes
 * x `[N, C_in, H, W]`, dy `[N, C_out, outH, outW]`, returns dw `[C_in, C_out, kh, kw]`.
 */
export function convTranspose2dBackwardWeightRef(
  x: Float64Array,
  xShape: Shape4,
  dy: Float64Array,
  wShape: Shape4,
  p: ConvTranspose2dParams,
): Float64Array {
  const [N, C, H, W] = xShape;
  const [Cw, O, KH, KW] = wShape;
  if (Cw !== C) fail(`conv_transpose2d backward weight: weight C_in ${Cw} != input channels ${C}`);
  checkConvParams(p);
  const outH = convTranspose2dOutSize(H, KH, p.sh, p.ph, p.oph);
  const outW = convTranspose2dOutSize(W, KW, p.sw, p.pw, p.opw);
  expectLen('conv_transpose2d x', x, N * C * H * W);
  expectLen('conv_transpose2d dy', dy, N * O * outH * outW);
  const dw = new Float64Array(C * O * KH * KW);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          const v = x[((n * C + c) * H + i) * W + j];
          for (let o = 0; o < O; o++) {
            for (let ki = 0; ki < KH; ki++) {
              for (let kj = 0; kj < KW; kj++) {
                const r = i * p.sh - p.ph + ki;
                const q = j * p.sw - p.pw + kj;
                if (r < 0 || r >= outH || q < 0 || q >= outW) continue;
                dw[((c * O + o) * KH + ki) * KW + kj] += v * dy[((n * O + o) * outH + r) * outW + q];
              }
            }
          }
        }
      }
    }
  }
  return dw;
}

// ---------------------------------------------------------------------------
// The seed's tied decoder, from its own formula
// ---------------------------------------------------------------------------

/**
 * The tied decoder of the seed (Masci et al. 2011), stride 1, no padding:
 *   y[n,ch] = c[ch] + Σ_k  h[n,k] ∗_full W̃[k,ch]
 * where W̃[k,ch][u,v] = wEnc[k,ch][kh−1−u, kw−1−v] (flipped over both spatial
 * axes) and ∗_full is the "full" 2-D cross-correlation: h zero-padded by kh−1
 * rows and kw−1 cols on every side, then a valid cross-correlation:
 *   (h ∗_full g)[a,b] = Σ_{u,v} hpad[a+u, b+v] · g[u,v],
 *   hpad[r,q] = h[r − (kh−1), q − (kw−1)] (0 outside h),
 * so the output is (H + kh − 1) × (W + kw − 1).
 *
 * Written independently of `convTranspose2dRef` (an explicit flipped copy and a
 * gather instead of a scatter) so a test can show that the two agree when the
 * encoder weight is passed to conv_transpose2d unchanged.
 *
 * # Shapes
 * h `[N, K, H, W]`, wEnc `[K, C, kh, kw]` (the encoder's conv2d weight, C_out = K),
 * c `[C]` or null, y `[N, C, H + kh − 1, W + kw − 1]`.
 */
export function fullConvFlippedRef(
  h: Float64Array,
  hShape: Shape4,
  wEnc: Float64Array,
  wShape: Shape4,
  c: Float64Array | null,
): ConvResult {
  const [N, K, H, W] = hShape;
  const [Kw, C, KH, KW] = wShape;
  if (Kw !== K) fail(`fullConvFlipped: weight K ${Kw} != feature maps ${K}`);
  expectLen('fullConvFlipped h', h, N * K * H * W);
  expectLen('fullConvFlipped wEnc', wEnc, K * C * KH * KW);
  if (c !== null) expectLen('fullConvFlipped c', c, C);

  // W̃: an explicit flipped copy, same [K, C, kh, kw] layout.
  const flipped = new Float64Array(K * C * KH * KW);
  for (let k = 0; k < K; k++) {
    for (let ch = 0; ch < C; ch++) {
      for (let u = 0; u < KH; u++) {
        for (let v = 0; v < KW; v++) {
          flipped[((k * C + ch) * KH + u) * KW + v] = wEnc[((k * C + ch) * KH + (KH - 1 - u)) * KW + (KW - 1 - v)];
        }
      }
    }
  }

  const outH = H + KH - 1;
  const outW = W + KW - 1;
  const hpad = (n: number, k: number, r: number, q: number): number => {
    const i = r - (KH - 1);
    const j = q - (KW - 1);
    return i < 0 || i >= H || j < 0 || j >= W ? 0 : h[((n * K + k) * H + i) * W + j];
  };
  const y = new Float64Array(N * C * outH * outW);
  for (let n = 0; n < N; n++) {
    for (let ch = 0; ch < C; ch++) {
      for (let a = 0; a < outH; a++) {
        for (let b = 0; b < outW; b++) {
          let s = c === null ? 0 : c[ch];
          for (let k = 0; k < K; k++) {
            for (let u = 0; u < KH; u++) {
              for (let v = 0; v < KW; v++) {
                s += hpad(n, k, a + u, b + v) * flipped[((k * C + ch) * KH + u) * KW + v];
              }
            }
          }
          y[((n * C + ch) * outH + a) * outW + b] = s;
        }
      }
    }
  }
  return { y, outH, outW };
}
