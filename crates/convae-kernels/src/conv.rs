//! conv2d, forward and backward, as im2col + GEMM (`gemm`). NCHW, weight OIHW.
//!
//! Per image, with `K = c_in*kh*kw` and `P = out_h*out_w`:
//! - forward: `Y (c_out x P) = W (c_out x K) · col (K x P)`; `col` is never
//!   materialized: `Im2col` writes it straight into the GEMM's packed B panels.
//!   The weight is packed once per call (`gemm::pack_a`) and reused for every
//!   image, and the bias is added in the GEMM's store.
//! - backward input: `dcol (K x P) = Wᵀ · dY`, then `col2im` scatters `dcol`
//!   into `dx` (overwritten). `Wᵀ` is packed once per call.
//! - backward weight: `dW (c_out x K) += dY (c_out x P) · colᵀ (P x K)`, one
//!   accumulating GEMM per image; `Im2colT` packs `colᵀ` panels directly.
//!
//! With padding, forward and backward-weight first copy each image into a
//! zero-bordered buffer in the workspace, so the im2col packers never test
//! bounds: every window lies inside the (padded) image.
//! A 1x1, stride-1, unpadded convolution is a plain GEMM; im2col is skipped.
//! `conv_transpose.rs` reuses these three functions.
//!
//! Native: the packers' copies, col2im and (AVX-512) a direct forward without
//! im2col panels live in `conv/avx2.rs` and `conv/avx512.rs`; with
//! `threads::set(n > 1)` each op cuts the batch into parts (see `threads`).

// Indexed loops over panel columns read more plainly than zipped iterators here.
#![allow(clippy::needless_range_loop)]

use crate::gemm::{self, ASrc, Init, PackB, StridedB, NR};

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
use crate::shape::{packed_a_len, sgemm_packed_a_workspace_len, Conv2d};

/// The same convolution over the zero-padded input, with no padding left
/// (same output size, same im2col matrix).
fn padded(s: &Conv2d) -> Conv2d {
    Conv2d {
        h: s.h + 2 * s.ph,
        w: s.w + 2 * s.pw,
        ph: 0,
        pw: 0,
        ..*s
    }
}

/// Copies image `x` into the interior of the padded image `xp` (whose border
/// the caller has zeroed once).
fn pad_image(s: &Conv2d, x: &[f32], xp: &mut [f32]) {
    let (hp, wp) = (s.h + 2 * s.ph, s.w + 2 * s.pw);
    for c in 0..s.c_in {
        for iy in 0..s.h {
            let src = &x[(c * s.h + iy) * s.w..][..s.w];
            xp[(c * hp + iy + s.ph) * wp + s.pw..][..s.w].copy_from_slice(src);
        }
    }
}

/// The im2col matrix of one unpadded image as a GEMM B operand:
/// `B(p, j) = x[c, oy*sh + ki, ox*sw + kj]`, `p = (c*kh + ki)*kw + kj`,
/// `j = oy*out_w + ox`.
pub(crate) struct Im2col<'a> {
    s: Conv2d,
    x: &'a [f32],
}

impl<'a> Im2col<'a> {
    fn new(s: Conv2d, x: &'a [f32]) -> Self {
        // The reads below rely on these: no padding, x holds the whole image.
        assert!(s.ph == 0 && s.pw == 0 && x.len() >= s.c_in * s.h * s.w);
        Im2col { s, x }
    }
}

impl PackB for Im2col<'_> {
    fn pack_b(&self, p0: usize, kc: usize, j0: usize, nc: usize, dst: &mut [f32]) {
        let s = &self.s;
        let ow = s.out_w();
        // The unchecked reads below rely on this (once per block, cheap).
        assert!(p0 + kc <= s.col_rows() && j0 + nc <= s.col_cols());
        let xp = self.x.as_ptr();
        for (q, panel) in dst
            .chunks_exact_mut(kc * NR)
            .take(nc.div_ceil(NR))
            .enumerate()
        {
            let jq = j0 + q * NR;
            let cols = NR.min(nc - q * NR);
            // Offset of each output position's window corner.
            let mut col = [0usize; NR];
            for jj in 0..cols {
                let (oy, ox) = ((jq + jj) / ow, (jq + jj) % ow);
                col[jj] = oy * s.sh * s.w + ox * s.sw;
            }
            // Consecutive offsets: the panel row is NR consecutive x values.
            // (Steps between positions are >= 1, so col[NR-1] - col[0] == NR-1
            // means every step is 1.)
            let contiguous = cols == NR && col[NR - 1] == col[0] + NR - 1;
            // SAFETY (both loops): off + col[jj] = c*hw + (oy*sh + ki)*w + ox*sw + kj
            // with c < c_in, oy*sh + ki <= (out_h-1)*sh + kh-1 < h and likewise for
            // the column: inside image c of x (checked in `new`).
            if contiguous {
                for_each_row(s, p0, panel, |d, off| unsafe {
                    core::ptr::copy_nonoverlapping(xp.add(off + col[0]), d.as_mut_ptr(), NR)
                });
            } else if !native_runs(s, &col, cols, p0, panel, xp) {
                for_each_row(s, p0, panel, |d, off| {
                    for jj in 0..NR {
                        d[jj] = if jj < cols {
                            unsafe { *xp.add(off + col[jj]) }
                        } else {
                            0.0
                        };
                    }
                });
            }
        }
    }
}

