/* tslint:disable */
/* eslint-disable */

/**
 * y = act(x); may run in place (y == x). kind: 0 identity, 1 relu, 2 leaky relu (slope alpha), 3 tanh, 4 sigmoid.
 */
export function activation(kind: number, alpha: number, len: number, x: number, y: number): number;

/**
 * dx = act'(y) · dy, from the activation's output y; may run in place (dx == dy).
 */
export function activation_backward(kind: number, alpha: number, len: number, y: number, dy: number, dx: number): number;

/**
 * AdamW (decoupled weight decay, PyTorch semantics), in place on params, m and v. `step` counts from 1.
 */
export function adam_step(len: number, params: number, grads: number, m: number, v: number, lr: number, beta1: number, beta2: number, eps: number, weight_decay: number, step: number): number;

/**
 * Returns a 16-byte aligned block of `bytes` bytes, or 0 when memory cannot grow.
 */
export function alloc(bytes: number): number;

/**
 * `x = a·x + b·y` over `len` floats (no fused multiply-add: symmetric in its two terms).
 */
export function axpby(len: number, x: number, a: number, y: number, b: number): number;

/**
 * db[ch] += Σ_n Σ_q dy[n, ch, q]; dy [n, c, p]. Bias gradient of conv2d, conv_transpose2d (p = oh·ow) and dense (p = 1).
 */
export function bias_backward(n: number, c: number, p: number, dy: number, db: number): number;

/**
 * 0 = scalar, 1 = simd (SIMD128), 2 = relaxed (SIMD128 + relaxed SIMD): the best
 * instruction set compiled into this module.
 */
export function build_isa(): number;

/**
 * y = conv2d(x, w) + b. x [n,c_in,h,w], w [c_out,c_in,kh,kw], b [c_out] or 0, y [n,c_out,oh,ow] (overwritten).
 */
export function conv2d(n: number, c_in: number, h: number, w: number, c_out: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, x: number, wt: number, b: number, y: number, ws: number): number;

/**
 * dx = conv2d input gradient (overwritten). dy [n,c_out,oh,ow], w [c_out,c_in,kh,kw], dx [n,c_in,h,w].
 */
export function conv2d_backward_input(n: number, c_in: number, h: number, w: number, c_out: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, dy: number, wt: number, dx: number, ws: number): number;

/**
 * dw += conv2d weight gradient. x [n,c_in,h,w], dy [n,c_out,oh,ow], dw [c_out,c_in,kh,kw].
 */
export function conv2d_backward_weight(n: number, c_in: number, h: number, w: number, c_out: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, x: number, dy: number, dw: number, ws: number): number;

/**
 * Workspace floats needed by conv2d and its two backward ops; negative on a bad shape.
 * Depends on the GEMM tile of the build: native and wasm lengths differ.
 */
export function conv2d_workspace_len(n: number, c_in: number, h: number, w: number, c_out: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number): number;

/**
 * Output size of a convolution along one axis; negative -(16 + ShapeError) on a bad shape.
 * (Exported so the TS shape math can be checked against this one: test/shape.test.ts.)
 */
export function conv_out(input: number, k: number, s: number, p: number): number;

/**
 * y = conv_transpose2d(x, w) + b. x [n,c_in,h,w], w [c_in,c_out,kh,kw] (a tied decoder
 * passes the encoder's conv2d weight unchanged), b [c_out] or 0, y [n,c_out,oh,ow] (overwritten).
 */
export function conv_transpose2d(n: number, c_in: number, h: number, w: number, c_out: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, oph: number, opw: number, x: number, wt: number, b: number, y: number, ws: number): number;

/**
 * dx = conv_transpose2d input gradient (overwritten).
 */
export function conv_transpose2d_backward_input(n: number, c_in: number, h: number, w: number, c_out: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, oph: number, opw: number, dy: number, wt: number, dx: number, ws: number): number;

/**
 * dw += conv_transpose2d weight gradient.
 */
export function conv_transpose2d_backward_weight(n: number, c_in: number, h: number, w: number, c_out: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, oph: number, opw: number, x: number, dy: number, dw: number, ws: number): number;

/**
 * Workspace floats needed by conv_transpose2d and its two backward ops; negative on a bad shape.
 */
export function conv_transpose2d_workspace_len(n: number, c_in: number, h: number, w: number, c_out: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, oph: number, opw: number): number;

/**
 * Output size of a transposed convolution along one axis; negative on a bad shape.
 */
export function conv_transpose_out(input: number, k: number, s: number, p: number, op: number): number;

/**
 * y = x · wᵀ + b. x [n,inp], w [out,inp], b [out] or 0, y [n,out] (overwritten).
 */
export function dense(n: number, inp: number, out: number, x: number, wt: number, b: number, y: number, ws: number): number;

/**
 * dx = dy · w (overwritten). dy [n,out], w [out,inp], dx [n,inp].
 */
export function dense_backward_input(n: number, inp: number, out: number, dy: number, wt: number, dx: number, ws: number): number;

/**
 * dw += dyᵀ · x. x [n,inp], dy [n,out], dw [out,inp].
 */
export function dense_backward_weight(n: number, inp: number, out: number, x: number, dy: number, dw: number, ws: number): number;

/**
 * Workspace floats needed by dense and its two backward ops; negative on a bad shape.
 */
export function dense_workspace_len(n: number, inp: number, out: number): number;

/**
 * Frees a block from `alloc`; `bytes` must be the size it was allocated with.
 */
