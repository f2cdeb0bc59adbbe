//! Element-wise activations and their backward passes.
//!
//! Forward, per element:
//! - `Identity`: `y = x`.
//! - `Relu`: `y = x > 0 ? x : +0`, and `NaN` passes through unchanged (`-inf → +0`).
//! - `LeakyRelu` (`alpha` in `[0, 1)`): `y = x > 0 ? x : alpha·x` (`NaN` propagates).
//! - `Tanh`, `Sigmoid`: [`crate::math`]'s `tanh_f32` / `sigmoid_f32` and SIMD twins.
//!
//! Backward uses the forward **output** `y` only (so the forward may run in place
//! and the input need not be kept), `dx = dy · f'(y)`:
//! identity `dy`; relu `y > 0 ? dy : +0`; leaky relu `y > 0 ? dy : alpha·dy`
//! (valid because `alpha ≥ 0` makes `y > 0 ⇔ x > 0`); tanh `dy·(1 − y·y)`;
//! sigmoid `dy·(y·(1 − y))`.
//!
//! Every kernel has a SIMD128 path (4 lanes, scalar tail) and a scalar twin with
//! the same operations in the same order: bit-identical in the `simd` build.
//! Native x86-64: `act/avx2.rs` and `act/avx512.rs`, chosen by `isa::active()`
//! (bit-identical to the twin except tanh and sigmoid forward, whose fused
//! polynomials differ by rounding: see `math/avx2.rs`).
//! `_inplace` variants exist because Rust slices cannot alias.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::isa;
use crate::math::{sigmoid_f32, tanh_f32};

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

/// Activation kind; the `u32` values are the wasm ABI.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Identity = 0,
    Relu = 1,
    LeakyRelu = 2,
    Tanh = 3,
    Sigmoid = 4,
}

impl Activation {
    pub fn from_u32(v: u32) -> Option<Activation> {
        Some(match v {
            0 => Activation::Identity,
            1 => Activation::Relu,
            2 => Activation::LeakyRelu,
            3 => Activation::Tanh,
            4 => Activation::Sigmoid,
            _ => return None,
        })
    }
}

// ---- scalar element functions (the twins' definition) ----

#[inline(always)]
fn relu1(x: f32) -> f32 {
    // `x != x` is NaN: keep it, bits and all.
    #[allow(clippy::eq_op)]
    if x > 0.0 || x != x {
        x
    } else {
        0.0
    }
}

#[inline(always)]
fn leaky1(alpha: f32, x: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        alpha * x
    }
}

#[inline(always)]
fn relu_back1(y: f32, dy: f32) -> f32 {
    if y > 0.0 {
        dy
    } else {
        0.0
    }
}

#[inline(always)]
fn leaky_back1(alpha: f32, y: f32, dy: f32) -> f32 {
    if y > 0.0 {
        dy
    } else {
        alpha * dy
    }
}

#[inline(always)]
fn tanh_back1(y: f32, dy: f32) -> f32 {
    dy * (1.0 - y * y)
}

#[inline(always)]
fn sigmoid_back1(y: f32, dy: f32) -> f32 {
    dy * (y * (1.0 - y))
}

// ---- loops over raw pointers so one body serves the in-place variants ----

/// `dst[i] = f(src[i])` for `i < n`; `src` may equal `dst`.
#[inline(always)]
unsafe fn map1(src: *const f32, dst: *mut f32, n: usize, f: impl Fn(f32) -> f32) {
    for i in 0..n {
        *dst.add(i) = f(*src.add(i));
    }
}

/// `dst[i] = f(a[i], b[i])` for `i < n`; `dst` may equal `a` or `b`.
#[inline(always)]
unsafe fn map2(a: *const f32, b: *const f32, dst: *mut f32, n: usize, f: impl Fn(f32, f32) -> f32) {
    for i in 0..n {
        *dst.add(i) = f(*a.add(i), *b.add(i));
    }
}

