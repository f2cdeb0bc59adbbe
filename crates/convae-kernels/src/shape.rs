//! All shape arithmetic of the kernels, in one place. `ts/shape.ts` mirrors it
//! and `test/shape.test.ts` checks that the two agree.

use crate::blocking::{KC, MC, MR, NC, NR};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeError {
    /// A size that must be at least 1 is 0.
    Zero,
    /// Kernel larger than the (padded) input.
    KernelTooLarge,
    /// Padding must be smaller than the kernel (as in PyTorch: p <= k/2 there; we only need p < k).
    PaddingTooLarge,
    /// conv_transpose2d: output_padding must be smaller than the stride.
    OutputPaddingTooLarge,
    /// A length overflowed `usize` / 2^31 elements.
    TooLarge,
}

/// Elements per tensor are kept below 2^31 so byte offsets fit a wasm32 address space.
pub const MAX_ELEMS: usize = 1 << 29;

fn mul_all(v: &[usize]) -> Result<usize, ShapeError> {
    let mut acc: usize = 1;
    for &x in v {
        acc = acc.checked_mul(x).ok_or(ShapeError::TooLarge)?;
    }
    if acc > MAX_ELEMS {
        return Err(ShapeError::TooLarge);
    }
    Ok(acc)
}

/// Elements a strided matrix `M(i, j) = m[i*rs + j*cs]` (`rows x cols`) reaches:
/// `(rows-1)*rs + (cols-1)*cs + 1`, 0 when it is empty, `None` on overflow.
pub fn strided_span(rows: usize, rs: usize, cols: usize, cs: usize) -> Option<usize> {
    if rows == 0 || cols == 0 {
        return Some(0);
    }
    (rows - 1)
        .checked_mul(rs)?
        .checked_add((cols - 1).checked_mul(cs)?)?
        .checked_add(1)
}

/// Whether a slice of `len` elements holds that strided matrix.
pub fn strided_len_ok(len: usize, rows: usize, rs: usize, cols: usize, cs: usize) -> bool {
    strided_span(rows, rs, cols, cs).is_some_and(|s| s <= len)
}

#[inline]
pub(crate) fn round_up(x: usize, m: usize) -> usize {
    x.div_ceil(m) * m
}

/// Length of every k-block of a GEMM over `k` but the last: `ceil(k / KC)`
/// blocks of near-equal length (k = 500 gives 250 + 250, not 256 + 244); 0 when k = 0.
pub fn gemm_kc(k: usize) -> usize {
    if k == 0 {
        0
    } else {
        k.div_ceil(k.div_ceil(KC))
    }
}

/// Length of a whole-matrix packed A (see `gemm::pack_a`).
pub fn packed_a_len(m: usize, k: usize) -> usize {
    round_up(m, MR) * k
}

/// Workspace (f32 elements) of `gemm::sgemm`: one packed B block and one packed A block.
pub fn sgemm_workspace_len(m: usize, n: usize, k: usize) -> usize {
    let kc = gemm_kc(k);
    kc * round_up(n.min(NC), NR) + kc * round_up(m.min(MC), MR)
}

/// Workspace (f32 elements) of `gemm::sgemm_packed_a` (the B packing buffer only).
pub fn sgemm_packed_a_workspace_len(n: usize, k: usize) -> usize {
    gemm_kc(k) * round_up(n.min(NC), NR)
}

/// Output size of a convolution along one axis: floor((in + 2p - k) / s) + 1.
pub fn conv_out(input: usize, k: usize, s: usize, p: usize) -> Result<usize, ShapeError> {
    if input == 0 || k == 0 || s == 0 {
        return Err(ShapeError::Zero);
    }
    if p >= k {
        return Err(ShapeError::PaddingTooLarge);
    }
    let padded = input + 2 * p;
    if padded < k {
        return Err(ShapeError::KernelTooLarge);
    }
    Ok((padded - k) / s + 1)
}

/// Output size of a transposed convolution along one axis: (in - 1) s - 2p + k + op.
pub fn conv_transpose_out(
    input: usize,
    k: usize,
    s: usize,
    p: usize,
    op: usize,
) -> Result<usize, ShapeError> {
    if input == 0 || k == 0 || s == 0 {
        return Err(ShapeError::Zero);
    }
    if p >= k {
        return Err(ShapeError::PaddingTooLarge);
    }
    if op >= s {
        return Err(ShapeError::OutputPaddingTooLarge);
    }
    let full = (input - 1) * s + k + op;
    if full <= 2 * p {
        return Err(ShapeError::KernelTooLarge);
    }
    Ok(full - 2 * p)
}

