//! convae-wasm: the thin export layer over `convae-kernels`.
//!
//! # Call protocol (what the TypeScript binding does, in order)
//! 1. `alloc(bytes)` returns a 16-byte aligned address in linear memory, or 0
//!    when memory cannot grow. **Only `alloc` can grow memory**, so JS views over
//!    `memory.buffer` stay valid across every other call; rebuild them after an
//!    `alloc`. The caller owns the block until it passes it to `free(ptr, bytes)`
//!    with the same size.
//! 2. The caller writes inputs through a view, allocates outputs, switches and
//!    the workspace (`*_workspace_len` floats) beforehand: kernels never allocate.
//! 3. Every op returns a status code (`status::OK` = 0). Each op checks its
//!    shape, that every buffer lies inside memory and is aligned, that outputs do
//!    not overlap inputs (unless the op is documented as in-place), and data
//!    whose bad value would index out of bounds (switches, labels). Nothing
//!    panics across the boundary: a panic would trap (panic = "abort").
//! 4. The caller reads outputs and frees what it allocated.
//!
//! Losses write their value to a 1-element f32 buffer (`loss_out`). An optional
//! buffer (bias, gradient) is passed as address 0 when absent; `alloc` never
//! returns 0 for a real block.

use convae_kernels as k;
use k::shape::{self, Conv2d, ConvTranspose2d, Dense, Pool2d, ShapeError};
use wasm_bindgen::prelude::*;

mod check;
use check::{Buf, Code};

pub mod status {
    pub const OK: u32 = 0;
    /// A buffer lies (partly) outside linear memory, or is null where required.
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

fn shape_code(e: ShapeError) -> u32 {
    status::SHAPE_BASE + e as u32
}

fn run(f: impl FnOnce() -> Result<(), Code>) -> u32 {
    match f() {
        Ok(()) => status::OK,
        Err(c) => c.0,
    }
}

fn shape_ok(r: Result<(), ShapeError>) -> Result<(), Code> {
    r.map_err(|e| Code(shape_code(e)))
}

// ---------------------------------------------------------------- build info

/// 0 = scalar, 1 = simd (SIMD128), 2 = relaxed (SIMD128 + relaxed SIMD): the best
/// instruction set compiled into this module.
#[wasm_bindgen]
pub fn build_isa() -> u32 {
    k::isa::COMPILED as u32
}

/// Makes every kernel run its scalar twin (for tests comparing SIMD to scalar).
#[wasm_bindgen]
pub fn set_force_scalar(on: bool) {
    k::isa::set_force_scalar(on);
}

// ---------------------------------------------------------------- memory

/// Returns a 16-byte aligned block of `bytes` bytes, or 0 when memory cannot grow.
#[wasm_bindgen]
pub fn alloc(bytes: usize) -> usize {
    check::alloc(bytes)
}

/// Frees a block from `alloc`; `bytes` must be the size it was allocated with.
#[wasm_bindgen]
pub fn free(ptr: usize, bytes: usize) {
    check::free(ptr, bytes)
}

// ---------------------------------------------------------------- shape math
// Exported so the TS shape math can be checked against this one (test/shape.test.ts).
// Negative results are -(16 + ShapeError).

fn out_i32(r: Result<usize, ShapeError>) -> i32 {
    match r {
        Ok(v) if v <= i32::MAX as usize => v as i32,
        Ok(_) => -(shape_code(ShapeError::TooLarge) as i32),
        Err(e) => -(shape_code(e) as i32),
    }
}

#[wasm_bindgen]
pub fn conv_out(input: usize, k: usize, s: usize, p: usize) -> i32 {
    out_i32(shape::conv_out(input, k, s, p))
}

#[wasm_bindgen]
pub fn conv_transpose_out(input: usize, k: usize, s: usize, p: usize, op: usize) -> i32 {
    out_i32(shape::conv_transpose_out(input, k, s, p, op))
}

#[wasm_bindgen]
pub fn pool_out(input: usize, k: usize, s: usize) -> i32 {
    out_i32(shape::pool_out(input, k, s))
}

#[allow(clippy::too_many_arguments)]
fn conv2d_shape(
    n: usize,
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
) -> Conv2d {
    Conv2d {
        n,
        c_in,
        h,
        w,
        c_out,
        kh,
        kw,
        sh,
        sw,
        ph,
        pw,
    }
}

#[allow(clippy::too_many_arguments)]
fn conv_t_shape(
    n: usize,
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
    oph: usize,
    opw: usize,
) -> ConvTranspose2d {
    ConvTranspose2d {
        n,
        c_in,
        h,
        w,
        c_out,
        kh,
        kw,
        sh,
        sw,
        ph,
        pw,
        oph,
        opw,
    }
}

/// Workspace floats needed by conv2d and its two backward ops; negative on a bad shape.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn conv2d_workspace_len(
    n: usize,
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
) -> i32 {
    let s = conv2d_shape(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw);
    out_i32(s.validate().map(|_| s.workspace_len()))
}

