//! `f32-gemm-{MR}x{NR}-wasmsimd`: the SIMD128 micro-kernel (relaxed build: FMA).
//!
//! Register block: `MR x NR/4` f32x4 accumulators. Each k step loads one row of
//! the packed B panel (`NR/4` vectors), splats each of the `MR` packed A values
//! and does `acc = acc + a * b` (`madd`). Its scalar twin is `scalar.rs`.

// `x = x + y` spells out the operation order the twins share; indexed loops
// mirror the SIMD lanes.
#![allow(clippy::needless_range_loop, clippy::too_many_arguments)]

use core::arch::wasm32::*;

use super::{Store, MR, NR};

const NV: usize = NR / 4;

/// `c + a * b`: two roundings (`f32x4_mul` then `f32x4_add`) in the SIMD128
/// build, one fused rounding where the runtime has an FMA in the relaxed build.
#[inline(always)]
pub(crate) fn madd(a: v128, b: v128, c: v128) -> v128 {
    #[cfg(target_feature = "relaxed-simd")]
    {
        f32x4_relaxed_madd(a, b, c)
    }
    #[cfg(not(target_feature = "relaxed-simd"))]
    {
        f32x4_add(c, f32x4_mul(a, b))
    }
}

/// Runs one `MR x NR` tile over `kc` packed steps.
///
/// # Safety
/// As for `scalar::f32_gemm_scalar`: `pa` holds `kc * MR` f32, `pb` holds
/// `kc * NR` f32, and `c[i * ldc + j]` is writable for `i < mr`, `j < nr`.
#[inline(always)]
pub(super) unsafe fn f32_gemm_wasmsimd(
    kc: usize,
    pa: *const f32,
    pb: *const f32,
    c: *mut f32,
    ldc: usize,
    mr: usize,
    nr: usize,
    store: Store,
) {
    let mut acc = [[f32x4_splat(0.0); NV]; MR];
    let mut pa = pa;
    let mut pb = pb;
    for _ in 0..kc {
        // In bounds: kc steps, each consuming MR values of the A panel and NR of
        // the B panel, which hold kc * MR and kc * NR values.
        let b: [v128; NV] = core::array::from_fn(|v| v128_load(pb.add(4 * v) as *const v128));
        for i in 0..MR {
            let a = v128_load32_splat(pa.add(i) as *const u32);
            for v in 0..NV {
                acc[i][v] = madd(a, b[v], acc[i][v]);
            }
        }
        pa = pa.add(MR);
        pb = pb.add(NR);
    }
    if mr == MR && nr == NR {
        // Full tile: every c[i * ldc + 4v .. +4] with i < MR, 4v + 4 <= NR is valid.
        for i in 0..MR {
            let row = c.add(i * ldc);
            for v in 0..NV {
                let p = row.add(4 * v) as *mut v128;
                match store {
                    Store::Overwrite => v128_store(p, acc[i][v]),
                    Store::Add => v128_store(p, f32x4_add(v128_load(p), acc[i][v])),
                    Store::Bias(bias) => v128_store(
                        p,
                        f32x4_add(acc[i][v], v128_load32_splat(bias.add(i) as *const u32)),
                    ),
                }
            }
        }
    } else {
        // Edge tile: spill the whole tile to a local array, copy the valid part.
        let mut t = [[0.0f32; NR]; MR];
        for i in 0..MR {
            for v in 0..NV {
                v128_store(t[i].as_mut_ptr().add(4 * v) as *mut v128, acc[i][v]);
            }
        }
        for i in 0..mr {
            let row = c.add(i * ldc);
            match store {
                Store::Overwrite => {
                    for j in 0..nr {
                        *row.add(j) = t[i][j];
                    }
                }
                Store::Add => {
                    for j in 0..nr {
                        *row.add(j) = *row.add(j) + t[i][j];
                    }
                }
                Store::Bias(bias) => {
                    let bi = *bias.add(i);
                    for j in 0..nr {
                        *row.add(j) = t[i][j] + bi;
                    }
                }
            }
        }
    }
}
