//! Losses: mean squared error (reconstruction) and softmax cross-entropy
//! (classification), each returning the loss and optionally writing its gradient
//! with respect to the predictions / logits (**overwritten**, it is an input gradient).
//!
//! # Reductions
//! Sums run in 4 lanes (element `i` goes to lane `i mod 4` for the full groups of
//! four), lanes are combined as `(l0 + l1) + (l2 + l3)`, then the tail elements
//! are added one by one. The scalar twins emulate exactly that, so SIMD and
//! scalar agree bit for bit in the `simd` build.
//! - `mse_loss`: lanes are f64 (`d = target − pred` in f32, squared in f64).
//! - `softmax_cross_entropy`: the row max runs in f32 lanes (`m = m < v ? v : m`),
//!   `Σ exp(l − m)` in f32 lanes combined in f64; the loss itself is f64.
//!
//! # NaN
//! A NaN anywhere makes the loss NaN (and, for cross-entropy, that row's whole
//! gradient NaN). The row max may skip or keep a NaN logit (with `+relaxed-simd`
//! LLVM turns the max into `f32x4.relaxed_max`, even in the vectorized scalar
//! twin): either way `exp(l − m)` is NaN for some element (`exp` returns NaN for
//! NaN), so the row's sum, loss and gradient are NaN. Which of `±0` the max keeps
//! does not change any result either (`exp(±0) = 1`, `m + ln s` is the same).

use crate::math::exp_f32;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::isa;

/// `loss = 1/(2n) · Σ (target − pred)²` over all `n` elements (0 when `n = 0`);
/// if `grad` is given, `grad = (pred − target) / n` (overwritten; `n` as f32).
///
/// # Shapes
/// `pred.len() == target.len() (== grad.len())`.
pub fn mse_loss(pred: &[f32], target: &[f32], grad: Option<&mut [f32]>) -> f32 {
    debug_assert_eq!(pred.len(), target.len());
    let n = pred.len().min(target.len());
    if n == 0 {
        return 0.0;
    }
    let sum = match grad {
        Some(g) => {
            debug_assert_eq!(g.len(), n);
            let n = n.min(g.len());
            // SAFETY: all three pointers are valid for `n` elements.
            unsafe { mse_raw::<true>(pred.as_ptr(), target.as_ptr(), g.as_mut_ptr(), n) }
        }
        // SAFETY: as above; `grad` is never touched when G = false.
        None => unsafe {
            mse_raw::<false>(pred.as_ptr(), target.as_ptr(), core::ptr::null_mut(), n)
        },
    };
    (sum / (2.0 * n as f64)) as f32
}

/// Returns Σ (t − p)² with the module's lane order; writes `(p − t)/n` if `G`.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
unsafe fn mse_raw<const G: bool>(p: *const f32, t: *const f32, g: *mut f32, n: usize) -> f64 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if isa::use_simd() {
        return simd::mse::<G>(p, t, g, n);
    }
    let nf = n as f32;
    let mut lanes = [0.0f64; 4];
    let mut i = 0;
    while i + 4 <= n {
        for j in 0..4 {
            let (pv, tv) = (*p.add(i + j), *t.add(i + j));
            let d = (tv - pv) as f64;
            lanes[j] += d * d;
            if G {
                *g.add(i + j) = (pv - tv) / nf;
            }
        }
        i += 4;
    }
    let mut sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    mse_tail::<G>(p, t, g, i, n, nf, &mut sum);
    sum
}

#[inline(always)]
unsafe fn mse_tail<const G: bool>(
    p: *const f32,
    t: *const f32,
    g: *mut f32,
    from: usize,
    n: usize,
    nf: f32,
    sum: &mut f64,
) {
    for i in from..n {
        let (pv, tv) = (*p.add(i), *t.add(i));
        let d = (tv - pv) as f64;
        *sum += d * d;
        if G {
            *g.add(i) = (pv - tv) / nf;
        }
    }
}