#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn conv_transpose2d_workspace_len(
    n: usize,
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
    oph: usize,
    opw: usize,
) -> i32 {
    let t = conv_t_shape(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, oph, opw);
    out_i32(t.validate().map(|_| t.workspace_len()))
}

#[wasm_bindgen]
pub fn dense_workspace_len(n: usize, inp: usize, out: usize) -> i32 {
    let d = Dense { n, inp, out };
    out_i32(d.validate().map(|_| d.workspace_len()))
}

#[wasm_bindgen]
pub fn gemm_workspace_len(m: usize, n: usize, kk: usize) -> i32 {
    out_i32(Ok(shape::sgemm_workspace_len(m, n, kk)))
}

// ---------------------------------------------------------------- GEMM

/// C[i*ldc + j] (= or +=) Σ_p A[i*rsa + p*csa] · B[p*rsb + j*csb]; C is m × n, row stride ldc.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn gemm(
    m: usize,
    n: usize,
    kk: usize,
    a: usize,
    rsa: usize,
    csa: usize,
    b: usize,
    rsb: usize,
    csb: usize,
    c: usize,
    ldc: usize,
    accumulate: bool,
    ws: usize,
) -> u32 {
    run(|| {
        if m == 0 || n == 0 || ldc < n {
            return Err(Code(shape_code(ShapeError::Zero)));
        }
        let span = |rows, rs, cols, cs| {
            shape::strided_span(rows, rs, cols, cs).ok_or(Code(shape_code(ShapeError::TooLarge)))
        };
        let a = Buf::f32(a, span(m, rsa, kk, csa)?)?;
        let b = Buf::f32(b, span(kk, rsb, n, csb)?)?;
        let c = Buf::f32(c, span(m, ldc, n, 1)?)?;
        let ws = Buf::f32(ws, shape::sgemm_workspace_len(m, n, kk))?;
        check::disjoint(&[c, ws], &[a, b])?;
        check::disjoint(&[c], &[ws])?;
        unsafe {
            k::gemm::sgemm(
                m,
                n,
                kk,
                a.slice(),
                rsa,
                csa,
                b.slice(),
                rsb,
                csb,
                c.slice_mut(),
                ldc,
                accumulate,
                ws.slice_mut(),
            )
        };
        Ok(())
    })
}

// ---------------------------------------------------------------- conv2d

