//! conv2d, forward and backward, as im2col + GEMM (`gemm`). NCHW, weight OIHW.
//!
//! Per image, with `K = c_in*kh*kw` and `P = out_h*out_w`:
//! - forward: `Y (c_out x P) = W (c_out x K) · col (K x P)`; `col` is never
//!   materialized: `Im2col` writes it straight into the GEMM's packed B panels.
//!   The weight is packed once per call (`gemm::pack_a`) and reused for every image.
//! - backward input: `dcol (K x P) = Wᵀ · dY`, then `col2im` scatters `dcol`
//!   into `dx` (overwritten). `Wᵀ` is packed once per call.
//! - backward weight: `dW (c_out x K) += dY (c_out x P) · colᵀ (P x K)`, one
//!   accumulating GEMM per image; `Im2colT` packs `colᵀ` panels directly.
//!
//! A 1x1, stride-1, unpadded convolution is a plain GEMM; im2col is skipped.
//! `conv_transpose.rs` reuses these three functions.

use crate::gemm::{self, ASrc, Init, PackB, StridedB, NR};
use crate::shape::Conv2d;

/// 1x1, stride 1, no padding: `col` is the image itself.
fn is_identity(s: &Conv2d) -> bool {
    s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.ph == 0 && s.pw == 0
}

/// Workspace (f32) of `conv2d`.
pub fn conv2d_workspace_len(s: &Conv2d) -> usize {
    let (k, p) = (s.col_rows(), s.col_cols());
    gemm::packed_a_len(s.c_out, k) + gemm::sgemm_packed_a_workspace_len(p, k)
}

/// Workspace (f32) of `conv2d_backward_input`.
pub fn conv2d_backward_input_workspace_len(s: &Conv2d) -> usize {
    let (k, p) = (s.col_rows(), s.col_cols());
    let col = if is_identity(s) { 0 } else { k * p };
    gemm::packed_a_len(k, s.c_out) + gemm::sgemm_packed_a_workspace_len(p, s.c_out) + col
}

/// Workspace (f32) of `conv2d_backward_weight`.
pub fn conv2d_backward_weight_workspace_len(s: &Conv2d) -> usize {
    gemm::sgemm_workspace_len(s.c_out, s.col_rows(), s.col_cols())
}

/// The im2col matrix of one image as a GEMM B operand:
/// `B(p, j) = x[c, oy*sh - ph + ki, ox*sw - pw + kj]` (0 in the padding),
/// `p = (c*kh + ki)*kw + kj`, `j = oy*out_w + ox`.
pub(crate) struct Im2col<'a> {
    s: Conv2d,
    ow: usize,
    x: &'a [f32],
}

