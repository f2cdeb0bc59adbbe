//! Optimizer steps over flat parameter buffers (`params`, `grads` and the state
//! buffers all have the same length), PyTorch semantics.
//!
//! - [`sgd_step`]: `torch.optim.SGD` with momentum, weight decay, Nesterov
//!   (dampening 0).
//! - [`adam_step`]: `torch.optim.AdamW` (decoupled weight decay).
//!
//! Scalars derived from the hyper-parameters (bias corrections, `1 − β`, the
//! decay factor) are computed once per call in f64 and cast to f32. Each step has
//! a SIMD128 path (4 lanes, scalar tail) and a scalar twin with the same f32
//! operations in the same order: bit-identical in the `simd` build (the relaxed
//! build uses no FMA here either).

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::isa;

/// One SGD step, in place on `params` (and `velocity` when `momentum != 0`):
///
/// ```text
/// g  = grad + weight_decay·p          (term skipped when weight_decay == 0)
/// v  = momentum·v + g                 (only when momentum != 0; else g' = g)
/// g' = nesterov ? g + momentum·v : v
/// p  = p − lr·g'
/// ```
/// Velocity starts at zero, so the first step's `v = g` as in PyTorch. With
/// `momentum == 0` `velocity` is not touched and may be empty.
///
/// # Shapes
/// `params.len() == grads.len()`, and `velocity.len()` too when `momentum != 0`.
#[allow(clippy::too_many_arguments)]
pub fn sgd_step(
    params: &mut [f32],
    grads: &[f32],
    velocity: &mut [f32],
    lr: f32,
    momentum: f32,
    weight_decay: f32,
    nesterov: bool,
) {
    debug_assert_eq!(params.len(), grads.len());
    let mom = momentum != 0.0;
    debug_assert!(!mom || velocity.len() == params.len());
    let mut n = params.len().min(grads.len());
    if mom {
        n = n.min(velocity.len());
    }
    let (p, g, v) = (params.as_mut_ptr(), grads.as_ptr(), velocity.as_mut_ptr());
    let wd = weight_decay != 0.0;
    let h = Sgd {
        lr,
        momentum,
        wd: weight_decay,
    };
    // SAFETY: `p`, `g` (and `v` when momentum is used) are valid for `n` elements.
    unsafe {
        match (wd, mom, nesterov && mom) {
            (false, false, _) => sgd_raw::<false, false, false>(&h, p, g, v, n),
            (true, false, _) => sgd_raw::<true, false, false>(&h, p, g, v, n),
            (false, true, false) => sgd_raw::<false, true, false>(&h, p, g, v, n),
            (true, true, false) => sgd_raw::<true, true, false>(&h, p, g, v, n),
            (false, true, true) => sgd_raw::<false, true, true>(&h, p, g, v, n),
            (true, true, true) => sgd_raw::<true, true, true>(&h, p, g, v, n),
        }
    }
}

struct Sgd {
    lr: f32,
    momentum: f32,
    wd: f32,
}

/// The scalar twin of one SGD element.
#[inline(always)]
unsafe fn sgd_one<const WD: bool, const MOM: bool, const NEST: bool>(
    h: &Sgd,
    p: *mut f32,
    g: *const f32,
    v: *mut f32,
    i: usize,
) {
    let pv = *p.add(i);
    let mut gv = *g.add(i);
    if WD {
        gv += h.wd * pv;
    }
    if MOM {
        let vv = h.momentum * *v.add(i) + gv;
        *v.add(i) = vv;
        gv = if NEST { gv + h.momentum * vv } else { vv };
    }
    *p.add(i) = pv - h.lr * gv;
}

#[inline(always)]
unsafe fn sgd_raw<const WD: bool, const MOM: bool, const NEST: bool>(
    h: &Sgd,
    p: *mut f32,
    g: *const f32,
    v: *mut f32,
    n: usize,
) {
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if isa::use_simd() {
        i = simd::sgd::<WD, MOM, NEST>(h, p, g, v, n);
    }
    while i < n {
        sgd_one::<WD, MOM, NEST>(h, p, g, v, i);
        i += 1;
    }
}