macro_rules! conv2d_export {
    ($(#[$doc:meta])* $name:ident, $in1:ident : $len1:ident, $in2:ident : $len2:ident, $out:ident : $lenout:ident, $body:expr) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        #[wasm_bindgen]
        pub fn $name(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, $in1: usize, $in2: usize, $out: usize, ws: usize) -> u32 {
            run(|| {
                let s = conv2d_shape(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw);
                shape_ok(s.validate())?;
                let $in1 = Buf::f32($in1, s.$len1())?;
                let $in2 = Buf::f32($in2, s.$len2())?;
                let $out = Buf::f32($out, s.$lenout())?;
                let ws = Buf::f32(ws, s.workspace_len())?;
                check::disjoint(&[$out, ws], &[$in1, $in2])?;
                check::disjoint(&[$out], &[ws])?;
                #[allow(clippy::redundant_closure_call)]
                unsafe { ($body)(&s, $in1.slice(), $in2.slice(), $out.slice_mut(), ws.slice_mut()) };
                Ok(())
            })
        }
    };
}

/// y = conv2d(x, w) + b. x [n,c_in,h,w], w [c_out,c_in,kh,kw], b [c_out] or 0, y [n,c_out,oh,ow] (overwritten).
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn conv2d(
    n: usize,
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
    x: usize,
    wt: usize,
    b: usize,
    y: usize,
    ws: usize,
) -> u32 {
    run(|| {
        let s = conv2d_shape(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw);
        shape_ok(s.validate())?;
        let x = Buf::f32(x, s.x_len())?;
        let wt = Buf::f32(wt, s.w_len())?;
        let b = Buf::f32_opt(b, c_out)?;
        let y = Buf::f32(y, s.y_len())?;
        let ws = Buf::f32(ws, s.workspace_len())?;
        check::disjoint(&[y, ws], &[x, wt, b])?;
        check::disjoint(&[y], &[ws])?;
        unsafe {
            k::conv::conv2d(
                &s,
                x.slice(),
                wt.slice(),
                b.slice_opt(),
                y.slice_mut(),
                ws.slice_mut(),
            )
        };
        Ok(())
    })
}

conv2d_export!(
    /// dx = conv2d input gradient (overwritten). dy [n,c_out,oh,ow], w [c_out,c_in,kh,kw], dx [n,c_in,h,w].
    conv2d_backward_input, dy: y_len, wt: w_len, dx: x_len,
    |s: &Conv2d, dy: &[f32], wt: &[f32], dx: &mut [f32], ws: &mut [f32]| k::conv::conv2d_backward_input(s, dy, wt, dx, ws)
);

conv2d_export!(
    /// dw += conv2d weight gradient. x [n,c_in,h,w], dy [n,c_out,oh,ow], dw [c_out,c_in,kh,kw].
    conv2d_backward_weight, x: x_len, dy: y_len, dw: w_len,
    |s: &Conv2d, x: &[f32], dy: &[f32], dw: &mut [f32], ws: &mut [f32]| k::conv::conv2d_backward_weight(s, x, dy, dw, ws)
);

// ---------------------------------------------------------------- conv_transpose2d

macro_rules! conv_t_export {
    ($(#[$doc:meta])* $name:ident, $in1:ident : $len1:ident, $in2:ident : $len2:ident, $out:ident : $lenout:ident, $body:expr) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        #[wasm_bindgen]
        pub fn $name(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize, oph: usize, opw: usize, $in1: usize, $in2: usize, $out: usize, ws: usize) -> u32 {
            run(|| {
                let t = conv_t_shape(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, oph, opw);
                shape_ok(t.validate())?;
                let $in1 = Buf::f32($in1, t.$len1())?;
                let $in2 = Buf::f32($in2, t.$len2())?;
                let $out = Buf::f32($out, t.$lenout())?;
                let ws = Buf::f32(ws, t.workspace_len())?;
                check::disjoint(&[$out, ws], &[$in1, $in2])?;
                check::disjoint(&[$out], &[ws])?;
                #[allow(clippy::redundant_closure_call)]
                unsafe { ($body)(&t, $in1.slice(), $in2.slice(), $out.slice_mut(), ws.slice_mut()) };
                Ok(())
            })
        }
    };
}

/// y = conv_transpose2d(x, w) + b. x [n,c_in,h,w], w [c_in,c_out,kh,kw] (a tied decoder
/// passes the encoder's conv2d weight unchanged), b [c_out] or 0, y [n,c_out,oh,ow] (overwritten).
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn conv_transpose2d(
    n: usize,
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
    oph: usize,
    opw: usize,
    x: usize,
    wt: usize,
    b: usize,
    y: usize,
    ws: usize,
) -> u32 {
    run(|| {
        let t = conv_t_shape(n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, oph, opw);
        shape_ok(t.validate())?;
        let x = Buf::f32(x, t.x_len())?;
        let wt = Buf::f32(wt, t.w_len())?;
        let b = Buf::f32_opt(b, c_out)?;
        let y = Buf::f32(y, t.y_len())?;
        let ws = Buf::f32(ws, t.workspace_len())?;
        check::disjoint(&[y, ws], &[x, wt, b])?;
        check::disjoint(&[y], &[ws])?;
        unsafe {
            k::conv_transpose::conv_transpose2d(
                &t,
                x.slice(),
                wt.slice(),
                b.slice_opt(),
                y.slice_mut(),
                ws.slice_mut(),
            )
        };
        Ok(())
    })
}

conv_t_export!(
    /// dx = conv_transpose2d input gradient (overwritten).
    conv_transpose2d_backward_input, dy: y_len, wt: w_len, dx: x_len,
    |t: &ConvTranspose2d, dy: &[f32], wt: &[f32], dx: &mut [f32], ws: &mut [f32]| k::conv_transpose::conv_transpose2d_backward_input(t, dy, wt, dx, ws)
);

conv_t_export!(
    /// dw += conv_transpose2d weight gradient.
    conv_transpose2d_backward_weight, x: x_len, dy: y_len, dw: w_len,
    |t: &ConvTranspose2d, x: &[f32], dy: &[f32], dw: &mut [f32], ws: &mut [f32]| k::conv_transpose::conv_transpose2d_backward_weight(t, x, dy, dw, ws)
);

/// db[ch] += Σ_n Σ_q dy[n, ch, q]; dy [n, c, p]. Bias gradient of conv2d, conv_transpose2d (p = oh·ow) and dense (p = 1).
#[wasm_bindgen]
pub fn bias_backward(n: usize, c: usize, p: usize, dy: usize, db: usize) -> u32 {
    run(|| {
        if n == 0 || c == 0 || p == 0 {
            return Err(Code(shape_code(ShapeError::Zero)));
        }
        let len = n
            .checked_mul(c)
            .and_then(|v| v.checked_mul(p))
            .ok_or(Code(shape_code(ShapeError::TooLarge)))?;
        let dy = Buf::f32(dy, len)?;
        let db = Buf::f32(db, c)?;
        check::disjoint(&[db], &[dy])?;
        unsafe { k::bias::bias_backward(n, c, p, dy.slice(), db.slice_mut()) };
        Ok(())
    })
}

// ---------------------------------------------------------------- dense

/// y = x · wᵀ + b. x [n,inp], w [out,inp], b [out] or 0, y [n,out] (overwritten).
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn dense(
    n: usize,
    inp: usize,
    out: usize,
    x: usize,
    wt: usize,
    b: usize,
    y: usize,
    ws: usize,
) -> u32 {
    run(|| {
        let d = Dense { n, inp, out };
        shape_ok(d.validate())?;
        let x = Buf::f32(x, d.x_len())?;
        let wt = Buf::f32(wt, d.w_len())?;
        let b = Buf::f32_opt(b, d.out)?;
        let y = Buf::f32(y, d.y_len())?;
        let ws = Buf::f32(ws, d.workspace_len())?;
        check::disjoint(&[y, ws], &[x, wt, b])?;
        check::disjoint(&[y], &[ws])?;
        unsafe {
            k::dense::dense(
                &d,
                x.slice(),
                wt.slice(),
                b.slice_opt(),
                y.slice_mut(),
                ws.slice_mut(),
            )
        };
        Ok(())
    })
}

/// dx = dy · w (overwritten). dy [n,out], w [out,inp], dx [n,inp].
#[wasm_bindgen]
pub fn dense_backward_input(
    n: usize,
    inp: usize,
    out: usize,
    dy: usize,
    wt: usize,
    dx: usize,
    ws: usize,
) -> u32 {
    run(|| {
        let d = Dense { n, inp, out };
        shape_ok(d.validate())?;
        let dy = Buf::f32(dy, d.y_len())?;
        let wt = Buf::f32(wt, d.w_len())?;
        let dx = Buf::f32(dx, d.x_len())?;
        let ws = Buf::f32(ws, d.workspace_len())?;
        check::disjoint(&[dx, ws], &[dy, wt])?;
        check::disjoint(&[dx], &[ws])?;
        unsafe {
            k::dense::dense_backward_input(
                &d,
                dy.slice(),
                wt.slice(),
                dx.slice_mut(),
                ws.slice_mut(),
            )
        };
        Ok(())
    })
}

/// dw += dyᵀ · x. x [n,inp], dy [n,out], dw [out,inp].
#[wasm_bindgen]
pub fn dense_backward_weight(
    n: usize,
    inp: usize,
    out: usize,
    x: usize,
    dy: usize,
    dw: usize,
    ws: usize,
) -> u32 {
    run(|| {
        let d = Dense { n, inp, out };
        shape_ok(d.validate())?;
        let x = Buf::f32(x, d.x_len())?;
        let dy = Buf::f32(dy, d.y_len())?;
        let dw = Buf::f32(dw, d.w_len())?;
        let ws = Buf::f32(ws, d.workspace_len())?;
        check::disjoint(&[dw, ws], &[x, dy])?;
        check::disjoint(&[dw], &[ws])?;
        unsafe {
            k::dense::dense_backward_weight(
                &d,
                x.slice(),
                dy.slice(),
                dw.slice_mut(),
                ws.slice_mut(),
            )
        };
        Ok(())
    })
}

// ---------------------------------------------------------------- pooling

fn pool_shape(
    planes: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
) -> Result<Pool2d, Code> {
    let p = Pool2d {
        planes,
        h,
        w,
        kh,
        kw,
        sh,
        sw,
    };
    shape_ok(p.validate())?;
    Ok(p)
}

/// y = max over each window, switches = argmax index inside the (n, c) plane.
/// x [planes,h,w], y and switches [planes,oh,ow] (overwritten).
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn max_pool2d(
    planes: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    x: usize,
    y: usize,
    switches: usize,
) -> u32 {
    run(|| {
        let p = pool_shape(planes, h, w, kh, kw, sh, sw)?;
        let x = Buf::f32(x, p.x_len())?;
        let y = Buf::f32(y, p.y_len())?;
        let s = Buf::u32(switches, p.y_len())?;
        check::disjoint(&[y, s], &[x])?;
        check::disjoint(&[y], &[s])?;
        unsafe { k::pool::max_pool2d(&p, x.slice(), y.slice_mut(), s.slice_u32_mut()) };
        Ok(())
    })
}

fn switches_in(p: &Pool2d, switches: usize) -> Result<Buf, Code> {
    let s = Buf::u32(switches, p.y_len())?;
    if !k::pool::switches_valid(p, unsafe { s.slice_u32() }) {
        return Err(Code(status::BAD_SWITCH));
    }
    Ok(s)
}

/// dx = scatter-add of dy through the switches (overwritten). dy [planes,oh,ow], dx [planes,h,w].
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn max_pool2d_backward(
    planes: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    dy: usize,
    switches: usize,
    dx: usize,
) -> u32 {
    run(|| {
        let p = pool_shape(planes, h, w, kh, kw, sh, sw)?;
        let dy = Buf::f32(dy, p.y_len())?;
        let s = switches_in(&p, switches)?;
        let dx = Buf::f32(dx, p.x_len())?;
        check::disjoint(&[dx], &[dy, s])?;
        unsafe { k::pool::max_pool2d_backward(&p, dy.slice(), s.slice_u32(), dx.slice_mut()) };
        Ok(())
    })
}

/// y = zeros of the original size, then y[switch] += x. x [planes,oh,ow], y [planes,h,w].
/// The pooling that made the switches is described by (h, w, kh, kw, sh, sw).
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn max_unpool2d(
    planes: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    x: usize,
    switches: usize,
    y: usize,
) -> u32 {
    run(|| {
        let p = pool_shape(planes, h, w, kh, kw, sh, sw)?;
        let x = Buf::f32(x, p.y_len())?;
        let s = switches_in(&p, switches)?;
        let y = Buf::f32(y, p.x_len())?;
        check::disjoint(&[y], &[x, s])?;
        unsafe { k::unpool::max_unpool2d(&p, x.slice(), s.slice_u32(), y.slice_mut()) };
        Ok(())
    })
}

/// dx[i] = dy[switch[i]] (gather, overwritten). dy [planes,h,w], dx [planes,oh,ow].
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn max_unpool2d_backward(
    planes: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    dy: usize,
    switches: usize,
    dx: usize,
) -> u32 {
    run(|| {
        let p = pool_shape(planes, h, w, kh, kw, sh, sw)?;
        let dy = Buf::f32(dy, p.x_len())?;
        let s = switches_in(&p, switches)?;
        let dx = Buf::f32(dx, p.y_len())?;
        check::disjoint(&[dx], &[dy, s])?;
        unsafe { k::unpool::max_unpool2d_backward(&p, dy.slice(), s.slice_u32(), dx.slice_mut()) };
        Ok(())
    })
}

// ---------------------------------------------------------------- activations

fn act_kind(kind: u32, alpha: f32) -> Result<k::act::Activation, Code> {
    let a = k::act::Activation::from_u32(kind).ok_or(Code(status::BAD_ARGUMENT))?;
    if a == k::act::Activation::LeakyRelu && !(0.0..1.0).contains(&alpha) {
        return Err(Code(status::BAD_ARGUMENT));
    }
    Ok(a)
}

/// y = act(x); may run in place (y == x). kind: 0 identity, 1 relu, 2 leaky relu (slope alpha), 3 tanh, 4 sigmoid.
#[wasm_bindgen]
pub fn activation(kind: u32, alpha: f32, len: usize, x: usize, y: usize) -> u32 {
    run(|| {
        let a = act_kind(kind, alpha)?;
        let xb = Buf::f32(x, len)?;
        let yb = Buf::f32(y, len)?;
        if x == y {
            unsafe { k::act::activation_inplace(a, alpha, yb.slice_mut()) };
        } else {
            check::disjoint(&[yb], &[xb])?;
            unsafe { k::act::activation(a, alpha, xb.slice(), yb.slice_mut()) };
        }
        Ok(())
    })
}

/// dx = act'(y) · dy, from the activation's output y; may run in place (dx == dy).
#[wasm_bindgen]
pub fn activation_backward(
    kind: u32,
    alpha: f32,
    len: usize,
    y: usize,
    dy: usize,
    dx: usize,
) -> u32 {
    run(|| {
        let a = act_kind(kind, alpha)?;
        let yb = Buf::f32(y, len)?;
        let dyb = Buf::f32(dy, len)?;
        let dxb = Buf::f32(dx, len)?;
        if dx == dy {
            check::disjoint(&[dxb], &[yb])?;
            unsafe { k::act::activation_backward_inplace(a, alpha, yb.slice(), dxb.slice_mut()) };
        } else {
            check::disjoint(&[dxb], &[yb, dyb])?;
            unsafe {
                k::act::activation_backward(a, alpha, yb.slice(), dyb.slice(), dxb.slice_mut())
            };
        }
        Ok(())
    })
}

// ---------------------------------------------------------------- losses

/// loss_out[0] = 1/(2n) Σ (target − pred)², n = len; grad (or 0) = (pred − target) / n.
#[wasm_bindgen]
pub fn mse_loss(len: usize, pred: usize, target: usize, grad: usize, loss_out: usize) -> u32 {
    run(|| {
        if len == 0 {
            return Err(Code(shape_code(ShapeError::Zero)));
        }
        let p = Buf::f32(pred, len)?;
        let t = Buf::f32(target, len)?;
        let g = Buf::f32_opt(grad, len)?;
        let out = Buf::f32(loss_out, 1)?;
        check::disjoint(&[g, out], &[p, t])?;
        check::disjoint(&[g], &[out])?;
        let loss = unsafe { k::loss::mse_loss(p.slice(), t.slice(), g.slice_mut_opt()) };
        unsafe { out.slice_mut()[0] = loss };
        Ok(())
    })
}

/// loss_out[0] = mean over n of −log softmax(logits)[label]; grad (or 0) = (softmax − onehot) / n.
/// logits [n,classes], labels u32 [n].
#[wasm_bindgen]
pub fn softmax_cross_entropy(
    n: usize,
    classes: usize,
    logits: usize,
    labels: usize,
    grad: usize,
    loss_out: usize,
) -> u32 {
    run(|| {
        if n == 0 || classes == 0 {
            return Err(Code(shape_code(ShapeError::Zero)));
        }
        let len = n
            .checked_mul(classes)
            .ok_or(Code(shape_code(ShapeError::TooLarge)))?;
        let lg = Buf::f32(logits, len)?;
        let lb = Buf::u32(labels, n)?;
        if unsafe { lb.slice_u32() }
            .iter()
            .any(|&l| l as usize >= classes)
        {
            return Err(Code(status::BAD_LABEL));
        }
        let g = Buf::f32_opt(grad, len)?;
        let out = Buf::f32(loss_out, 1)?;
        check::disjoint(&[g, out], &[lg, lb])?;
        check::disjoint(&[g], &[out])?;
        let loss = unsafe {
            k::loss::softmax_cross_entropy(
                n,
                classes,
                lg.slice(),
                lb.slice_u32(),
                g.slice_mut_opt(),
            )
        };
        unsafe { out.slice_mut()[0] = loss };
        Ok(())
    })
}

// ---------------------------------------------------------------- optimizers

/// SGD with momentum (PyTorch semantics), in place on params and velocity.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn sgd_step(
    len: usize,
    params: usize,
    grads: usize,
    velocity: usize,
    lr: f32,
    momentum: f32,
    weight_decay: f32,
    nesterov: bool,
) -> u32 {
    run(|| {
        let p = Buf::f32(params, len)?;
        let g = Buf::f32(grads, len)?;
        let v = Buf::f32(velocity, len)?;
        check::disjoint(&[p, v], &[g])?;
        check::disjoint(&[p], &[v])?;
        unsafe {
            k::optim::sgd_step(
                p.slice_mut(),
                g.slice(),
                v.slice_mut(),
                lr,
                momentum,
                weight_decay,
                nesterov,
            )
        };
        Ok(())
    })
}

/// AdamW (decoupled weight decay, PyTorch semantics), in place on params, m and v. `step` counts from 1.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn adam_step(
    len: usize,
    params: usize,
    grads: usize,
    m: usize,
    v: usize,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    step: u32,
) -> u32 {
    run(|| {
        if step == 0 {
            return Err(Code(status::BAD_ARGUMENT));
        }
        let p = Buf::f32(params, len)?;
        let g = Buf::f32(grads, len)?;
        let mb = Buf::f32(m, len)?;
        let vb = Buf::f32(v, len)?;
        check::disjoint(&[p, mb, vb], &[g])?;
        check::disjoint(&[p], &[mb, vb])?;
        check::disjoint(&[mb], &[vb])?;
        unsafe {
            k::optim::adam_step(
                p.slice_mut(),
                g.slice(),
                mb.slice_mut(),
                vb.slice_mut(),
                lr,
                beta1,
                beta2,
                eps,
                weight_decay,
                step,
            )
        };
        Ok(())
    })
}