/// Native only (NR = 32 spans several output rows when out_w < 32, e.g. 8 on
/// W2, or parts of two rows, e.g. 24 + 8 on W1): copies each maximal run of
/// consecutive positions of the panel's first `cols` columns as a block
/// instead of gathering element by element, and zeroes the columns past
/// `cols`. Returns false (nothing written) when the runs average under 4
/// positions (a strided convolution) and the gather is as good.
#[cfg(not(target_arch = "wasm32"))]
#[inline(always)]
fn native_runs(
    s: &Conv2d,
    col: &[usize; NR],
    cols: usize,
    p0: usize,
    panel: &mut [f32],
    xp: *const f32,
) -> bool {
    if s.sw != 1 {
        return false;
    }
    // (first column, length) of each run.
    let mut runs = [(0usize, 0usize); NR];
    let mut count = 0;
    let mut j = 0;
    while j < cols {
        let j0 = j;
        j += 1;
        while j < cols && col[j] == col[j - 1] + 1 {
            j += 1;
        }
        runs[count] = (j0, j - j0);
        count += 1;
    }
    if count * 4 > cols {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    if crate::isa::active() != crate::isa::Isa::Scalar {
        // SAFETY: a non-scalar native ISA implies AVX2; reads as below.
        unsafe { avx2::copy_runs(s, col, &runs[..count], cols, p0, panel, xp) };
        return true;
    }
    for_each_row(s, p0, panel, |d, off| {
        for &(j0, len) in &runs[..count] {
            // SAFETY: as for the contiguous case: every (row, column < cols) of
            // the panel is inside the image, and a run is `len` consecutive columns.
            unsafe { copy_run(xp.add(off + col[j0]), d.as_mut_ptr().add(j0), len) };
        }
        d[cols..].fill(0.0);
    });
    true
}

/// Copies `len` floats in blocks of 8 and 4, then one by one.
///
/// # Safety
/// `src` readable and `dst` writable for `len` floats, not overlapping.
#[cfg(not(target_arch = "wasm32"))]
#[inline(always)]
unsafe fn copy_run(src: *const f32, dst: *mut f32, len: usize) {
    let mut t = 0;
    while t + 8 <= len {
        let v = core::ptr::read_unaligned(src.add(t) as *const [f32; 8]);
        core::ptr::write_unaligned(dst.add(t) as *mut [f32; 8], v);
        t += 8;
    }
    if t + 4 <= len {
        let v = core::ptr::read_unaligned(src.add(t) as *const [f32; 4]);
        core::ptr::write_unaligned(dst.add(t) as *mut [f32; 4], v);
        t += 4;
    }
    while t < len {
        *dst.add(t) = *src.add(t);
        t += 1;
    }
}

#[cfg(target_arch = "wasm32")]
#[inline(always)]
fn native_runs(
    _: &Conv2d,
    _: &[usize; NR],
    _: usize,
    _: usize,
    _: &mut [f32],
    _: *const f32,
) -> bool {
    false
}

/// Calls `f(row, off)` for each NR-wide row of `panel`, row p standing for
/// im2col row `p0 + p = (c, ki, kj)` and `off = c*h*w + ki*w + kj` (kept
/// incrementally).
#[inline(always)]
pub(crate) fn for_each_row(
    s: &Conv2d,
    p0: usize,
    panel: &mut [f32],
    mut f: impl FnMut(&mut [f32], usize),
) {
    let hw = s.h * s.w;
    let (c, mut ki, mut kj) = (p0 / (s.kh * s.kw), (p0 / s.kw) % s.kh, p0 % s.kw);
    let mut off = c * hw + ki * s.w + kj;
    for d in panel.chunks_exact_mut(NR) {
        f(d, off);
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
}

/// The transposed im2col matrix of one unpadded image as a GEMM B operand:
/// `B(p, j) = col(j, p)` with `p = oy*out_w + ox`, `j = (c*kh + ki)*kw + kj`.
pub(crate) struct Im2colT<'a> {
    s: Conv2d,
    x: &'a [f32],
}

impl<'a> Im2colT<'a> {
    fn new(s: Conv2d, x: &'a [f32]) -> Self {
        assert!(s.ph == 0 && s.pw == 0 && x.len() >= s.c_in * s.h * s.w);
        Im2colT { s, x }
    }
}

impl PackB for Im2colT<'_> {
    fn pack_b(&self, p0: usize, kc: usize, j0: usize, nc: usize, dst: &mut [f32]) {
        let s = &self.s;
        let ow = s.out_w();
        let hw = s.h * s.w;
        let khw = s.kh * s.kw;
        // The unchecked reads below rely on this (once per block, cheap).
        assert!(p0 + kc <= s.col_cols() && j0 + nc <= s.col_rows());
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        let simd = crate::isa::use_simd();
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        let simd = false;
        for (q, panel) in dst
            .chunks_exact_mut(kc * NR)
            .take(nc.div_ceil(NR))
            .enumerate()
        {
            let jq = j0 + q * NR;
            let cols = NR.min(nc - q * NR);
            // Offset of each (c, ki, kj) of the panel from the window corner.
            let mut off = [0usize; NR];
            for (jj, o) in off.iter_mut().enumerate().take(cols) {
                let j = jq + jj;
                *o = (j / khw) * hw + ((j / s.kw) % s.kh) * s.w + j % s.kw;
            }
            let (mut oy, mut ox) = (p0 / ow, p0 % ow);
            let mut p = 0;
            while p < kc {
                // The rest of output row oy: rows p .. p + run of the panel.
                let run = (ow - ox).min(kc - p);
                let base = oy * s.sh * s.w + ox * s.sw;
                // SAFETY: every window of an unpadded valid convolution lies inside
                // the image, and off[jj] (jj < cols) addresses (c < c_in, ki < kh,
                // kj < kw) inside it (x's length checked in `new`).
                unsafe {
                    gather_rows(
                        self.x.as_ptr(),
                        base,
                        s.sw,
                        &off,
                        cols,
                        &mut panel[p * NR..(p + run) * NR],
                        simd,
                    )
                };
                p += run;
                ox = 0;
                oy += 1;
            }
        }
    }
}