/// One AdamW step (PyTorch `torch.optim.AdamW`), in place on `params`, `m`, `v`.
/// `step` is the 1-based step count *including* this one (`0` is treated as `1`).
///
/// ```text
/// p  = p·(1 − lr·wd)
/// m  = β1·m + (1 − β1)·g
/// v  = β2·v + (1 − β2)·g²
/// p  = p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + eps)
/// ```
/// which is `p −= lr·m̂/(sqrt(v̂) + eps)` with `m̂ = m/(1 − β1^t)`, `v̂ = v/(1 − β2^t)`,
/// arranged as PyTorch's implementation does (bias corrections folded into two
/// scalars, computed once in f64).
///
/// # Shapes
/// `params`, `grads`, `m`, `v` all the same length.
#[allow(clippy::too_many_arguments)]
pub fn adam_step(
    params: &mut [f32],
    grads: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    step: u32,
) {
    debug_assert!(params.len() == grads.len() && grads.len() == m.len() && m.len() == v.len());
    let n = params.len().min(grads.len()).min(m.len()).min(v.len());
    let t = step.clamp(1, i32::MAX as u32) as i32;
    let (lr64, b1, b2) = (lr as f64, beta1 as f64, beta2 as f64);
    let bc1 = 1.0 - b1.powi(t);
    let bc2 = 1.0 - b2.powi(t);
    let h = Adam {
        decay: (1.0 - lr64 * weight_decay as f64) as f32,
        b1: beta1,
        c1: (1.0 - b1) as f32,
        b2: beta2,
        c2: (1.0 - b2) as f32,
        step_size: (lr64 / bc1) as f32,
        bc2_sqrt: bc2.sqrt() as f32,
        eps,
    };
    let (pp, gp, mp, vp) = (
        params.as_mut_ptr(),
        grads.as_ptr(),
        m.as_mut_ptr(),
        v.as_mut_ptr(),
    );
    #[allow(unused_mut)]
    let mut i = 0;
    // SAFETY: all four pointers are valid for `n` elements.
    unsafe {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        if isa::use_simd() {
            i = simd::adam(&h, pp, gp, mp, vp, n);
        }
        while i < n {
            adam_one(&h, pp, gp, mp, vp, i);
            i += 1;
        }
    }
}

struct Adam {
    decay: f32,
    b1: f32,
    c1: f32,
    b2: f32,
    c2: f32,
    step_size: f32,
    bc2_sqrt: f32,
    eps: f32,
}

