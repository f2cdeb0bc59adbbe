//! All shape arithmetic of the kernels, in one place. `ts/shape.ts` mirrors it
//! and `test/shape.test.ts` checks that the two agree.

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
    /// max_unpool2d: the original size does not pool to the given pooled size.
    Mismatch,
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
        crate::conv::conv2d_workspace_len(self)
    }
    /// Workspace of `conv2d_backward_input` alone (packed weightᵀ, packed dy
    /// panels, one image's column matrix).
    pub fn backward_input_workspace_len(&self) -> usize {
        crate::conv::conv2d_backward_input_workspace_len(self)
    }
    /// Workspace of `conv2d_backward_weight` alone (GEMM packing buffers, one
    /// zero-padded image when there is padding).
    pub fn backward_weight_workspace_len(&self) -> usize {
        crate::conv::conv2d_backward_weight_workspace_len(self)
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
    /// Workspace (f32 elements) enough for `dense`, `dense_backward_input` and
    /// `dense_backward_weight`. Call only after `validate`.
    pub fn workspace_len(&self) -> usize {
        use crate::gemm::sgemm_workspace_len;
        sgemm_workspace_len(self.n, self.out, self.inp)
            .max(sgemm_workspace_len(self.n, self.inp, self.out))
            .max(sgemm_workspace_len(self.out, self.inp, self.n))
    }
}