/// Output size of max pooling along one axis: floor((in - k) / s) + 1, no padding.
pub fn pool_out(input: usize, k: usize, s: usize) -> Result<usize, ShapeError> {
    if input == 0 || k == 0 || s == 0 {
        return Err(ShapeError::Zero);
    }
    if input < k {
        return Err(ShapeError::KernelTooLarge);
    }
    Ok((input - k) / s + 1)
}

/// A 2-D convolution `x[n, c_in, h, w] ⊛ w[c_out, c_in, kh, kw] -> y[n, c_out, out_h, out_w]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2d {
    pub n: usize,
    pub c_in: usize,
    pub h: usize,
    pub w: usize,
    pub c_out: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
}

impl Conv2d {
    pub fn validate(&self) -> Result<(), ShapeError> {
        if self.n == 0 || self.c_in == 0 || self.c_out == 0 {
            return Err(ShapeError::Zero);
        }
        let oh = conv_out(self.h, self.kh, self.sh, self.ph)?;
        let ow = conv_out(self.w, self.kw, self.sw, self.pw)?;
        mul_all(&[self.n, self.c_in, self.h, self.w])?;
        mul_all(&[self.n, self.c_out, oh, ow])?;
        mul_all(&[self.c_out, self.c_in, self.kh, self.kw])?;
        mul_all(&[self.c_in, self.kh, self.kw, oh, ow])?;
        Ok(())
    }
    /// Call only after `validate`.
    pub fn out_h(&self) -> usize {
        (self.h + 2 * self.ph - self.kh) / self.sh + 1
    }
    pub fn out_w(&self) -> usize {
        (self.w + 2 * self.pw - self.kw) / self.sw + 1
    }
    pub fn x_len(&self) -> usize {
        self.n * self.c_in * self.h * self.w
    }
    pub fn y_len(&self) -> usize {
        self.n * self.c_out * self.out_h() * self.out_w()
    }
    pub fn w_len(&self) -> usize {
        self.c_out * self.c_in * self.kh * self.kw
    }
    /// Rows of one image's im2col matrix: c_in * kh * kw (the GEMM's K).
    pub fn col_rows(&self) -> usize {
        self.c_in * self.kh * self.kw
    }
    /// Columns of one image's im2col matrix: out_h * out_w.
    pub fn col_cols(&self) -> usize {
        self.out_h() * self.out_w()
    }
    /// Workspace (f32 elements) enough for `conv2d`, `conv2d_backward_input` and
    /// `conv2d_backward_weight` of this shape. Call only after `validate`.
    pub fn workspace_len(&self) -> usize {
        self.forward_workspace_len()
            .max(self.backward_input_workspace_len())
            .max(self.backward_weight_workspace_len())
    }
    /// Workspace of `conv2d` alone (packed weight, packed im2col panels, one
    /// zero-padded image when there is padding).
    pub fn forward_workspace_len(&self) -> usize {
        let (k, p) = (self.col_rows(), self.col_cols());
        packed_a_len(self.c_out, k) + sgemm_packed_a_workspace_len(p, k) + self.padded_image_len()
    }
    /// Workspace of `conv2d_backward_input` alone (packed weightᵀ, packed dy
    /// panels, one image's column matrix).
    pub fn backward_input_workspace_len(&self) -> usize {
        let (k, p) = (self.col_rows(), self.col_cols());
        let col = if self.is_identity() { 0 } else { k * p };
        packed_a_len(k, self.c_out) + sgemm_packed_a_workspace_len(p, self.c_out) + col
    }
    /// Workspace of `conv2d_backward_weight` alone (GEMM packing buffers, one
    /// zero-padded image when there is padding).
    pub fn backward_weight_workspace_len(&self) -> usize {
        sgemm_workspace_len(self.c_out, self.col_rows(), self.col_cols()) + self.padded_image_len()
    }
    /// 1x1, stride 1, no padding: the im2col matrix is the image itself.
    pub fn is_identity(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.sh == 1 && self.sw == 1 && self.ph == 0 && self.pw == 0
    }
    /// Length of one zero-padded input image (0 when there is no padding).
    pub fn padded_image_len(&self) -> usize {
        if self.ph == 0 && self.pw == 0 {
            0
        } else {
            self.c_in * (self.h + 2 * self.ph) * (self.w + 2 * self.pw)
        }
    }
}

/// A 2-D transposed convolution `x[n, c_in, h, w] -> y[n, c_out, out_h, out_w]` with
/// weight `[c_in, c_out, kh, kw]` (PyTorch ConvTranspose2d layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTranspose2d {
    pub n: usize,
    pub c_in: usize,
    pub h: usize,
    pub w: usize,
    pub c_out: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub oph: usize,
    pub opw: usize,
}

