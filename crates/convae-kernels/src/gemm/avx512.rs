//! `f32-gemm-{MR}x{NR}-avx512`: the x86-64 AVX-512F micro-kernel.
//!
//! Register block: `MR` zmm accumulators, one 16-lane row each (`NR = 16`). Each
//! k step loads one packed B row, broadcasts each of the `MR` packed A values
//! and does `acc = fma(a, b, acc)` (one rounding). Edge tiles load and store
//! through a lane mask, so no spill is needed. Scalar twin: `scalar.rs`; the
//! summation order is the same, only the FMA's single rounding differs.

#![allow(clippy::too_many_arguments)]

use core::arch::x86_64::*;

use super::{Store, MR, NR};

const _: () = assert!(NR == 16);

/// Runs one `MR x NR` tile over `kc` packed steps.
///
/// # Safety
/// The CPU has AVX-512F. As for `scalar::f32_gemm_scalar`: `pa` holds
/// `kc * MR` f32, `pb` holds `kc * NR` f32, and `c[i * ldc + j]` is writable for
/// `i < mr`, `j < nr`; nothing else is touched (masked lanes are not accessed).
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn f32_gemm_avx512(
    kc: usize,
    pa: *const f32,
    pb: *const f32,
    c: *mut f32,
    ldc: usize,
    mr: usize,
    nr: usize,
    store: Store,
) {
    let mut acc = [_mm512_setzero_ps(); MR];
    let (mut pa, mut pb) = (pa, pb);
    for _ in 0..kc {
        // In bounds: kc steps of MR A values and NR B values.
        let b = _mm512_loadu_ps(pb);
        for (i, a) in acc.iter_mut().enumerate() {
            *a = _mm512_fmadd_ps(_mm512_set1_ps(*pa.add(i)), b, *a);
        }
        pa = pa.add(MR);
        pb = pb.add(NR);
    }
    let mask: __mmask16 = if nr >= NR { 0xffff } else { (1u16 << nr) - 1 };
    for (i, a) in acc.iter().enumerate().take(mr) {
        let row = c.add(i * ldc);
        let v = match store {
            Store::Overwrite => *a,
            Store::Add => _mm512_add_ps(_mm512_maskz_loadu_ps(mask, row), *a),
            Store::Bias(bias) => _mm512_add_ps(*a, _mm512_set1_ps(*bias.add(i))),
        };
        _mm512_mask_storeu_ps(row, mask, v);
    }
}