/// Writes `d.len() / NR` panel rows; row r, column jj < cols is
/// `x[base + r*sw + off[jj]]`, columns past `cols` are 0.
///
/// # Safety
/// Every such `x` index is in bounds.
#[inline(always)]
unsafe fn gather_rows(
    x: *const f32,
    base: usize,
    sw: usize,
    off: &[usize; NR],
    cols: usize,
    d: &mut [f32],
    simd: bool,
) {
    let n = d.len() / NR;
    let mut r = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if simd && sw == 1 && cols == NR {
        use core::arch::wasm32::*;
        // Four rows at a time: load 4 consecutive x values of each column (they are
        // the column's next 4 rows), transpose 4x4 blocks in registers.
        while r + 4 <= n {
            let v: [v128; NR] =
                core::array::from_fn(|jj| v128_load(x.add(base + r + off[jj]) as *const v128));
            let dp = d.as_mut_ptr().add(r * NR);
            for half in 0..NR / 4 {
                let [a, b, c, e] = [
                    v[4 * half],
                    v[4 * half + 1],
                    v[4 * half + 2],
                    v[4 * half + 3],
                ];
                let t0 = i32x4_shuffle::<0, 4, 1, 5>(a, b);
                let t1 = i32x4_shuffle::<2, 6, 3, 7>(a, b);
                let t2 = i32x4_shuffle::<0, 4, 1, 5>(c, e);
                let t3 = i32x4_shuffle::<2, 6, 3, 7>(c, e);
                let out = [
                    i32x4_shuffle::<0, 1, 4, 5>(t0, t2),
                    i32x4_shuffle::<2, 3, 6, 7>(t0, t2),
                    i32x4_shuffle::<0, 1, 4, 5>(t1, t3),
                    i32x4_shuffle::<2, 3, 6, 7>(t1, t3),
                ];
                for (t, o) in out.into_iter().enumerate() {
                    v128_store(dp.add(t * NR + 4 * half) as *mut v128, o);
                }
            }
            r += 4;
        }
    }
    let _ = simd;
    #[cfg(target_arch = "x86_64")]
    if sw == 1 && crate::isa::active() != crate::isa::Isa::Scalar {
        // SAFETY: a non-scalar native ISA implies AVX2; indices as above.
        r = crate::gemm::pack_avx2::gather_rows_t8(x, base, off, cols, d.as_mut_ptr(), n);
    }
    while r < n {
        let src = x.add(base + r * sw);
        let row = &mut d[r * NR..(r + 1) * NR];
        for jj in 0..NR {
            row[jj] = if jj < cols { *src.add(off[jj]) } else { 0.0 };
        }
        r += 1;
    }
}