impl PackB for Im2col<'_> {
    fn pack_b(&self, p0: usize, kc: usize, j0: usize, nc: usize, dst: &mut [f32]) {
        let s = &self.s;
        let (h, w) = (s.h as isize, s.w as isize);
        let hw = s.h * s.w;
        debug_assert!(self.x.len() >= s.c_in * hw && p0 + kc <= s.col_rows() && j0 + nc <= s.col_cols());
        for (q, panel) in dst.chunks_exact_mut(kc * NR).take(nc.div_ceil(NR)).enumerate() {
            let jq = j0 + q * NR;
            let cols = NR.min(nc - q * NR);
            // Top-left input corner of each output position of the panel.
            let mut by = [0isize; NR];
            let mut bx = [0isize; NR];
            for jj in 0..cols {
                let (oy, ox) = ((jq + jj) / self.ow, (jq + jj) % self.ow);
                by[jj] = (oy * s.sh) as isize - s.ph as isize;
                bx[jj] = (ox * s.sw) as isize - s.pw as isize;
            }
            let (mut c, mut ki, mut kj) = (p0 / (s.kh * s.kw), (p0 / s.kw) % s.kh, p0 % s.kw);
            // All NR positions in one output row and every window of them inside
            // the image: row p of the panel is x[c, by + ki, bx0 + kj + jj*sw].
            let interior = cols == NR
                && by[0] == by[NR - 1]
                && by[0] >= 0
                && by[0] + s.kh as isize <= h
                && bx[0] >= 0
                && bx[NR - 1] + s.kw as isize <= w;
            if interior {
                let base = by[0] as usize * s.w + bx[0] as usize;
                // Offset of (c, ki, kj) from the window corner, kept incrementally.
                let mut off = c * hw + ki * s.w + kj;
                let xp = self.x.as_ptr();
                for d in panel.chunks_exact_mut(NR) {
                    // SAFETY: c < c_in, by + ki < h and bx0 + kj + (NR-1)*sw < w by
                    // `interior`, so every read is inside image c of x.
                    unsafe {
                        let src = xp.add(base + off);
                        if s.sw == 1 {
                            core::ptr::copy_nonoverlapping(src, d.as_mut_ptr(), NR);
                        } else {
                            for (jj, v) in d.iter_mut().enumerate() {
                                *v = *src.add(jj * s.sw);
                            }
                        }
                    }
                    kj += 1;
                    off += 1;
                    if kj == s.kw {
                        kj = 0;
                        ki += 1;
                        off += s.w - s.kw;
                        if ki == s.kh {
                            ki = 0;
                            off += hw - s.kh * s.w;
                        }
                    }
                }
                continue;
            }
            for d in panel.chunks_exact_mut(NR) {
                let xc = &self.x[c * hw..(c + 1) * hw];
                for (jj, v) in d.iter_mut().enumerate() {
                    let iy = by[jj] + ki as isize;
                    let ix = bx[jj] + kj as isize;
                    *v = if jj < cols && iy >= 0 && iy < h && ix >= 0 && ix < w {
                        xc[iy as usize * s.w + ix as usize]
                    } else {
                        0.0
                    };
                }
                kj += 1;
                if kj == s.kw {
                    kj = 0;
                    ki += 1;
                    if ki == s.kh {
                        ki = 0;
                        c += 1;
                    }
                }
            }
        }
    }
}

/// The transposed im2col matrix of one image as a GEMM B operand:
/// `B(p, j) = col(j, p)` with `p = oy*out_w + ox`, `j = (c*kh + ki)*kw + kj`.
pub(crate) struct Im2colT<'a> {
    s: Conv2d,
    ow: usize,
    x: &'a [f32],
}

impl PackB for Im2colT<'_> {
    fn pack_b(&self, p0: usize, kc: usize, j0: usize, nc: usize, dst: &mut [f32]) {
        let s = &self.s;
        let (h, w) = (s.h as isize, s.w as isize);
        let hw = s.h * s.w;
        let khw = s.kh * s.kw;
        debug_assert!(self.x.len() >= s.c_in * hw && p0 + kc <= s.col_cols() && j0 + nc <= s.col_rows());
        for (q, panel) in dst.chunks_exact_mut(kc * NR).take(nc.div_ceil(NR)).enumerate() {
            let jq = j0 + q * NR;
            let cols = NR.min(nc - q * NR);
            // Offsets of each (c, ki, kj) of the panel relative to the window corner.
            let mut off = [0usize; NR];
            let mut ki = [0isize; NR];
            let mut kj = [0isize; NR];
            let mut cc = [0usize; NR];
            for jj in 0..cols {
                let j = jq + jj;
                cc[jj] = j / khw;
                ki[jj] = ((j / s.kw) % s.kh) as isize;
                kj[jj] = (j % s.kw) as isize;
                off[jj] = cc[jj] * hw + ki[jj] as usize * s.w + kj[jj] as usize;
            }
            let (mut oy, mut ox) = (p0 / self.ow, p0 % self.ow);
            let xp = self.x.as_ptr();
            for d in panel.chunks_exact_mut(NR) {
                let by = (oy * s.sh) as isize - s.ph as isize;
                let bx = (ox * s.sw) as isize - s.pw as isize;
                let inside = by >= 0 && by + s.kh as isize <= h && bx >= 0 && bx + s.kw as isize <= w;
                if inside {
                    let base = by as usize * s.w + bx as usize;
                    for jj in 0..cols {
                        // SAFETY: the whole window at (by, bx) is inside the image and
                        // off[jj] addresses (c < c_in, ki < kh, kj < kw) within it.
                        d[jj] = unsafe { *xp.add(base + off[jj]) };
                    }
                    for v in &mut d[cols..] {
                        *v = 0.0;
                    }
                } else {
                    for (jj, v) in d.iter_mut().enumerate() {
                        let iy = by + ki[jj];
                        let ix = bx + kj[jj];
                        *v = if jj < cols && iy >= 0 && iy < h && ix >= 0 && ix < w {
                            self.x[cc[jj] * hw + iy as usize * s.w + ix as usize]
                        } else {
                            0.0
                        };
                    }
                }
                ox += 1;
                if ox == self.ow {
                    ox = 0;
                    oy += 1;
                }
            }
        }
    }
}

