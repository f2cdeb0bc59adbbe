//! `f32-pack-avx2`: GEMM packing that transposes, as 8×8 register transposes
//! (AVX; used by both native SIMD ISAs: every AVX-512 CPU here also has AVX2).
//! Values are copied, never computed, so the panels are the scalar packers',
//! bit for bit.
//! - `gather_rows_t8`: B panels whose rows are strided in memory but whose
//!   columns are contiguous (a column-major B, `Im2colT`'s transposed im2col).
//! - `pack_a_rows10`: A panels (10 rows, column by column) of a row-major A.

use crate::gemm::{MR, NR};
use core::arch::x86_64::*;

const _: () = assert!(MR == 10);

/// Rows of `r` become columns.
#[inline(always)]
unsafe fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}

/// The unit-stride case of `conv::gather_rows`, 8 panel rows at a time: panel
/// row `r`, column `jj < cols` is `x[base + r + off[jj]]`, columns past `cols`
/// are 0. Writes whole groups of 8 rows of the `n` and returns how many.
///
/// # Safety
/// The CPU has AVX2; every such `x` index with `r < n` is in bounds and `d`
/// holds `n * NR` f32.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn gather_rows_t8(
    x: *const f32,
    base: usize,
    off: &[usize; NR],
    cols: usize,
    d: *mut f32,
    n: usize,
) -> usize {
    let zero = _mm256_setzero_ps();
    let mut r = 0;
    while r + 8 <= n {
        for g in 0..NR / 8 {
            let dst = d.add(r * NR + 8 * g);
            let v: [__m256; 8] = if 8 * g >= cols {
                [zero; 8]
            } else {
                // Column 8g + t: its panel rows r .. r + 8 are 8 consecutive x values.
                transpose8(core::array::from_fn(|t| {
                    if 8 * g + t < cols {
                        _mm256_loadu_ps(x.add(base + r + off[8 * g + t]))
                    } else {
                        zero
                    }
                }))
            };
            for (i, vi) in v.into_iter().enumerate() {
                _mm256_storeu_ps(dst.add(i * NR), vi);
            }
        }
        r += 8;
    }
    r
}

/// One `MR = 10` row panel of a row-major A: `dst[p*10 + i] = a[i*rs + p]`
/// for `p < kc`, `i < 10` (`a` points at the panel's first element).
///
/// # Safety
/// The CPU has AVX2; `a[i*rs + p]` is readable for `i < 10`, `p < kc`, and
/// `dst` holds `kc * 10` f32.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn pack_a_rows10(a: *const f32, rs: usize, kc: usize, dst: *mut f32) {
    let mut p = 0;
    while p + 8 <= kc {
        // Rows 0..8: one transpose gives the 8 k-steps' first 8 values.
        let t = transpose8(core::array::from_fn(|i| _mm256_loadu_ps(a.add(i * rs + p))));
        // Rows 8, 9: pairs (a[8][p], a[9][p]) from two unpacks.
        let (r8, r9) = (
            _mm256_loadu_ps(a.add(8 * rs + p)),
            _mm256_loadu_ps(a.add(9 * rs + p)),
        );
        let (lo, hi) = (_mm256_unpacklo_ps(r8, r9), _mm256_unpackhi_ps(r8, r9));
        // lo = [p0 p1 | p4 p5] pairs, hi = [p2 p3 | p6 p7] pairs.
        let q = [
            _mm256_castps256_ps128(lo),
            _mm256_castps256_ps128(hi),
            _mm256_extractf128_ps::<1>(lo),
            _mm256_extractf128_ps::<1>(hi),
        ];
        for (s, ts) in t.into_iter().enumerate() {
            let d = dst.add((p + s) * MR);
            _mm256_storeu_ps(d, ts);
            let pair = q[s / 2];
            let pair = if s % 2 == 0 {
                pair
            } else {
                _mm_movehl_ps(pair, pair)
            };
            _mm_storel_pd(d.add(8) as *mut f64, _mm_castps_pd(pair));
        }
        p += 8;
    }
    while p < kc {
        for i in 0..MR {
            *dst.add(p * MR + i) = *a.add(i * rs + p);
        }
        p += 1;
    }
}