unsafe fn forward_raw(kind: Activation, alpha: f32, src: *const f32, dst: *mut f32, n: usize) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if isa::use_simd() {
        return simd::forward(kind, alpha, src, dst, n);
    }
    // SAFETY (both arms): `isa::active()` names an ISA only when the CPU has it.
    #[cfg(target_arch = "x86_64")]
    match crate::isa::active() {
        crate::isa::Isa::Avx512 => return avx512::forward(kind, alpha, src, dst, n),
        crate::isa::Isa::Avx2 => return avx2::forward(kind, alpha, src, dst, n),
        _ => {}
    }
    match kind {
        Activation::Identity => {
            if !core::ptr::eq(src, dst) {
                core::ptr::copy(src, dst, n)
            }
        }
        Activation::Relu => map1(src, dst, n, relu1),
        Activation::LeakyRelu => map1(src, dst, n, |x| leaky1(alpha, x)),
        Activation::Tanh => map1(src, dst, n, tanh_f32),
        Activation::Sigmoid => map1(src, dst, n, sigmoid_f32),
    }
}

unsafe fn backward_raw(
    kind: Activation,
    alpha: f32,
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
    n: usize,
) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if isa::use_simd() {
        return simd::backward(kind, alpha, y, dy, dx, n);
    }
    // SAFETY (both arms): `isa::active()` names an ISA only when the CPU has it.
    #[cfg(target_arch = "x86_64")]
    match crate::isa::active() {
        crate::isa::Isa::Avx512 => return avx512::backward(kind, alpha, y, dy, dx, n),
        crate::isa::Isa::Avx2 => return avx2::backward(kind, alpha, y, dy, dx, n),
        _ => {}
    }
    match kind {
        Activation::Identity => {
            if !core::ptr::eq(dy, dx) {
                core::ptr::copy(dy, dx, n)
            }
        }
        Activation::Relu => map2(y, dy, dx, n, relu_back1),
        Activation::LeakyRelu => map2(y, dy, dx, n, |y, dy| leaky_back1(alpha, y, dy)),
        Activation::Tanh => map2(y, dy, dx, n, tanh_back1),
        Activation::Sigmoid => map2(y, dy, dx, n, sigmoid_back1),
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::*;
    use crate::math::{sigmoid_f32x4, tanh_f32x4};
    use core::arch::wasm32::*;

    #[inline(always)]
    unsafe fn map1(
        src: *const f32,
        dst: *mut f32,
        n: usize,
        f4: impl Fn(v128) -> v128,
        f1: impl Fn(f32) -> f32,
    ) {
        let mut i = 0;
        while i + 4 <= n {
            v128_store(
                dst.add(i) as *mut v128,
                f4(v128_load(src.add(i) as *const v128)),
            );
            i += 4;
        }
        super::map1(src.add(i), dst.add(i), n - i, f1);
    }

    #[inline(always)]
    unsafe fn map2(
        a: *const f32,
        b: *const f32,
        dst: *mut f32,
        n: usize,
        f4: impl Fn(v128, v128) -> v128,
        f1: impl Fn(f32, f32) -> f32,
    ) {
        let mut i = 0;
        while i + 4 <= n {
            let va = v128_load(a.add(i) as *const v128);
            let vb = v128_load(b.add(i) as *const v128);
            v128_store(dst.add(i) as *mut v128, f4(va, vb));
            i += 4;
        }
        super::map2(a.add(i), b.add(i), dst.add(i), n - i, f1);
    }

    pub(super) unsafe fn forward(
        kind: Activation,
        alpha: f32,
        src: *const f32,
        dst: *mut f32,
        n: usize,
    ) {
        let zero = f32x4_splat(0.0);
        let va = f32x4_splat(alpha);
        match kind {
            Activation::Identity => {
                if !core::ptr::eq(src, dst) {
                    core::ptr::copy(src, dst, n)
                }
            }
            Activation::Relu => map1(
                src,
                dst,
                n,
                |x| v128_and(x, v128_or(f32x4_gt(x, zero), f32x4_ne(x, x))),
                relu1,
            ),
            Activation::LeakyRelu => map1(
                src,
                dst,
                n,
                |x| v128_bitselect(x, f32x4_mul(va, x), f32x4_gt(x, zero)),
                |x| leaky1(alpha, x),
            ),
            Activation::Tanh => map1(src, dst, n, tanh_f32x4, tanh_f32),
            Activation::Sigmoid => map1(src, dst, n, sigmoid_f32x4, sigmoid_f32),
        }
    }

    pub(super) unsafe fn backward(
        kind: Activation,
        alpha: f32,
        y: *const f32,
        dy: *const f32,
        dx: *mut f32,
        n: usize,
    ) {
        let zero = f32x4_splat(0.0);
        let one = f32x4_splat(1.0);
        let va = f32x4_splat(alpha);
        match kind {
            Activation::Identity => {
                if !core::ptr::eq(dy, dx) {
                    core::ptr::copy(dy, dx, n)
                }
            }
            Activation::Relu => map2(
                y,
                dy,
                dx,
                n,
                |y, dy| v128_and(dy, f32x4_gt(y, zero)),
                relu_back1,
            ),
            Activation::LeakyRelu => map2(
                y,
                dy,
                dx,
                n,
                |y, dy| v128_bitselect(dy, f32x4_mul(va, dy), f32x4_gt(y, zero)),
                |y, dy| leaky_back1(alpha, y, dy),
            ),
            Activation::Tanh => map2(
                y,
                dy,
                dx,
                n,
                |y, dy| f32x4_mul(dy, f32x4_sub(one, f32x4_mul(y, y))),
                tanh_back1,
            ),
            Activation::Sigmoid => map2(
                y,
                dy,
                dx,
                n,
                |y, dy| f32x4_mul(dy, f32x4_mul(y, f32x4_sub(one, y))),
                sigmoid_back1,
            ),
        }
    }
}

