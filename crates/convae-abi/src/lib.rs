//! convae-abi: the call layer both export layers share — `convae-wasm` (wasm
//! linear memory) and `convae-node` (the Node-API addon's arena) — so their
//! names, argument order, argument checks and status codes cannot drift.
//!
//! # Call protocol (what the TypeScript binding does, in order)
//! 1. `alloc(bytes)` (written by each layer) returns a 16-byte aligned
//!    **address**: a byte offset into the layer's memory (wasm linear memory,
//!    or the addon's arena), or 0 when memory is exhausted; 0 is never a real
//!    block. The caller owns the block until it passes it to
//!    `free(ptr, bytes)` with the same size.
//! 2. The caller writes inputs through a view of that memory, allocates outputs,
//!    switches and the workspace (`*_workspace_len` floats) beforehand: kernels
//!    never allocate.
//! 3. Every op returns a status code ([`status::OK`] = 0). Each op checks its
//!    shape, that every buffer lies inside memory and is aligned, that outputs
//!    do not overlap inputs (unless the op is documented as in-place), and data
//!    whose bad value would index out of bounds (switches, labels). Nothing
//!    panics across the boundary.
//! 4. The caller reads outputs and frees what it allocated.
//!
//! Losses write their value to a 1-element f32 buffer (`loss_out`). An optional
//! buffer (bias, gradient) is passed as address 0 when absent.
//!
//! # One list of exports
//! [`memory_ops!`] and [`pure_ops!`] list every shared export once: name,
//! parameters in call order with their types, result. Each layer expands the
//! lists into its own wrappers (`#[wasm_bindgen]` functions, Node-API
//! functions), and this crate expands them into one `Args` struct per op
//! (`gemm::Args`), which the wrappers build by field name and the op bodies
//! in `ops.rs` read by field name: reordering parameters in the list changes
//! both layers at once, and a body cannot read an argument by position.
//! Per-layer exports (not in the lists): `alloc`, `free`, `build_isa`,
//! `set_force_scalar`.

mod check;
mod ops;

pub use check::Memory;
pub use ops::*;

pub mod status {
    pub const OK: u32 = 0;
    /// A buffer lies (partly) outside memory, or is null where required.
    pub const OUT_OF_BOUNDS: u32 = 2;
    /// A buffer's address is not a multiple of 4.
    pub const MISALIGNED: u32 = 3;
    /// An output overlaps an input it may not overlap.
    pub const OVERLAP: u32 = 4;
    /// A max-pool switch points outside its plane.
    pub const BAD_SWITCH: u32 = 5;
    /// A class label is >= the number of classes.
    pub const BAD_LABEL: u32 = 6;
    /// Unknown activation kind, or leaky-relu slope outside [0, 1).
    pub const BAD_ARGUMENT: u32 = 7;
    /// 16 + the `ShapeError` discriminant: the shape itself is invalid.
    pub const SHAPE_BASE: u32 = 16;
}

// The entries' docs are `#[doc = "…"]`, not `///`: a `///` passed through a
// macro becomes a raw string that wasm-bindgen copies into the glue as `r"…`.

