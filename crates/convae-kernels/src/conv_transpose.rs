//! conv_transpose2d, forward and backward, written once on top of `conv.rs`
//! (candle's habit): with `c = t.as_conv()` (the convolution that maps this
//! op's output shape back to its input shape, with the same weight tensor),
//! - forward          = `conv2d_backward_input(c)` started from the bias,
//! - backward input   = `conv2d(c)` without bias,
//! - backward weight  = `conv2d_backward_weight(c)` with x and dy swapped.
//!
//! Weight `[c_in, c_out, kh, kw]` (PyTorch ConvTranspose2d), which is exactly
//! the OIHW weight of `as_conv()`; a tied decoder passes the encoder's weight.
//! Scatter definition:
//! `y[o, i*sh - ph + ki, j*sw - pw + kj] += x[c, i, j] * w[c, o, ki, kj]`.

use crate::conv;
use crate::shape::ConvTranspose2d;

/// `y = conv_transpose2d(x, w) + bias`, y overwritten.
///
/// # Shapes
/// x `[n, c_in, h, w]`, w `[c_in, c_out, kh, kw]`, bias `[c_out]`,
/// y `[n, c_out, out_h, out_w]`, `ws.len() >= t.workspace_len()`.
pub fn conv_transpose2d(
    t: &ConvTranspose2d,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    ws: &mut [f32],
) {
    conv::backward_input_with_bias(&t.as_conv(), x, w, bias, y, ws)
}

/// `dx = ∂L/∂x` given `dy = ∂L/∂y`: overwritten.
///
/// # Shapes
/// dy `[n, c_out, out_h, out_w]`, w `[c_in, c_out, kh, kw]`, dx `[n, c_in, h, w]`.
pub fn conv_transpose2d_backward_input(
    t: &ConvTranspose2d,
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
    ws: &mut [f32],
) {
    conv::conv2d(&t.as_conv(), dy, w, None, dx, ws)
}