/// `y = f(x)` element-wise.
///
/// # Shapes
/// `x.len() == y.len()` (checked by the caller; only the common prefix is written otherwise).
pub fn activation(kind: Activation, alpha: f32, x: &[f32], y: &mut [f32]) {
    debug_assert_eq!(x.len(), y.len());
    let n = x.len().min(y.len());
    // SAFETY: both pointers are valid for `n` elements; distinct slices never overlap.
    unsafe { forward_par(kind, alpha, x.as_ptr(), y.as_mut_ptr(), n) }
}

/// `xy = f(xy)` element-wise, in place.
pub fn activation_inplace(kind: Activation, alpha: f32, xy: &mut [f32]) {
    let p = xy.as_mut_ptr();
    // SAFETY: `p` is valid for `xy.len()` elements; each element is read before it is written.
    unsafe { forward_par(kind, alpha, p, p, xy.len()) }
}

/// `forward_raw`, natively cut into element ranges across threads (each
/// element is computed alone: the same bits for any thread count).
#[inline(always)]
unsafe fn forward_par(kind: Activation, alpha: f32, src: *const f32, dst: *mut f32, n: usize) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use crate::threads::{split, SharedMut, PAR_ELEMS};
        let (s, d) = (SharedMut(src as *mut f32), SharedMut(dst));
        // SAFETY: every part reads and writes its own range of the caller's buffers.
        split(n, 16, PAR_ELEMS, &|lo, hi| unsafe {
            forward_raw(kind, alpha, s.ptr().add(lo), d.ptr().add(lo), hi - lo)
        });
    }
    #[cfg(target_arch = "wasm32")]
    forward_raw(kind, alpha, src, dst, n)
}

/// `backward_raw`, natively cut into element ranges across threads.
#[inline(always)]
unsafe fn backward_par(
    kind: Activation,
    alpha: f32,
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
    n: usize,
) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use crate::threads::{split, SharedMut, PAR_ELEMS};
        let (y, dy, dx) = (
            SharedMut(y as *mut f32),
            SharedMut(dy as *mut f32),
            SharedMut(dx),
        );
        // SAFETY: every part reads and writes its own range of the caller's buffers.
        split(n, 16, PAR_ELEMS, &|lo, hi| unsafe {
            backward_raw(
                kind,
                alpha,
                y.ptr().add(lo),
                dy.ptr().add(lo),
                dx.ptr().add(lo),
                hi - lo,
            )
        });
    }
    #[cfg(target_arch = "wasm32")]
    backward_raw(kind, alpha, y, dy, dx, n)
}

