//! `exp`, `tanh`, `sigmoid` over 8 f32 lanes (AVX2 + FMA): the same clamp,
//! range reduction and polynomials as the scalar twins in `math.rs`, with
//! the polynomial steps fused (`vfmadd`: one rounding where the twin rounds
//! twice, as the relaxed wasm build does). The range reduction stays unfused
//! (mul then add/sub), so `n` is the twin's `n` for every input. In tanh
//! `em = y·2ⁿ + (2ⁿ − 1)` is fused too, as in the relaxed build: within 2 ulp
//! of the twin over every float. With every step unfused the two would agree
//! bit for bit, at a third more time.

use super::*;
use core::arch::x86_64::*;

#[inline]
#[target_feature(enable = "avx2,fma")]
fn splat(v: f32) -> __m256 {
    _mm256_set1_ps(v)
}

/// `e^x` lane-wise; see `exp_f32`.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn exp_ps(x: __m256) -> __m256 {
    let x0 = x;
    // Clamp; a NaN lane is put back at the end (as in exp_f32).
    let x = _mm256_max_ps(x, splat(EXP_LO));
    let x = _mm256_min_ps(x, splat(EXP_HI));
    let t = _mm256_add_ps(_mm256_mul_ps(x, splat(LOG2E)), splat(ROUND_MAGIC));
    let n = _mm256_sub_ps(t, splat(ROUND_MAGIC));
    let ni = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(ROUND_MAGIC_BITS));
    let r = _mm256_sub_ps(x, _mm256_mul_ps(n, splat(LN2_HI)));
    let r = _mm256_sub_ps(r, _mm256_mul_ps(n, splat(LN2_LO)));
    let mut p = splat(EXP_P0);
    p = _mm256_fmadd_ps(p, r, splat(EXP_P1));
    p = _mm256_fmadd_ps(p, r, splat(EXP_P2));
    p = _mm256_fmadd_ps(p, r, splat(EXP_P3));
    p = _mm256_fmadd_ps(p, r, splat(EXP_P4));
    p = _mm256_fmadd_ps(p, r, splat(EXP_P5));
    let rr = _mm256_mul_ps(r, r);
    let y = _mm256_fmadd_ps(p, rr, r);
    let y = _mm256_add_ps(y, splat(1.0));
    let scale = _mm256_slli_epi32::<23>(_mm256_add_epi32(ni, _mm256_set1_epi32(127)));
    let y = _mm256_mul_ps(y, _mm256_castsi256_ps(scale));
    let nan = _mm256_cmp_ps::<_CMP_UNORD_Q>(x0, x0);
    _mm256_blendv_ps(y, x0, nan)
}

/// `tanh(x)` lane-wise; see `tanh_f32`.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn tanh_ps(x: __m256) -> __m256 {
    let sign = splat(-0.0);
    let a = _mm256_andnot_ps(sign, x);
    // Clamp; a NaN lane is put back at the end (as in tanh_f32).
    let a = _mm256_min_ps(a, splat(TANH_HI));
    let t = _mm256_add_ps(a, a);
    let m = _mm256_add_ps(_mm256_mul_ps(t, splat(LOG2E)), splat(ROUND_MAGIC));
    let n = _mm256_sub_ps(m, splat(ROUND_MAGIC));
    let ni = _mm256_sub_epi32(_mm256_castps_si256(m), _mm256_set1_epi32(ROUND_MAGIC_BITS));
    let r = _mm256_sub_ps(t, _mm256_mul_ps(n, splat(LN2)));
    let mut p = splat(TANH_E4);
    p = _mm256_fmadd_ps(p, r, splat(TANH_E3));
    p = _mm256_fmadd_ps(p, r, splat(TANH_E2));
    p = _mm256_fmadd_ps(p, r, splat(TANH_E1));
    p = _mm256_fmadd_ps(p, r, splat(0.5));
    let rr = _mm256_mul_ps(r, r);
    let y = _mm256_fmadd_ps(p, rr, r);
    let scale = _mm256_slli_epi32::<23>(_mm256_add_epi32(ni, _mm256_set1_epi32(127)));
    let scale = _mm256_castsi256_ps(scale);
    let em = _mm256_fmadd_ps(y, scale, _mm256_sub_ps(scale, splat(1.0)));
    let u = _mm256_div_ps(em, _mm256_add_ps(em, splat(2.0)));
    // u ≥ +0: x's sign bit makes tanh odd and tanh(−0) = −0.
    let u = _mm256_or_ps(u, _mm256_and_ps(x, sign));
    let nan = _mm256_cmp_ps::<_CMP_UNORD_Q>(x, x);
    _mm256_blendv_ps(u, x, nan)
}

/// `1 / (1 + e^(−x))` lane-wise.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn sigmoid_ps(x: __m256) -> __m256 {
    let neg = _mm256_castsi256_ps(_mm256_xor_si256(
        _mm256_castps_si256(x),
        _mm256_set1_epi32(0x8000_0000u32 as i32),
    ));
    let e = exp_ps(neg);
    _mm256_div_ps(splat(1.0), _mm256_add_ps(splat(1.0), e))
}