/// `dx[c, iy, ix] += dcol[(c*kh + ki)*kw + kj, oy*out_w + ox]` over every window
/// position that lands inside the image (the adjoint of im2col), in the order
/// c, ki, kj, oy, ox.
fn col2im(s: &Conv2d, dcol: &[f32], dx: &mut [f32]) {
    let (oh, ow) = (s.out_h(), s.out_w());
    let hw = s.h * s.w;
    for c in 0..s.c_in {
        let dxc = &mut dx[c * hw..(c + 1) * hw];
        for ki in 0..s.kh {
            for kj in 0..s.kw {
                let r = (c * s.kh + ki) * s.kw + kj;
                let row = &dcol[r * oh * ow..(r + 1) * oh * ow];
                // Output columns whose input column ox*sw - pw + kj lies in [0, w).
                let ox_lo = (s.pw.saturating_sub(kj)).div_ceil(s.sw);
                let ox_hi = ((s.w + s.pw).saturating_sub(kj)).div_ceil(s.sw).min(ow);
                if ox_lo >= ox_hi {
                    continue;
                }
                for oy in 0..oh {
                    let iy = (oy * s.sh + ki) as isize - s.ph as isize;
                    if iy < 0 || iy >= s.h as isize {
                        continue;
                    }
                    let src = &row[oy * ow + ox_lo..oy * ow + ox_hi];
                    let ix0 = ox_lo * s.sw + kj - s.pw;
                    let drow = &mut dxc[iy as usize * s.w..(iy as usize + 1) * s.w];
                    if s.sw == 1 {
                        for (d, v) in drow[ix0..ix0 + src.len()].iter_mut().zip(src) {
                            *d += *v;
                        }
                    } else {
                        for (t, v) in src.iter().enumerate() {
                            drow[ix0 + t * s.sw] += *v;
                        }
                    }
                }
            }
        }
    }
}

fn check_lens(s: &Conv2d, x: usize, w: usize, y: usize, ws: usize, need_ws: usize) {
    assert!(x >= s.x_len() && w >= s.w_len() && y >= s.y_len() && ws >= need_ws, "conv2d: slice too short");
}

/// `y = conv2d(x, w) + bias`, y overwritten.
///
/// # Shapes
/// x `[n, c_in, h, w]`, w `[c_out, c_in, kh, kw]`, bias `[c_out]`,
/// y `[n, c_out, out_h, out_w]`, `ws.len() >= s.workspace_len()`.
pub fn conv2d(s: &Conv2d, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32], ws: &mut [f32]) {
    check_lens(s, x.len(), w.len(), y.len(), ws.len(), conv2d_workspace_len(s));
    let (k, p) = (s.col_rows(), s.col_cols());
    let (pa, wsg) = ws.split_at_mut(gemm::packed_a_len(s.c_out, k));
    gemm::pack_a(s.c_out, k, w, k, 1, pa);
    let init = match bias {
        Some(b) => {
            assert!(b.len() >= s.c_out);
            Init::RowBias(b)
        }
        None => Init::Zero,
    };
    let (xs, ys) = (s.c_in * s.h * s.w, s.c_out * p);
    for img in 0..s.n {
        let xi = &x[img * xs..(img + 1) * xs];
        let yi = &mut y[img * ys..(img + 1) * ys];
        if is_identity(s) {
            let bsrc = StridedB { b: xi, rs: p, cs: 1 };
            gemm::gemm_with(s.c_out, p, k, ASrc::Packed(pa), &bsrc, yi, p, init, wsg);
        } else {
            let bsrc = Im2col { s: *s, ow: s.out_w(), x: xi };
            gemm::gemm_with(s.c_out, p, k, ASrc::Packed(pa), &bsrc, yi, p, init, wsg);
        }
    }
}

