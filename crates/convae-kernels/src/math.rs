//! `exp`, `tanh` and `sigmoid` for f32 without libm, as scalar/SIMD twins.
//!
//! Each function exists twice: `*_f32(x: f32) -> f32` and, in SIMD builds,
//! `*_f32x4(v: v128) -> v128`. The twins perform the same IEEE operations in the
//! same order (same clamp, same range reduction, same polynomial), so in the
//! `simd` build they agree bit for bit. In the `relaxed` build the polynomials go
//! through one helper, [`madd`], which becomes `f32x4_relaxed_madd` (an FMA where
//! the CPU has one): there the SIMD results may differ from the scalar twin by
//! rounding, nothing else.
//!
//! # exp
//! Cephes `expf`: clamp `x` to `[EXP_LO, EXP_HI]`, `n = round(x·log2 e)`
//! (round-half-even via the 1.5·2²³ trick, so `n`'s integer value is read off the
//! float's bits), `r = x − n·C1 − n·C2` (`ln 2` split in an exact high part and a
//! low part), `e^r ≈ 1 + r + r²·P(r)` with Cephes' degree-5 `P`, then multiply by
//! `2ⁿ` built in the exponent bits. `EXP_HI` is `≈ 127.5·ln 2` so `2ⁿ` is always a
//! normal float (`n ∈ [-126, 127]`): finite input never gives `inf`, the largest
//! output is `exp(88.376) ≈ 2.43e38` and the smallest `exp(-87.3) ≈ 1.25e-38`.
//! `NaN` in gives that same `NaN` out (selected at the end, so it does not depend
//! on how the clamp treats NaN); `±inf` in gives the clamped values.
//!
//! # tanh
//! One branch through `expm1`: `a = min(|x|, TANH_HI)`, `t = 2a`, the range
//! reduction of exp (`n = round(t·log2 e)`, `r = t − n·ln 2` with one constant:
//! see `LN2`), `e^r − 1 ≈ r + r²·E(r)` (degree-4 `E`), then
//! `em = e^t − 1 = 2ⁿ·(e^r − 1) + (2ⁿ − 1)` and `tanh a = em / (em + 2)`. Near 0
//! `n = 0` and `em` is `r + r²·E(r)` itself, so the relative accuracy holds down to
//! the subnormals (where the result is exactly `x`) without a second polynomial or
//! a select. The result gets `x`'s sign bit (so `tanh(−0) = −0`); `±inf` gives
//! `±1`; NaN is put back at the end as in exp. It is not monotone to the last bit:
//! the rounding of `em + 2` can put a value up to 2 ulp below that of a smaller
//! input.
//!
//! # sigmoid
//! `1 / (1 + exp(−x))`.
//!
//! # Accuracy
//! Host test `accuracy_report` (`cargo test --release -p convae-kernels
//! accuracy_report -- --nocapture`), scalar twin against f64 std, uniform sweeps
//! of 4·10⁶ points plus every 97th f32 bit pattern (both signs; every 13th for
//! tanh below 0.625; the debug build thins all of these ten-fold):
//! - exp on `[EXP_LO, EXP_HI]`: max relative error 8.0e-8.
//! - tanh on `[-20, 20]`: max absolute error 8.9e-8, max relative 1.7e-7
//!   (1.8e-7 relative for `|x| < 0.625`, down to `1e-30`; exact on every 97th
//!   float below, down to the smallest subnormal). The two-branch tanh this
//!   replaced measured 7.6e-8, 1.4e-7 and 8.3e-8. In ulps, over every float:
//!   at most 2.53 from f64; the native AVX2 and AVX-512 tanh (these steps,
//!   some fused: `math/avx2.rs`) 2.46, and at most 2 from this twin
//!   (`act::tests::native_tanh_sweep` checks every 61st).
//! - sigmoid on `[-40, 40]` and `|x| <= 90`: max absolute error 8.9e-8, max
//!   relative 1.5e-7 on `[-20, 20]`. Below `-EXP_HI` the clamp makes sigmoid's
//!   *relative* error large (it returns ≈ 4e-39 instead of something smaller);
//!   its absolute error stays below 5e-39.

// Cephes' constants as published (more digits than an f32 holds).
#![allow(clippy::excessive_precision)]