/// The scalar twin of one AdamW element.
#[inline(always)]
unsafe fn adam_one(h: &Adam, p: *mut f32, g: *const f32, m: *mut f32, v: *mut f32, i: usize) {
    let gv = *g.add(i);
    let pv = *p.add(i) * h.decay;
    let mv = h.b1 * *m.add(i) + h.c1 * gv;
    let vv = h.b2 * *v.add(i) + h.c2 * (gv * gv);
    let denom = vv.sqrt() / h.bc2_sqrt + h.eps;
    *m.add(i) = mv;
    *v.add(i) = vv;
    *p.add(i) = pv - h.step_size * (mv / denom);
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{Adam, Sgd};
    use core::arch::wasm32::*;

    /// Whole groups of 4; returns where the scalar tail starts.
    #[inline(always)]
    pub(super) unsafe fn sgd<const WD: bool, const MOM: bool, const NEST: bool>(
        h: &Sgd,
        p: *mut f32,
        g: *const f32,
        v: *mut f32,
        n: usize,
    ) -> usize {
        let (lr, mom, wd) = (
            f32x4_splat(h.lr),
            f32x4_splat(h.momentum),
            f32x4_splat(h.wd),
        );
        let mut i = 0;
        while i + 4 <= n {
            let pv = v128_load(p.add(i) as *const v128);
            let mut gv = v128_load(g.add(i) as *const v128);
            if WD {
                gv = f32x4_add(gv, f32x4_mul(wd, pv));
            }
            if MOM {
                let vv = f32x4_add(f32x4_mul(mom, v128_load(v.add(i) as *const v128)), gv);
                v128_store(v.add(i) as *mut v128, vv);
                gv = if NEST {
                    f32x4_add(gv, f32x4_mul(mom, vv))
                } else {
                    vv
                };
            }
            v128_store(p.add(i) as *mut v128, f32x4_sub(pv, f32x4_mul(lr, gv)));
            i += 4;
        }
        i
    }

    /// Whole groups of 4; returns where the scalar tail starts.
    #[inline(always)]
    pub(super) unsafe fn adam(
        h: &Adam,
        p: *mut f32,
        g: *const f32,
        m: *mut f32,
        v: *mut f32,
        n: usize,
    ) -> usize {
        let decay = f32x4_splat(h.decay);
        let (b1, c1, b2, c2) = (
            f32x4_splat(h.b1),
            f32x4_splat(h.c1),
            f32x4_splat(h.b2),
            f32x4_splat(h.c2),
        );
        let (step, bc2s, eps) = (
            f32x4_splat(h.step_size),
            f32x4_splat(h.bc2_sqrt),
            f32x4_splat(h.eps),
        );
        let mut i = 0;
        while i + 4 <= n {
            let gv = v128_load(g.add(i) as *const v128);
            let pv = f32x4_mul(v128_load(p.add(i) as *const v128), decay);
            let mv = f32x4_add(
                f32x4_mul(b1, v128_load(m.add(i) as *const v128)),
                f32x4_mul(c1, gv),
            );
            let vv = f32x4_add(
                f32x4_mul(b2, v128_load(v.add(i) as *const v128)),
                f32x4_mul(c2, f32x4_mul(gv, gv)),
            );
            let denom = f32x4_add(f32x4_div(f32x4_sqrt(vv), bc2s), eps);
            v128_store(m.add(i) as *mut v128, mv);
            v128_store(v.add(i) as *mut v128, vv);
            v128_store(
                p.add(i) as *mut v128,
                f32x4_sub(pv, f32x4_mul(step, f32x4_div(mv, denom))),
            );
            i += 4;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(n: usize, seed: u64, scale: f64) -> Vec<f64> {
        let mut st = seed.wrapping_mul(0x9E3779B97F4A7C15).wrapping_add(7);
        (0..n)
            .map(|_| {
                st ^= st << 13;
                st ^= st >> 7;
                st ^= st << 17;
                ((st >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0 * scale
            })
            .collect()
    }

    fn f32s(v: &[f64]) -> Vec<f32> {
        v.iter().map(|&x| x as f32).collect()
    }

    /// |got − want| <= tol · max(|want|, floor): `floor` is the scale of the
    /// operands, below which cancellation makes relative error meaningless.
    fn close(got: &[f32], want: &[f64], tol: f64, floor: f64, what: &str) {
        for (i, (&a, &b)) in got.iter().zip(want).enumerate() {
            assert!(
                (a as f64 - b).abs() <= tol * b.abs().max(floor),
                "{what} [{i}]: {a} vs {b}"
            );
        }
    }

    /// PyTorch SGD (torch/optim/sgd.py, `_single_tensor_sgd`, dampening 0), in f64.
    fn sgd_ref(
        p: &mut [f64],
        g: &[f64],
        buf: &mut Option<Vec<f64>>,
        lr: f64,
        mom: f64,
        wd: f64,
        nesterov: bool,
    ) {
        let mut d: Vec<f64> = g
            .iter()
            .zip(p.iter())
            .map(|(&g, &p)| if wd != 0.0 { g + wd * p } else { g })
            .collect();
        if mom != 0.0 {
            let b = match buf {
                None => {
                    *buf = Some(d.clone());
                    buf.as_mut().unwrap()
                }
                Some(b) => {
                    for (b, &d) in b.iter_mut().zip(&d) {
                        *b = mom * *b + d;
                    }
                    b
                }
            };
            if nesterov {
                for (d, &b) in d.iter_mut().zip(b.iter()) {
                    *d += mom * b;
                }
            } else {
                d.clone_from(b);
            }
        }
        for (p, d) in p.iter_mut().zip(&d) {
            *p -= lr * d;
        }
    }

    #[test]
    fn sgd_matches_pytorch_semantics() {
        for n in [0usize, 1, 3, 4, 5, 7, 8, 9, 17, 1000] {
            for &(mom, wd, nest) in &[
                (0.0, 0.0, false),
                (0.0, 0.01, false),
                (0.9, 0.0, false),
                (0.9, 5e-4, false),
                (0.9, 5e-4, true),
                (0.5, 0.0, true),
            ] {
                let lr = 0.05;
                let mut p64 = vals(n, 1, 1.0);
                let mut p = f32s(&p64);
                let mut vel = if mom != 0.0 { vec![0.0f32; n] } else { vec![] };
                let mut buf = None;
                for step in 0..5 {
                    let g64: Vec<f64> = f32s(&vals(n, 10 + step, 0.5))
                        .iter()
                        .map(|&x| x as f64)
                        .collect();
                    let g = f32s(&g64);
                    sgd_step(&mut p, &g, &mut vel, lr as f32, mom as f32, wd as f32, nest);
                    sgd_ref(
                        &mut p64,
                        &g64,
                        &mut buf,
                        lr,
                        mom as f32 as f64,
                        wd as f32 as f64,
                        nest,
                    );
                    close(
                        &p,
                        &p64,
                        1e-6,
                        1.0,
                        &format!("sgd n={n} mom={mom} wd={wd} nest={nest} step={step}"),
                    );
                }
            }
        }
    }

    #[test]
    fn sgd_plain_is_p_minus_lr_g() {
        let mut p = vec![1.0f32, -2.0, 3.0, 0.5, 7.0];
        let g = vec![0.5f32, 0.25, -1.0, 2.0, 0.0];
        sgd_step(&mut p, &g, &mut [], 0.5, 0.0, 0.0, false);
        assert_eq!(p, vec![0.75, -2.125, 3.5, -0.5, 7.0]);
    }

    /// PyTorch AdamW (torch/optim/adamw.py, single tensor, amsgrad off), in f64.
    #[allow(clippy::too_many_arguments)]
    fn adamw_ref(
        p: &mut [f64],
        g: &[f64],
        m: &mut [f64],
        v: &mut [f64],
        lr: f64,
        b1: f64,
        b2: f64,
        eps: f64,
        wd: f64,
        t: i32,
    ) {
        for i in 0..p.len() {
            p[i] *= 1.0 - lr * wd;
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            let mh = m[i] / (1.0 - b1.powi(t));
            let vh = v[i] / (1.0 - b2.powi(t));
            p[i] -= lr * mh / (vh.sqrt() + eps);
        }
    }

    #[test]
    fn adamw_matches_pytorch_semantics() {
        for n in [0usize, 1, 3, 4, 5, 7, 8, 9, 17, 1000] {
            for &(lr, wd) in &[(1e-3, 0.0), (1e-3, 0.01), (0.01, 0.1)] {
                let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
                let mut p64 = vals(n, 3, 1.0);
                let mut p = f32s(&p64);
                let (mut m, mut v) = (vec![0.0f32; n], vec![0.0f32; n]);
                let (mut m64, mut v64) = (vec![0.0f64; n], vec![0.0f64; n]);
                for step in 1..=10u32 {
                    // Gradients of varying magnitude, including tiny ones (eps matters).
                    let scale = if step % 3 == 0 { 1e-6 } else { 0.3 };
                    let g64: Vec<f64> = f32s(&vals(n, 100 + step as u64, scale))
                        .iter()
                        .map(|&x| x as f64)
                        .collect();
                    let g = f32s(&g64);
                    adam_step(
                        &mut p, &g, &mut m, &mut v, lr as f32, b1, b2, eps, wd as f32, step,
                    );
                    adamw_ref(
                        &mut p64,
                        &g64,
                        &mut m64,
                        &mut v64,
                        lr as f32 as f64,
                        b1 as f64,
                        b2 as f64,
                        eps as f64,
                        wd as f32 as f64,
                        step as i32,
                    );
                    close(
                        &p,
                        &p64,
                        1e-6,
                        1.0,
                        &format!("adam p n={n} lr={lr} wd={wd} step={step}"),
                    );
                    close(&m, &m64, 1e-6, 0.3, "adam m");
                    close(&v, &v64, 1e-6, 0.1, "adam v");
                }
            }
        }
    }

    #[test]
    fn adam_first_step_is_lr_sign() {
        // With zero state, the first AdamW step moves each weight by ~lr·sign(g).
        let mut p = vec![0.0f32; 6];
        let g = vec![1.0f32, -2.0, 0.5, -0.001, 3.0, 10.0];
        let (mut m, mut v) = (vec![0.0; 6], vec![0.0; 6]);
        adam_step(&mut p, &g, &mut m, &mut v, 0.01, 0.9, 0.999, 1e-8, 0.0, 1);
        for (pi, gi) in p.iter().zip(&g) {
            assert!((pi + 0.01 * gi.signum()).abs() < 1e-6, "{pi}");
        }
    }
}