/// `dx = ∂L/∂x` given `dy = ∂L/∂y`: overwritten.
///
/// # Shapes
/// dy `[n, c_out, out_h, out_w]`, w `[c_out, c_in, kh, kw]`, dx `[n, c_in, h, w]`.
pub fn conv2d_backward_input(s: &Conv2d, dy: &[f32], w: &[f32], dx: &mut [f32], ws: &mut [f32]) {
    backward_input_with_bias(s, dy, w, None, dx, ws)
}

/// `conv2d_backward_input`, with `dx` starting from `bias[c]` instead of 0
/// (that is `conv_transpose2d`).
pub(crate) fn backward_input_with_bias(
    s: &Conv2d,
    dy: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    dx: &mut [f32],
    ws: &mut [f32],
) {
    check_lens(s, dx.len(), w.len(), dy.len(), ws.len(), conv2d_backward_input_workspace_len(s));
    let (k, p) = (s.col_rows(), s.col_cols());
    let (pa, rest) = ws.split_at_mut(gemm::packed_a_len(k, s.c_out));
    // A = Wᵀ: A(i, q) = w[q*K + i].
    gemm::pack_a(k, s.c_out, w, 1, k, pa);
    let (wsg, col) = rest.split_at_mut(gemm::sgemm_packed_a_workspace_len(p, s.c_out));
    let (xs, ys) = (s.c_in * s.h * s.w, s.c_out * p);
    for img in 0..s.n {
        let dyi = &dy[img * ys..(img + 1) * ys];
        let dxi = &mut dx[img * xs..(img + 1) * xs];
        let bsrc = StridedB { b: dyi, rs: p, cs: 1 };
        if let Some(b) = bias {
            assert!(b.len() >= s.c_in);
        }
        if is_identity(s) {
            // dx is C itself; its rows are channels, so the bias is a row bias.
            let init = bias.map_or(Init::Zero, Init::RowBias);
            gemm::gemm_with(k, p, s.c_out, ASrc::Packed(pa), &bsrc, dxi, p, init, wsg);
        } else {
            gemm::gemm_with(k, p, s.c_out, ASrc::Packed(pa), &bsrc, col, p, Init::Zero, wsg);
            match bias {
                Some(b) => {
                    for (c, plane) in dxi.chunks_exact_mut(s.h * s.w).enumerate() {
                        plane.fill(b[c]);
                    }
                }
                None => dxi.fill(0.0),
            }
            col2im(s, col, dxi);
        }
    }
}

