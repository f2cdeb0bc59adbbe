//! The body of every shared export: shape and buffer checks, then the kernel.
//! Parameters come by name from the op's `Args` (see the lists in lib.rs).

use crate::check::{self, Buf, Code, Memory};
use crate::status;
use convae_kernels as k;
use k::shape::{self, Conv2d, ConvTranspose2d, Dense, Pool2d, ShapeError};

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

fn too_large() -> Code {
    Code(shape_code(ShapeError::TooLarge))
}

// ---------------------------------------------------------------- shape math
// Negative results are -(16 + ShapeError).

fn out_i32(r: Result<usize, ShapeError>) -> i32 {
    match r {
        Ok(v) if v <= i32::MAX as usize => v as i32,
        Ok(_) => -(shape_code(ShapeError::TooLarge) as i32),
        Err(e) => -(shape_code(e) as i32),
    }
}

pub fn conv_out(a: crate::conv_out::Args) -> i32 {
    out_i32(shape::conv_out(a.input, a.k, a.s, a.p))
}

pub fn conv_transpose_out(a: crate::conv_transpose_out::Args) -> i32 {
    out_i32(shape::conv_transpose_out(a.input, a.k, a.s, a.p, a.op))
}

pub fn pool_out(a: crate::pool_out::Args) -> i32 {
    out_i32(shape::pool_out(a.input, a.k, a.s))
}

/// The conv2d geometry named by the leading parameters of every conv2d op.
macro_rules! conv2d_geometry {
    ($a:expr) => {
        Conv2d {
            n: $a.n,
            c_in: $a.c_in,
            h: $a.h,
            w: $a.w,
            c_out: $a.c_out,
            kh: $a.kh,
            kw: $a.kw,
            sh: $a.sh,
            sw: $a.sw,
            ph: $a.ph,
            pw: $a.pw,
        }
    };
}

/// The conv_transpose2d geometry named by the leading parameters of every conv_transpose2d op.
macro_rules! conv_transpose2d_geometry {
    ($a:expr) => {
        ConvTranspose2d {
            n: $a.n,
            c_in: $a.c_in,
            h: $a.h,
            w: $a.w,
            c_out: $a.c_out,
            kh: $a.kh,
            kw: $a.kw,
            sh: $a.sh,
            sw: $a.sw,
            ph: $a.ph,
            pw: $a.pw,
            oph: $a.oph,
            opw: $a.opw,
        }
    };
}

/// The pooling geometry named by the leading parameters of every pool/unpool op.
macro_rules! pool2d_geometry {
    ($a:expr) => {{
        let p = Pool2d {
            planes: $a.planes,
            h: $a.h,
            w: $a.w,
            kh: $a.kh,
            kw: $a.kw,
            sh: $a.sh,
            sw: $a.sw,
        };
        shape_ok(p.validate())?;
        p
    }};
}

pub fn conv2d_workspace_len(a: crate::conv2d_workspace_len::Args) -> i32 {
    let s = conv2d_geometry!(a);
    out_i32(s.validate().map(|_| s.workspace_len()))
}

pub fn conv_transpose2d_workspace_len(a: crate::conv_transpose2d_workspace_len::Args) -> i32 {
    let t = conv_transpose2d_geometry!(a);
    out_i32(t.validate().map(|_| t.workspace_len()))
}

pub fn dense_workspace_len(a: crate::dense_workspace_len::Args) -> i32 {
    let d = Dense {
        n: a.n,
        inp: a.inp,
        out: a.out,
    };
    out_i32(d.validate().map(|_| d.workspace_len()))
}

pub fn gemm_workspace_len(a: crate::gemm_workspace_len::Args) -> i32 {
    out_i32(Ok(shape::sgemm_workspace_len(a.m, a.n, a.kk)))
}

// ---------------------------------------------------------------- peak probes

pub fn peak_mul_add(a: crate::peak_mul_add::Args) -> f32 {
    k::peak::peak_mul_add(a.iters)
}

