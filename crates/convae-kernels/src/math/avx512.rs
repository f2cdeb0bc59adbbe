//! `exp`, `tanh`, `sigmoid` over 16 f32 lanes (AVX-512F): the same clamp,
//! range reduction and polynomials as the scalar twins in `math.rs`, with
//! the polynomial steps fused (`vfmadd`: one rounding where the twin rounds
//! twice, as the relaxed wasm build does). The range reduction stays unfused
//! (mul then add/sub), so `n` is the twin's `n` for every input. tanh is the
//! exception: it keeps the two-branch form the twin had before its single
//! `expm1` branch (within 2 ulp of it).

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

/// `tanh(x)` lane-wise: Cephes' odd polynomial below `TANH_SMALL`, `1 − 2/(exp(2|x|) + 1)` above.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn tanh_ps(x: __m512) -> __m512 {
    let sign = _mm512_set1_epi32(0x8000_0000u32 as i32);
    let xi = _mm512_castps_si512(x);
    let a = _mm512_castsi512_ps(_mm512_andnot_si512(sign, xi));
    // Small branch: odd polynomial.
    let s = _mm512_mul_ps(x, x);
    let mut q = splat(TANH_Q0);
    q = _mm512_fmadd_ps(q, s, splat(TANH_Q1));
    q = _mm512_fmadd_ps(q, s, splat(TANH_Q2));
    q = _mm512_fmadd_ps(q, s, splat(TANH_Q3));
    q = _mm512_fmadd_ps(q, s, splat(TANH_Q4));
    let q = _mm512_mul_ps(q, s);
    let small = _mm512_fmadd_ps(q, x, x);
    // Large branch: 1 - 2/(exp(2|x|) + 1).
    let e = exp_ps(_mm512_add_ps(a, a));
    let d = _mm512_div_ps(splat(2.0), _mm512_add_ps(e, splat(1.0)));
    let large = _mm512_sub_ps(splat(1.0), d);
    let is_small = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(a, splat(TANH_SMALL));
    let u = _mm512_castps_si512(_mm512_mask_blend_ps(is_small, large, small));
    // |u| with x's sign.
    _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_andnot_si512(sign, u),
        _mm512_and_si512(xi, sign),
    ))
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