/// `dw += ∂L/∂w` given the forward input `x` and `dy = ∂L/∂y`.
///
/// # Shapes
/// x `[n, c_in, h, w]`, dy `[n, c_out, out_h, out_w]`, dw `[c_in, c_out, kh, kw]`.
pub fn conv_transpose2d_backward_weight(
    t: &ConvTranspose2d,
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    ws: &mut [f32],
) {
    conv::conv2d_backward_weight(&t.as_conv(), dy, x, dw, ws)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::conv2d;
    use crate::conv::tests::{close, rnd};

    /// Calls `f(xi, yi, wi)` for every (input, output, weight) index triple of
    /// the scatter definition.
    fn for_each_tap(t: &ConvTranspose2d, mut f: impl FnMut(usize, usize, usize)) {
        let (oh, ow) = (t.out_h(), t.out_w());
        for n in 0..t.n {
            for c in 0..t.c_in {
                for i in 0..t.h {
                    for j in 0..t.w {
                        for o in 0..t.c_out {
                            for ki in 0..t.kh {
                                for kj in 0..t.kw {
                                    let yy = (i * t.sh + ki) as isize - t.ph as isize;
                                    let yx = (j * t.sw + kj) as isize - t.pw as isize;
                                    if yy < 0 || yx < 0 || yy >= oh as isize || yx >= ow as isize {
                                        continue;
                                    }
                                    let xi = ((n * t.c_in + c) * t.h + i) * t.w + j;
                                    let yi =
                                        ((n * t.c_out + o) * oh + yy as usize) * ow + yx as usize;
                                    let wi = ((c * t.c_out + o) * t.kh + ki) * t.kw + kj;
                                    f(xi, yi, wi);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn grid() -> Vec<ConvTranspose2d> {
        let mut v = Vec::new();
        for &(c_in, c_out) in &[(1usize, 1usize), (3, 4), (5, 8), (8, 3)] {
            for &(h, w) in &[(4usize, 5usize), (1, 3), (6, 6)] {
                for &(kh, kw) in &[(1usize, 1usize), (3, 3), (2, 5), (4, 3)] {
                    for &(sh, sw) in &[(1usize, 1usize), (2, 3), (3, 2)] {
                        for &(ph, pw) in &[(0usize, 0usize), (1, 2), (2, 1)] {
                            for &(oph, opw) in &[(0usize, 0usize), (1, 2)] {
                                let n = if (c_in + h + kh + sh + oph) % 2 == 0 {
                                    3
                                } else {
                                    1
                                };
                                let t = ConvTranspose2d {
                                    n,
                                    c_in,
                                    h,
                                    w,
                                    c_out,
                                    kh,
                                    kw,
                                    sh,
                                    sw,
                                    ph,
                                    pw,
                                    oph,
                                    opw,
                                };
                                if t.validate().is_ok() {
                                    v.push(t);
                                }
                            }
                        }
                    }
                }
            }
        }
        v
    }

    #[test]
    fn conv_transpose2d_vs_scatter_definition() {
        let mut seed = 21u64;
        let g = grid();
        assert!(g.len() > 200, "{}", g.len());
        for t in &g {
            let tag = format!("{t:?}");
            let x = rnd(t.x_len(), &mut seed);
            let w = rnd(t.w_len(), &mut seed);
            let b = rnd(t.c_out, &mut seed);
            let dy = rnd(t.y_len(), &mut seed);
            let mut ws = vec![f32::NAN; t.workspace_len()];

            // Forward, with and without bias.
            let plane = t.out_h() * t.out_w();
            let mut yr: Vec<f64> = (0..t.y_len())
                .map(|i| b[(i / plane) % t.c_out] as f64)
                .collect();
            let mut ym: Vec<f64> = yr.iter().map(|v| v.abs()).collect();
            let (mut dxr, mut dxm) = (vec![0f64; t.x_len()], vec![0f64; t.x_len()]);
            let (mut dwr, mut dwm) = (vec![0f64; t.w_len()], vec![0f64; t.w_len()]);
            for_each_tap(t, |xi, yi, wi| {
                let p = x[xi] as f64 * w[wi] as f64;
                yr[yi] += p;
                ym[yi] += p.abs();
                let g = dy[yi] as f64 * w[wi] as f64;
                dxr[xi] += g;
                dxm[xi] += g.abs();
                let g = dy[yi] as f64 * x[xi] as f64;
                dwr[wi] += g;
                dwm[wi] += g.abs();
            });
            let mut y = vec![f32::NAN; t.y_len()];
            conv_transpose2d(t, &x, &w, Some(&b), &mut y, &mut ws);
            close(&y, &yr, &ym, &format!("conv_transpose2d {tag}"));
            conv_transpose2d(t, &x, &w, None, &mut y, &mut ws);
            for (i, v) in yr.iter_mut().enumerate() {
                *v -= b[(i / plane) % t.c_out] as f64;
            }
            close(&y, &yr, &ym, &format!("conv_transpose2d nobias {tag}"));

            let mut dx = vec![f32::NAN; t.x_len()];
            conv_transpose2d_backward_input(t, &dy, &w, &mut dx, &mut ws);
            close(
                &dx,
                &dxr,
                &dxm,
                &format!("conv_transpose2d_backward_input {tag}"),
            );

            let dw0 = rnd(t.w_len(), &mut seed);
            let mut dw = dw0.clone();
            conv_transpose2d_backward_weight(t, &x, &dy, &mut dw, &mut ws);
            let want: Vec<f64> = dwr.iter().zip(&dw0).map(|(a, b)| a + *b as f64).collect();
            let mag: Vec<f64> = dwm
                .iter()
                .zip(&dw0)
                .map(|(a, b)| a + b.abs() as f64)
                .collect();
            close(
                &dw,
                &want,
                &mag,
                &format!("conv_transpose2d_backward_weight {tag}"),
            );
        }
    }

    #[test]
    fn conv_transpose2d_is_adjoint_of_conv2d() {
        // <conv(u), v> == <u, convT(v)> with the same weight tensor.
        let mut seed = 99u64;
        for t in &grid() {
            let c = t.as_conv();
            let u = rnd(c.x_len(), &mut seed); // lives in convT's output space
            let v = rnd(c.y_len(), &mut seed); // lives in convT's input space
            let w = rnd(t.w_len(), &mut seed);
            let mut ws = vec![0.0; t.workspace_len().max(c.workspace_len())];
            let mut cu = vec![0.0; c.y_len()];
            conv2d(&c, &u, &w, None, &mut cu, &mut ws);
            let mut tv = vec![0.0; t.y_len()];
            conv_transpose2d(t, &v, &w, None, &mut tv, &mut ws);
            let lhs: f64 = cu.iter().zip(&v).map(|(a, b)| *a as f64 * *b as f64).sum();
            let rhs: f64 = u.iter().zip(&tv).map(|(a, b)| *a as f64 * *b as f64).sum();
            let mag: f64 = cu
                .iter()
                .zip(&v)
                .map(|(a, b)| (*a as f64 * *b as f64).abs())
                .sum::<f64>()
                + u.iter()
                    .zip(&tv)
                    .map(|(a, b)| (*a as f64 * *b as f64).abs())
                    .sum::<f64>();
            assert!(
                (lhs - rhs).abs() <= 1e-5 * (1.0 + mag),
                "{t:?}: {lhs} vs {rhs}"
            );
        }
    }
}