/// `dw += ∂L/∂w` given the forward input `x` and `dy = ∂L/∂y` (accumulated over
/// the batch, and onto what `dw` already holds).
///
/// # Shapes
/// x `[n, c_in, h, w]`, dy `[n, c_out, out_h, out_w]`, dw `[c_out, c_in, kh, kw]`.
pub fn conv2d_backward_weight(s: &Conv2d, x: &[f32], dy: &[f32], dw: &mut [f32], ws: &mut [f32]) {
    check_lens(s, x.len(), dw.len(), dy.len(), ws.len(), conv2d_backward_weight_workspace_len(s));
    let (k, p) = (s.col_rows(), s.col_cols());
    let (xs, ys) = (s.c_in * s.h * s.w, s.c_out * p);
    for img in 0..s.n {
        let xi = &x[img * xs..(img + 1) * xs];
        let a = ASrc::Strided { a: &dy[img * ys..(img + 1) * ys], rs: p, cs: 1 };
        if is_identity(s) {
            let bsrc = StridedB { b: xi, rs: 1, cs: p };
            gemm::gemm_with(s.c_out, k, p, a, &bsrc, dw, k, Init::Keep, ws);
        } else {
            let bsrc = Im2colT { s: *s, ow: s.out_w(), x: xi };
            gemm::gemm_with(s.c_out, k, p, a, &bsrc, dw, k, Init::Keep, ws);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn rnd(n: usize, seed: &mut u64) -> Vec<f32> {
        (0..n)
            .map(|_| {
                *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// Direct f64 convolution: returns (y, |y| magnitude sums).
    fn conv_ref(s: &Conv2d, x: &[f32], w: &[f32], b: Option<&[f32]>) -> (Vec<f64>, Vec<f64>) {
        let (oh, ow) = (s.out_h(), s.out_w());
        let mut y = vec![0f64; s.y_len()];
        let mut m = vec![0f64; s.y_len()];
        for n in 0..s.n {
            for o in 0..s.c_out {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let yi = ((n * s.c_out + o) * oh + oy) * ow + ox;
                        let bv = b.map_or(0.0, |b| b[o] as f64);
                        let (mut acc, mut mag) = (bv, bv.abs());
                        for c in 0..s.c_in {
                            for ki in 0..s.kh {
                                for kj in 0..s.kw {
                                    let iy = (oy * s.sh + ki) as isize - s.ph as isize;
                                    let ix = (ox * s.sw + kj) as isize - s.pw as isize;
                                    if iy < 0 || ix < 0 || iy >= s.h as isize || ix >= s.w as isize {
                                        continue;
                                    }
                                    let xv = x[((n * s.c_in + c) * s.h + iy as usize) * s.w + ix as usize] as f64;
                                    let t = xv * w[((o * s.c_in + c) * s.kh + ki) * s.kw + kj] as f64;
                                    acc += t;
                                    mag += t.abs();
                                }
                            }
                        }
                        y[yi] = acc;
                        m[yi] = mag;
                    }
                }
            }
        }
        (y, m)
    }

    /// Direct f64 gradients of `<y, dy>`: (dx, |dx|), (dw, |dw|).
    #[allow(clippy::type_complexity)]
    fn conv_grads_ref(s: &Conv2d, x: &[f32], w: &[f32], dy: &[f32]) -> ((Vec<f64>, Vec<f64>), (Vec<f64>, Vec<f64>)) {
        let (oh, ow) = (s.out_h(), s.out_w());
        let (mut dx, mut mdx) = (vec![0f64; s.x_len()], vec![0f64; s.x_len()]);
        let (mut dw, mut mdw) = (vec![0f64; s.w_len()], vec![0f64; s.w_len()]);
        for n in 0..s.n {
            for o in 0..s.c_out {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let g = dy[((n * s.c_out + o) * oh + oy) * ow + ox] as f64;
                        for c in 0..s.c_in {
                            for ki in 0..s.kh {
                                for kj in 0..s.kw {
                                    let iy = (oy * s.sh + ki) as isize - s.ph as isize;
                                    let ix = (ox * s.sw + kj) as isize - s.pw as isize;
                                    if iy < 0 || ix < 0 || iy >= s.h as isize || ix >= s.w as isize {
                                        continue;
                                    }
                                    let xi = ((n * s.c_in + c) * s.h + iy as usize) * s.w + ix as usize;
                                    let wi = ((o * s.c_in + c) * s.kh + ki) * s.kw + kj;
                                    dx[xi] += g * w[wi] as f64;
                                    mdx[xi] += (g * w[wi] as f64).abs();
                                    dw[wi] += g * x[xi] as f64;
                                    mdw[wi] += (g * x[xi] as f64).abs();
                                }
                            }
                        }
                    }
                }
            }
        }
        ((dx, mdx), (dw, mdw))
    }

    pub(crate) fn close(got: &[f32], want: &[f64], mag: &[f64], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        for (i, ((&g, &r), &m)) in got.iter().zip(want).zip(mag).enumerate() {
            assert!((g as f64 - r).abs() <= 1e-5 * (1.0 + m), "{what} [{i}]: {g} vs {r}");
        }
    }

    pub(crate) fn conv_grid() -> Vec<Conv2d> {
        let mut v = Vec::new();
        for &(c_in, c_out) in &[(1usize, 1usize), (3, 4), (5, 8), (8, 3), (4, 5)] {
            for &(h, w) in &[(7usize, 9usize), (5, 5), (11, 6)] {
                for &(kh, kw) in &[(1usize, 1usize), (3, 3), (2, 5), (5, 3)] {
                    for &(sh, sw) in &[(1usize, 1usize), (2, 3), (3, 1)] {
                        for &(ph, pw) in &[(0usize, 0usize), (1, 2), (2, 1)] {
                            if ph >= kh || pw >= kw {
                                continue;
                            }
                            let n = if (c_in + h + kh + sh) % 2 == 0 { 3 } else { 1 };
                            let s = Conv2d { n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw };
                            if s.validate().is_ok() {
                                v.push(s);
                            }
                        }
                    }
                }
            }
        }
        v
    }

    #[test]
    fn conv2d_forward_and_grads_vs_direct() {
        let mut seed = 11u64;
        let grid = conv_grid();
        assert!(grid.len() > 300, "{}", grid.len());
        for s in &grid {
            let x = rnd(s.x_len(), &mut seed);
            let w = rnd(s.w_len(), &mut seed);
            let b = rnd(s.c_out, &mut seed);
            let dy = rnd(s.y_len(), &mut seed);
            let mut ws = vec![f32::NAN; s.workspace_len()];
            let tag = format!("{s:?}");

            let mut y = vec![f32::NAN; s.y_len()];
            conv2d(s, &x, &w, Some(&b), &mut y, &mut ws);
            let (yr, ym) = conv_ref(s, &x, &w, Some(&b));
            close(&y, &yr, &ym, &format!("conv2d {tag}"));
            conv2d(s, &x, &w, None, &mut y, &mut ws);
            let (yr, ym) = conv_ref(s, &x, &w, None);
            close(&y, &yr, &ym, &format!("conv2d nobias {tag}"));

            let ((dxr, dxm), (dwr, dwm)) = conv_grads_ref(s, &x, &w, &dy);
            let mut dx = vec![f32::NAN; s.x_len()];
            conv2d_backward_input(s, &dy, &w, &mut dx, &mut ws);
            close(&dx, &dxr, &dxm, &format!("conv2d_backward_input {tag}"));

            // dw accumulates onto what is there.
            let dw0 = rnd(s.w_len(), &mut seed);
            let mut dw = dw0.clone();
            conv2d_backward_weight(s, &x, &dy, &mut dw, &mut ws);
            let want: Vec<f64> = dwr.iter().zip(&dw0).map(|(a, b)| a + *b as f64).collect();
            let mag: Vec<f64> = dwm.iter().zip(&dw0).map(|(a, b)| a + b.abs() as f64).collect();
            close(&dw, &want, &mag, &format!("conv2d_backward_weight {tag}"));
        }
    }

    #[test]
    fn conv2d_large_k_and_p() {
        // K = 20*5*5 = 500 spans two k-blocks; P = 576 spans many panels.
        let mut seed = 5u64;
        for s in [
            Conv2d { n: 2, c_in: 20, h: 12, w: 12, c_out: 50, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0 },
            Conv2d { n: 2, c_in: 1, h: 28, w: 28, c_out: 20, kh: 5, kw: 5, sh: 1, sw: 1, ph: 2, pw: 2 },
            Conv2d { n: 1, c_in: 300, h: 3, w: 3, c_out: 7, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0 },
        ] {
            s.validate().unwrap();
            let x = rnd(s.x_len(), &mut seed);
            let w = rnd(s.w_len(), &mut seed);
            let dy = rnd(s.y_len(), &mut seed);
            let mut ws = vec![f32::NAN; s.workspace_len()];
            let mut y = vec![0.0; s.y_len()];
            conv2d(&s, &x, &w, None, &mut y, &mut ws);
            let (yr, ym) = conv_ref(&s, &x, &w, None);
            close(&y, &yr, &ym, "conv2d large");
            let ((dxr, dxm), (dwr, dwm)) = conv_grads_ref(&s, &x, &w, &dy);
            let mut dx = vec![0.0; s.x_len()];
            conv2d_backward_input(&s, &dy, &w, &mut dx, &mut ws);
            close(&dx, &dxr, &dxm, "conv2d_backward_input large");
            let mut dw = vec![0.0; s.w_len()];
            conv2d_backward_weight(&s, &x, &dy, &mut dw, &mut ws);
            close(&dw, &dwr, &dwm, "conv2d_backward_weight large");
        }
    }
}