pub fn peak_fma(a: crate::peak_fma::Args) -> f32 {
    k::peak::peak_fma(a.iters)
}

pub fn peak_accumulators(_: crate::peak_accumulators::Args) -> u32 {
    k::peak::PEAK_ACCUMULATORS as u32
}

// ---------------------------------------------------------------- GEMM

pub fn gemm(mem: &impl Memory, a: crate::gemm::Args) -> u32 {
    let crate::gemm::Args {
        m,
        n,
        kk,
        a,
        rsa,
        csa,
        b,
        rsb,
        csb,
        c,
        ldc,
        accumulate,
        ws,
    } = a;
    run(|| {
        if m == 0 || n == 0 || ldc < n {
            return Err(Code(shape_code(ShapeError::Zero)));
        }
        let span = |rows, rs, cols, cs| shape::strided_span(rows, rs, cols, cs).ok_or(too_large());
        let a = Buf::f32(mem, a, span(m, rsa, kk, csa)?)?;
        let b = Buf::f32(mem, b, span(kk, rsb, n, csb)?)?;
        let c = Buf::f32(mem, c, span(m, ldc, n, 1)?)?;
        let ws = Buf::f32(mem, ws, shape::sgemm_workspace_len(m, n, kk))?;
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

/// Checks the three buffers and the workspace of a conv backward op (two
/// inputs, one output), then runs `body` on them.
fn conv_backward(
    mem: &impl Memory,
    lens: [usize; 4],
    addrs: [usize; 4],
    body: impl FnOnce(&[f32], &[f32], &mut [f32], &mut [f32]),
) -> Result<(), Code> {
    let in1 = Buf::f32(mem, addrs[0], lens[0])?;
    let in2 = Buf::f32(mem, addrs[1], lens[1])?;
    let out = Buf::f32(mem, addrs[2], lens[2])?;
    let ws = Buf::f32(mem, addrs[3], lens[3])?;
    check::disjoint(&[out, ws], &[in1, in2])?;
    check::disjoint(&[out], &[ws])?;
    unsafe { body(in1.slice(), in2.slice(), out.slice_mut(), ws.slice_mut()) };
    Ok(())
}

pub fn conv2d(mem: &impl Memory, a: crate::conv2d::Args) -> u32 {
    run(|| {
        let s = conv2d_geometry!(a);
        shape_ok(s.validate())?;
        let x = Buf::f32(mem, a.x, s.x_len())?;
        let wt = Buf::f32(mem, a.wt, s.w_len())?;
        let b = Buf::f32_opt(mem, a.b, s.c_out)?;
        let y = Buf::f32(mem, a.y, s.y_len())?;
        let ws = Buf::f32(mem, a.ws, s.workspace_len())?;
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

pub fn conv2d_backward_input(mem: &impl Memory, a: crate::conv2d_backward_input::Args) -> u32 {
    run(|| {
        let s = conv2d_geometry!(a);
        shape_ok(s.validate())?;
        conv_backward(
            mem,
            [s.y_len(), s.w_len(), s.x_len(), s.workspace_len()],
            [a.dy, a.wt, a.dx, a.ws],
            |dy, wt, dx, ws| k::conv::conv2d_backward_input(&s, dy, wt, dx, ws),
        )
    })
}

pub fn conv2d_backward_weight(mem: &impl Memory, a: crate::conv2d_backward_weight::Args) -> u32 {
    run(|| {
        let s = conv2d_geometry!(a);
        shape_ok(s.validate())?;
        conv_backward(
            mem,
            [s.x_len(), s.y_len(), s.w_len(), s.workspace_len()],
            [a.x, a.dy, a.dw, a.ws],
            |x, dy, dw, ws| k::conv::conv2d_backward_weight(&s, x, dy, dw, ws),
        )
    })
}

// ---------------------------------------------------------------- conv_transpose2d

pub fn conv_transpose2d(mem: &impl Memory, a: crate::conv_transpose2d::Args) -> u32 {
    run(|| {
        let t = conv_transpose2d_geometry!(a);
        shape_ok(t.validate())?;
        let x = Buf::f32(mem, a.x, t.x_len())?;
        let wt = Buf::f32(mem, a.wt, t.w_len())?;
        let b = Buf::f32_opt(mem, a.b, t.c_out)?;
        let y = Buf::f32(mem, a.y, t.y_len())?;
        let ws = Buf::f32(mem, a.ws, t.workspace_len())?;
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

pub fn conv_transpose2d_backward_input(
    mem: &impl Memory,
    a: crate::conv_transpose2d_backward_input::Args,
) -> u32 {
    run(|| {
        let t = conv_transpose2d_geometry!(a);
        shape_ok(t.validate())?;
        conv_backward(
            mem,
            [t.y_len(), t.w_len(), t.x_len(), t.workspace_len()],
            [a.dy, a.wt, a.dx, a.ws],
            |dy, wt, dx, ws| k::conv_transpose::conv_transpose2d_backward_input(&t, dy, wt, dx, ws),
        )
    })
}

pub fn conv_transpose2d_backward_weight(
    mem: &impl Memory,
    a: crate::conv_transpose2d_backward_weight::Args,
) -> u32 {
    run(|| {
        let t = conv_transpose2d_geometry!(a);
        shape_ok(t.validate())?;
        conv_backward(
            mem,
            [t.x_len(), t.y_len(), t.w_len(), t.workspace_len()],
            [a.x, a.dy, a.dw, a.ws],
            |x, dy, dw, ws| k::conv_transpose::conv_transpose2d_backward_weight(&t, x, dy, dw, ws),
        )
    })
}

pub fn bias_backward(mem: &impl Memory, a: crate::bias_backward::Args) -> u32 {
    let crate::bias_backward::Args { n, c, p, dy, db } = a;
    run(|| {
        if n == 0 || c == 0 || p == 0 {
            return Err(Code(shape_code(ShapeError::Zero)));
        }
        let len = n
            .checked_mul(c)
            .and_then(|v| v.checked_mul(p))
            .ok_or(too_large())?;
        let dy = Buf::f32(mem, dy, len)?;
        let db = Buf::f32(mem, db, c)?;
        check::disjoint(&[db], &[dy])?;
        unsafe { k::bias::bias_backward(n, c, p, dy.slice(), db.slice_mut()) };
        Ok(())
    })
}

// ---------------------------------------------------------------- dense

fn dense_shape(n: usize, inp: usize, out: usize) -> Result<Dense, Code> {
    let d = Dense { n, inp, out };
    shape_ok(d.validate())?;
    Ok(d)
}

pub fn dense(mem: &impl Memory, a: crate::dense::Args) -> u32 {
    run(|| {
        let d = dense_shape(a.n, a.inp, a.out)?;
        let x = Buf::f32(mem, a.x, d.x_len())?;
        let wt = Buf::f32(mem, a.wt, d.w_len())?;
        let b = Buf::f32_opt(mem, a.b, d.out)?;
        let y = Buf::f32(mem, a.y, d.y_len())?;
        let ws = Buf::f32(mem, a.ws, d.workspace_len())?;
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

pub fn dense_backward_input(mem: &impl Memory, a: crate::dense_backward_input::Args) -> u32 {
    run(|| {
        let d = dense_shape(a.n, a.inp, a.out)?;
        conv_backward(
            mem,
            [d.y_len(), d.w_len(), d.x_len(), d.workspace_len()],
            [a.dy, a.wt, a.dx, a.ws],
            |dy, wt, dx, ws| k::dense::dense_backward_input(&d, dy, wt, dx, ws),
        )
    })
}

pub fn dense_backward_weight(mem: &impl Memory, a: crate::dense_backward_weight::Args) -> u32 {
    run(|| {
        let d = dense_shape(a.n, a.inp, a.out)?;
        conv_backward(
            mem,
            [d.x_len(), d.y_len(), d.w_len(), d.workspace_len()],
            [a.x, a.dy, a.dw, a.ws],
            |x, dy, dw, ws| k::dense::dense_backward_weight(&d, x, dy, dw, ws),
        )
    })
}

// ---------------------------------------------------------------- pooling

fn switches_in(mem: &impl Memory, p: &Pool2d, switches: usize) -> Result<Buf, Code> {
    let s = Buf::u32(mem, switches, p.y_len())?;
    if !k::pool::switches_valid(p, unsafe { s.slice_u32() }) {
        return Err(Code(status::BAD_SWITCH));
    }
    Ok(s)
}

pub fn max_pool2d(mem: &impl Memory, a: crate::max_pool2d::Args) -> u32 {
    run(|| {
        let p = pool2d_geometry!(a);
        let x = Buf::f32(mem, a.x, p.x_len())?;
        let y = Buf::f32(mem, a.y, p.y_len())?;
        let s = Buf::u32(mem, a.switches, p.y_len())?;
        check::disjoint(&[y, s], &[x])?;
        check::disjoint(&[y], &[s])?;
        unsafe { k::pool::max_pool2d(&p, x.slice(), y.slice_mut(), s.slice_u32_mut()) };
        Ok(())
    })
}

pub fn max_pool2d_backward(mem: &impl Memory, a: crate::max_pool2d_backward::Args) -> u32 {
    run(|| {
        let p = pool2d_geometry!(a);
        let dy = Buf::f32(mem, a.dy, p.y_len())?;
        let s = switches_in(mem, &p, a.switches)?;
        let dx = Buf::f32(mem, a.dx, p.x_len())?;
        check::disjoint(&[dx], &[dy, s])?;
        unsafe { k::pool::max_pool2d_backward(&p, dy.slice(), s.slice_u32(), dx.slice_mut()) };
        Ok(())
    })
}

pub fn max_unpool2d(mem: &impl Memory, a: crate::max_unpool2d::Args) -> u32 {
    run(|| {
        let p = pool2d_geometry!(a);
        let x = Buf::f32(mem, a.x, p.y_len())?;
        let s = switches_in(mem, &p, a.switches)?;
        let y = Buf::f32(mem, a.y, p.x_len())?;
        check::disjoint(&[y], &[x, s])?;
        unsafe { k::unpool::max_unpool2d(&p, x.slice(), s.slice_u32(), y.slice_mut()) };
        Ok(())
    })
}

pub fn max_unpool2d_backward(mem: &impl Memory, a: crate::max_unpool2d_backward::Args) -> u32 {
    run(|| {
        let p = pool2d_geometry!(a);
        let dy = Buf::f32(mem, a.dy, p.x_len())?;
        let s = switches_in(mem, &p, a.switches)?;
        let dx = Buf::f32(mem, a.dx, p.y_len())?;
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

pub fn activation(mem: &impl Memory, a: crate::activation::Args) -> u32 {
    let crate::activation::Args {
        kind,
        alpha,
        len,
        x,
        y,
    } = a;
    run(|| {
        let act = act_kind(kind, alpha)?;
        let xb = Buf::f32(mem, x, len)?;
        let yb = Buf::f32(mem, y, len)?;
        if x == y {
            unsafe { k::act::activation_inplace(act, alpha, yb.slice_mut()) };
        } else {
            check::disjoint(&[yb], &[xb])?;
            unsafe { k::act::activation(act, alpha, xb.slice(), yb.slice_mut()) };
        }
        Ok(())
    })
}

pub fn activation_backward(mem: &impl Memory, a: crate::activation_backward::Args) -> u32 {
    let crate::activation_backward::Args {
        kind,
        alpha,
        len,
        y,
        dy,
        dx,
    } = a;
    run(|| {
        let act = act_kind(kind, alpha)?;
        let yb = Buf::f32(mem, y, len)?;
        let dyb = Buf::f32(mem, dy, len)?;
        let dxb = Buf::f32(mem, dx, len)?;
        if dx == dy {
            check::disjoint(&[dxb], &[yb])?;
            unsafe { k::act::activation_backward_inplace(act, alpha, yb.slice(), dxb.slice_mut()) };
        } else {
            check::disjoint(&[dxb], &[yb, dyb])?;
            unsafe {
                k::act::activation_backward(act, alpha, yb.slice(), dyb.slice(), dxb.slice_mut())
            };
        }
        Ok(())
    })
}

// ---------------------------------------------------------------- losses

pub fn mse_loss(mem: &impl Memory, a: crate::mse_loss::Args) -> u32 {
    let crate::mse_loss::Args {
        len,
        pred,
        target,
        grad,
        loss_out,
    } = a;
    run(|| {
        if len == 0 {
            return Err(Code(shape_code(ShapeError::Zero)));
        }
        let p = Buf::f32(mem, pred, len)?;
        let t = Buf::f32(mem, target, len)?;
        let g = Buf::f32_opt(mem, grad, len)?;
        let out = Buf::f32(mem, loss_out, 1)?;
        check::disjoint(&[g, out], &[p, t])?;
        check::disjoint(&[g], &[out])?;
        let loss = unsafe { k::loss::mse_loss(p.slice(), t.slice(), g.slice_mut_opt()) };
        unsafe { out.slice_mut()[0] = loss };
        Ok(())
    })
}

pub fn softmax_cross_entropy(mem: &impl Memory, a: crate::softmax_cross_entropy::Args) -> u32 {
    let crate::softmax_cross_entropy::Args {
        n,
        classes,
        logits,
        labels,
        grad,
        loss_out,
    } = a;
    run(|| {
        if n == 0 || classes == 0 {
            return Err(Code(shape_code(ShapeError::Zero)));
        }
        let len = n.checked_mul(classes).ok_or(too_large())?;
        let lg = Buf::f32(mem, logits, len)?;
        let lb = Buf::u32(mem, labels, n)?;
        if unsafe { lb.slice_u32() }
            .iter()
            .any(|&l| l as usize >= classes)
        {
            return Err(Code(status::BAD_LABEL));
        }
        let g = Buf::f32_opt(mem, grad, len)?;
        let out = Buf::f32(mem, loss_out, 1)?;
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

pub fn sgd_step(mem: &impl Memory, a: crate::sgd_step::Args) -> u32 {
    let crate::sgd_step::Args {
        len,
        params,
        grads,
        velocity,
        lr,
        momentum,
        weight_decay,
        nesterov,
    } = a;
    run(|| {
        let p = Buf::f32(mem, params, len)?;
        let g = Buf::f32(mem, grads, len)?;
        let v = Buf::f32(mem, velocity, len)?;
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

pub fn adam_step(mem: &impl Memory, a: crate::adam_step::Args) -> u32 {
    let crate::adam_step::Args {
        len,
        params,
        grads,
        m,
        v,
        lr,
        beta1,
        beta2,
        eps,
        weight_decay,
        step,
    } = a;
    run(|| {
        if step == 0 {
            return Err(Code(status::BAD_ARGUMENT));
        }
        let p = Buf::f32(mem, params, len)?;
        let g = Buf::f32(mem, grads, len)?;
        let mb = Buf::f32(mem, m, len)?;
        let vb = Buf::f32(mem, v, len)?;
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

// ---------------------------------------------------------------- data-parallel gradient average

pub fn axpby(mem: &impl Memory, a: crate::axpby::Args) -> u32 {
    let crate::axpby::Args {
        len,
        x,
        a: ax,
        y,
        b,
    } = a;
    run(|| {
        let xb = Buf::f32(mem, x, len)?;
        let yb = Buf::f32(mem, y, len)?;
        check::disjoint(&[xb], &[yb])?;
        unsafe { k::axpby::axpby(xb.slice_mut(), ax, yb.slice(), b) };
        Ok(())
    })
}