/// Lower clamp of `exp`'s argument: `exp(EXP_LO)` is still a normal float.
pub const EXP_LO: f32 = -87.3;
/// Upper clamp of `exp`'s argument: `round(EXP_HI·log2 e) = 127`, so `2ⁿ` is normal.
pub const EXP_HI: f32 = 88.376;

const LOG2E: f32 = core::f32::consts::LOG2_E;
/// 1.5·2²³: adding it rounds a float of magnitude < 2²² to an integer (half to even)
/// and leaves that integer in the low mantissa bits.
const ROUND_MAGIC: f32 = 12582912.0;
const ROUND_MAGIC_BITS: i32 = 0x4B40_0000;
/// ln 2 = C1 + C2, C1 exact in 9 bits so `n·C1` is exact.
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

const EXP_P0: f32 = 1.9875691500e-4;
const EXP_P1: f32 = 1.3981999507e-3;
const EXP_P2: f32 = 8.3334519073e-3;
const EXP_P3: f32 = 4.1665795894e-2;
const EXP_P4: f32 = 1.6666665459e-1;
const EXP_P5: f32 = 5.0000001201e-1;

/// Upper clamp of tanh's `|x|`: from `|x| ≈ 8.67` on `em / (em + 2)` rounds to 1
/// already, so the clamp changes no result; it keeps `2ⁿ` normal and `inf` finite.
const TANH_HI: f32 = 9.0;
/// ln 2 in one f32 (`0x3F317218`, 21 significant bits), where exp splits it in two:
/// tanh's `n` is at most 26, `n·LN2` is exact up to `n = 12`, and from 13 on
/// (`e^t > 5000`) its rounding moves tanh by under 1e-9. The error of `LN2` itself
/// is under `2e-9·n` in `r`. So one multiply and one subtract fewer; against the
/// split constant the maximum errors in the module doc move by under 1e-9.
const LN2: f32 = core::f32::consts::LN_2;
// `(e^r − 1 − r)/r² ≈ 1/2 + r·(E1 + r·(E2 + r·(E3 + r·E4)))` on `|r| ≤ ln2/2`:
// degree 4 where exp has Cephes' degree 5, one multiply-add fewer. A least-squares
// fit of the relative error over 2000 Chebyshev nodes with the constant term held
// at 1/2, so `e^r − 1 = r + r²/2 + O(r³)` near 0. Its error, at most 2.3e-8
// relative to `e^r − 1` (at `|r| = ln2/2`), hides under tanh's roundings: over
// every float of `[1e-38, 30]` tanh's largest error is 2.53 ulp with `E`, 2.42
// with Cephes' `P`.
const TANH_E1: f32 = 1.6666577452e-1;
const TANH_E2: f32 = 4.1666749771e-2;
const TANH_E3: f32 = 8.3631256528e-3;
const TANH_E4: f32 = 1.3906667796e-3;

/// `e^x` for f32, scalar twin of [`exp_f32x4`].
#[inline]
pub fn exp_f32(x: f32) -> f32 {
    // Clamp. What a NaN does here is left open on purpose: in the relaxed build
    // LLVM may turn this pattern (and wasm's `pmax`/`pmin`) into
    // `f32x4.relaxed_max/min` when it vectorizes, which may drop a NaN. The NaN
    // is put back at the end instead, identically in both twins.
    let x0 = x;
    let x = if x < EXP_LO { EXP_LO } else { x };
    let x = if EXP_HI < x { EXP_HI } else { x };
    let t = x * LOG2E + ROUND_MAGIC;
    let n = t - ROUND_MAGIC;
    let ni = (t.to_bits() as i32).wrapping_sub(ROUND_MAGIC_BITS);
    let r = x - n * LN2_HI;
    let r = r - n * LN2_LO;
    let mut p = EXP_P0;
    p = p * r + EXP_P1;
    p = p * r + EXP_P2;
    p = p * r + EXP_P3;
    p = p * r + EXP_P4;
    p = p * r + EXP_P5;
    let rr = r * r;
    let y = p * rr + r;
    let y = y + 1.0;
    let scale = f32::from_bits((ni.wrapping_add(127) as u32) << 23);
    let y = y * scale;
    #[allow(clippy::eq_op)]
    if x0 != x0 {
        x0
    } else {
        y
    }
}