/// `dx[c, iy, ix] += dcol[(c*kh + ki)*kw + kj, oy*out_w + ox]` over every window
/// position that lands inside the image (the adjoint of im2col), in the order
/// c, ki, kj, oy, ox.
fn col2im(s: &Conv2d, dcol: &[f32], dx: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    match crate::isa::active() {
        // SAFETY: the ISA is the CPU's; lengths as col2im's callers give them.
        crate::isa::Isa::Avx512 if s.sh == 1 && s.sw == 1 => {
            return unsafe { avx512::col2im_s1(s, dcol, dx) }
        }
        // SAFETY: the ISA is the CPU's.
        crate::isa::Isa::Avx2 if s.sh == 1 && s.sw == 1 => {
            return unsafe { avx2::col2im_s1(s, dcol, dx) }
        }
        // SAFETY: a non-scalar native ISA implies AVX2.
        crate::isa::Isa::Avx2 | crate::isa::Isa::Avx512 => {
            return unsafe { avx2::col2im(s, dcol, dx) }
        }
        _ => {}
    }
    let simd = crate::isa::use_simd();
    col2im_with(s, dcol, dx, |d, v| add_run(d, v, simd))
}

/// `col2im` with `add(d, v)` doing `d[t] += v[t]` for the unit-stride runs.
#[inline(always)]
pub(crate) fn col2im_with(
    s: &Conv2d,
    dcol: &[f32],
    dx: &mut [f32],
    add: impl Fn(&mut [f32], &[f32]),
) {
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
                        add(&mut drow[ix0..ix0 + src.len()], src);
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

/// `d[t] += v[t]` for every t (each element is one add, so the SIMD path and
/// the scalar loop give identical results). `d.len() == v.len()`.
#[inline(always)]
fn add_run(d: &mut [f32], v: &[f32], simd: bool) {
    let n = d.len().min(v.len());
    let mut t = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if simd {
        use core::arch::wasm32::*;
        while t + 4 <= n {
            // SAFETY: t + 4 <= n, within both slices.
            unsafe {
                let dp = d.as_mut_ptr().add(t) as *mut v128;
                v128_store(
                    dp,
                    f32x4_add(v128_load(dp), v128_load(v.as_ptr().add(t) as *const v128)),
                );
            }
            t += 4;
        }
    }
    let _ = simd;
    while t < n {
        d[t] += v[t];
        t += 1;
    }
}

fn check_lens(s: &Conv2d, x: usize, w: usize, y: usize, ws: usize, need_ws: usize) {
    assert!(
        x >= s.x_len() && w >= s.w_len() && y >= s.y_len() && ws >= need_ws,
        "conv2d: slice too short"
    );
}

/// The images `lo..hi` of a batch as output slices, for parts of a parallel op
/// (native, `threads::get() > 1`) that each write their own images.
#[cfg(not(target_arch = "wasm32"))]
mod parts {
    pub(super) use crate::threads::{parts_for, range, run, run_then, slab, SharedMut};

    /// `len` elements of `p` from element `from`.
    ///
    /// # Safety
    /// In bounds of the allocation, and no other part touches them meanwhile.
    pub(super) unsafe fn slice<'a>(p: SharedMut<f32>, from: usize, len: usize) -> &'a mut [f32] {
        core::slice::from_raw_parts_mut(p.ptr().add(from), len)
    }
}

/// `y = conv2d(x, w) + bias`, y overwritten.
///
/// # Shapes
/// x `[n, c_in, h, w]`, w `[c_out, c_in, kh, kw]`, bias `[c_out]`,
/// y `[n, c_out, out_h, out_w]`, `ws.len() >= s.workspace_len()`.
pub fn conv2d(
    s: &Conv2d,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    ws: &mut [f32],
) {
    check_lens(
        s,
        x.len(),
        w.len(),
        y.len(),
        ws.len(),
        s.forward_workspace_len(),
    );
    let k = s.col_rows();
    let (pa, rest) = ws.split_at_mut(packed_a_len(s.c_out, k));
    gemm::pack_a(s.c_out, k, w, k, 1, pa);
    let pa: &[f32] = pa;
    let init = match bias {
        Some(b) => {
            assert!(b.len() >= s.c_out);
            Init::RowBias(b)
        }
        None => Init::Zero,
    };
    #[cfg(not(target_arch = "wasm32"))]
    {
        let n_parts = parts::parts_for(s.n, 1);
        if n_parts > 1 {
            let (ys, wsl) = (s.c_out * s.col_cols(), rest.len());
            let yp = parts::SharedMut(y.as_mut_ptr());
            parts::run(n_parts, &|t, buf| {
                let (lo, hi) = parts::range(s.n, t, n_parts);
                // SAFETY: part t writes only the images lo..hi of y.
                let yt = unsafe { parts::slice(yp, lo * ys, (hi - lo) * ys) };
                forward_images(s, lo, hi, x, pa, init, yt, parts::slab(buf, wsl));
            });
            return;
        }
    }
    forward_images(s, 0, s.n, x, pa, init, y, rest)
}

/// `conv2d` of images `lo..hi` (`y` holds exactly those) with the weight packed
/// in `pa`; `ws`: the padded image and the GEMM's B panels.
#[allow(clippy::too_many_arguments)]
fn forward_images(
    s: &Conv2d,
    lo: usize,
    hi: usize,
    x: &[f32],
    pa: &[f32],
    init: Init,
    y: &mut [f32],
    ws: &mut [f32],
) {
    let (k, p) = (s.col_rows(), s.col_cols());
    let (xpad, wsg) = ws.split_at_mut(s.padded_image_len());
    xpad.fill(0.0);
    // AVX-512: small unit-stride convolutions read x directly (conv/avx512.rs).
    #[cfg(target_arch = "x86_64")]
    let direct = crate::isa::active() == crate::isa::Isa::Avx512 && avx512::direct_fits(&padded(s));
    #[cfg(not(target_arch = "x86_64"))]
    let direct = false;
    let (xs, ys) = (s.c_in * s.h * s.w, s.c_out * p);
    for img in lo..hi {
        let xi = &x[img * xs..(img + 1) * xs];
        let yi = &mut y[(img - lo) * ys..(img - lo + 1) * ys];
        if s.is_identity() {
            let bsrc = StridedB {
                b: xi,
                rs: p,
                cs: 1,
            };
            gemm::gemm_with(s.c_out, p, k, ASrc::Packed(pa), &bsrc, yi, p, init, wsg);
        } else if direct {
            let bias = match init {
                Init::RowBias(b) => Some(b),
                _ => None,
            };
            #[cfg(target_arch = "x86_64")]
            if xpad.is_empty() {
                // SAFETY: AVX-512F (checked with `direct`), direct_fits, lengths as stated.
                unsafe { avx512::forward_direct(s, xi, pa, bias, yi) };
            } else {
                pad_image(s, xi, xpad);
                // SAFETY: as above, on the padded image.
                unsafe { avx512::forward_direct(&padded(s), xpad, pa, bias, yi) };
            }
            let _ = bias;
        } else if xpad.is_empty() {
            let bsrc = Im2col::new(*s, xi);
            gemm::gemm_with(s.c_out, p, k, ASrc::Packed(pa), &bsrc, yi, p, init, wsg);
        } else {
            pad_image(s, xi, xpad);
            let bsrc = Im2col::new(padded(s), xpad);
            gemm::gemm_with(s.c_out, p, k, ASrc::Packed(pa), &bsrc, yi, p, init, wsg);
        }
    }
}

/// `dx = ∂L/∂x` given `dy = ∂L/∂y`: overwritten.
///
/// # Shapes
/// dy `[n, c_out, out_h, out_w]`, w `[c_out, c_in, kh, kw]`, dx `[n, c_in, h, w]`,
/// `ws.len() >= s.workspace_len()`.
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
    check_lens(
        s,
        dx.len(),
        w.len(),
        dy.len(),
        ws.len(),
        s.backward_input_workspace_len(),
    );
    let k = s.col_rows();
    let (pa, rest) = ws.split_at_mut(packed_a_len(k, s.c_out));
    // A = Wᵀ: A(i, q) = w[q*K + i].
    gemm::pack_a(k, s.c_out, w, 1, k, pa);
    let pa: &[f32] = pa;
    if let Some(b) = bias {
        assert!(b.len() >= s.c_in);
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let n_parts = parts::parts_for(s.n, 1);
        if n_parts > 1 {
            let (xs, wsl) = (s.c_in * s.h * s.w, rest.len());
            let dxp = parts::SharedMut(dx.as_mut_ptr());
            parts::run(n_parts, &|t, buf| {
                let (lo, hi) = parts::range(s.n, t, n_parts);
                // SAFETY: part t writes only the images lo..hi of dx.
                let dxt = unsafe { parts::slice(dxp, lo * xs, (hi - lo) * xs) };
                backward_input_images(s, lo, hi, dy, pa, bias, dxt, parts::slab(buf, wsl));
            });
            return;
        }
    }
    backward_input_images(s, 0, s.n, dy, pa, bias, dx, rest)
}

