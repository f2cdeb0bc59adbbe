//! Max unpooling through the switches of [`crate::pool::max_pool2d`].
//!
//! Forward **overwrites** `y` (the original, un-pooled size): zero, then
//! `y[plane][switch[i]] += x[i]` (scatter-**add**, in output order). Backward is
//! the matching gather `dx[i] = dy[plane][switch[i]]`, so the two are exact
//! adjoints: `⟨unpool(x), dy⟩ = ⟨x, unpool_backward(dy)⟩`.
//!
//! This differs from PyTorch's `max_unpool2d` (which *assigns*, last write wins)
//! only when two windows chose the same input, which needs overlapping windows
//! (`stride < kernel`); there we add both values, PyTorch keeps one.
//!
//! Switches are indices inside the plane, `< h·w`; the wasm layer checks them
//! with [`switches_valid`]. An out-of-range switch is skipped (forward) or reads
//! as `0` (backward) instead of panicking.
//!
//! Scatter and gather: scalar twins; AVX-512 (`pool/avx512.rs`): a dense
//! select for 2×2 stride-2 windows (forward, and `max_pool2d_backward`, the
//! same scatter) and masked vector gathers (backward), both bit-identical.

use crate::shape::Pool2d;

pub use crate::pool::switches_valid;

/// Unpool `x[planes, out_h, out_w]` into `y[planes, h, w]` (`y` overwritten).
///
/// # Shapes
/// `x.len() == switches.len() == p.y_len()`, `y.len() == p.x_len()`.
pub fn max_unpool2d(p: &Pool2d, x: &[f32], switches: &[u32], y: &mut [f32]) {
    if y.len() < p.x_len() || x.len() < p.y_len() || switches.len() < p.y_len() {
        debug_assert!(false, "max_unpool2d: buffer lengths do not match the shape");
        return;
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use crate::threads::{split_planes, SharedMut};
        let (pi, po) = (p.h * p.w, p.out_h() * p.out_w());
        let yp = SharedMut(y.as_mut_ptr());
        // A switch stays inside its plane: the same bits for any thread count.
        split_planes(p.planes, pi, &|lo, hi| {
            let sub = Pool2d {
                planes: hi - lo,
                ..*p
            };
            // SAFETY: planes lo..hi of y are this part's alone.
            let ys =
                unsafe { core::slice::from_raw_parts_mut(yp.ptr().add(lo * pi), (hi - lo) * pi) };
            max_unpool2d_planes(&sub, &x[lo * po..hi * po], &switches[lo * po..hi * po], ys)
        });
    }
    #[cfg(target_arch = "wasm32")]
    max_unpool2d_planes(p, x, switches, y)
}

/// `max_unpool2d` once lengths are checked.
#[inline(always)]
fn max_unpool2d_planes(p: &Pool2d, x: &[f32], switches: &[u32], y: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if p.kh == 2
        && p.kw == 2
        && p.sh == 2
        && p.sw == 2
        && crate::isa::active() == crate::isa::Isa::Avx512
    {
        // SAFETY: AVX-512F; lengths checked by the caller.
        return unsafe { crate::pool::avx512::scatter_2x2s2(p, x, switches, y) };
    }
    let plane_in = p.h * p.w;
    let plane_out = p.out_h() * p.out_w();
    let y = &mut y[..p.x_len()];
    y.fill(0.0);
    for c in 0..p.planes {
        let yp = &mut y[c * plane_in..(c + 1) * plane_in];
        let xp = &x[c * plane_out..(c + 1) * plane_out];
        let sp = &switches[c * plane_out..(c + 1) * plane_out];
        for (&v, &s) in xp.iter().zip(sp) {
            if let Some(d) = yp.get_mut(s as usize) {
                *d += v;
            }
        }
    }
}

/// Backward of [`max_unpool2d`]: `dx[i] = dy[plane][switch[i]]` (`dx` overwritten).
///
/// # Shapes
/// `dy.len() == p.x_len()`, `switches.len() == dx.len() == p.y_len()`.
pub fn max_unpool2d_backward(p: &Pool2d, dy: &[f32], switches: &[u32], dx: &mut [f32]) {
    if dy.len() < p.x_len() || dx.len() < p.y_len() || switches.len() < p.y_len() {
        debug_assert!(
            false,
            "max_unpool2d_backward: buffer lengths do not match the shape"
        );
        return;
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use crate::threads::{split_planes, SharedMut};
        let (pi, po) = (p.h * p.w, p.out_h() * p.out_w());
        let dxp = SharedMut(dx.as_mut_ptr());
        split_planes(p.planes, pi, &|lo, hi| {
            let sub = Pool2d {
                planes: hi - lo,
                ..*p
            };
            // SAFETY: planes lo..hi of dx are this part's alone.
            let dxs =
                unsafe { core::slice::from_raw_parts_mut(dxp.ptr().add(lo * po), (hi - lo) * po) };
            max_unpool2d_backward_planes(
                &sub,
                &dy[lo * pi..hi * pi],
                &switches[lo * po..hi * po],
                dxs,
            )
        });
    }
    #[cfg(target_arch = "wasm32")]
    max_unpool2d_backward_planes(p, dy, switches, dx)
}