/// `dx = dy · f'(y)` element-wise, from the forward output `y`. `dx` is overwritten.
///
/// # Shapes
/// `y.len() == dy.len() == dx.len()`.
pub fn activation_backward(kind: Activation, alpha: f32, y: &[f32], dy: &[f32], dx: &mut [f32]) {
    debug_assert!(y.len() == dy.len() && dy.len() == dx.len());
    let n = y.len().min(dy.len()).min(dx.len());
    // SAFETY: all pointers valid for `n` elements.
    unsafe { backward_par(kind, alpha, y.as_ptr(), dy.as_ptr(), dx.as_mut_ptr(), n) }
}

/// `dy_dx = dy_dx · f'(y)` element-wise, in place (the upstream gradient becomes dx).
pub fn activation_backward_inplace(kind: Activation, alpha: f32, y: &[f32], dy_dx: &mut [f32]) {
    debug_assert_eq!(y.len(), dy_dx.len());
    let n = y.len().min(dy_dx.len());
    let p = dy_dx.as_mut_ptr();
    // SAFETY: `p` valid for `n` elements; each element is read before it is written.
    unsafe { backward_par(kind, alpha, y.as_ptr(), p, p, n) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [Activation; 5] = [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Tanh,
        Activation::Sigmoid,
    ];

    fn ref_fwd(kind: Activation, alpha: f64, x: f64) -> f64 {
        match kind {
            Activation::Identity => x,
            Activation::Relu => {
                if x > 0.0 {
                    x
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu => {
                if x > 0.0 {
                    x
                } else {
                    alpha * x
                }
            }
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        }
    }

    fn inputs(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as f32 * 0.7312).sin() * 6.0) + if i % 5 == 0 { 0.0 } else { 0.01 })
            .collect()
    }

    #[test]
    fn from_u32_round_trips() {
        for k in KINDS {
            assert_eq!(Activation::from_u32(k as u32), Some(k));
        }
        assert_eq!(Activation::from_u32(5), None);
    }

    #[test]
    fn forward_matches_f64_and_inplace_matches() {
        crate::testing::each_isa(forward_matches_f64_on);
    }

    fn forward_matches_f64_on(isa: crate::isa::Isa) {
        let alpha = 0.1f32;
        for n in crate::testing::LENGTHS {
            let x = inputs(n);
            for k in KINDS {
                let mut y = vec![f32::NAN; n];
                activation(k, alpha, &x, &mut y);
                for i in 0..n {
                    let want = ref_fwd(k, alpha as f64, x[i] as f64);
                    assert!(
                        (y[i] as f64 - want).abs() <= 2e-7 * want.abs().max(1.0),
                        "{isa:?} {k:?} x={} y={} want={want}",
                        x[i],
                        y[i]
                    );
                }
                let mut xy = x.clone();
                activation_inplace(k, alpha, &mut xy);
                assert_eq!(bits(&xy), bits(&y), "{isa:?} {k:?} n={n}");
            }
        }
    }

    use crate::testing::bits;

    #[test]
    fn backward_matches_derivative_and_inplace_matches() {
        crate::testing::each_isa(backward_matches_derivative_on);
    }

    fn backward_matches_derivative_on(isa: crate::isa::Isa) {
        let alpha = 0.2f32;
        for n in crate::testing::LENGTHS {
            let x = inputs(n);
            let dy: Vec<f32> = (0..n).map(|i| 1.0 + (i as f32 * 0.37).cos()).collect();
            for k in KINDS {
                let mut y = vec![0.0; n];
                activation(k, alpha, &x, &mut y);
                let mut dx = vec![f32::NAN; n];
                activation_backward(k, alpha, &y, &dy, &mut dx);
                for i in 0..n {
                    // Derivative from x in f64 (central difference would be noisier).
                    let xd = x[i] as f64;
                    let d = match k {
                        Activation::Identity => 1.0,
                        Activation::Relu => (xd > 0.0) as i32 as f64,
                        Activation::LeakyRelu => {
                            if xd > 0.0 {
                                1.0
                            } else {
                                alpha as f64
                            }
                        }
                        Activation::Tanh => 1.0 - xd.tanh().powi(2),
                        Activation::Sigmoid => {
                            let s = 1.0 / (1.0 + (-xd).exp());
                            s * (1.0 - s)
                        }
                    };
                    let want = dy[i] as f64 * d;
                    assert!(
                        (dx[i] as f64 - want).abs() <= 1e-6,
                        "{isa:?} {k:?} x={} dx={} want={want}",
                        x[i],
                        dx[i]
                    );
                }
                let mut g = dy.clone();
                activation_backward_inplace(k, alpha, &y, &mut g);
                assert_eq!(bits(&g), bits(&dx), "{isa:?} {k:?} n={n}");
            }
        }
    }

    #[test]
    fn special_values() {
        crate::testing::each_isa(|_| special_values_on());
    }

    fn special_values_on() {
        let x = [f32::NAN, f32::NEG_INFINITY, f32::INFINITY, -0.0, 0.0, -3.0];
        let mut y = [0.0; 6];
        activation(Activation::Relu, 0.0, &x, &mut y);
        assert!(y[0].is_nan());
        assert_eq!(bits(&y[1..]), bits(&[0.0, f32::INFINITY, 0.0, 0.0, 0.0]));
        activation(Activation::LeakyRelu, 0.5, &x, &mut y);
        assert!(y[0].is_nan());
        assert_eq!(
            &y[1..],
            &[f32::NEG_INFINITY, f32::INFINITY, -0.0, 0.0, -1.5]
        );
        activation(Activation::Tanh, 0.0, &x, &mut y);
        assert!(y[0].is_nan());
        assert_eq!(&y[1..3], &[-1.0, 1.0]);
        activation(Activation::Sigmoid, 0.0, &x, &mut y);
        assert!(y[0].is_nan());
        assert_eq!(y[2], 1.0);
    }

    /// Inputs that reach every edge: tanh's clamp at 9 and where it reaches 1,
    /// exp's clamps, ±0, ±inf, NaN, tiny and huge values.
    fn twin_inputs(n: usize, seed: &mut u64) -> Vec<f32> {
        let special = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            -0.0,
            9.0,
            -9.0,
            8.664_514,
            1e-30,
            -1e-30,
            50.0,
            -50.0,
            88.5,
            -88.5,
            200.0,
            -200.0,
        ];
        crate::testing::rnd(n, seed)
            .into_iter()
            .enumerate()
            .map(|(i, v)| match i % 7 {
                0 => special[(i / 7) % special.len()],
                1 => v * 12.0,
                _ => v * 1.5,
            })
            .collect()
    }

    /// Every native SIMD path against the scalar twin: lengths below, at and above
    /// the vector widths, unaligned starts, in place. Bit-identical except tanh and
    /// sigmoid forward (fused polynomial steps): there the two differ by at most 2
    /// ulp (tanh; every float measured 2, `native_tanh_sweep`) and 4 ulp (sigmoid,
    /// for tiny outputs; a sweep of 2·10⁶ points over [-30, 30] measured 4), and a
    /// NaN lands exactly where the twin has one.
    #[test]
    fn native_simd_vs_scalar_twin() {
        let mut seed = 11u64;
        for n in crate::testing::LENGTHS {
            for off in [0usize, 1, 3] {
                let x = twin_inputs(n + off, &mut seed);
                let y0 = crate::testing::rnd(n + off, &mut seed);
                let dy = crate::testing::rnd(n + off, &mut seed);
                let (x, y0, dy) = (&x[off..], &y0[off..], &dy[off..]);
                for k in KINDS {
                    let alpha = 0.3f32;
                    let fwd = |x: &[f32]| {
                        let mut y = vec![f32::NAN; n];
                        activation(k, alpha, x, &mut y);
                        let mut xy = x.to_vec();
                        activation_inplace(k, alpha, &mut xy);
                        assert_eq!(bits(&xy), bits(&y), "{k:?} in place");
                        y
                    };
                    let bwd = |y: &[f32], dy: &[f32]| {
                        let mut dx = vec![f32::NAN; n];
                        activation_backward(k, alpha, y, dy, &mut dx);
                        let mut g = dy.to_vec();
                        activation_backward_inplace(k, alpha, y, &mut g);
                        assert_eq!(bits(&g), bits(&dx), "{k:?} in place");
                        dx
                    };
                    let (ys, dxs) = crate::testing::scalar(|| (fwd(x), bwd(y0, dy)));
                    crate::testing::each_isa(|isa| {
                        let tag = format!("{isa:?} {k:?} n={n} off={off}");
                        let y = fwd(x);
                        if matches!(k, Activation::Tanh | Activation::Sigmoid) {
                            let ulps = if k == Activation::Tanh { 2 } else { 4 };
                            for i in 0..n {
                                let (g, s) = (y[i], ys[i]);
                                assert_eq!(g.is_nan(), s.is_nan(), "{tag} x={}", x[i]);
                                let d = (g.to_bits() as i64 - s.to_bits() as i64).abs();
                                assert!(
                                    g.is_nan() || d <= ulps,
                                    "{tag} x={}: {g} vs {s} ({d} ulp)",
                                    x[i]
                                );
                            }
                        } else {
                            assert_eq!(bits(&y), bits(&ys), "{tag} forward");
                        }
                        assert_eq!(bits(&bwd(y0, dy)), bits(&dxs), "{tag} backward");
                    });
                }
            }
        }
    }

    /// Distance in ulps between two floats of the same sign (`-0` and `+0` are 0
    /// apart: the caller checks the sign bit itself).
    fn ulps(a: f32, b: f32) -> i64 {
        let key = |v: f32| {
            let b = v.to_bits() as i64;
            if b & 0x8000_0000 != 0 {
                -(b & 0x7FFF_FFFF)
            } else {
                b
            }
        };
        (key(a) - key(b)).abs()
    }

    /// `|got − want|` in ulps of the f32 at `want` (the subnormal spacing below 2⁻¹²⁶).
    fn ulps_f64(got: f32, want: f64) -> f64 {
        let e = ((want.abs().to_bits() >> 52) as i64 - 1023).max(-126);
        (got as f64 - want).abs() / 2f64.powi(e as i32 - 23)
    }

    /// Native tanh against the scalar twin and f64 over the whole f32 range:
    /// every 61st bit pattern (odd, so every low mantissa bit is hit; both signs,
    /// subnormals, ±inf, NaNs) and the edges of the twin's clamp and of its
    /// rounding to 1. NaN where the twin has one, the twin's sign bit, at most 2
    /// ulp from the twin (its steps, some fused) and under 2.5 ulp from f64 (the
    /// twin: 2.46 here; over every float 2.53, native 2.46).
    #[test]
    fn native_tanh_sweep() {
        use crate::isa::{native_isas, pin_thread, Isa};
        let stride: u64 = if cfg!(debug_assertions) { 6151 } else { 61 };
        let special = [
            0.0f32,
            -0.0,
            f32::from_bits(1),
            f32::MIN_POSITIVE,
            8.664_514,
            9.0,
            f32::MAX,
            f32::INFINITY,
            f32::NAN,
        ];
        let isas: Vec<Isa> = native_isas()
            .into_iter()
            .filter(|&i| i != Isa::Scalar)
            .collect();
        // Per ISA: max ulp from the twin and where, from f64 and where, and how
        // many inputs are 0, 1, 2, more ulp from the twin.
        let mut worst = vec![(0i64, 0f32, 0f64, 0f32, [0usize; 4]); isas.len()];
        let (mut twin_f64, mut twin_at) = (0f64, 0f32);
        // In chunks: the whole sweep is 7·10⁷ floats.
        let chunk = 1u64 << 16;
        let mut y = vec![0.0; chunk as usize + 2 * special.len()];
        for c in 0..=(u32::MAX as u64 / stride / chunk) {
            let lo = c * chunk * stride;
            let mut xs: Vec<f32> = (lo..(lo + chunk * stride).min(1 << 32))
                .step_by(stride as usize)
                .map(|u| f32::from_bits(u as u32))
                .collect();
            if c == 0 {
                xs.extend(special.iter().flat_map(|&x| [x, -x]));
            }
            let want: Vec<f64> = xs.iter().map(|&x| (x as f64).tanh()).collect();
            let twin: Vec<f32> = xs.iter().map(|&x| tanh_f32(x)).collect();
            for ((&x, &s), &w) in xs.iter().zip(&twin).zip(&want) {
                if !x.is_nan() && ulps_f64(s, w) > twin_f64 {
                    (twin_f64, twin_at) = (ulps_f64(s, w), x);
                }
            }
            for (&isa, w) in isas.iter().zip(&mut worst) {
                assert!(pin_thread(Some(isa)));
                let y = &mut y[..xs.len()];
                activation(Activation::Tanh, 0.0, &xs, y);
                for (((&x, &g), &s), &want) in xs.iter().zip(&*y).zip(&twin).zip(&want) {
                    assert_eq!(g.is_nan(), s.is_nan(), "{isa:?} x={x:e}");
                    if s.is_nan() {
                        continue;
                    }
                    assert_eq!(
                        g.is_sign_negative(),
                        s.is_sign_negative(),
                        "{isa:?} x={x:e}"
                    );
                    let d = ulps(g, s);
                    w.4[d.min(3) as usize] += 1;
                    if d > w.0 {
                        (w.0, w.1) = (d, x);
                    }
                    let e = ulps_f64(g, want);
                    if e > w.2 {
                        (w.2, w.3) = (e, x);
                    }
                }
            }
        }
        pin_thread(None);
        println!("twin: max {twin_f64:.3} ulp from f64 (at {twin_at:e})");
        for (isa, &(d, at, e, at_e, hist)) in isas.iter().zip(&worst) {
            println!(
                "{isa:?}: max {d} ulp from the twin (at {at:e}; 0, 1, 2, more ulp: {hist:?}), {e:.3} ulp from f64 (at {at_e:e})"
            );
            assert!(d <= 2, "{isa:?}: {d} ulp from the twin at x={at:e}");
            assert!(e < 2.5, "{isa:?}: {e} ulp from f64 at x={at_e:e}");
        }
    }

    /// Native tanh may step down by 2 ulp as x grows, as the twin does (math.rs:
    /// its `em + 2` rounds), no more: the largest step below the value at any
    /// smaller input bounds what pooling before tanh changes (Classifier.logits).
    /// Every 5th float of [0, 9] (tanh is odd; from 9 on it is 1).
    #[test]
    fn native_tanh_monotone() {
        use crate::isa::{native_isas, pin_thread, Isa};
        let step = if cfg!(debug_assertions) { 97 } else { 5 };
        let top_bits = 9f32.to_bits();
        let chunk = 1u32 << 16;
        let mut y = vec![0.0; chunk as usize];
        for isa in native_isas().into_iter().filter(|&i| i != Isa::Scalar) {
            assert!(pin_thread(Some(isa)));
            let (mut top, mut drop, mut at) = (0u32, 0u32, 0f32);
            let mut u = 0u32;
            while u <= top_bits {
                let xs: Vec<f32> = (u..=top_bits)
                    .step_by(step)
                    .take(chunk as usize)
                    .map(f32::from_bits)
                    .collect();
                u = xs.last().unwrap().to_bits() + step as u32;
                let y = &mut y[..xs.len()];
                activation(Activation::Tanh, 0.0, &xs, y);
                for (&x, &v) in xs.iter().zip(&*y) {
                    let b = v.to_bits();
                    if b >= top {
                        top = b;
                    } else if top - b > drop {
                        (drop, at) = (top - b, x);
                    }
                }
            }
            println!("{isa:?}: at most {drop} ulp below the value at a smaller input (at {at})");
            assert!(drop <= 2, "{isa:?}: {drop} ulp at x={at}");
        }
        pin_thread(None);
    }
}
