//! Dense (fully connected) layer on `sgemm`: `y = x · Wᵀ + b`, weight `[out, inp]`
//! (PyTorch Linear). The bias gradient is `bias::bias_backward(n, out, 1, dy, db)`.

use crate::gemm::sgemm;
use crate::shape::Dense;

/// `y = x · Wᵀ + bias`, y overwritten.
///
/// # Shapes
/// x `[n, inp]`, w `[out, inp]`, bias `[out]`, y `[n, out]`, `ws.len() >= d.workspace_len()`.
pub fn dense(d: &Dense, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32], ws: &mut [f32]) {
    assert!(y.len() >= d.n * d.out);
    if let Some(b) = bias {
        assert!(b.len() >= d.out);
        for row in y[..d.n * d.out].chunks_exact_mut(d.out) {
            row.copy_from_slice(&b[..d.out]);
        }
    }
    // A = x (n x inp), B = Wᵀ: B(p, j) = w[j*inp + p].
    sgemm(
        d.n,
        d.out,
        d.inp,
        x,
        d.inp,
        1,
        w,
        1,
        d.inp,
        y,
        d.out,
        bias.is_some(),
        ws,
    );
}

/// `dx = dy · W`, overwritten.
///
/// # Shapes
/// dy `[n, out]`, w `[out, inp]`, dx `[n, inp]`.
pub fn dense_backward_input(d: &Dense, dy: &[f32], w: &[f32], dx: &mut [f32], ws: &mut [f32]) {
    sgemm(
        d.n, d.inp, d.out, dy, d.out, 1, w, d.inp, 1, dx, d.inp, false, ws,
    );
}

/// `dw += dyᵀ · x`.
///
/// # Shapes
/// x `[n, inp]`, dy `[n, out]`, dw `[out, inp]`.
pub fn dense_backward_weight(d: &Dense, x: &[f32], dy: &[f32], dw: &mut [f32], ws: &mut [f32]) {
    // A = dyᵀ: A(i, p) = dy[p*out + i].
    sgemm(
        d.out, d.inp, d.n, dy, 1, d.out, x, d.inp, 1, dw, d.inp, true, ws,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::tests::{close, rnd};

    #[test]
    fn dense_and_grads_vs_naive() {
        let mut seed = 8u64;
        for &n in &[1usize, 3, 17, 64] {
            for &inp in &[1usize, 5, 8, 33, 300] {
                for &out in &[1usize, 4, 10, 129] {
                    let d = Dense { n, inp, out };
                    d.validate().unwrap();
                    let x = rnd(n * inp, &mut seed);
                    let w = rnd(out * inp, &mut seed);
                    let b = rnd(out, &mut seed);
                    let dy = rnd(n * out, &mut seed);
                    let mut ws = vec![f32::NAN; d.workspace_len()];
                    let (mut yr, mut ym) = (vec![0f64; n * out], vec![0f64; n * out]);
                    let (mut dxr, mut dxm) = (vec![0f64; n * inp], vec![0f64; n * inp]);
                    let dw0 = rnd(out * inp, &mut seed);
                    let mut dwr: Vec<f64> = dw0.iter().map(|v| *v as f64).collect();
                    let mut dwm: Vec<f64> = dwr.iter().map(|v| v.abs()).collect();
                    for r in 0..n {
                        for o in 0..out {
                            yr[r * out + o] = b[o] as f64;
                            ym[r * out + o] = (b[o] as f64).abs();
                            for i in 0..inp {
                                let t = x[r * inp + i] as f64 * w[o * inp + i] as f64;
                                yr[r * out + o] += t;
                                ym[r * out + o] += t.abs();
                                let g = dy[r * out + o] as f64 * w[o * inp + i] as f64;
                                dxr[r * inp + i] += g;
                                dxm[r * inp + i] += g.abs();
                                let g = dy[r * out + o] as f64 * x[r * inp + i] as f64;
                                dwr[o * inp + i] += g;
                                dwm[o * inp + i] += g.abs();
                            }
                        }
                    }
                    let tag = format!("{d:?}");
                    let mut y = vec![f32::NAN; n * out];
                    dense(&d, &x, &w, Some(&b), &mut y, &mut ws);
                    close(&y, &yr, &ym, &format!("dense {tag}"));
                    let mut dx = vec![f32::NAN; n * inp];
                    dense_backward_input(&d, &dy, &w, &mut dx, &mut ws);
                    close(&dx, &dxr, &dxm, &format!("dense_backward_input {tag}"));
                    let mut dw = dw0.clone();
                    dense_backward_weight(&d, &x, &dy, &mut dw, &mut ws);
                    close(&dw, &dwr, &dwm, &format!("dense_backward_weight {tag}"));
                    // No bias: y = x · Wᵀ exactly overwrites.
                    dense(&d, &x, &w, None, &mut y, &mut ws);
                    let yr2: Vec<f64> = yr
                        .iter()
                        .enumerate()
                        .map(|(i, v)| v - b[i % out] as f64)
                        .collect();
                    close(&y, &yr2, &ym, &format!("dense nobias {tag}"));
                }
            }
        }
    }
}
