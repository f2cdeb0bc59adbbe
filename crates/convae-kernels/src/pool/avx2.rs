//! `f32-maxpool-2x2s2-avx2`: max pooling with switches, 2×2 windows, stride 2,
//! 8 outputs per step (AVX2).
//!
//! Candidates are de-interleaved from contiguous loads (`shufps` +
//! `vpermpd`) and combined in the scalar twin's scan order — (0,0), then
//! (0,1), (1,0), (1,1), replacing on `v > m` or (`v` NaN and `m` not) — so
//! values, switches and NaN choice are bit-identical to the twin.
//! - Row path: 8 outputs of one row per step; a row's last `ow % 8` outputs
//!   run the scalar twin.
//! - Flat path (`ow == 4`, `w == 8`, e.g. 8×8 planes): two output rows per step.

use super::window_max;
use crate::shape::Pool2d;
use core::arch::x86_64::*;

#[inline(always)]
unsafe fn argmax4(c: [(__m256, __m256i); 4]) -> (__m256, __m256i) {
    let (mut m, mi) = c[0];
    let mut mi = _mm256_castsi256_ps(mi);
    for &(v, vi) in &c[1..] {
        let gt = _mm256_cmp_ps::<_CMP_GT_OQ>(v, m);
        let nan = _mm256_and_ps(
            _mm256_cmp_ps::<_CMP_UNORD_Q>(v, v),
            _mm256_cmp_ps::<_CMP_ORD_Q>(m, m),
        );
        let take = _mm256_or_ps(gt, nan);
        m = _mm256_blendv_ps(m, v, take);
        mi = _mm256_blendv_ps(mi, _mm256_castsi256_ps(vi), take);
    }
    (m, _mm256_castps_si256(mi))
}

/// Even-indexed and odd-indexed floats of `a ++ b` (16 floats → 8 + 8).
#[inline(always)]
unsafe fn deinterleave(a: __m256, b: __m256) -> (__m256, __m256) {
    let e = _mm256_shuffle_ps::<0b10_00_10_00>(a, b);
    let o = _mm256_shuffle_ps::<0b11_01_11_01>(a, b);
    // [a0 a2 b0 b2 | a4 a6 b4 b6] -> [a0 a2 a4 a6 b0 b2 b4 b6]
    let fix =
        |v: __m256| _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(v)));
    (fix(e), fix(o))
}

/// # Safety
/// The CPU has AVX2; `p` is a validated 2×2 stride-2 pool and the slices hold
/// `p.x_len()` / `p.y_len()` elements.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn max_pool2d_2x2s2(p: &Pool2d, x: &[f32], y: &mut [f32], sw: &mut [u32]) {
    let (h, w, oh, ow) = (p.h, p.w, p.out_h(), p.out_w());
    let flat = ow == 4 && w == 8;
    let one = _mm256_set1_epi32(1);
    let wv = _mm256_set1_epi32(w as i32);
    for c in 0..p.planes {
        let xp = &x[c * h * w..(c + 1) * h * w];
        let yp = y.as_mut_ptr().add(c * oh * ow);
        let sp = sw.as_mut_ptr().add(c * oh * ow);
        let mut oi = 0;
        if flat {
            while oi + 2 <= oh {
                // Rows 2·oi .. 2·oi + 4 of the plane: 32 floats.
                let s = xp.as_ptr().add(oi * 16);
                let (e0, o0) = deinterleave(_mm256_loadu_ps(s), _mm256_loadu_ps(s.add(16)));
                let (e1, o1) = deinterleave(_mm256_loadu_ps(s.add(8)), _mm256_loadu_ps(s.add(24)));
                let i0 = _mm256_add_epi32(
                    _mm256_setr_epi32(0, 2, 4, 6, 16, 18, 20, 22),
                    _mm256_set1_epi32((oi * 16) as i32),
                );
                let i2 = _mm256_add_epi32(i0, wv);
                let (m, mi) = argmax4([
                    (e0, i0),
                    (o0, _mm256_add_epi32(i0, one)),
                    (e1, i2),
                    (o1, _mm256_add_epi32(i2, one)),
                ]);
                _mm256_storeu_ps(yp.add(oi * 4), m);
                _mm256_storeu_si256(sp.add(oi * 4) as *mut _, mi);
                oi += 2;
            }
        }
        for oi in oi..oh {
            let mut oj = 0;
            while oj + 8 <= ow {
                let start = oi * 2 * w + 2 * oj;
                // In bounds: columns 2·oj .. 2·oj + 16 <= 2·ow <= w of rows 2·oi, 2·oi + 1.
                let r0 = xp.as_ptr().add(start);
                let r1 = r0.add(w);
                let (e0, o0) = deinterleave(_mm256_loadu_ps(r0), _mm256_loadu_ps(r0.add(8)));
                let (e1, o1) = deinterleave(_mm256_loadu_ps(r1), _mm256_loadu_ps(r1.add(8)));
                let i0 = _mm256_add_epi32(
                    _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14),
                    _mm256_set1_epi32(start as i32),
                );
                let i2 = _mm256_add_epi32(i0, wv);
                let (m, mi) = argmax4([
                    (e0, i0),
                    (o0, _mm256_add_epi32(i0, one)),
                    (e1, i2),
                    (o1, _mm256_add_epi32(i2, one)),
                ]);
                _mm256_storeu_ps(yp.add(oi * ow + oj), m);
                _mm256_storeu_si256(sp.add(oi * ow + oj) as *mut _, mi);
                oj += 8;
            }
            for oj in oj..ow {
                let (m, mi) = window_max(xp, w, 2, 2, oi * 2 * w + 2 * oj);
                *yp.add(oi * ow + oj) = m;
                *sp.add(oi * ow + oj) = mi as u32;
            }
        }
    }
}
