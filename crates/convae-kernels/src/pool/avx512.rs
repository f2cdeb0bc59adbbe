//! `f32-maxpool-2x2s2-avx512`: max pooling with switches, 2×2 windows, stride 2,
//! 16 outputs per step (AVX-512F).
//!
//! Each window's four candidates are gathered from contiguous loads with
//! two-source permutes, then combined in the scalar twin's scan order —
//! (0,0), then (0,1), (1,0), (1,1), replacing on `v > m` or (`v` NaN and `m`
//! not) — so values, switches and NaN choice are bit-identical to the twin.
//! - Row path (any plane): one output row at a time, masked loads and stores
//!   for a row's last `ow % 16` outputs.
//! - Flat path (`w == 2·ow`, `ow` in 1, 2, 4, 8): `16 / ow` whole output rows
//!   per step; their inputs are 64 consecutive floats (four loads).

use crate::shape::Pool2d;
use core::arch::x86_64::*;

/// Combines the four candidates in scan order into (max, switch).
#[inline(always)]
unsafe fn argmax4(c: [(__m512, __m512i); 4]) -> (__m512, __m512i) {
    let (mut m, mut mi) = c[0];
    for &(v, vi) in &c[1..] {
        let gt = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, m);
        let nan = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v) & _mm512_cmp_ps_mask::<_CMP_ORD_Q>(m, m);
        let take = gt | nan;
        m = _mm512_mask_blend_ps(take, m, v);
        mi = _mm512_mask_blend_epi32(take, mi, vi);
    }
    (m, mi)
}

/// `[from, from + step, ...]` (16 lanes).
#[inline(always)]
unsafe fn ramp(from: i32, step: i32) -> __m512i {
    _mm512_add_epi32(
        _mm512_set1_epi32(from),
        _mm512_mullo_epi32(
            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            _mm512_set1_epi32(step),
        ),
    )
}

