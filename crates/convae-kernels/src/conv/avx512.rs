//! AVX-512F convolution kernels: `forward_direct` (conv2d forward without
//! an im2col panel, below) and `col2im_s1`.
//!
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

use crate::blocking::{KC, MR};
use crate::shape::Conv2d;
use core::arch::x86_64::*;

const _: () = assert!(MR == 10);

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

/// Whether `conv2d` takes `forward_direct` for `s` (the padded view): unit
/// strides, at most `KC` im2col rows (one pass over k, the offsets on the
/// stack), and at least 80 % of the "virtual" positions real.
pub(super) fn direct_fits(s: &Conv2d) -> bool {
    s.sh == 1 && s.sw == 1 && s.col_rows() <= KC && 5 * s.out_w() >= 4 * s.w
}

/// `f32-conv-direct-10x32-avx512`: conv2d forward of one image without an
/// im2col panel. Output positions are taken over the whole input width
/// ("virtual" position `v = oy·w + ox`, `ox < w`), so im2col row `(c, ki, kj)`
/// over 32 consecutive virtual positions is 32 consecutive values of `x`,
/// from `v0 + c·h·w + ki·w + kj`: the micro-kernel loads them straight from
/// the image. Virtual columns `ox >= out_w` are computed and not stored
/// (`w - out_w` of every `w`, hence `direct_fits`). Tile: 10 output channels
/// (a packed A panel) x 32 positions, 20 zmm accumulators, as the GEMM's.
/// The sum over k runs in the GEMM's order with one k-block, fused
/// multiply-adds: within rounding of the im2col path.
///
/// # Safety
/// The CPU has AVX-512F; `direct_fits(s)`; `x` holds the (padded) image
/// (`c_in·h·w`), `pa` the weight packed by `gemm::pack_a(c_out, K, ..)`, `y`
/// one output image (`c_out·out_h·out_w`), `bias` (if any) `c_out` values.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn forward_direct(
    s: &Conv2d,
    x: &[f32],
    pa: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) {
    let (k, w, hw) = (s.col_rows(), s.w, s.h * s.w);
    let (oh, ow) = (s.out_h(), s.out_w());
    let p = oh * ow;
    assert!(direct_fits(s) && x.len() >= s.c_in * hw && y.len() >= s.c_out * p);
    assert!(pa.len() >= s.c_out.div_ceil(MR) * MR * k && bias.is_none_or(|b| b.len() >= s.c_out));
    let mut off = [0usize; KC];
    for (q, o) in off.iter_mut().enumerate().take(k) {
        *o = (q / (s.kh * s.kw)) * hw + ((q / s.kw) % s.kh) * w + q % s.kw;
    }
    // The last real position is (oh-1, ow-1): past it nothing is read or
    // stored, so the reads stay inside the image.
    let pv = (oh - 1) * w + ow;
    let (xp, yp) = (x.as_ptr(), y.as_mut_ptr());
    let lanes = |n: usize| -> __mmask16 {
        if n >= 16 {
            0xFFFF
        } else {
            (1u16 << n) - 1
        }
    };
    for v0 in (0..pv).step_by(32) {
        let rem = pv - v0;
        let (m0, m1) = (lanes(rem), lanes(rem.saturating_sub(16)));
        for ir in 0..s.c_out.div_ceil(MR) {
            let mut acc = [[_mm512_setzero_ps(); 2]; MR];
            let mut a = pa.as_ptr().add(ir * k * MR);
            for &o in &off[..k] {
                // In bounds: v0 + j + o <= pv - 1 + o <= h·w - 1 for the unmasked lanes.
                let src = xp.add(v0 + o);
                let b0 = _mm512_maskz_loadu_ps(m0, src);
                let b1 = _mm512_maskz_loadu_ps(m1, src.add(16));
                for (i, ac) in acc.iter_mut().enumerate() {
                    let ai = _mm512_set1_ps(*a.add(i));
                    ac[0] = _mm512_fmadd_ps(ai, b0, ac[0]);
                    ac[1] = _mm512_fmadd_ps(ai, b1, ac[1]);
                }
                a = a.add(MR);
            }
            // Each output row the tile touches: its lanes [lo, hi) are positions
            // ox = v0 + lane - oy·w < ow, stored at y + ch·p + oy·ow + ox.
            let mr = MR.min(s.c_out - ir * MR);
            let row = |i: usize, ac: [__m512; 2]| {
                let ch = ir * MR + i;
                let b = bias.map_or(_mm512_setzero_ps(), |b| _mm512_set1_ps(b[ch]));
                let mut oy = v0 / w;
                while oy * w < v0 + 32 && oy < oh {
                    // Positions [lo, hi) of this row inside the tile (none when
                    // the tile starts in the row's virtual columns).
                    let lo = (oy * w).max(v0);
                    let hi = (oy * w + ow).min(v0 + 32).min(pv);
                    if lo < hi {
                        let (lo, hi) = (lo - v0, hi - v0);
                        let seg = (((1u64 << hi) - 1) & !((1u64 << lo) - 1)) as u32;
                        // Lane j goes to y[ch·p + oy·ow + (v0 + j - oy·w)].
                        let base = yp.wrapping_offset(
                            (ch * p + oy * ow) as isize + v0 as isize - (oy * w) as isize,
                        );
                        for (v, &acv) in ac.iter().enumerate() {
                            let m = (seg >> (16 * v)) as __mmask16;
                            if m != 0 {
                                let val = if bias.is_some() {
                                    _mm512_add_ps(acv, b)
                                } else {
                                    acv
                                };
                                _mm512_mask_storeu_ps(base.wrapping_add(16 * v), m, val);
                            }
                        }
                    }
                    oy += 1;
                }
            };
            macro_rules! rows {
                ($($i:literal)*) => { $( if $i < mr { row($i, acc[$i]); } )* };
            }
            rows!(0 1 2 3 4 5 6 7 8 9);
        }
    }
}
