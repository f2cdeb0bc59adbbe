//! `f32-gemm-{MR}x{NR}-neon`: the aarch64 NEON micro-kernel.
//!
//! Register block: 8 rows x 3 q-registers (`NR = 12`), 24 accumulators. Each
//! k step loads one packed B row (3 vectors) and the step's 8 packed A values
//! (2 vectors), and does `acc = fma(b, a[lane], acc)` by element (`fmla v.4s,
//! v.4s, v.s[lane]`: one rounding). Edge tiles are spilled to a local array and
//! only their valid part is written. Scalar twin: `scalar.rs`; the summation
//! order is the same, only the FMA's single rounding differs.
//!
//! Compiled and tested here with Debian's rustc-web (`-Zbuild-std`) for
//! aarch64-unknown-linux-gnu under qemu-user (docs/NATIVE.md); not timed (an
//! emulator's speed says nothing).

#![allow(clippy::too_many_arguments, clippy::needless_range_loop)]

use core::arch::aarch64::*;

use super::{Store, MR, NR};

const _: () = assert!(MR == 8 && NR == 12);

/// Runs one `MR x NR` tile over `kc` packed steps.
///
/// # Safety
/// The CPU has NEON. As for `scalar::f32_gemm_scalar`: `pa` holds `kc * MR`
/// f32, `pb` holds `kc * NR` f32, and `c[i * ldc + j]` is writable for
/// `i < mr`, `j < nr`; nothing else is touched.
#[target_feature(enable = "neon")]
pub(super) unsafe fn f32_gemm_neon(
    kc: usize,
    pa: *const f32,
    pb: *const f32,
    c: *mut f32,
    ldc: usize,
    mr: usize,
    nr: usize,
    store: Store,
) {
    let mut acc = [[vdupq_n_f32(0.0); 3]; MR];
    let (mut pa, mut pb) = (pa, pb);
    for _ in 0..kc {
        // In bounds: kc steps of MR A values and NR B values.
        let b = [vld1q_f32(pb), vld1q_f32(pb.add(4)), vld1q_f32(pb.add(8))];
        let (a0, a1) = (vld1q_f32(pa), vld1q_f32(pa.add(4)));
        for v in 0..3 {
            acc[0][v] = vfmaq_laneq_f32::<0>(acc[0][v], b[v], a0);
            acc[1][v] = vfmaq_laneq_f32::<1>(acc[1][v], b[v], a0);
            acc[2][v] = vfmaq_laneq_f32::<2>(acc[2][v], b[v], a0);
            acc[3][v] = vfmaq_laneq_f32::<3>(acc[3][v], b[v], a0);
            acc[4][v] = vfmaq_laneq_f32::<0>(acc[4][v], b[v], a1);
            acc[5][v] = vfmaq_laneq_f32::<1>(acc[5][v], b[v], a1);
            acc[6][v] = vfmaq_laneq_f32::<2>(acc[6][v], b[v], a1);
            acc[7][v] = vfmaq_laneq_f32::<3>(acc[7][v], b[v], a1);
        }
        pa = pa.add(MR);
        pb = pb.add(NR);
    }
    if mr == MR && nr == NR {
        for i in 0..MR {
            let row = c.add(i * ldc);
            for v in 0..3 {
                let p = row.add(4 * v);
                let x = match store {
                    Store::Overwrite => acc[i][v],
                    Store::Add => vaddq_f32(vld1q_f32(p), acc[i][v]),
                    Store::Bias(bias) => vaddq_f32(acc[i][v], vdupq_n_f32(*bias.add(i))),
                };
                vst1q_f32(p, x);
            }
        }
    } else {
        let mut t = [[0.0f32; NR]; MR];
        for i in 0..MR {
            for v in 0..3 {
                vst1q_f32(t[i].as_mut_ptr().add(4 * v), acc[i][v]);
            }
        }
        for i in 0..mr {
            let row = c.add(i * ldc);
            for j in 0..nr {
                let p = row.add(j);
                *p = match store {
                    Store::Overwrite => t[i][j],
                    Store::Add => *p + t[i][j],
                    Store::Bias(bias) => t[i][j] + *bias.add(i),
                };
            }
        }
    }
}