export function free(ptr: number, bytes: number): void;

/**
 * C[i*ldc + j] (= or +=) Σ_p A[i*rsa + p*csa] · B[p*rsb + j*csb]; C is m × n, row stride ldc.
 */
export function gemm(m: number, n: number, kk: number, a: number, rsa: number, csa: number, b: number, rsb: number, csb: number, c: number, ldc: number, accumulate: boolean, ws: number): number;

/**
 * Workspace floats needed by gemm.
 */
export function gemm_workspace_len(m: number, n: number, kk: number): number;

/**
 * y = max over each window, switches = argmax index inside the (n, c) plane.
 * x [planes,h,w], y and switches [planes,oh,ow] (overwritten).
 */
export function max_pool2d(planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, x: number, y: number, switches: number): number;

/**
 * dx = scatter-add of dy through the switches (overwritten). dy [planes,oh,ow], dx [planes,h,w].
 */
export function max_pool2d_backward(planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, dy: number, switches: number, dx: number): number;

/**
 * y = zeros of the original size, then y[switch] += x. x [planes,oh,ow], y [planes,h,w].
 * The pooling that made the switches is described by (h, w, kh, kw, sh, sw).
 */
export function max_unpool2d(planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, x: number, switches: number, y: number): number;

/**
 * dx[i] = dy[switch[i]] (gather, overwritten). dy [planes,h,w], dx [planes,oh,ow].
 */
export function max_unpool2d_backward(planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, dy: number, switches: number, dx: number): number;

/**
 * loss_out[0] = 1/(2n) Σ (target − pred)², n = len; grad (or 0) = (pred − target) / n.
 */
export function mse_loss(len: number, pred: number, target: number, grad: number, loss_out: number): number;

/**
 * Independent accumulators in the peak probes: flops per call = iters × this × 8.
 */
export function peak_accumulators(): number;

/**
 * Same with the relaxed fused multiply-add (falls back to mul + add without relaxed SIMD).
 */
export function peak_fma(iters: number): number;

/**
 * Runs `iters` rounds of f32x4 multiply + add on independent accumulators; see convae_kernels::peak.
 */
export function peak_mul_add(iters: number): number;

/**
 * Output size of a pooling along one axis; negative on a bad shape.
 */
export function pool_out(input: number, k: number, s: number): number;

/**
 * Makes every kernel run its scalar twin (for tests comparing SIMD to scalar).
 */
export function set_force_scalar(on: boolean): void;

/**
 * SGD with momentum (PyTorch semantics), in place on params and velocity.
 */
export function sgd_step(len: number, params: number, grads: number, velocity: number, lr: number, momentum: number, weight_decay: number, nesterov: boolean): number;

/**
 * loss_out[0] = mean over n of −log softmax(logits)[label]; grad (or 0) = (softmax − onehot) / n.
 * logits [n,classes], labels u32 [n].
 */
export function softmax_cross_entropy(n: number, classes: number, logits: number, labels: number, grad: number, loss_out: number): number;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly activation: (a: number, b: number, c: number, d: number, e: number) => number;
    readonly activation_backward: (a: number, b: number, c: number, d: number, e: number, f: number) => number;
    readonly adam_step: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number) => number;
    readonly alloc: (a: number) => number;
    readonly axpby: (a: number, b: number, c: number, d: number, e: number) => number;
    readonly bias_backward: (a: number, b: number, c: number, d: number, e: number) => number;
    readonly build_isa: () => number;
    readonly conv2d: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number, n: number, o: number, p: number) => number;
    readonly conv2d_backward_input: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number, n: number, o: number) => number;
    readonly conv2d_backward_weight: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number, n: number, o: number) => number;
    readonly conv2d_workspace_len: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number) => number;
    readonly conv_out: (a: number, b: number, c: number, d: number) => number;
    readonly conv_transpose2d: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number, n: number, o: number, p: number, q: number, r: number) => number;
    readonly conv_transpose2d_backward_input: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number, n: number, o: number, p: number, q: number) => number;
    readonly conv_transpose2d_backward_weight: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number, n: number, o: number, p: number, q: number) => number;
    readonly conv_transpose2d_workspace_len: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number) => number;
    readonly conv_transpose_out: (a: number, b: number, c: number, d: number, e: number) => number;
    readonly dense: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number) => number;
    readonly dense_backward_input: (a: number, b: number, c: number, d: number, e: number, f: number, g: number) => number;
    readonly dense_backward_weight: (a: number, b: number, c: number, d: number, e: number, f: number, g: number) => number;
    readonly dense_workspace_len: (a: number, b: number, c: number) => number;
    readonly free: (a: number, b: number) => void;
    readonly gemm: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number) => number;
    readonly gemm_workspace_len: (a: number, b: number, c: number) => number;
    readonly max_pool2d: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number) => number;
    readonly max_pool2d_backward: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number) => number;
    readonly max_unpool2d: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number) => number;
    readonly max_unpool2d_backward: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number) => number;
    readonly mse_loss: (a: number, b: number, c: number, d: number, e: number) => number;
    readonly peak_accumulators: () => number;
    readonly peak_fma: (a: number) => number;
    readonly peak_mul_add: (a: number) => number;
    readonly pool_out: (a: number, b: number, c: number) => number;
    readonly set_force_scalar: (a: number) => void;
    readonly sgd_step: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number) => number;
    readonly softmax_cross_entropy: (a: number, b: number, c: number, d: number, e: number, f: number) => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