/// `tanh(x)` for f32, scalar twin of [`tanh_f32x4`].
#[inline]
pub fn tanh_f32(x: f32) -> f32 {
    let a = f32::from_bits(x.to_bits() & 0x7FFF_FFFF);
    // Clamp; a NaN is put back at the end (see exp_f32).
    let a = if TANH_HI < a { TANH_HI } else { a };
    let t = a + a;
    let m = t * LOG2E + ROUND_MAGIC;
    let n = m - ROUND_MAGIC;
    let ni = (m.to_bits() as i32).wrapping_sub(ROUND_MAGIC_BITS);
    let r = t - n * LN2;
    let mut p = TANH_E4;
    p = p * r + TANH_E3;
    p = p * r + TANH_E2;
    p = p * r + TANH_E1;
    p = p * r + 0.5;
    let rr = r * r;
    let y = p * rr + r;
    let scale = f32::from_bits((ni.wrapping_add(127) as u32) << 23);
    // e^t − 1 = 2ⁿ·(e^r − 1) + (2ⁿ − 1) cancels nothing near 0, where n = 0.
    let em = y * scale + (scale - 1.0);
    let u = em / (em + 2.0);
    #[allow(clippy::eq_op)]
    if x != x {
        x
    } else {
        // u ≥ +0: x's sign bit makes tanh odd and tanh(−0) = −0.
        f32::from_bits(u.to_bits() | (x.to_bits() & 0x8000_0000))
    }
}

