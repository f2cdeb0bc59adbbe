//! `f32-act-avx512`: activations and their backward over 16 lanes (AVX-512F);
//! the tail is one masked vector (masked lanes are neither read nor written).
//! Relu, leaky relu, identity and every backward do the scalar twin's
//! operations (bit-identical); tanh and sigmoid go through
//! `math::avx512` (fused polynomial steps: within rounding of the twin).

use super::Activation;
use crate::math::avx512::{sigmoid_ps, tanh_ps};
use core::arch::x86_64::*;

/// `dst[i] = f(src[i])`; `src` may equal `dst`.
#[inline(always)]
unsafe fn map1(src: *const f32, dst: *mut f32, n: usize, f: impl Fn(__m512) -> __m512) {
    let mut i = 0;
    while i + 16 <= n {
        _mm512_storeu_ps(dst.add(i), f(_mm512_loadu_ps(src.add(i))));
        i += 16;
    }
    if i < n {
        let m: __mmask16 = (1u16 << (n - i)) - 1;
        let x = _mm512_maskz_loadu_ps(m, src.add(i));
        _mm512_mask_storeu_ps(dst.add(i), m, f(x));
    }
}

/// `dst[i] = f(a[i], b[i])`; `dst` may equal `a` or `b`.
#[inline(always)]
unsafe fn map2(
    a: *const f32,
    b: *const f32,
    dst: *mut f32,
    n: usize,
    f: impl Fn(__m512, __m512) -> __m512,
) {
    let mut i = 0;
    while i + 16 <= n {
        let r = f(_mm512_loadu_ps(a.add(i)), _mm512_loadu_ps(b.add(i)));
        _mm512_storeu_ps(dst.add(i), r);
        i += 16;
    }
    if i < n {
        let m: __mmask16 = (1u16 << (n - i)) - 1;
        let r = f(
            _mm512_maskz_loadu_ps(m, a.add(i)),
            _mm512_maskz_loadu_ps(m, b.add(i)),
        );
        _mm512_mask_storeu_ps(dst.add(i), m, r);
    }
}

/// # Safety
/// The CPU has AVX-512F; `src` and `dst` are valid for `n` elements (equal or disjoint).
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn forward(
    kind: Activation,
    alpha: f32,
    src: *const f32,
    dst: *mut f32,
    n: usize,
) {
    let zero = _mm512_setzero_ps();
    let va = _mm512_set1_ps(alpha);
    match kind {
        Activation::Identity => {
            if !core::ptr::eq(src, dst) {
                core::ptr::copy(src, dst, n)
            }
        }
        // x > 0 or NaN keeps x (bits and all); everything else gives +0.
        Activation::Relu => map1(src, dst, n, |x| {
            let keep = _mm512_cmp_ps_mask::<_CMP_NLE_UQ>(x, zero);
            _mm512_maskz_mov_ps(keep, x)
        }),
        Activation::LeakyRelu => map1(src, dst, n, |x| {
            let pos = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(x, zero);
            _mm512_mask_blend_ps(pos, _mm512_mul_ps(va, x), x)
        }),
        Activation::Tanh => map1(src, dst, n, |x| tanh_ps(x)),
        Activation::Sigmoid => map1(src, dst, n, |x| sigmoid_ps(x)),
    }
}

/// # Safety
/// The CPU has AVX-512F; `y`, `dy`, `dx` are valid for `n` elements (`dx` may equal `dy`).
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn backward(
    kind: Activation,
    alpha: f32,
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
    n: usize,
) {
    let zero = _mm512_setzero_ps();
    let one = _mm512_set1_ps(1.0);
    let va = _mm512_set1_ps(alpha);
    match kind {
        Activation::Identity => {
            if !core::ptr::eq(dy, dx) {
                core::ptr::copy(dy, dx, n)
            }
        }
        Activation::Relu => map2(y, dy, dx, n, |y, dy| {
            _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_GT_OQ>(y, zero), dy)
        }),
        Activation::LeakyRelu => map2(y, dy, dx, n, |y, dy| {
            let pos = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(y, zero);
            _mm512_mask_blend_ps(pos, _mm512_mul_ps(va, dy), dy)
        }),
        // Unfused, as the twin: dy·(1 − y·y), dy·(y·(1 − y)).
        Activation::Tanh => map2(y, dy, dx, n, |y, dy| {
            _mm512_mul_ps(dy, _mm512_sub_ps(one, _mm512_mul_ps(y, y)))
        }),
        Activation::Sigmoid => map2(y, dy, dx, n, |y, dy| {
            _mm512_mul_ps(dy, _mm512_mul_ps(y, _mm512_sub_ps(one, y)))
        }),
    }
}