/// # Safety
/// The CPU has AVX-512F; `p` is a validated 2×2 stride-2 pool and the slices
/// hold `p.x_len()` / `p.y_len()` elements.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn max_pool2d_2x2s2(p: &Pool2d, x: &[f32], y: &mut [f32], sw: &mut [u32]) {
    let (h, w, oh, ow) = (p.h, p.w, p.out_h(), p.out_w());
    let flat = w == 2 * ow && matches!(ow, 1 | 2 | 4 | 8);
    // Flat path: lane j is output (j / ow, j % ow) of the block; its window
    // starts at (j / ow)·2w + 2·(j % ow) from the block's first input row.
    let base: [i32; 16] = core::array::from_fn(|j| ((j / ow) * 2 * w + 2 * (j % ow)) as i32);
    let base = _mm512_loadu_si512(base.as_ptr() as *const _);
    let wv = _mm512_set1_epi32(w as i32);
    let even = ramp(0, 2);
    let odd = ramp(1, 2);
    for c in 0..p.planes {
        let xp = x.as_ptr().add(c * h * w);
        let yp = y.as_mut_ptr().add(c * oh * ow);
        let sp = sw.as_mut_ptr().add(c * oh * ow);
        let mut oi = 0;
        if flat {
            let rows = 16 / ow;
            while oi + rows <= oh {
                // In bounds: rows oi·2 .. oi·2 + 2·rows <= h of this plane, 64 floats.
                let s = xp.add(oi * 2 * w);
                let q = [
                    _mm512_loadu_ps(s),
                    _mm512_loadu_ps(s.add(16)),
                    _mm512_loadu_ps(s.add(32)),
                    _mm512_loadu_ps(s.add(48)),
                ];
                // Lanes 0..8 come from floats 0..32, lanes 8..16 from 32..64
                // (the permute reads the low 5 bits of each index).
                let pick = |idx: __m512i| {
                    _mm512_mask_blend_ps(
                        0xFF00,
                        _mm512_permutex2var_ps(q[0], idx, q[1]),
                        _mm512_permutex2var_ps(q[2], idx, q[3]),
                    )
                };
                // Offsets in the block of the four candidates, then in the plane.
                let one = _mm512_set1_epi32(1);
                let o = [
                    base,
                    _mm512_add_epi32(base, one),
                    _mm512_add_epi32(base, wv),
                    _mm512_add_epi32(_mm512_add_epi32(base, wv), one),
                ];
                let at = _mm512_set1_epi32((oi * 2 * w) as i32);
                let (m, mi) = argmax4(o.map(|o| (pick(o), _mm512_add_epi32(o, at))));
                _mm512_storeu_ps(yp.add(oi * ow), m);
                _mm512_storeu_si512(sp.add(oi * ow) as *mut _, mi);
                oi += rows;
            }
        }
        for oi in oi..oh {
            let mut oj = 0;
            while oj < ow {
                let k = (ow - oj).min(16);
                // Masks of the 2k floats of each input row, and of the k outputs.
                let mlo: __mmask16 = if 2 * k >= 16 {
                    0xFFFF
                } else {
                    (1 << (2 * k)) - 1
                };
                let mhi: __mmask16 = if 2 * k >= 32 {
                    0xFFFF
                } else if 2 * k > 16 {
                    (1 << (2 * k - 16)) - 1
                } else {
                    0
                };
                let mout: __mmask16 = if k == 16 { 0xFFFF } else { (1 << k) - 1 };
                let start = oi * 2 * w + 2 * oj;
                // In bounds: columns 2·oj .. 2·(oj + k) <= 2·ow <= w of rows 2·oi, 2·oi + 1.
                let r0 = xp.add(start);
                let r1 = r0.add(w);
                let (a0, b0) = (
                    _mm512_maskz_loadu_ps(mlo, r0),
                    _mm512_maskz_loadu_ps(mhi, r0.add(16)),
                );
                let (a1, b1) = (
                    _mm512_maskz_loadu_ps(mlo, r1),
                    _mm512_maskz_loadu_ps(mhi, r1.add(16)),
                );
                let i0 = ramp(start as i32, 2);
                let one = _mm512_set1_epi32(1);
                let i1 = _mm512_add_epi32(i0, one);
                let i2 = _mm512_add_epi32(i0, wv);
                let i3 = _mm512_add_epi32(i2, one);
                let (m, mi) = argmax4([
                    (_mm512_permutex2var_ps(a0, even, b0), i0),
                    (_mm512_permutex2var_ps(a0, odd, b0), i1),
                    (_mm512_permutex2var_ps(a1, even, b1), i2),
                    (_mm512_permutex2var_ps(a1, odd, b1), i3),
                ]);
                _mm512_mask_storeu_ps(yp.add(oi * ow + oj), mout, m);
                _mm512_mask_storeu_epi32(sp.add(oi * ow + oj) as *mut _, mout, mi);
                oj += k;
            }
        }
    }
}

