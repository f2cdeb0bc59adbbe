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

/// `conv::col2im` for unit strides with AVX2: `conv/avx512.rs`'s `col2im_s1`
/// (each output row chunk, here 8 columns, kept in a register over (ki, kj),
/// 4 rows at a time) with lane masks as vectors: `vmaskmovps` loads only the
/// lanes inside a run, and a blend keeps the other lanes unadded (so a
/// `-0.0` stays `-0.0`). The twin's order of terms: its bits.
///
/// # Safety
/// The CPU has AVX2; `dcol` holds `col_rows() * col_cols()` values and `dx`
/// one image (`c_in * h * w`).
#[target_feature(enable = "avx2")]
pub(super) unsafe fn col2im_s1(s: &Conv2d, dcol: &[f32], dx: &mut [f32]) {
    debug_assert!(s.sh == 1 && s.sw == 1);
    let (oh, ow) = (s.out_h() as isize, s.out_w() as isize);
    let (h, w) = (s.h, s.w);
    let (ph, pw) = (s.ph as isize, s.pw as isize);
    let p = (oh * ow) as usize;
    assert!(dcol.len() >= s.col_rows() * p && dx.len() >= s.c_in * h * w);
    let (cp, dp) = (dcol.as_ptr(), dx.as_mut_ptr());
    let iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // Lanes [lo, hi) as a vector mask.
    let lanes = |lo: isize, hi: isize| {
        _mm256_and_si256(
            _mm256_cmpgt_epi32(_mm256_set1_epi32(hi as i32), iota),
            _mm256_cmpgt_epi32(
                _mm256_add_epi32(iota, _mm256_set1_epi32(1)),
                _mm256_set1_epi32(lo as i32),
            ),
        )
    };
    const ROWS: usize = 4;
    for c in 0..s.c_in {
        for iy0 in (0..h).step_by(ROWS) {
            let rows = (h - iy0).min(ROWS);
            for b in (0..w).step_by(8) {
                let width = (w - b).min(8) as isize;
                let mrow = lanes(0, width);
                let drow = |r: usize| dp.add((c * h + iy0 + r) * w + b);
                let mut acc = [_mm256_setzero_ps(); ROWS];
                for (r, a) in acc.iter_mut().enumerate().take(rows) {
                    *a = _mm256_maskload_ps(drow(r), mrow);
                }
                for ki in 0..s.kh {
                    for kj in 0..s.kw {
                        // Lane j is column ix = b + j, fed by ox = b + j + pw - kj in [0, ow).
                        let shift = b as isize + pw - kj as isize;
                        let lo = (-shift).clamp(0, width);
                        let hi = (ow - shift).clamp(0, width);
                        if lo >= hi {
                            continue;
                        }
                        let m = lanes(lo, hi);
                        let keep = _mm256_castsi256_ps(m);
                        let row = cp.add(((c * s.kh + ki) * s.kw + kj) * p);
                        for (r, a) in acc.iter_mut().enumerate().take(rows) {
                            let oy = (iy0 + r) as isize + ph - ki as isize;
                            if oy < 0 || oy >= oh {
                                continue;
                            }
                            // Only the lanes of m (inside the row) are read.
                            let v = _mm256_maskload_ps(row.wrapping_offset(oy * ow + shift), m);
                            *a = _mm256_blendv_ps(*a, _mm256_add_ps(*a, v), keep);
                        }
                    }
                }
                for (r, a) in acc.iter().enumerate().take(rows) {
                    _mm256_maskstore_ps(drow(r), mrow, *a);
                }
            }
        }
    }
}
