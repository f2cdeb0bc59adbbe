//! `f32-gemm-{MR}x{NR}-scalar`: the scalar twin of `wasmsimd.rs`.
//!
//! It performs exactly the floating-point operations of the SIMD128 micro-kernel,
//! in the same order, element by element: for every C element,
//! `acc = 0; for p in 0..kc { acc = acc + a[p] * b[p] }`, then `c = acc`,
//! `c = c + acc` or `c = acc + bias[i]`. Rust never contracts `x + y * z` into an FMA, so in a build
//! without relaxed-SIMD the two paths give bit-identical results.

// `x = x + y` spells out the operation order the twins share; indexed loops
// mirror the SIMD lanes.
#![allow(
    clippy::assign_op_pattern,
    clippy::needless_range_loop,
    clippy::too_many_arguments
)]

use super::{Store, MR, NR};

/// Runs one `MR x NR` tile over `kc` packed steps.
///
/// # Safety
/// `pa` points to `kc * MR` readable f32 (one packed A panel), `pb` to `kc * NR`
/// (one packed B panel). `c` points to C(0, 0) of the tile and every element
/// `c[i * ldc + j]` with `i < mr`, `j < nr` is writable; nothing else is touched.
#[inline(always)]
pub(super) unsafe fn f32_gemm_scalar(
    kc: usize,
    pa: *const f32,
    pb: *const f32,
    c: *mut f32,
    ldc: usize,
    mr: usize,
    nr: usize,
    store: Store,
) {
    // The tile is computed in 2x4 sub-tiles (8 accumulators, which fit the
    // registers a wasm engine gives scalar f32 code), each over the whole kc
    // range; every element still sees `acc = acc + a*b` for p = 0, 1, .. in order.
    const SR: usize = 2;
    const SC: usize = 4;
    let mut acc = [[0.0f32; NR]; MR];
    for i0 in (0..MR).step_by(SR) {
        for j0 in (0..NR).step_by(SC) {
            let mut t = [[0.0f32; SC]; SR];
            for p in 0..kc {
                // In bounds: p < kc, i0 + SR <= MR, j0 + SC <= NR within the panels.
                let b: [f32; SC] = core::array::from_fn(|j| *pb.add(p * NR + j0 + j));
                for i in 0..SR {
                    let a = *pa.add(p * MR + i0 + i);
                    for j in 0..SC {
                        t[i][j] = t[i][j] + a * b[j];
                    }
                }
            }
            for i in 0..SR {
                acc[i0 + i][j0..j0 + SC].copy_from_slice(&t[i]);
            }
        }
    }
    for i in 0..mr {
        // In bounds: i < mr and j < nr are exactly the caller's writable elements.
        let row = c.add(i * ldc);
        match store {
            Store::Overwrite => {
                for j in 0..nr {
                    *row.add(j) = acc[i][j];
                }
            }
            Store::Add => {
                for j in 0..nr {
                    *row.add(j) = *row.add(j) + acc[i][j];
                }
            }
            Store::Bias(bias) => {
                let bi = *bias.add(i);
                for j in 0..nr {
                    *row.add(j) = acc[i][j] + bi;
                }
            }
        }
    }
}