/// `f32-maxunpool-2x2s2-avx512`: the scatter-add of `max_pool2d_backward` and
/// `max_unpool2d` (the same operation: `out` zeroed, then
/// `out[plane][sw[i]] += v[i]`) for 2×2 windows, stride 2, written densely.
/// Windows do not overlap, so when every switch lies in its own window each
/// input gets at most one term and `out = 0 + v` there, `0` elsewhere: per
/// 16 outputs, the four candidates are selected by comparing the switch with
/// the window's four indices, added to `+0` (so `-0.0` becomes `+0.0` as the
/// scatter's add makes it) and interleaved back into the two input rows.
/// A plane with a switch outside its window (possible for switches a caller
/// made up) is redone by the scalar scatter. The twin's bits.
///
/// # Safety
/// The CPU has AVX-512F; `p` is a validated 2×2 stride-2 pool, `v` and `sw`
/// hold `p.y_len()` elements, `out` `p.x_len()`.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn scatter_2x2s2(p: &Pool2d, v: &[f32], sw: &[u32], out: &mut [f32]) {
    let (h, w, oh, ow) = (p.h, p.w, p.out_h(), p.out_w());
    let (pi, po) = (h * w, oh * ow);
    assert!(v.len() >= p.y_len() && sw.len() >= p.y_len() && out.len() >= p.x_len());
    let zero = _mm512_setzero_ps();
    // Lane j of the low / high interleave: even j from e, odd j from o.
    let il_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    let il_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    let (one, wv, w1) = (
        _mm512_set1_epi32(1),
        _mm512_set1_epi32(w as i32),
        _mm512_set1_epi32(w as i32 + 1),
    );
    let lanes = |n: usize| -> __mmask16 {
        if n >= 16 {
            0xFFFF
        } else {
            (1u16 << n) - 1
        }
    };
    for c in 0..p.planes {
        let plane = &mut out[c * pi..(c + 1) * pi];
        let (vp, sp) = (v.as_ptr().add(c * po), sw.as_ptr().add(c * po));
        if h % 2 == 1 || w % 2 == 1 {
            plane.fill(0.0); // the row / column no window covers
        }
        let op = plane.as_mut_ptr();
        let mut bad: __mmask16 = 0;
        for oi in 0..oh {
            let mut oj = 0;
            while oj < ow {
                let k = (ow - oj).min(16);
                let m = lanes(k);
                let g = _mm512_maskz_loadu_ps(m, vp.add(oi * ow + oj));
                let s = _mm512_maskz_loadu_epi32(m, sp.add(oi * ow + oj) as *const i32);
                let start = oi * 2 * w + 2 * oj;
                let rel = _mm512_sub_epi32(s, ramp(start as i32, 2));
                let me0 = _mm512_mask_cmpeq_epi32_mask(m, rel, _mm512_setzero_si512());
                let mo0 = _mm512_mask_cmpeq_epi32_mask(m, rel, one);
                let me1 = _mm512_mask_cmpeq_epi32_mask(m, rel, wv);
                let mo1 = _mm512_mask_cmpeq_epi32_mask(m, rel, w1);
                bad |= m & !(me0 | mo0 | me1 | mo1);
                let pick = |sel: __mmask16| _mm512_maskz_add_ps(sel, zero, g);
                // In bounds: columns 2·oj .. 2·(oj + k) <= 2·ow <= w of rows 2·oi, 2·oi + 1.
                for (row, (e, o)) in [(pick(me0), pick(mo0)), (pick(me1), pick(mo1))]
                    .into_iter()
                    .enumerate()
                {
                    let d = op.add(start + row * w);
                    _mm512_mask_storeu_ps(d, lanes(2 * k), _mm512_permutex2var_ps(e, il_lo, o));
                    _mm512_mask_storeu_ps(
                        d.add(16),
                        lanes((2 * k).saturating_sub(16)),
                        _mm512_permutex2var_ps(e, il_hi, o),
                    );
                }
                oj += k;
            }
        }
        if bad != 0 {
            plane.fill(0.0);
            for i in 0..po {
                if let Some(d) = plane.get_mut(*sp.add(i) as usize) {
                    *d += *vp.add(i);
                }
            }
        }
    }
}

/// `f32-maxunpool-backward-avx512`: `max_unpool2d_backward`'s gather
/// `dx[i] = dy[plane][sw[i]]` (0 for a switch outside the plane) by masked
/// 16-lane gathers, for any window. Copies: the twin's bits.
///
/// # Safety
/// The CPU has AVX-512F; `dy` holds `p.x_len()` elements, `sw` and `dx`
/// `p.y_len()`.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn gather_planes(p: &Pool2d, dy: &[f32], sw: &[u32], dx: &mut [f32]) {
    let (pi, po) = (p.h * p.w, p.out_h() * p.out_w());
    assert!(dy.len() >= p.x_len() && sw.len() >= p.y_len() && dx.len() >= p.y_len());
    let limit = _mm512_set1_epi32(pi as i32);
    for c in 0..p.planes {
        let (dp, sp, xp) = (
            dy.as_ptr().add(c * pi),
            sw.as_ptr().add(c * po),
            dx.as_mut_ptr().add(c * po),
        );
        let mut i = 0;
        while i < po {
            let k = (po - i).min(16);
            let m: __mmask16 = if k == 16 { 0xFFFF } else { (1 << k) - 1 };
            let s = _mm512_maskz_loadu_epi32(m, sp.add(i) as *const i32);
            // Unsigned compare: a switch >= h·w (or read as negative) is not gathered.
            let ok = _mm512_mask_cmplt_epu32_mask(m, s, limit);
            let g = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), ok, s, dp);
            _mm512_mask_storeu_ps(xp.add(i), m, g);
            i += k;
        }
    }
}