impl ConvTranspose2d {
    pub fn validate(&self) -> Result<(), ShapeError> {
        if self.n == 0 || self.c_in == 0 || self.c_out == 0 {
            return Err(ShapeError::Zero);
        }
        conv_transpose_out(self.h, self.kh, self.sh, self.ph, self.oph)?;
        conv_transpose_out(self.w, self.kw, self.sw, self.pw, self.opw)?;
        self.as_conv().validate()?;
        Ok(())
    }
    pub fn out_h(&self) -> usize {
        (self.h - 1) * self.sh + self.kh + self.oph - 2 * self.ph
    }
    pub fn out_w(&self) -> usize {
        (self.w - 1) * self.sw + self.kw + self.opw - 2 * self.pw
    }
    /// The convolution whose input-gradient this transposed convolution is:
    /// it maps `y`'s shape back to `x`'s shape with the same weight tensor.
    pub fn as_conv(&self) -> Conv2d {
        Conv2d {
            n: self.n,
            c_in: self.c_out,
            h: self.out_h(),
            w: self.out_w(),
            c_out: self.c_in,
            kh: self.kh,
            kw: self.kw,
            sh: self.sh,
            sw: self.sw,
            ph: self.ph,
            pw: self.pw,
        }
    }
    pub fn x_len(&self) -> usize {
        self.n * self.c_in * self.h * self.w
    }
    pub fn y_len(&self) -> usize {
        self.n * self.c_out * self.out_h() * self.out_w()
    }
    pub fn w_len(&self) -> usize {
        self.c_in * self.c_out * self.kh * self.kw
    }
    /// Workspace (f32 elements) enough for `conv_transpose2d` and its two
    /// gradients: they are the three ops of `as_conv()`. Call only after `validate`.
    pub fn workspace_len(&self) -> usize {
        self.as_conv().workspace_len()
    }
}

/// Max pooling over `planes = n * c` planes of `h × w`, no padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2d {
    pub planes: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
}

impl Pool2d {
    pub fn validate(&self) -> Result<(), ShapeError> {
        if self.planes == 0 {
            return Err(ShapeError::Zero);
        }
        let oh = pool_out(self.h, self.kh, self.sh)?;
        let ow = pool_out(self.w, self.kw, self.sw)?;
        mul_all(&[self.planes, self.h, self.w])?;
        mul_all(&[self.planes, oh, ow])?;
        Ok(())
    }
    pub fn out_h(&self) -> usize {
        (self.h - self.kh) / self.sh + 1
    }
    pub fn out_w(&self) -> usize {
        (self.w - self.kw) / self.sw + 1
    }
    pub fn x_len(&self) -> usize {
        self.planes * self.h * self.w
    }
    pub fn y_len(&self) -> usize {
        self.planes * self.out_h() * self.out_w()
    }
}

/// A dense (fully connected) layer `x[n, inp] -> y[n, out]`, weight `[out, inp]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dense {
    pub n: usize,
    pub inp: usize,
    pub out: usize,
}

impl Dense {
    pub fn validate(&self) -> Result<(), ShapeError> {
        if self.n == 0 || self.inp == 0 || self.out == 0 {
            return Err(ShapeError::Zero);
        }
        mul_all(&[self.n, self.inp])?;
        mul_all(&[self.n, self.out])?;
        mul_all(&[self.out, self.inp])?;
        Ok(())
    }
    pub fn x_len(&self) -> usize {
        self.n * self.inp
    }
    pub fn y_len(&self) -> usize {
        self.n * self.out
    }
    pub fn w_len(&self) -> usize {
        self.out * self.inp
    }
    /// Workspace (f32 elements) enough for `dense`, `dense_backward_input` and
    /// `dense_backward_weight`. Call only after `validate`.
    pub fn workspace_len(&self) -> usize {
        sgemm_workspace_len(self.n, self.out, self.inp)
            .max(sgemm_workspace_len(self.n, self.inp, self.out))
            .max(sgemm_workspace_len(self.out, self.inp, self.n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_span_counts_and_overflows() {
        assert_eq!(strided_span(0, 5, 3, 1), Some(0));
        assert_eq!(strided_span(3, 0, 0, 1), Some(0));
        // Rows 0..3 at stride 10, columns 0..4 at stride 2: last element 2*10 + 3*2.
        assert_eq!(strided_span(3, 10, 4, 2), Some(27));
        assert!(strided_len_ok(27, 3, 10, 4, 2) && !strided_len_ok(26, 3, 10, 4, 2));
        assert_eq!(strided_span(2, usize::MAX, 1, 1), None);
        assert_eq!(strided_span(1, 1, 3, usize::MAX / 2 + 1), None);
        assert!(!strided_len_ok(usize::MAX, 2, usize::MAX, 2, 1));
    }

    #[test]
    fn gemm_kc_balances_blocks() {
        assert_eq!(gemm_kc(0), 0);
        assert_eq!(gemm_kc(KC), KC);
        assert_eq!(gemm_kc(500), 250);
        assert_eq!(gemm_kc(257), 129);
    }
}
