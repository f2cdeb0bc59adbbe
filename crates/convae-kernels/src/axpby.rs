//! `x = a·x + b·y` over flat buffers: the gradient average of data-parallel
//! training (each replica holds its own gradient in `x` and a copy of the
//! other's in `y`).
//!
//! Two products, each rounded to f32, then one rounded addition, and never a
//! fused multiply-add: IEEE addition is commutative, so `a·x + b·y` on one
//! replica and `b·y + a·x` on the other give the same bits, and every replica
//! takes the same step. The SIMD path and its scalar twin are bit-identical.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::isa;

/// `x[i] = a·x[i] + b·y[i]` for `i < min(x.len(), y.len())`.
pub fn axpby(x: &mut [f32], a: f32, y: &[f32], b: f32) {
    let n = x.len().min(y.len());
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if isa::use_simd() {
        // SAFETY: both slices hold at least `n` elements.
        i = unsafe { simd::axpby(x.as_mut_ptr(), a, y.as_ptr(), b, n) };
    }
    while i < n {
        x[i] = a * x[i] + b * y[i];
        i += 1;
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// Whole groups of 4; returns where the scalar tail starts.
    #[inline(always)]
    pub(super) unsafe fn axpby(x: *mut f32, a: f32, y: *const f32, b: f32, n: usize) -> usize {
        let (va, vb) = (f32x4_splat(a), f32x4_splat(b));
        let mut i = 0;
        while i + 4 <= n {
            let xv = v128_load(x.add(i) as *const v128);
            let yv = v128_load(y.add(i) as *const v128);
            v128_store(
                x.add(i) as *mut v128,
                f32x4_add(f32x4_mul(va, xv), f32x4_mul(vb, yv)),
            );
            i += 4;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_f64_and_is_symmetric() {
        for n in [0usize, 1, 3, 4, 5, 8, 13, 64, 1001] {
            let x0: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.37).sin()).collect();
            let y0: Vec<f32> = (0..n).map(|i| ((i as f32) * 1.13).cos() * 3.0).collect();
            let (a, b) = (0.40625f32, 0.59375f32);
            let mut x = x0.clone();
            axpby(&mut x, a, &y0, b);
            let mut y = y0.clone();
            axpby(&mut y, b, &x0, a);
            for i in 0..n {
                let want = a as f64 * x0[i] as f64 + b as f64 * y0[i] as f64;
                assert!(
                    (x[i] as f64 - want).abs() <= 1e-6 * want.abs().max(1.0),
                    "[{i}] {} vs {want}",
                    x[i]
                );
                assert_eq!(x[i].to_bits(), y[i].to_bits(), "[{i}] not symmetric");
            }
        }
    }
}