/// Every shared export that reads or writes memory, in call order: the op's
/// function takes `(memory, Args { … })`. Parameter types are `usize`
/// (sizes, addresses), `u32`, `f32` and `bool`. Invoke as
/// `convae_abi::memory_ops!(my_macro)`: it expands to `my_macro! { … }` with
/// entries `#[doc] fn name(param: type, …) -> result;`.
#[macro_export]
macro_rules! memory_ops {
    ($emit:ident) => {
        $emit! {
            #[doc = " C[i*ldc + j] (= or +=) Σ_p A[i*rsa + p*csa] · B[p*rsb + j*csb]; C is m × n, row stride ldc."]
            fn gemm(m: usize, n: usize, kk: usize, a: usize, rsa: usize, csa: usize, b: usize, rsb: usize, csb: usize, c: usize, ldc: usize, accumulate: bool, ws: usize) -> u32;
            #[doc = " y = conv2d(x, w) + b. x [n,c_in,h,w], w [c_out,c_in,kh,kw], b [c_out] or 0, y [n,c_out,oh,ow] (overwritten)."]
            fn conv2d(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, x: usize, wt: usize, b: usize, y: usize, ws: usize) -> u32;
            #[doc = " dx = conv2d input gradient (overwritten). dy [n,c_out,oh,ow], w [c_out,c_in,kh,kw], dx [n,c_in,h,w]."]
            fn conv2d_backward_input(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, dy: usize, wt: usize, dx: usize, ws: usize) -> u32;
            #[doc = " dw += conv2d weight gradient. x [n,c_in,h,w], dy [n,c_out,oh,ow], dw [c_out,c_in,kh,kw]."]
            fn conv2d_backward_weight(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, x: usize, dy: usize, dw: usize, ws: usize) -> u32;
            #[doc = " y = conv_transpose2d(x, w) + b. x [n,c_in,h,w], w [c_in,c_out,kh,kw] (a tied decoder"]
            #[doc = " passes the encoder's conv2d weight unchanged), b [c_out] or 0, y [n,c_out,oh,ow] (overwritten)."]
            fn conv_transpose2d(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, oph: usize, opw: usize, x: usize, wt: usize, b: usize, y: usize, ws: usize) -> u32;
            #[doc = " dx = conv_transpose2d input gradient (overwritten)."]
            fn conv_transpose2d_backward_input(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, oph: usize, opw: usize, dy: usize, wt: usize, dx: usize, ws: usize) -> u32;
            #[doc = " dw += conv_transpose2d weight gradient."]
            fn conv_transpose2d_backward_weight(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, oph: usize, opw: usize, x: usize, dy: usize, dw: usize, ws: usize) -> u32;
            #[doc = " db[ch] += Σ_n Σ_q dy[n, ch, q]; dy [n, c, p]. Bias gradient of conv2d, conv_transpose2d (p = oh·ow) and dense (p = 1)."]
            fn bias_backward(n: usize, c: usize, p: usize, dy: usize, db: usize) -> u32;
            #[doc = " y = x · wᵀ + b. x [n,inp], w [out,inp], b [out] or 0, y [n,out] (overwritten)."]
            fn dense(n: usize, inp: usize, out: usize, x: usize, wt: usize, b: usize, y: usize, ws: usize) -> u32;
            #[doc = " dx = dy · w (overwritten). dy [n,out], w [out,inp], dx [n,inp]."]
            fn dense_backward_input(n: usize, inp: usize, out: usize, dy: usize, wt: usize, dx: usize, ws: usize) -> u32;
            #[doc = " dw += dyᵀ · x. x [n,inp], dy [n,out], dw [out,inp]."]
            fn dense_backward_weight(n: usize, inp: usize, out: usize, x: usize, dy: usize, dw: usize, ws: usize) -> u32;
            #[doc = " y = max over each window, switches = argmax index inside the (n, c) plane."]
            #[doc = " x [planes,h,w], y and switches [planes,oh,ow] (overwritten)."]
            fn max_pool2d(planes: usize, h: usize, w: usize, kh: usize, kw: usize, sh: usize, sw: usize, x: usize, y: usize, switches: usize) -> u32;
            #[doc = " dx = scatter-add of dy through the switches (overwritten). dy [planes,oh,ow], dx [planes,h,w]."]
            fn max_pool2d_backward(planes: usize, h: usize, w: usize, kh: usize, kw: usize, sh: usize, sw: usize, dy: usize, switches: usize, dx: usize) -> u32;
            #[doc = " y = zeros of the original size, then y[switch] += x. x [planes,oh,ow], y [planes,h,w]."]
            #[doc = " The pooling that made the switches is described by (h, w, kh, kw, sh, sw)."]
            fn max_unpool2d(planes: usize, h: usize, w: usize, kh: usize, kw: usize, sh: usize, sw: usize, x: usize, switches: usize, y: usize) -> u32;
            #[doc = " dx[i] = dy[switch[i]] (gather, overwritten). dy [planes,h,w], dx [planes,oh,ow]."]
            fn max_unpool2d_backward(planes: usize, h: usize, w: usize, kh: usize, kw: usize, sh: usize, sw: usize, dy: usize, switches: usize, dx: usize) -> u32;
            #[doc = " y = act(x); may run in place (y == x). kind: 0 identity, 1 relu, 2 leaky relu (slope alpha), 3 tanh, 4 sigmoid."]
            fn activation(kind: u32, alpha: f32, len: usize, x: usize, y: usize) -> u32;
            #[doc = " dx = act'(y) · dy, from the activation's output y; may run in place (dx == dy)."]
            fn activation_backward(kind: u32, alpha: f32, len: usize, y: usize, dy: usize, dx: usize) -> u32;
            #[doc = " loss_out[0] = 1/(2n) Σ (target − pred)², n = len; grad (or 0) = (pred − target) / n."]
            fn mse_loss(len: usize, pred: usize, target: usize, grad: usize, loss_out: usize) -> u32;
            #[doc = " loss_out[0] = mean over n of −log softmax(logits)[label]; grad (or 0) = (softmax − onehot) / n."]
            #[doc = " logits [n,classes], labels u32 [n]."]
            fn softmax_cross_entropy(n: usize, classes: usize, logits: usize, labels: usize, grad: usize, loss_out: usize) -> u32;
            #[doc = " SGD with momentum (PyTorch semantics), in place on params and velocity."]
            fn sgd_step(len: usize, params: usize, grads: usize, velocity: usize, lr: f32, momentum: f32, weight_decay: f32, nesterov: bool) -> u32;
            #[doc = " AdamW (decoupled weight decay, PyTorch semantics), in place on params, m and v. `step` counts from 1."]
            fn adam_step(len: usize, params: usize, grads: usize, m: usize, v: usize, lr: f32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32, step: u32) -> u32;
            #[doc = " `x = a·x + b·y` over `len` floats (no fused multiply-add: symmetric in its two terms)."]
            fn axpby(len: usize, x: usize, a: f32, y: usize, b: f32) -> u32;
        }
    };
}

