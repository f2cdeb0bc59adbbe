//! `f32-gemm-{MR}x{NR}-scalar`: the scalar twin of `wasmsimd.rs`.
//!
//! It performs exactly the floating-point operations of the SIMD128 micro-kernel,
//! in the same order, element by element: for every C element,
//! `acc = 0; for p in 0..kc { acc = acc + a[p] * b[p] }`, then `c = acc`,
//! `c = c + acc` or `c = acc + bias[i]`. Rust never contracts `x + y * z` into an FMA, so in a build
//! without relaxed-SIMD the two paths give bit-identical results.

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
    let mut acc = [[0.0f32; NR]; MR];
    let mut pa = pa;
    let mut pb = pb;
    for _ in 0..kc {
        // In bounds: the loop runs kc times and each panel holds kc * MR (kc * NR) values.
        let b: [f32; NR] = core::array::from_fn(|j| *pb.add(j));
        for i in 0..MR {
            let a = *pa.add(i);
            for j in 0..NR {
                acc[i][j] = acc[i][j] + a * b[j];
            }
        }
        pa = pa.add(MR);
        pb = pb.add(NR);
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