/// `1 / (1 + e^(−x))` for f32, scalar twin of [`sigmoid_f32x4`].
#[inline]
pub fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(-x))
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use simd::*;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::*;
    use core::arch::wasm32::*;

    /// `a·b + c` in polynomial evaluation: an FMA in the relaxed build, `mul` then
    /// `add` (exactly the scalar twin's operations) otherwise.
    #[inline(always)]
    pub fn madd(a: v128, b: v128, c: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        {
            f32x4_relaxed_madd(a, b, c)
        }
        #[cfg(not(target_feature = "relaxed-simd"))]
        {
            f32x4_add(f32x4_mul(a, b), c)
        }
    }

    /// `e^x` lane-wise; see the module doc.
    #[inline]
    pub fn exp_f32x4(x: v128) -> v128 {
        let x0 = x;
        // Clamp; a NaN lane is repaired at the end (see exp_f32).
        let x = f32x4_pmax(x, f32x4_splat(EXP_LO));
        let x = f32x4_pmin(x, f32x4_splat(EXP_HI));
        let t = f32x4_add(f32x4_mul(x, f32x4_splat(LOG2E)), f32x4_splat(ROUND_MAGIC));
        let n = f32x4_sub(t, f32x4_splat(ROUND_MAGIC));
        let ni = i32x4_sub(t, i32x4_splat(ROUND_MAGIC_BITS));
        let r = f32x4_sub(x, f32x4_mul(n, f32x4_splat(LN2_HI)));
        let r = f32x4_sub(r, f32x4_mul(n, f32x4_splat(LN2_LO)));
        let mut p = f32x4_splat(EXP_P0);
        p = madd(p, r, f32x4_splat(EXP_P1));
        p = madd(p, r, f32x4_splat(EXP_P2));
        p = madd(p, r, f32x4_splat(EXP_P3));
        p = madd(p, r, f32x4_splat(EXP_P4));
        p = madd(p, r, f32x4_splat(EXP_P5));
        let rr = f32x4_mul(r, r);
        let y = madd(p, rr, r);
        let y = f32x4_add(y, f32x4_splat(1.0));
        let scale = i32x4_shl(i32x4_add(ni, i32x4_splat(127)), 23);
        let y = f32x4_mul(y, scale);
        v128_bitselect(x0, y, f32x4_ne(x0, x0))
    }

    /// `tanh(x)` lane-wise; see the module doc.
    #[inline]
    pub fn tanh_f32x4(x: v128) -> v128 {
        let sign = i32x4_splat(0x8000_0000u32 as i32);
        let a = v128_andnot(x, sign);
        // Clamp; a NaN lane is put back at the end (see exp_f32).
        let a = f32x4_pmin(a, f32x4_splat(TANH_HI));
        let t = f32x4_add(a, a);
        let m = f32x4_add(f32x4_mul(t, f32x4_splat(LOG2E)), f32x4_splat(ROUND_MAGIC));
        let n = f32x4_sub(m, f32x4_splat(ROUND_MAGIC));
        let ni = i32x4_sub(m, i32x4_splat(ROUND_MAGIC_BITS));
        let r = f32x4_sub(t, f32x4_mul(n, f32x4_splat(LN2)));
        let mut p = f32x4_splat(TANH_E4);
        p = madd(p, r, f32x4_splat(TANH_E3));
        p = madd(p, r, f32x4_splat(TANH_E2));
        p = madd(p, r, f32x4_splat(TANH_E1));
        p = madd(p, r, f32x4_splat(0.5));
        let rr = f32x4_mul(r, r);
        let y = madd(p, rr, r);
        let scale = i32x4_shl(i32x4_add(ni, i32x4_splat(127)), 23);
        let em = madd(y, scale, f32x4_sub(scale, f32x4_splat(1.0)));
        let u = f32x4_div(em, f32x4_add(em, f32x4_splat(2.0)));
        // One select for the twin's two steps: x's sign bit, or all of a NaN x.
        v128_bitselect(x, u, v128_or(sign, f32x4_ne(x, x)))
    }

    /// `1 / (1 + e^(−x))` lane-wise.
    #[inline]
    pub fn sigmoid_f32x4(x: v128) -> v128 {
        let e = exp_f32x4(f32x4_neg(x));
        f32x4_div(f32x4_splat(1.0), f32x4_add(f32x4_splat(1.0), e))
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;

#[cfg(test)]
mod tests {
    use super::*;

    /// Dense sweep: every `step` over [lo, hi], plus exact endpoints.
    fn sweep(lo: f32, hi: f32, count: usize) -> impl Iterator<Item = f32> {
        (0..=count).map(move |i| lo + (hi - lo) * (i as f32 / count as f32))
    }

    struct Err {
        max_abs: f64,
        max_rel: f64,
        at_abs: f32,
        at_rel: f32,
    }

    fn measure(xs: impl Iterator<Item = f32>, f: fn(f32) -> f32, r: fn(f64) -> f64) -> Err {
        let mut e = Err {
            max_abs: 0.0,
            max_rel: 0.0,
            at_abs: 0.0,
            at_rel: 0.0,
        };
        for x in xs {
            let got = f(x) as f64;
            let want = r(x as f64);
            let abs = (got - want).abs();
            let rel = if want != 0.0 { abs / want.abs() } else { abs };
            if abs > e.max_abs {
                e.max_abs = abs;
                e.at_abs = x;
            }
            if rel > e.max_rel {
                e.max_rel = rel;
                e.at_rel = x;
            }
        }
        e
    }

    fn sigmoid64(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    /// Also every f32 bit pattern in a band, to catch what a uniform sweep misses.
    fn all_floats(lo: f32, hi: f32, stride: u32) -> impl Iterator<Item = f32> {
        // Positive floats from lo to hi (lo, hi > 0), mirrored negative.
        let (a, b) = (lo.to_bits(), hi.to_bits());
        (a..=b)
            .step_by(stride as usize)
            .flat_map(|u| [f32::from_bits(u), -f32::from_bits(u)])
    }

    /// Run with `--release` for the full density (the debug build thins the bit sweeps).
    #[test]
    fn accuracy_report() {
        let stride: u32 = if cfg!(debug_assertions) { 997 } else { 97 };
        let count: usize = if cfg!(debug_assertions) {
            400_000
        } else {
            4_000_000
        };
        let e = measure(sweep(EXP_LO, EXP_HI, count), exp_f32, f64::exp);
        let e2 = measure(all_floats(1e-30, 87.3, stride), exp_f32, f64::exp);
        println!(
            "exp: max rel {:.3e} (at {}), bit sweep max rel {:.3e} (at {})",
            e.max_rel, e.at_rel, e2.max_rel, e2.at_rel
        );
        assert!(e.max_rel < 2e-7 && e2.max_rel < 2e-7);

        let t = measure(sweep(-20.0, 20.0, count), tanh_f32, f64::tanh);
        let t2 = measure(all_floats(1e-30, 20.0, stride), tanh_f32, f64::tanh);
        println!(
            "tanh: max abs {:.3e} (at {}), max rel {:.3e} (at {}); bit sweep max abs {:.3e}, max rel {:.3e} (at {})",
            t.max_abs, t.at_abs, t.max_rel, t.at_rel, t2.max_abs, t2.max_rel, t2.at_rel
        );
        assert!(t.max_abs < 2e-7 && t2.max_abs < 2e-7);
        // Relative accuracy near 0: expm1 cancels nothing there.
        let t3 = measure(all_floats(1e-30, 0.625, stride / 7), tanh_f32, f64::tanh);
        let t4 = measure(all_floats(1e-45, 1e-30, stride), tanh_f32, f64::tanh);
        println!(
            "tanh |x|<0.625: max rel {:.3e} (at {}); subnormal to 1e-30: max rel {:.3e} (at {:e})",
            t3.max_rel, t3.at_rel, t4.max_rel, t4.at_rel
        );
        assert!(t3.max_rel < 3e-7 && t4.max_rel < 3e-7);
        // Not monotone to the last bit (em + 2 rounds): the largest drop below the
        // value at any smaller input bounds what pooling before tanh changes
        // (Classifier.logits). tanh is odd, so x ≥ 0 covers both signs. Every 5th
        // float (every float took 12 s and found the same 2 ulp).
        let (mut top, mut drop, mut at) = (0u32, 0u32, 0.0f32);
        for u in (0..=TANH_HI.to_bits()).step_by(if cfg!(debug_assertions) { 97 } else { 5 }) {
            let y = tanh_f32(f32::from_bits(u)).to_bits();
            if y >= top {
                top = y;
            } else if top - y > drop {
                (drop, at) = (top - y, f32::from_bits(u));
            }
        }
        println!("tanh on [0, {TANH_HI}]: at most {drop} ulp below the value at a smaller input (at {at})");
        assert!(drop <= 2);

        let s = measure(sweep(-40.0, 40.0, count), sigmoid_f32, sigmoid64);
        let s2 = measure(all_floats(1e-30, 90.0, stride), sigmoid_f32, sigmoid64);
        println!(
            "sigmoid: max abs {:.3e} (at {}), max rel {:.3e} (at {}); bit sweep max abs {:.3e}, max rel on [-20,20] below",
            s.max_abs, s.at_abs, s.max_rel, s.at_rel, s2.max_abs
        );
        let s3 = measure(sweep(-20.0, 20.0, count), sigmoid_f32, sigmoid64);
        println!(
            "sigmoid on [-20,20]: max rel {:.3e} (at {})",
            s3.max_rel, s3.at_rel
        );
        assert!(s.max_abs < 2e-7 && s2.max_abs < 2e-7);
    }

    #[test]
    fn exp_special_values() {
        assert!(exp_f32(f32::NAN).is_nan());
        assert!(tanh_f32(f32::NAN).is_nan());
        assert!(sigmoid_f32(f32::NAN).is_nan());
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-0.0), 1.0);
        for x in [100.0f32, 1e30, f32::INFINITY, f32::MAX] {
            let e = exp_f32(x);
            assert!(e.is_finite() && e > 2.4e38, "exp({x}) = {e}");
            assert!(exp_f32(-x) > 0.0 && exp_f32(-x) < 1.3e-38);
        }
        assert_eq!(exp_f32(EXP_HI), exp_f32(1000.0));
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh_f32(50.0), 1.0);
        assert_eq!(tanh_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanh_f32(1e-30), 1e-30);
        for x in [f32::from_bits(1), 1e-40, f32::MIN_POSITIVE] {
            assert_eq!(tanh_f32(x), x);
            assert_eq!(tanh_f32(-x), -x);
        }
        // The clamp is where tanh has rounded to 1 already.
        assert_eq!(tanh_f32(TANH_HI), 1.0);
        assert_eq!(tanh_f32(f32::MAX), 1.0);
        assert_eq!(tanh_f32(-f32::MAX), -1.0);
        assert!(tanh_f32(-f32::NAN).is_nan());
        assert_eq!(sigmoid_f32(f32::INFINITY), 1.0);
        assert!(sigmoid_f32(f32::NEG_INFINITY) >= 0.0 && sigmoid_f32(f32::NEG_INFINITY) < 1e-38);
        assert_eq!(sigmoid_f32(0.0), 0.5);
        // Odd symmetry is exact.
        for x in sweep(-10.0, 10.0, 10_000) {
            assert_eq!(tanh_f32(-x), -tanh_f32(x));
        }
    }
}
