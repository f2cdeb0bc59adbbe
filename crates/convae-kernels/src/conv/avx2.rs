//! `f32-im2col-avx2`: the im2col packers' copies with 256-bit moves, used by
//! both native SIMD ISAs (every AVX-512 CPU here also has AVX2): runs of
//! consecutive positions for `Im2col`, 8×8 register transposes for `Im2colT`.
//! Values are copied, never computed, so the panels are the scalar packers',
//! bit for bit.

use super::for_each_row;
use crate::gemm::NR;
use crate::shape::Conv2d;
use core::arch::x86_64::*;

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
pub(super) unsafe fn gather_rows_t8(
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

/// `native_runs`'s copy: each panel row (see `for_each_row`) gets, for every
/// run `(j0, len)`, `len` consecutive x values from `off + col[j0]` at column
/// `j0`; columns past `cols` are 0. Runs of 8 (W2's out_w) take one move each.
///
/// # Safety
/// The CPU has AVX2; the runs cover columns `< cols` and every read is inside
/// the image (as `native_runs` states).
#[target_feature(enable = "avx2")]
pub(super) unsafe fn copy_runs(
    s: &Conv2d,
    col: &[usize; NR],
    runs: &[(usize, usize)],
    cols: usize,
    p0: usize,
    panel: &mut [f32],
    xp: *const f32,
) {
    if runs.iter().all(|&(_, len)| len == 8) {
        for_each_row(s, p0, panel, |d, off| {
            let dp = d.as_mut_ptr();
            for &(j0, _) in runs {
                _mm256_storeu_ps(dp.add(j0), _mm256_loadu_ps(xp.add(off + col[j0])));
            }
            d[cols..].fill(0.0);
        });
        return;
    }
    for_each_row(s, p0, panel, |d, off| {
        let dp = d.as_mut_ptr();
        for &(j0, len) in runs {
            let (src, dst) = (xp.add(off + col[j0]), dp.add(j0));
            let mut t = 0;
            while t + 8 <= len {
                _mm256_storeu_ps(dst.add(t), _mm256_loadu_ps(src.add(t)));
                t += 8;
            }
            if t + 4 <= len {
                _mm_storeu_ps(dst.add(t), _mm_loadu_ps(src.add(t)));
                t += 4;
            }
            while t < len {
                *dst.add(t) = *src.add(t);
                t += 1;
            }
        }
        d[cols..].fill(0.0);
    });
}
