//! `f32-act-avx2`: activations and their backward over 8 lanes (AVX2 + FMA);
//! the tail (fewer than 8 elements) runs the scalar twin. Relu, leaky relu,
//! identity and every backward do the twin's operations (bit-identical); tanh
//! and sigmoid go through `math::avx2` (fused polynomial steps: within
//! rounding of the twin).

use super::{leaky1, leaky_back1, relu1, relu_back1, sigmoid_back1, tanh_back1, Activation};
use crate::math::avx2::{sigmoid_ps, tanh_ps};
use crate::math::{sigmoid_f32, tanh_f32};
use core::arch::x86_64::*;

/// `dst[i] = f(src[i])` (`f1`: the scalar twin for the tail); `src` may equal `dst`.
#[inline(always)]
unsafe fn map1(
    src: *const f32,
    dst: *mut f32,
    n: usize,
    f: impl Fn(__m256) -> __m256,
    f1: impl Fn(f32) -> f32,
) {
    let mut i = 0;
    while i + 8 <= n {
        _mm256_storeu_ps(dst.add(i), f(_mm256_loadu_ps(src.add(i))));
        i += 8;
    }
    super::map1(src.add(i), dst.add(i), n - i, f1);
}

/// `dst[i] = f(a[i], b[i])`; `dst` may equal `a` or `b`.
#[inline(always)]
unsafe fn map2(
    a: *const f32,
    b: *const f32,
    dst: *mut f32,
    n: usize,
    f: impl Fn(__m256, __m256) -> __m256,
    f1: impl Fn(f32, f32) -> f32,
) {
    let mut i = 0;
    while i + 8 <= n {
        let r = f(_mm256_loadu_ps(a.add(i)), _mm256_loadu_ps(b.add(i)));
        _mm256_storeu_ps(dst.add(i), r);
        i += 8;
    }
    super::map2(a.add(i), b.add(i), dst.add(i), n - i, f1);
}

/// # Safety
/// The CPU has AVX2 and FMA; `src` and `dst` are valid for `n` elements (equal or disjoint).
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn forward(
    kind: Activation,
    alpha: f32,
    src: *const f32,
    dst: *mut f32,
    n: usize,
) {
    let zero = _mm256_setzero_ps();
    let va = _mm256_set1_ps(alpha);
    match kind {
        Activation::Identity => {
            if !core::ptr::eq(src, dst) {
                core::ptr::copy(src, dst, n)
            }
        }
        // x > 0 or NaN keeps x (bits and all); everything else gives +0.
        Activation::Relu => map1(
            src,
            dst,
            n,
            |x| _mm256_and_ps(x, _mm256_cmp_ps::<_CMP_NLE_UQ>(x, zero)),
            relu1,
        ),
        Activation::LeakyRelu => map1(
            src,
            dst,
            n,
            |x| {
                let pos = _mm256_cmp_ps::<_CMP_GT_OQ>(x, zero);
                _mm256_blendv_ps(_mm256_mul_ps(va, x), x, pos)
            },
            |x| leaky1(alpha, x),
        ),
        Activation::Tanh => map1(src, dst, n, |x| tanh_ps(x), tanh_f32),
        Activation::Sigmoid => map1(src, dst, n, |x| sigmoid_ps(x), sigmoid_f32),
    }
}

/// # Safety
/// The CPU has AVX2 and FMA; `y`, `dy`, `dx` are valid for `n` elements (`dx` may equal `dy`).
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn backward(
    kind: Activation,
    alpha: f32,
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
    n: usize,
) {
    let zero = _mm256_setzero_ps();
    let one = _mm256_set1_ps(1.0);
    let va = _mm256_set1_ps(alpha);
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
            |y, dy| _mm256_and_ps(dy, _mm256_cmp_ps::<_CMP_GT_OQ>(y, zero)),
            relu_back1,
        ),
        Activation::LeakyRelu => map2(
            y,
            dy,
            dx,
            n,
            |y, dy| {
                let pos = _mm256_cmp_ps::<_CMP_GT_OQ>(y, zero);
                _mm256_blendv_ps(_mm256_mul_ps(va, dy), dy, pos)
            },
            |y, dy| leaky_back1(alpha, y, dy),
        ),
        // Unfused, as the twin: dy·(1 − y·y), dy·(y·(1 − y)).
        Activation::Tanh => map2(
            y,
            dy,
            dx,
            n,
            |y, dy| _mm256_mul_ps(dy, _mm256_sub_ps(one, _mm256_mul_ps(y, y))),
            tanh_back1,
        ),
        Activation::Sigmoid => map2(
            y,
            dy,
            dx,
            n,
            |y, dy| _mm256_mul_ps(dy, _mm256_mul_ps(y, _mm256_sub_ps(one, y))),
            sigmoid_back1,
        ),
    }
}
