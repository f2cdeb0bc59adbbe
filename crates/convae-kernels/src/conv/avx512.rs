//! `f32-col2im-avx512`: col2im for unit strides (AVX-512F), one output row
//! chunk of 16 columns at a time, kept in a register while every `(ki, kj)`
//! adds its shifted run of the column matrix through a lane mask.
//!
//! Element `dx[c, iy, ix]` receives its terms in the scalar twin's order
//! (ki, then kj; one `oy` per `ki`), each with one add, and lanes outside a
//! run are not added to (a masked add, so a `-0.0` stays `-0.0`): the
//! twin's bits. Why: the twin's order (c, ki, kj, oy) stores a row and, one
//! `kj` later, loads it back shifted by one float, which stalls store
//! forwarding; here each row is loaded and stored once.

use crate::shape::Conv2d;
use core::arch::x86_64::*;

/// `conv::col2im` when `sh == sw == 1`.
///
/// # Safety
/// The CPU has AVX-512F; `dcol` holds `col_rows() * col_cols()` values and
/// `dx` one image (`c_in * h * w`).
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn col2im_s1(s: &Conv2d, dcol: &[f32], dx: &mut [f32]) {
    debug_assert!(s.sh == 1 && s.sw == 1);
    let (oh, ow) = (s.out_h() as isize, s.out_w() as isize);
    let (h, w) = (s.h, s.w);
    let (ph, pw) = (s.ph as isize, s.pw as isize);
    let p = (oh * ow) as usize;
    assert!(dcol.len() >= s.col_rows() * p && dx.len() >= s.c_in * h * w);
    let (cp, dp) = (dcol.as_ptr(), dx.as_mut_ptr());
    // ROWS output rows at once: each row's adds form one dependent chain, so
    // independent rows keep the adder busy.
    const ROWS: usize = 4;
    for c in 0..s.c_in {
        for iy0 in (0..h).step_by(ROWS) {
            let rows = (h - iy0).min(ROWS);
            for b in (0..w).step_by(16) {
                let lanes = (w - b).min(16);
                let mrow: __mmask16 = if lanes == 16 {
                    0xFFFF
                } else {
                    (1 << lanes) - 1
                };
                let drow = |r: usize| dp.add((c * h + iy0 + r) * w + b);
                let mut acc = [_mm512_setzero_ps(); ROWS];
                for (r, a) in acc.iter_mut().enumerate().take(rows) {
                    *a = _mm512_maskz_loadu_ps(mrow, drow(r));
                }
                for ki in 0..s.kh {
                    for kj in 0..s.kw {
                        // Lane j is column ix = b + j, fed by ox = b + j + pw - kj in [0, ow).
                        let shift = b as isize + pw - kj as isize;
                        let lo = (-shift).clamp(0, lanes as isize);
                        let hi = (ow - shift).clamp(0, lanes as isize);
                        if lo >= hi {
                            continue;
                        }
                        let m = (((1u32 << hi) - 1) & !((1u32 << lo) - 1)) as __mmask16;
                        let row = cp.add(((c * s.kh + ki) * s.kw + kj) * p);
                        for (r, a) in acc.iter_mut().enumerate().take(rows) {
                            let oy = (iy0 + r) as isize + ph - ki as isize;
                            if oy < 0 || oy >= oh {
                                continue;
                            }
                            // Lane j reads position oy*ow + shift + j of the row;
                            // only the lanes of m (inside the row) are accessed.
                            let v = _mm512_maskz_loadu_ps(m, row.wrapping_offset(oy * ow + shift));
                            *a = _mm512_mask_add_ps(*a, m, *a, v);
                        }
                    }
                }
                for (r, a) in acc.iter().enumerate().take(rows) {
                    _mm512_mask_storeu_ps(drow(r), mrow, *a);
                }
            }
        }
    }
}