/// Softmax cross-entropy over `n` rows of `k` logits:
/// `loss = (1/n) Σ_i −log softmax(logits_i)[labels_i]`, computed as
/// `m + ln Σ_j exp(l_j − m) − l_label` with `m` the row max (f64 for the log and
/// the sums of the loss). If `grad` is given, `grad = (softmax − onehot) / n`
/// (overwritten, `[n, k]`). Returns 0 when `n = 0` or `k = 0`.
///
/// Labels must be `< k` (the wasm layer checks); a row with an out-of-range
/// label contributes NaN to the loss and gets no one-hot term, but never panics.
///
/// # Shapes
/// `logits.len() == n·k`, `labels.len() == n`, `grad.len() == n·k`.
pub fn softmax_cross_entropy(
    n: usize,
    k: usize,
    logits: &[f32],
    labels: &[u32],
    mut grad: Option<&mut [f32]>,
) -> f32 {
    if n == 0 || k == 0 {
        return 0.0;
    }
    let nk = n.saturating_mul(k);
    if logits.len() < nk || labels.len() < n || grad.as_ref().is_some_and(|g| g.len() < nk) {
        debug_assert!(
            false,
            "softmax_cross_entropy: buffer lengths do not match n·k"
        );
        return f32::NAN;
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let use_simd = isa::use_simd();
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let use_simd = false;

    let nf = n as f32;
    let mut total = 0.0f64;
    for i in 0..n {
        let row = &logits[i * k..(i + 1) * k];
        let label = labels[i] as usize;
        let m = if use_simd {
            simd_or_scalar::row_max_simd(row)
        } else {
            row_max(row)
        };
        let g_row = grad.as_deref_mut().map(|g| &mut g[i * k..(i + 1) * k]);
        let s = match g_row {
            Some(g_row) => {
                let s = if use_simd {
                    simd_or_scalar::row_expsum_simd::<true>(row, m, g_row)
                } else {
                    row_expsum::<true>(row, m, g_row)
                };
                let sf = s as f32;
                // The label's exp before the row is rescaled.
                let e_label = g_row.get(label).copied();
                if use_simd {
                    simd_or_scalar::row_scale_simd(g_row, sf, nf)
                } else {
                    row_scale(g_row, sf, nf)
                }
                if let Some(e) = e_label {
                    g_row[label] = (e / sf - 1.0) / nf;
                }
                s
            }
            None => {
                if use_simd {
                    simd_or_scalar::row_expsum_simd::<false>(row, m, &mut [])
                } else {
                    row_expsum::<false>(row, m, &mut [])
                }
            }
        };
        total += match row.get(label) {
            Some(&l) => (m as f64 + s.ln()) - l as f64,
            None => f64::NAN,
        };
    }
    (total / n as f64) as f32
}

/// `a < b ? b : a` (wasm's `pmax`): exact, NaN in `a` sticks, NaN in `b` is skipped.
#[inline(always)]
fn pmax(a: f32, b: f32) -> f32 {
    if a < b {
        b
    } else {
        a
    }
}

/// Row max in the module's lane order (scalar twin).
fn row_max(r: &[f32]) -> f32 {
    let k = r.len();
    let (mut m, mut i);
    if k >= 4 {
        let mut l = [r[0], r[1], r[2], r[3]];
        i = 4;
        while i + 4 <= k {
            for j in 0..4 {
                l[j] = pmax(l[j], r[i + j]);
            }
            i += 4;
        }
        m = pmax(pmax(pmax(l[0], l[1]), l[2]), l[3]);
    } else {
        m = r[0];
        i = 1;
    }
    while i < k {
        m = pmax(m, r[i]);
        i += 1;
    }
    m
}

/// Σ exp(r_j − m) (f32 lanes, combined in f64), storing each exp in `g` if `G`.
fn row_expsum<const G: bool>(r: &[f32], m: f32, g: &mut [f32]) -> f64 {
    let k = r.len();
    let mut l = [0.0f32; 4];
    let mut i = 0;
    while i + 4 <= k {
        for j in 0..4 {
            let e = exp_f32(r[i + j] - m);
            l[j] += e;
            if G {
                g[i + j] = e;
            }
        }
        i += 4;
    }
    let mut s = (l[0] as f64 + l[1] as f64) + (l[2] as f64 + l[3] as f64);
    expsum_tail::<G>(r, m, g, i, &mut s);
    s
}

#[inline(always)]
fn expsum_tail<const G: bool>(r: &[f32], m: f32, g: &mut [f32], from: usize, s: &mut f64) {
    for j in from..r.len() {
        let e = exp_f32(r[j] - m);
        *s += e as f64;
        if G {
            g[j] = e;
        }
    }
}

/// `g_j = (g_j / s) / n`.
fn row_scale(g: &mut [f32], s: f32, n: f32) {
    for v in g {
        *v = (*v / s) / n;
    }
}

/// The SIMD row helpers, or (in builds without SIMD) the scalar ones under the same names.
mod simd_or_scalar {
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    pub(super) use super::{
        row_expsum as row_expsum_simd, row_max as row_max_simd, row_scale as row_scale_simd,
    };

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    pub(super) use super::simd::{row_expsum_simd, row_max_simd, row_scale_simd};
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{expsum_tail, mse_tail, pmax};
    use crate::math::exp_f32x4;
    use core::arch::wasm32::*;

    pub(super) unsafe fn mse<const G: bool>(
        p: *const f32,
        t: *const f32,
        g: *mut f32,
        n: usize,
    ) -> f64 {
        let nf = n as f32;
        let nv = f32x4_splat(nf);
        let mut lo = f64x2_splat(0.0); // lanes 0, 1
        let mut hi = f64x2_splat(0.0); // lanes 2, 3
        let mut i = 0;
        while i + 4 <= n {
            let pv = v128_load(p.add(i) as *const v128);
            let tv = v128_load(t.add(i) as *const v128);
            let d = f32x4_sub(tv, pv);
            let dl = f64x2_promote_low_f32x4(d);
            let dh = f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(d, d));
            lo = f64x2_add(lo, f64x2_mul(dl, dl));
            hi = f64x2_add(hi, f64x2_mul(dh, dh));
            if G {
                v128_store(g.add(i) as *mut v128, f32x4_div(f32x4_sub(pv, tv), nv));
            }
            i += 4;
        }
        let mut sum = (f64x2_extract_lane::<0>(lo) + f64x2_extract_lane::<1>(lo))
            + (f64x2_extract_lane::<0>(hi) + f64x2_extract_lane::<1>(hi));
        mse_tail::<G>(p, t, g, i, n, nf, &mut sum);
        sum
    }

    pub(super) fn row_max_simd(r: &[f32]) -> f32 {
        let k = r.len();
        if k < 4 {
            return super::row_max(r);
        }
        let ptr = r.as_ptr();
        // SAFETY: every load reads r[i..i + 4] with i + 4 <= k.
        let mut l = unsafe { v128_load(ptr as *const v128) };
        let mut i = 4;
        while i + 4 <= k {
            l = f32x4_pmax(l, unsafe { v128_load(ptr.add(i) as *const v128) });
            i += 4;
        }
        let mut m = pmax(
            pmax(
                pmax(f32x4_extract_lane::<0>(l), f32x4_extract_lane::<1>(l)),
                f32x4_extract_lane::<2>(l),
            ),
            f32x4_extract_lane::<3>(l),
        );
        while i < k {
            m = pmax(m, r[i]);
            i += 1;
        }
        m
    }

    pub(super) fn row_expsum_simd<const G: bool>(r: &[f32], m: f32, g: &mut [f32]) -> f64 {
        let k = r.len();
        let mv = f32x4_splat(m);
        let mut l = f32x4_splat(0.0);
        let mut i = 0;
        while i + 4 <= k {
            // SAFETY: i + 4 <= k = r.len() (= g.len() when G).
            unsafe {
                let e = exp_f32x4(f32x4_sub(v128_load(r.as_ptr().add(i) as *const v128), mv));
                l = f32x4_add(l, e);
                if G {
                    v128_store(g.as_mut_ptr().add(i) as *mut v128, e);
                }
            }
            i += 4;
        }
        let mut s = (f32x4_extract_lane::<0>(l) as f64 + f32x4_extract_lane::<1>(l) as f64)
            + (f32x4_extract_lane::<2>(l) as f64 + f32x4_extract_lane::<3>(l) as f64);
        expsum_tail::<G>(r, m, g, i, &mut s);
        s
    }

    pub(super) fn row_scale_simd(g: &mut [f32], s: f32, n: f32) {
        let (sv, nv) = (f32x4_splat(s), f32x4_splat(n));
        let k = g.len();
        let p = g.as_mut_ptr();
        let mut i = 0;
        while i + 4 <= k {
            // SAFETY: i + 4 <= g.len().
            unsafe {
                let v = v128_load(p.add(i) as *const v128);
                v128_store(p.add(i) as *mut v128, f32x4_div(f32x4_div(v, sv), nv));
            }
            i += 4;
        }
        super::row_scale(&mut g[i..], s, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(n: usize, seed: u64, scale: f32) -> Vec<f32> {
        let mut st = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                st = st
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((st >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0 * scale
            })
            .collect()
    }

    #[test]
    fn mse_matches_f64() {
        for n in [0usize, 1, 3, 4, 5, 7, 8, 9, 17, 1000, 4099] {
            let p = vals(n, 1, 3.0);
            let t = vals(n, 2, 3.0);
            let mut g = vec![f32::NAN; n];
            let l = mse_loss(&p, &t, Some(&mut g));
            let l2 = mse_loss(&p, &t, None);
            assert_eq!(l.to_bits(), l2.to_bits());
            if n == 0 {
                assert_eq!(l, 0.0);
                continue;
            }
            let want: f64 = p
                .iter()
                .zip(&t)
                .map(|(&a, &b)| (b as f64 - a as f64).powi(2))
                .sum::<f64>()
                / (2.0 * n as f64);
            assert!(
                ((l as f64) - want).abs() <= 1e-6 * want,
                "n={n}: {l} vs {want}"
            );
            for i in 0..n {
                let w = (p[i] as f64 - t[i] as f64) / n as f64;
                assert!((g[i] as f64 - w).abs() <= 1.5e-7 * w.abs(), "n={n} i={i}");
            }
        }
    }

    fn ce_ref(n: usize, k: usize, x: &[f32], y: &[u32]) -> (f64, Vec<f64>) {
        let mut loss = 0.0;
        let mut g = vec![0.0; n * k];
        for i in 0..n {
            let r: Vec<f64> = x[i * k..(i + 1) * k].iter().map(|&v| v as f64).collect();
            let m = r.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = r.iter().map(|v| (v - m).exp()).sum();
            loss += m + s.ln() - r[y[i] as usize];
            for j in 0..k {
                g[i * k + j] =
                    ((r[j] - m).exp() / s - (j == y[i] as usize) as i32 as f64) / n as f64;
            }
        }
        (loss / n as f64, g)
    }

    #[test]
    fn cross_entropy_matches_f64() {
        for &(n, k) in &[
            (1usize, 1usize),
            (1, 2),
            (3, 3),
            (2, 4),
            (5, 5),
            (4, 7),
            (8, 10),
            (3, 17),
            (2, 1000),
            (64, 10),
        ] {
            for scale in [1.0f32, 30.0] {
                let x = vals(n * k, (n * 31 + k) as u64, scale);
                let y: Vec<u32> = (0..n).map(|i| ((i * 7 + 3) % k) as u32).collect();
                let mut g = vec![f32::NAN; n * k];
                let l = softmax_cross_entropy(n, k, &x, &y, Some(&mut g));
                let l2 = softmax_cross_entropy(n, k, &x, &y, None);
                assert_eq!(l.to_bits(), l2.to_bits());
                let (wl, wg) = ce_ref(n, k, &x, &y);
                assert!(
                    (l as f64 - wl).abs() <= 1e-6 * wl.abs().max(1.0),
                    "n={n} k={k} s={scale}: {l} vs {wl}"
                );
                for i in 0..n * k {
                    assert!(
                        (g[i] as f64 - wg[i]).abs() <= 1e-6 / n as f64,
                        "n={n} k={k} i={i}: {} vs {}",
                        g[i],
                        wg[i]
                    );
                }
                // Gradient rows sum to ~0.
                for i in 0..n {
                    let s: f64 = g[i * k..(i + 1) * k].iter().map(|&v| v as f64).sum();
                    assert!(s.abs() < 1e-6);
                }
            }
        }
    }

    #[test]
    fn cross_entropy_edge_cases() {
        assert_eq!(softmax_cross_entropy(0, 3, &[], &[], None), 0.0);
        // Huge logits: max-subtraction keeps it finite.
        let l = softmax_cross_entropy(1, 3, &[1e30, 0.0, -1e30], &[0], None);
        assert_eq!(l, 0.0);
        let l = softmax_cross_entropy(1, 3, &[1000.0, 0.0, 0.0], &[1], None);
        assert_eq!(l, 1000.0);
        // NaN logit -> NaN loss.
        assert!(softmax_cross_entropy(1, 5, &[0.0, 1.0, f32::NAN, 2.0, 0.5], &[1], None).is_nan());
        assert!(softmax_cross_entropy(1, 5, &[f32::NAN, 1.0, 0.0, 2.0, 0.5], &[1], None).is_nan());
        // Out-of-range label: NaN, no panic.
        let mut g = [0.0; 2];
        assert!(softmax_cross_entropy(1, 2, &[0.0, 1.0], &[2], Some(&mut g)).is_nan());
    }
}