// ---------------------------------------------------------------- peak probes

/// Runs `iters` rounds of f32x4 multiply + add on independent accumulators; see convae_kernels::peak.
#[wasm_bindgen]
pub fn peak_mul_add(iters: u32) -> f32 {
    k::peak::peak_mul_add(iters)
}

/// Same with the relaxed fused multiply-add (falls back to mul + add without relaxed SIMD).
#[wasm_bindgen]
pub fn peak_fma(iters: u32) -> f32 {
    k::peak::peak_fma(iters)
}

/// Independent accumulators in the peak probes: flops per call = iters × this × 8.
#[wasm_bindgen]
pub fn peak_accumulators() -> u32 {
    k::peak::PEAK_ACCUMULATORS as u32
}

// ---------------------------------------------------------------- data-parallel gradient average

/// `x = a·x + b·y` over `len` floats (no fused multiply-add: symmetric in its two terms).
#[wasm_bindgen]
pub fn axpby(len: usize, x: usize, a: f32, y: usize, b: f32) -> u32 {
    run(|| {
        let xb = Buf::f32(x, len)?;
        let yb = Buf::f32(y, len)?;
        check::disjoint(&[xb], &[yb])?;
        unsafe { k::axpby::axpby(xb.slice_mut(), a, yb.slice(), b) };
        Ok(())
    })
}
