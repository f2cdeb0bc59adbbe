//! `exp`, `tanh`, `sigmoid` over 16 f32 lanes (AVX-512F): the same clamp,
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
#[target_feature(enable = "avx512f")]
fn splat(v: f32) -> __m512 {
    _mm512_set1_ps(v)
}

/// `e^x` lane-wise; see `exp_f32`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn exp_ps(x: __m512) -> __m512 {
    let x0 = x;
    // Clamp; a NaN lane is put back at the end (as in exp_f32).
    let x = _mm512_max_ps(x, splat(EXP_LO));
    let x = _mm512_min_ps(x, splat(EXP_HI));
    let t = _mm512_add_ps(_mm512_mul_ps(x, splat(LOG2E)), splat(ROUND_MAGIC));
    let n = _mm512_sub_ps(t, splat(ROUND_MAGIC));
    let ni = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(ROUND_MAGIC_BITS));
    let r = _mm512_sub_ps(x, _mm512_mul_ps(n, splat(LN2_HI)));
    let r = _mm512_sub_ps(r, _mm512_mul_ps(n, splat(LN2_LO)));
    let mut p = splat(EXP_P0);
    p = _mm512_fmadd_ps(p, r, splat(EXP_P1));
    p = _mm512_fmadd_ps(p, r, splat(EXP_P2));
    p = _mm512_fmadd_ps(p, r, splat(EXP_P3));
    p = _mm512_fmadd_ps(p, r, splat(EXP_P4));
    p = _mm512_fmadd_ps(p, r, splat(EXP_P5));
    let rr = _mm512_mul_ps(r, r);
    let y = _mm512_fmadd_ps(p, rr, r);
    let y = _mm512_add_ps(y, splat(1.0));
    let scale = _mm512_slli_epi32::<23>(_mm512_add_epi32(ni, _mm512_set1_epi32(127)));
    let y = _mm512_mul_ps(y, _mm512_castsi512_ps(scale));
    let nan = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(x0, x0);
    _mm512_mask_blend_ps(nan, y, x0)
}

/// `tanh(x)` lane-wise; see `tanh_f32`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn tanh_ps(x: __m512) -> __m512 {
    let sign = _mm512_set1_epi32(0x8000_0000u32 as i32);
    let xi = _mm512_castps_si512(x);
    let a = _mm512_castsi512_ps(_mm512_andnot_si512(sign, xi));
    // Clamp; a NaN lane is put back at the end (as in tanh_f32).
    let a = _mm512_min_ps(a, splat(TANH_HI));
    let t = _mm512_add_ps(a, a);
    let m = _mm512_add_ps(_mm512_mul_ps(t, splat(LOG2E)), splat(ROUND_MAGIC));
    let n = _mm512_sub_ps(m, splat(ROUND_MAGIC));
    let ni = _mm512_sub_epi32(_mm512_castps_si512(m), _mm512_set1_epi32(ROUND_MAGIC_BITS));
    let r = _mm512_sub_ps(t, _mm512_mul_ps(n, splat(LN2)));
    let mut p = splat(TANH_E4);
    p = _mm512_fmadd_ps(p, r, splat(TANH_E3));
    p = _mm512_fmadd_ps(p, r, splat(TANH_E2));
    p = _mm512_fmadd_ps(p, r, splat(TANH_E1));
    p = _mm512_fmadd_ps(p, r, splat(0.5));
    let rr = _mm512_mul_ps(r, r);
    let y = _mm512_fmadd_ps(p, rr, r);
    let scale = _mm512_slli_epi32::<23>(_mm512_add_epi32(ni, _mm512_set1_epi32(127)));
    let scale = _mm512_castsi512_ps(scale);
    let em = _mm512_fmadd_ps(y, scale, _mm512_sub_ps(scale, splat(1.0)));
    let u = _mm512_div_ps(em, _mm512_add_ps(em, splat(2.0)));
    // u ≥ +0: x's sign bit makes tanh odd and tanh(−0) = −0.
    let u = _mm512_or_si512(_mm512_castps_si512(u), _mm512_and_si512(xi, sign));
    let nan = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(x, x);
    _mm512_mask_blend_ps(nan, _mm512_castsi512_ps(u), x)
}

/// `1 / (1 + e^(−x))` lane-wise.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn sigmoid_ps(x: __m512) -> __m512 {
    let neg = _mm512_castsi512_ps(_mm512_xor_si512(
        _mm512_castps_si512(x),
        _mm512_set1_epi32(0x8000_0000u32 as i32),
    ));
    let e = exp_ps(neg);
    _mm512_div_ps(splat(1.0), _mm512_add_ps(splat(1.0), e))
}