/// `max_unpool2d_backward` once lengths are checked.
#[inline(always)]
fn max_unpool2d_backward_planes(p: &Pool2d, dy: &[f32], switches: &[u32], dx: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::isa::active() == crate::isa::Isa::Avx512 {
        // SAFETY: AVX-512F; lengths checked by the caller.
        return unsafe { crate::pool::avx512::gather_planes(p, dy, switches, dx) };
    }
    let plane_in = p.h * p.w;
    let plane_out = p.out_h() * p.out_w();
    for c in 0..p.planes {
        let dyp = &dy[c * plane_in..(c + 1) * plane_in];
        let dxp = &mut dx[c * plane_out..(c + 1) * plane_out];
        let sp = &switches[c * plane_out..(c + 1) * plane_out];
        for (d, &s) in dxp.iter_mut().zip(sp) {
            *d = dyp.get(s as usize).copied().unwrap_or(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::max_pool2d;

    fn vals(n: usize, seed: u32) -> Vec<f32> {
        let mut st = seed.wrapping_mul(747796405).wrapping_add(2891336453);
        (0..n)
            .map(|_| {
                st ^= st << 13;
                st ^= st >> 17;
                st ^= st << 5;
                (st % 1000) as f32 / 250.0 - 2.0
            })
            .collect()
    }

    #[test]
    fn forward_places_values_and_backward_gathers() {
        let p = Pool2d {
            planes: 2,
            h: 4,
            w: 4,
            kh: 2,
            kw: 2,
            sh: 2,
            sw: 2,
        };
        p.validate().unwrap();
        let x = vals(p.x_len(), 1);
        let mut pooled = vec![0.0; p.y_len()];
        let mut s = vec![0u32; p.y_len()];
        max_pool2d(&p, &x, &mut pooled, &mut s);
        let mut up = vec![f32::NAN; p.x_len()];
        max_unpool2d(&p, &pooled, &s, &mut up);
        // Non-overlapping: each pooled value sits at its argmax, zeros elsewhere.
        for c in 0..2 {
            for i in 0..16 {
                let k = c * 16 + i;
                let hit = (0..4).find(|&o| s[c * 4 + o] as usize == i);
                match hit {
                    Some(o) => assert_eq!(up[k], x[k], "value at its argmax {o}"),
                    None => assert_eq!(up[k], 0.0),
                }
            }
        }
        let mut back = vec![f32::NAN; p.y_len()];
        max_unpool2d_backward(&p, &up, &s, &mut back);
        assert_eq!(back, pooled);
    }

    #[test]
    fn adjoint_with_overlapping_windows() {
        for &(h, w, k, st) in &[
            (7, 9, 3, 2),
            (6, 6, 3, 1),
            (5, 8, 2, 2),
            (9, 7, 2, 1),
            (5, 5, 3, 3),
        ] {
            let p = Pool2d {
                planes: 3,
                h,
                w,
                kh: k,
                kw: k,
                sh: st,
                sw: st,
            };
            p.validate().unwrap();
            // Quantised input so several windows share an argmax.
            let x: Vec<f32> = vals(p.x_len(), 7).iter().map(|v| v.round()).collect();
            let mut pooled = vec![0.0; p.y_len()];
            let mut s = vec![0u32; p.y_len()];
            max_pool2d(&p, &x, &mut pooled, &mut s);
            assert!(switches_valid(&p, &s));
            let a = vals(p.y_len(), 11);
            let b = vals(p.x_len(), 13);
            let mut ua = vec![0.0; p.x_len()];
            max_unpool2d(&p, &a, &s, &mut ua);
            let mut gb = vec![0.0; p.y_len()];
            max_unpool2d_backward(&p, &b, &s, &mut gb);
            let lhs: f64 = ua.iter().zip(&b).map(|(&u, &v)| u as f64 * v as f64).sum();
            let rhs: f64 = a.iter().zip(&gb).map(|(&u, &v)| u as f64 * v as f64).sum();
            assert!(
                (lhs - rhs).abs() <= 1e-5 * lhs.abs().max(1.0),
                "h={h} w={w} k={k} s={st}: {lhs} vs {rhs}"
            );
            // Unpool forward equals the pool backward (same scatter-add).
            let mut dx = vec![0.0; p.x_len()];
            crate::pool::max_pool2d_backward(&p, &a, &s, &mut dx);
            assert_eq!(dx, ua);
        }
    }

    #[test]
    fn overlapping_windows_add() {
        let p = Pool2d {
            planes: 1,
            h: 1,
            w: 5,
            kh: 1,
            kw: 3,
            sh: 1,
            sw: 2,
        };
        p.validate().unwrap();
        let mut y = vec![9.0; 5];
        max_unpool2d(&p, &[1.5, 2.0], &[2, 2], &mut y);
        assert_eq!(y, vec![0.0, 0.0, 3.5, 0.0, 0.0]);
    }
}