/// `backward_input_with_bias` of images `lo..hi` (`dx` holds exactly those)
/// with `Wᵀ` packed in `pa`; `ws`: the GEMM's B panels and one column matrix.
#[allow(clippy::too_many_arguments)]
fn backward_input_images(
    s: &Conv2d,
    lo: usize,
    hi: usize,
    dy: &[f32],
    pa: &[f32],
    bias: Option<&[f32]>,
    dx: &mut [f32],
    ws: &mut [f32],
) {
    let (k, p) = (s.col_rows(), s.col_cols());
    let (wsg, col) = ws.split_at_mut(sgemm_packed_a_workspace_len(p, s.c_out));
    let (xs, ys) = (s.c_in * s.h * s.w, s.c_out * p);
    for img in lo..hi {
        let dyi = &dy[img * ys..(img + 1) * ys];
        let dxi = &mut dx[(img - lo) * xs..(img - lo + 1) * xs];
        let bsrc = StridedB {
            b: dyi,
            rs: p,
            cs: 1,
        };
        if s.is_identity() {
            // dx is C itself; its rows are channels, so the bias is a row bias.
            let init = bias.map_or(Init::Zero, Init::RowBias);
            gemm::gemm_with(k, p, s.c_out, ASrc::Packed(pa), &bsrc, dxi, p, init, wsg);
        } else {
            gemm::gemm_with(
                k,
                p,
                s.c_out,
                ASrc::Packed(pa),
                &bsrc,
                col,
                p,
                Init::Zero,
                wsg,
            );
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
/// x `[n, c_in, h, w]`, dy `[n, c_out, out_h, out_w]`, dw `[c_out, c_in, kh, kw]`,
/// `ws.len() >= s.workspace_len()`.
pub fn conv2d_backward_weight(s: &Conv2d, x: &[f32], dy: &[f32], dw: &mut [f32], ws: &mut [f32]) {
    check_lens(
        s,
        x.len(),
        dw.len(),
        dy.len(),
        ws.len(),
        s.backward_weight_workspace_len(),
    );
    #[cfg(not(target_arch = "wasm32"))]
    {
        let n_parts = parts::parts_for(s.n, 1);
        if n_parts > 1 {
            // Part 0 adds its images straight into dw; part t > 0 sums its
            // images into a zeroed buffer of its own, added to dw afterwards
            // in part order.
            let (wl, wsl) = (s.w_len(), s.backward_weight_workspace_len());
            let dwp = parts::SharedMut(dw.as_mut_ptr());
            parts::run_then(
                n_parts,
                &|t, buf| {
                    let (lo, hi) = parts::range(s.n, t, n_parts);
                    if t == 0 {
                        // SAFETY: only part 0 writes dw while the parts run.
                        let dw0 = unsafe { parts::slice(dwp, 0, wl) };
                        backward_weight_images(s, lo, hi, x, dy, dw0, parts::slab(buf, wsl));
                    } else {
                        let (mine, ws) = parts::slab(buf, wl + wsl).split_at_mut(wl);
                        mine.fill(0.0);
                        backward_weight_images(s, lo, hi, x, dy, mine, ws);
                    }
                },
                &mut |t, buf| {
                    if t > 0 {
                        for (d, v) in dw[..wl].iter_mut().zip(&buf[..wl]) {
                            *d += *v;
                        }
                    }
                },
            );
            return;
        }
    }
    backward_weight_images(s, 0, s.n, x, dy, dw, ws)
}

/// Adds the weight gradient of images `lo..hi` into `dw`; `ws`: the padded
/// image and the GEMM's packing buffers.
fn backward_weight_images(
    s: &Conv2d,
    lo: usize,
    hi: usize,
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    ws: &mut [f32],
) {
    let (k, p) = (s.col_rows(), s.col_cols());
    let (xpad, wsg) = ws.split_at_mut(s.padded_image_len());
    xpad.fill(0.0);
    let (xs, ys) = (s.c_in * s.h * s.w, s.c_out * p);
    for img in lo..hi {
        let xi = &x[img * xs..(img + 1) * xs];
        let a = ASrc::Strided {
            a: &dy[img * ys..(img + 1) * ys],
            rs: p,
            cs: 1,
        };
        if s.is_identity() {
            let bsrc = StridedB {
                b: xi,
                rs: 1,
                cs: p,
            };
            gemm::gemm_with(s.c_out, k, p, a, &bsrc, dw, k, Init::Keep, wsg);
        } else if xpad.is_empty() {
            let bsrc = Im2colT::new(*s, xi);
            gemm::gemm_with(s.c_out, k, p, a, &bsrc, dw, k, Init::Keep, wsg);
        } else {
            pad_image(s, xi, xpad);
            let bsrc = Im2colT::new(padded(s), xpad);
            gemm::gemm_with(s.c_out, k, p, a, &bsrc, dw, k, Init::Keep, wsg);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn rnd(n: usize, seed: &mut u64) -> Vec<f32> {
        (0..n)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
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
                                    if iy < 0 || ix < 0 || iy >= s.h as isize || ix >= s.w as isize
                                    {
                                        continue;
                                    }
                                    let xv = x
                                        [((n * s.c_in + c) * s.h + iy as usize) * s.w + ix as usize]
                                        as f64;
                                    let t =
                                        xv * w[((o * s.c_in + c) * s.kh + ki) * s.kw + kj] as f64;
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
    fn conv_grads_ref(
        s: &Conv2d,
        x: &[f32],
        w: &[f32],
        dy: &[f32],
    ) -> ((Vec<f64>, Vec<f64>), (Vec<f64>, Vec<f64>)) {
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
                                    if iy < 0 || ix < 0 || iy >= s.h as isize || ix >= s.w as isize
                                    {
                                        continue;
                                    }
                                    let xi =
                                        ((n * s.c_in + c) * s.h + iy as usize) * s.w + ix as usize;
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
            assert!(
                (g as f64 - r).abs() <= 1e-5 * (1.0 + m),
                "{what} [{i}]: {g} vs {r}"
            );
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
                            let s = Conv2d {
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
                            };
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
        // Every GEMM micro-kernel this CPU runs, scalar first, against the f64 reference.
        for isa in crate::isa::native_isas() {
            assert!(crate::isa::pin_thread(Some(isa)));
            conv2d_forward_and_grads_vs_direct_on_this_isa();
        }
        crate::isa::pin_thread(None);
    }

    fn conv2d_forward_and_grads_vs_direct_on_this_isa() {
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
            let mag: Vec<f64> = dwm
                .iter()
                .zip(&dw0)
                .map(|(a, b)| a + b.abs() as f64)
                .collect();
            close(&dw, &want, &mag, &format!("conv2d_backward_weight {tag}"));
        }
    }

    #[test]
    fn conv2d_large_k_and_p() {
        // Every GEMM micro-kernel this CPU runs, scalar first, against the f64 reference.
        for isa in crate::isa::native_isas() {
            assert!(crate::isa::pin_thread(Some(isa)));
            conv2d_large_k_and_p_on_this_isa();
        }
        crate::isa::pin_thread(None);
    }

    fn conv2d_large_k_and_p_on_this_isa() {
        // K = 20*5*5 = 500 spans two k-blocks; P = 576 spans many panels.
        let mut seed = 5u64;
        for s in [
            Conv2d {
                n: 2,
                c_in: 20,
                h: 12,
                w: 12,
                c_out: 50,
                kh: 5,
                kw: 5,
                sh: 1,
                sw: 1,
                ph: 0,
                pw: 0,
            },
            Conv2d {
                n: 2,
                c_in: 1,
                h: 28,
                w: 28,
                c_out: 20,
                kh: 5,
                kw: 5,
                sh: 1,
                sw: 1,
                ph: 2,
                pw: 2,
            },
            Conv2d {
                n: 2,
                c_in: 30,
                h: 13,
                w: 10,
                c_out: 9,
                kh: 3,
                kw: 3,
                sh: 2,
                sw: 2,
                ph: 1,
                pw: 1,
            },
            // out_w 4 and 16: the native packer's uniform runs of 4 and 16 (W2's 8 is above).
            Conv2d {
                n: 2,
                c_in: 3,
                h: 12,
                w: 6,
                c_out: 9,
                kh: 3,
                kw: 3,
                sh: 1,
                sw: 1,
                ph: 0,
                pw: 0,
            },
            Conv2d {
                n: 1,
                c_in: 2,
                h: 9,
                w: 20,
                c_out: 5,
                kh: 3,
                kw: 5,
                sh: 1,
                sw: 1,
                ph: 0,
                pw: 0,
            },
            Conv2d {
                n: 1,
                c_in: 300,
                h: 3,
                w: 3,
                c_out: 7,
                kh: 1,
                kw: 1,
                sh: 1,
                sw: 1,
                ph: 0,
                pw: 0,
            },
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
            // The bias rides on the first of several k-blocks.
            let b = rnd(s.c_out, &mut seed);
            conv2d(&s, &x, &w, Some(&b), &mut y, &mut ws);
            let (yr, ym) = conv_ref(&s, &x, &w, Some(&b));
            close(&y, &yr, &ym, "conv2d large with bias");
        }
    }

    /// `threads::set(n)`: forward and input gradient bit-identical to one thread
    /// for every n (parts own whole images); the weight gradient (per-part sums
    /// added in part order) identical across repeated runs at one n and within
    /// the f64 tolerance for every n. On every ISA (helpers take the caller's).
    #[test]
    fn threads_split_the_batch() {
        use crate::testing::{bits, with_threads};
        let mut seed = 21u64;
        let mut shapes: Vec<Conv2d> = conv_grid()
            .into_iter()
            .step_by(9)
            .map(|s| Conv2d { n: 5, ..s })
            .collect();
        shapes.push(Conv2d {
            n: 7,
            c_in: 20,
            h: 12,
            w: 12,
            c_out: 50,
            kh: 5,
            kw: 5,
            sh: 1,
            sw: 1,
            ph: 0,
            pw: 0,
        });
        crate::testing::each_isa(|isa| {
            for s in &shapes {
                let x = rnd(s.x_len(), &mut seed);
                let w = rnd(s.w_len(), &mut seed);
                let b = rnd(s.c_out, &mut seed);
                let dy = rnd(s.y_len(), &mut seed);
                let dw0 = rnd(s.w_len(), &mut seed);
                let run = |n: usize| {
                    with_threads(n, || {
                        let mut ws = vec![f32::NAN; s.workspace_len()];
                        let mut y = vec![f32::NAN; s.y_len()];
                        conv2d(s, &x, &w, Some(&b), &mut y, &mut ws);
                        let mut dx = vec![f32::NAN; s.x_len()];
                        conv2d_backward_input(s, &dy, &w, &mut dx, &mut ws);
                        let mut dw = dw0.clone();
                        conv2d_backward_weight(s, &x, &dy, &mut dw, &mut ws);
                        (y, dx, dw)
                    })
                };
                let (y1, dx1, _) = run(1);
                let ((dxr, _), (dwr, dwm)) = conv_grads_ref(s, &x, &w, &dy);
                let want: Vec<f64> = dwr.iter().zip(&dw0).map(|(a, b)| a + *b as f64).collect();
                let mag: Vec<f64> = dwm
                    .iter()
                    .zip(&dw0)
                    .map(|(a, b)| a + b.abs() as f64)
                    .collect();
                assert_eq!(dxr.len(), dx1.len());
                for n in [2usize, 3, 4] {
                    let tag = format!("{isa:?} threads={n} {s:?}");
                    let (y, dx, dw) = run(n);
                    assert_eq!(bits(&y), bits(&y1), "conv2d {tag}");
                    assert_eq!(bits(&dx), bits(&dx1), "conv2d_backward_input {tag}");
                    assert_eq!(bits(&dw), bits(&run(n).2), "weight gradient repeat {tag}");
                    close(&dw, &want, &mag, &format!("conv2d_backward_weight {tag}"));
                }
            }
        });
    }

    /// col2im on every native ISA gives the scalar twin's bits (each element's
    /// terms added one by one in the same order): strides, padding, rows wider
    /// than 16 and 32 columns, an initial dx with signed zeros (a lane no term
    /// reaches keeps its -0.0).
    #[test]
    fn col2im_native_vs_scalar_twin() {
        use crate::testing::{bits, each_isa, scalar};
        let mut seed = 41u64;
        let mut shapes = conv_grid();
        for &(w, k, p) in &[
            (40usize, 5usize, 0usize),
            (33, 3, 1),
            (17, 5, 2),
            (16, 1, 0),
        ] {
            shapes.push(Conv2d {
                n: 1,
                c_in: 3,
                h: 9,
                w,
                c_out: 4,
                kh: k,
                kw: k,
                sh: 1,
                sw: 1,
                ph: p,
                pw: p,
            });
        }
        for s in &shapes {
            let dcol: Vec<f32> = rnd(s.col_rows() * s.col_cols(), &mut seed)
                .into_iter()
                .enumerate()
                .map(|(i, v)| if i % 5 == 0 { -0.0 } else { v })
                .collect();
            let dx0: Vec<f32> = rnd(s.c_in * s.h * s.w, &mut seed)
                .into_iter()
                .enumerate()
                .map(|(i, v)| if i % 3 == 0 { -0.0 } else { v })
                .collect();
            let run = || {
                let mut dx = dx0.clone();
                col2im(s, &dcol, &mut dx);
                dx
            };
            let want = scalar(run);
            each_isa(|isa| assert_eq!(bits(&run()), bits(&want), "{isa:?} {s:?}"));
        }
    }

    /// Shapes of the AVX-512 direct forward (unit strides, >= 80 % of the
    /// virtual positions real, K <= KC): tiles of 32 positions that end inside
    /// a row, in its virtual columns, and past the last position; rows wider
    /// than 32; output channels not a multiple of 10; K near KC; padding. Every
    /// ISA against the f64 reference (with and without bias).
    #[test]
    fn conv2d_direct_shapes() {
        let mut seed = 77u64;
        let mut shapes = Vec::new();
        for &(c_in, hw, k, c_out, pad) in &[
            (1usize, 28usize, 5usize, 20usize, 0usize),
            (1, 28, 5, 7, 2),
            (3, 40, 3, 13, 0),
            (10, 24, 5, 11, 0),
            (2, 9, 5, 10, 2),
            (4, 17, 3, 21, 1),
            (1, 6, 1, 3, 0),
        ] {
            shapes.push(Conv2d {
                n: 2,
                c_in,
                h: hw,
                w: hw + 1,
                c_out,
                kh: k,
                kw: k,
                sh: 1,
                sw: 1,
                ph: pad,
                pw: pad,
            });
        }
        crate::testing::each_isa(|isa| {
            for s in &shapes {
                s.validate().unwrap();
                let x = rnd(s.x_len(), &mut seed);
                let w = rnd(s.w_len(), &mut seed);
                let b = rnd(s.c_out, &mut seed);
                let mut ws = vec![f32::NAN; s.workspace_len()];
                let mut y = vec![f32::NAN; s.y_len()];
                for bias in [Some(&b[..]), None] {
                    conv2d(s, &x, &w, bias, &mut y, &mut ws);
                    let (yr, ym) = conv_ref(s, &x, &w, bias);
                    close(
                        &y,
                        &yr,
                        &ym,
                        &format!("{isa:?} conv2d bias={} {s:?}", bias.is_some()),
                    );
                }
            }
        });
    }
}
