//! `f32-gemm-{MR}x{NR}-avx2`: the x86-64 AVX2 + FMA micro-kernel.
//!
//! The `MR x 32` tile is computed as `2 x 2` quarters of `MR/2 x 16`: 10 ymm
//! accumulators, 2 B vectors and a broadcast fit the 16 ymm registers. Each k
//! step does `acc = fma(a, b, acc)` (one rounding). Edge tiles are spilled to a
//! local array and only their valid part is written. Scalar twin: `scalar.rs`.

#![allow(clippy::too_many_arguments, clippy::needless_range_loop)]

use core::arch::x86_64::*;

use super::{Store, MR, NR};

const _: () = assert!(NR == 32 && MR == 10);

/// Columns per quarter.
const HC: usize = 16;

/// Rows per quarter.
const HR: usize = MR / 2;

/// Runs one `MR x NR` tile over `kc` packed steps.
///
/// # Safety
/// The CPU has AVX2 and FMA. As for `scalar::f32_gemm_scalar`: `pa` holds
/// `kc * MR` f32, `pb` holds `kc * NR` f32, and `c[i * ldc + j]` is writable for
/// `i < mr`, `j < nr`; nothing else is touched.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn f32_gemm_avx2(
    kc: usize,
    pa: *const f32,
    pb: *const f32,
    c: *mut f32,
    ldc: usize,
    mr: usize,
    nr: usize,
    store: Store,
) {
    for (h, j0) in (0..MR / HR).flat_map(|h| [(h, 0), (h, HC)]) {
        let i0 = h * HR;
        if i0 >= mr || j0 >= nr {
            continue;
        }
        let mut acc = [[_mm256_setzero_ps(); 2]; HR];
        let (mut a, mut b) = (pa.add(i0), pb.add(j0));
        for _ in 0..kc {
            // In bounds: kc steps of MR A values (rows i0..i0+HR <= MR) and NR B
            // values (columns j0..j0+HC <= NR).
            let b0 = _mm256_loadu_ps(b);
            let b1 = _mm256_loadu_ps(b.add(8));
            for i in 0..HR {
                let ai = _mm256_broadcast_ss(&*a.add(i));
                acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
            }
            a = a.add(MR);
            b = b.add(NR);
        }
        let rows = HR.min(mr - i0);
        let cols = HC.min(nr - j0);
        // One row of the quarter written; rows are named by constants (`rows!`)
        // so the accumulators stay in registers.
        let row = |i: usize, a: [__m256; 2]| {
            let r = c.add((i0 + i) * ldc + j0);
            if cols == HC {
                for v in 0..2 {
                    let p = r.add(8 * v);
                    let x = match store {
                        Store::Overwrite => a[v],
                        Store::Add => _mm256_add_ps(_mm256_loadu_ps(p), a[v]),
                        Store::Bias(bias) => _mm256_add_ps(a[v], _mm256_set1_ps(*bias.add(i0 + i))),
                    };
                    _mm256_storeu_ps(p, x);
                }
            } else {
                // Edge tile: spill the row, write its valid columns.
                let mut t = [0.0f32; HC];
                _mm256_storeu_ps(t.as_mut_ptr(), a[0]);
                _mm256_storeu_ps(t.as_mut_ptr().add(8), a[1]);
                for (j, &tj) in t.iter().enumerate().take(cols) {
                    let p = r.add(j);
                    *p = match store {
                        Store::Overwrite => tj,
                        Store::Add => *p + tj,
                        Store::Bias(bias) => tj + *bias.add(i0 + i),
                    };
                }
            }
        };
        macro_rules! rows {
            ($($i:literal)*) => { $( if $i < rows { row($i, acc[$i]); } )* };
        }
        rows!(0 1 2 3 4);
    }
}
