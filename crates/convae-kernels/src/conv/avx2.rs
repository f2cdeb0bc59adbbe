//! `f32-im2col-avx2`: the im2col packer's copies and col2im's adds with
//! 256-bit moves, used by both native SIMD ISAs (every AVX-512 CPU here also
//! has AVX2); `Im2colT`'s transposing gather is `gemm::pack_avx2`'s. Values
//! are copied (or each added once, in order), so the results are the scalar
//! code's, bit for bit.

use super::{col2im_with, for_each_row};
use crate::gemm::NR;
use crate::shape::Conv2d;
use core::arch::x86_64::*;

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

/// `conv::col2im` with 256-bit adds (each element still gets one add, in the
/// same order: the scalar twin's bits).
///
/// # Safety
/// The CPU has AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn col2im(s: &Conv2d, dcol: &[f32], dx: &mut [f32]) {
    col2im_with(s, dcol, dx, |d, v| {
        let n = d.len().min(v.len());
        let (dp, vp) = (d.as_mut_ptr(), v.as_ptr());
        let mut t = 0;
        while t + 8 <= n {
            _mm256_storeu_ps(
                dp.add(t),
                _mm256_add_ps(_mm256_loadu_ps(dp.add(t)), _mm256_loadu_ps(vp.add(t))),
            );
            t += 8;
        }
        if t + 4 <= n {
            _mm_storeu_ps(
                dp.add(t),
                _mm_add_ps(_mm_loadu_ps(dp.add(t)), _mm_loadu_ps(vp.add(t))),
            );
            t += 4;
        }
        while t < n {
            *dp.add(t) += *vp.add(t);
            t += 1;
        }
    })
}