/// Every shared export that touches no memory (shape math, workspace lengths,
/// peak probes): the op's function takes `(Args { … })`. Same entry form as
/// [`memory_ops!`].
#[macro_export]
macro_rules! pure_ops {
    ($emit:ident) => {
        $emit! {
            #[doc = " Output size of a convolution along one axis; negative -(16 + ShapeError) on a bad shape."]
            #[doc = " (Exported so the TS shape math can be checked against this one: test/shape.test.ts.)"]
            fn conv_out(input: usize, k: usize, s: usize, p: usize) -> i32;
            #[doc = " Output size of a transposed convolution along one axis; negative on a bad shape."]
            fn conv_transpose_out(input: usize, k: usize, s: usize, p: usize, op: usize) -> i32;
            #[doc = " Output size of a pooling along one axis; negative on a bad shape."]
            fn pool_out(input: usize, k: usize, s: usize) -> i32;
            #[doc = " Workspace floats needed by conv2d and its two backward ops; negative on a bad shape."]
            #[doc = " Depends on the GEMM tile of the build: native and wasm lengths differ."]
            fn conv2d_workspace_len(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize) -> i32;
            #[doc = " Workspace floats needed by conv_transpose2d and its two backward ops; negative on a bad shape."]
            fn conv_transpose2d_workspace_len(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, oph: usize, opw: usize) -> i32;
            #[doc = " Workspace floats needed by dense and its two backward ops; negative on a bad shape."]
            fn dense_workspace_len(n: usize, inp: usize, out: usize) -> i32;
            #[doc = " Workspace floats needed by gemm."]
            fn gemm_workspace_len(m: usize, n: usize, kk: usize) -> i32;
            #[doc = " Runs `iters` rounds of f32x4 multiply + add on independent accumulators; see convae_kernels::peak."]
            fn peak_mul_add(iters: u32) -> f32;
            #[doc = " Same with the relaxed fused multiply-add (falls back to mul + add without relaxed SIMD)."]
            fn peak_fma(iters: u32) -> f32;
            #[doc = " Independent accumulators in the peak probes: flops per call = iters × this × 8."]
            fn peak_accumulators() -> u32;
        }
    };
}

/// One module per op holding its `Args` (parameters in call order).
macro_rules! declare_args {
    ($( $(#[$doc:meta])* fn $name:ident ( $($a:ident : $t:ty),* $(,)? ) -> $r:ty ; )*) => {
        $(
            #[doc = concat!("Arguments of [`", stringify!($name), "()`](fn@crate::", stringify!($name), "), in call order.")]
            pub mod $name {
                #[doc = concat!("The parameters of `", stringify!($name), "`, in call order.")]
                pub struct Args {
                    $(pub $a: $t),*
                }
            }
        )*
    };
}
memory_ops!(declare_args);
pure_ops!(declare_args);
