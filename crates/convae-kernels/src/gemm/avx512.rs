//! `f32-gemm-{MR}x{NR}-avx512`: the x86-64 AVX-512F micro-kernel.
//!
//! Register block: `MR x 2` zmm accumulators (`NR = 32`). Each k step loads
//! one packed B row (2 vectors), broadcasts each of the `MR` packed A values
//! and does `acc = fma(a, b, acc)` (one rounding). Edge tiles load and store
//! through a lane mask, so no spill is needed. Scalar twin: `scalar.rs`; the
//! summation order is the same, only the FMA's single rounding differs.

#![allow(clippy::too_many_arguments, clippy::needless_range_loop)]

use core::arch::x86_64::*;

use super::{Store, MR, NR};

const _: () = assert!(NR == 32 && MR == 10);

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
    let mut acc = [[_mm512_setzero_ps(); 2]; MR];
    let (mut pa, mut pb) = (pa, pb);
    for _ in 0..kc {
        // In bounds: kc steps of MR A values and NR B values.
        let b0 = _mm512_loadu_ps(pb);
        let b1 = _mm512_loadu_ps(pb.add(16));
        for (i, a) in acc.iter_mut().enumerate() {
            let ai = _mm512_set1_ps(*pa.add(i));
            a[0] = _mm512_fmadd_ps(ai, b0, a[0]);
            a[1] = _mm512_fmadd_ps(ai, b1, a[1]);
        }
        pa = pa.add(MR);
        pb = pb.add(NR);
    }
    // Lane masks of the two vectors of a row: columns j < nr are written.
    let lane_mask = |from: usize| -> __mmask16 {
        let k = nr.saturating_sub(from).min(16);
        if k == 16 {
            0xffff
        } else {
            (1u16 << k) - 1
        }
    };
    let masks = [lane_mask(0), lane_mask(16)];
    // One row written; rows are named by constants (`rows!`) so the
    // accumulators stay in registers instead of an indexed stack array.
    let row = |i: usize, a: [__m512; 2]| {
        for v in 0..2 {
            if masks[v] == 0 {
                continue;
            }
            let p = c.add(i * ldc + 16 * v);
            let x = match store {
                Store::Overwrite => a[v],
                Store::Add => _mm512_add_ps(_mm512_maskz_loadu_ps(masks[v], p), a[v]),
                Store::Bias(bias) => _mm512_add_ps(a[v], _mm512_set1_ps(*bias.add(i))),
            };
            _mm512_mask_storeu_ps(p, masks[v], x);
        }
    };
    macro_rules! rows {
        ($($i:literal)*) => { $( if $i < mr { row($i, acc[$i]); } )* };
    }
    rows!(0 1 2 3 4 5 6 7 8 9);
}
