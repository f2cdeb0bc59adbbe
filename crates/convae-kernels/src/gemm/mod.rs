//! f32 GEMM, Goto/BLIS style: `C (=|+=) A · B` with arbitrary strides on A and B.
//!
//! # Structure
//! - B is packed per `KC x NC` block into `NR`-column panels (`kc * NR` values
//!   each, row by row, columns past `n` zero-padded).
//! - A is packed per `MC x KC` block into `MR`-row panels (`kc * MR` values each,
//!   column by column, rows past `m` zero-padded) — or comes pre-packed for the
//!   whole matrix (`pack_a`), which the convolutions use to pack a weight once per
//!   call instead of once per image.
//! - The micro-kernel (`wasmsimd.rs`; natively `avx2.rs`, `avx512.rs`, `neon.rs`,
//!   chosen by `isa::active()`; scalar twin `scalar.rs`) computes one
//!   `MR x NR` tile over one k-block in registers and then writes it: for the
//!   first k-block `C = acc` (overwrite), `C = C + acc` (accumulate) or
//!   `C = acc + bias[i]` (a convolution's per-row bias); `C = C + acc` for the
//!   others. Edge tiles are computed in full and only their valid part is copied out.
//!
//! # Summation order (the same in both twins)
//! The k range is cut into `ceil(k / KC)` blocks of near-equal length
//! (`KBlocks`). For every C element and every k-block in increasing order:
//! `acc = 0; for p in block { acc = acc + A(i,p) * B(p,j) }; C = C + acc` (or
//! `C = acc` / `C = acc + bias[i]` for the first block). Tile shape and the
//! `MC`/`NC` blocking do not change this order, only `KC` does. In the relaxed
//! build `acc + a*b` is one `f32x4_relaxed_madd` (FMA where the CPU has one);
//! the native SIMD kernels always fuse it.
//!
//! Native: packing that transposes (row-major A, column-major B) uses register
//! transposes (`pack_avx2.rs`); `sgemm` cuts C's column panels across threads
//! when `threads::get() > 1` (each element computed as with one thread).

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(target_arch = "x86_64")]
pub(crate) mod pack_avx2;
mod scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasmsimd;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) use wasmsimd::madd;

#[cfg(test)]
use crate::blocking::KC;
pub(crate) use crate::blocking::{MC, MR, NC, NR};
#[cfg(test)]
use crate::shape::sgemm_packed_a_workspace_len;
#[cfg(any(test, not(target_arch = "wasm32")))]
use crate::shape::sgemm_workspace_len;
use crate::shape::{gemm_kc, packed_a_len, round_up, strided_len_ok};

/// How a micro-kernel writes its tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Store {
    /// `C = acc`
    Overwrite,
    /// `C = C + acc`
    Add,
    /// `C(i, j) = acc + bias[i]`; the pointer is the tile's first row's bias and
    /// `bias[i]` is readable for every valid row `i < mr`.
    Bias(*const f32),
}

/// What C starts from, before the product is added.
#[derive(Clone, Copy)]
pub(crate) enum Init<'a> {
    /// `C = A·B`
    Zero,
    /// `C = C + A·B`
    Keep,
    /// `C(i, j) = A·B(i, j) + bias[i]` (`bias.len() >= m`): a conv's bias added
    /// in the first k-block's store instead of in a separate pass.
    RowBias(&'a [f32]),
}

/// The k-blocks of a GEMM: `ceil(k / KC)` blocks, all of length `kc` except a
/// shorter last one. Balanced so that e.g. k = 500 gives 250 + 250, not 256 + 244.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KBlocks {
    pub k: usize,
    /// Length of every block but the last (0 when k == 0).
    pub kc: usize,
}

impl KBlocks {
    pub fn new(k: usize) -> KBlocks {
        KBlocks { k, kc: gemm_kc(k) }
    }
    /// `(p0, kc)` of every block in order.
    pub fn iter(self) -> impl Iterator<Item = (usize, usize)> {
        let step = self.kc.max(1);
        (0..self.k)
            .step_by(step)
            .map(move |p0| (p0, step.min(self.k - p0)))
    }
}

/// Something that can write `NR`-column panels of B: rows `p0..p0+kc`, columns
/// `j0..j0+nc`, as `ceil(nc / NR)` panels of `kc * NR` values (row p of panel q at
/// `q*kc*NR + p*NR`), columns past `nc` zero. Strided matrices and the im2col
/// views of the convolutions implement it, so im2col writes packed panels directly.
pub(crate) trait PackB {
    fn pack_b(&self, p0: usize, kc: usize, j0: usize, nc: usize, dst: &mut [f32]);
}

/// Where A comes from.
#[derive(Clone, Copy)]
pub(crate) enum ASrc<'a> {
    /// `A(i, p) = a[i*rs + p*cs]`, packed block by block into the workspace.
    Strided { a: &'a [f32], rs: usize, cs: usize },
    /// The whole matrix, already packed by `pack_a`.
    Packed(&'a [f32]),
}

/// A strided B: `B(p, j) = b[p*rs + j*cs]`.
pub(crate) struct StridedB<'a> {
    pub b: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

impl PackB for StridedB<'_> {
    fn pack_b(&self, p0: usize, kc: usize, j0: usize, nc: usize, dst: &mut [f32]) {
        let (rs, cs) = (self.rs, self.cs);
        // Callers (gemm_with) have checked `strided_len_ok(b.len(), k, rs, n, cs)`,
        // and p0 + kc <= k, j0 + nc <= n: every (p, j) read below is in bounds.
        let bp = self.b.as_ptr();
        for (q, panel) in dst
            .chunks_exact_mut(kc * NR)
            .take(nc.div_ceil(NR))
            .enumerate()
        {
            let jq = j0 + q * NR;
            let cols = NR.min(nc - q * NR);
            if cs == 1 && cols == NR {
                // Row-major B: each panel row is NR contiguous values.
                for (p, drow) in panel.chunks_exact_mut(NR).enumerate() {
                    // SAFETY: row p0 + p < k, columns jq..jq+NR <= n (see above).
                    unsafe {
                        core::ptr::copy_nonoverlapping(
                            bp.add((p0 + p) * rs + jq),
                            drow.as_mut_ptr(),
                            NR,
                        )
                    };
                }
            } else if rs == 1 && native_transposes() {
                // Column-major B, native: register transposes of 8 rows at a time.
                let mut off = [0usize; NR];
                for (jj, o) in off.iter_mut().enumerate().take(cols) {
                    *o = (jq + jj) * cs;
                }
                // SAFETY: rows p0..p0+kc <= k and columns jq..jq+cols <= n (see
                // above) are in bounds; the panel holds kc * NR values; AVX2.
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    let done =
                        pack_avx2::gather_rows_t8(bp, p0, &off, cols, panel.as_mut_ptr(), kc);
                    for p in done..kc {
                        for jj in 0..NR {
                            panel[p * NR + jj] = if jj < cols {
                                *bp.add(p0 + p + off[jj])
                            } else {
                                0.0
                            };
                        }
                    }
                }
            } else {
                for jj in 0..NR {
                    if jj < cols {
                        // SAFETY: column jq + jj < n, rows p0..p0+kc <= k (see above).
                        let src = unsafe { bp.add(p0 * rs + (jq + jj) * cs) };
                        for p in 0..kc {
                            panel[p * NR + jj] = unsafe { *src.add(p * rs) };
                        }
                    } else {
                        for p in 0..kc {
                            panel[p * NR + jj] = 0.0;
                        }
                    }
                }
            }
        }
    }
}

/// Whether the packers may use `pack_avx2` (a native SIMD ISA is active).
#[inline(always)]
fn native_transposes() -> bool {
    #[cfg(target_arch = "x86_64")]
    return crate::isa::active() != crate::isa::Isa::Scalar;
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Packs rows `i0..i0+mc`, columns `p0..p0+kc` of a strided A into
/// `ceil(mc / MR)` panels of `kc * MR` values (rows past `mc` zero).
/// Callers have checked `strided_len_ok(a.len(), m, rs, k, cs)` with
/// `i0 + mc <= m`, `p0 + kc <= k`.
#[allow(clippy::too_many_arguments)]
fn pack_a_block(
    a: &[f32],
    rs: usize,
    cs: usize,
    i0: usize,
    mc: usize,
    p0: usize,
    kc: usize,
    dst: &mut [f32],
) {
    let ap = a.as_ptr();
    for (q, panel) in dst
        .chunks_exact_mut(kc * MR)
        .take(mc.div_ceil(MR))
        .enumerate()
    {
        let rows = MR.min(mc - q * MR);
        if rs == 1 && rows == MR {
            // Column-major A: each panel column is MR contiguous values.
            for (p, dcol) in panel.chunks_exact_mut(MR).enumerate() {
                // SAFETY: rows i0+q*MR .. +MR <= m, column p0 + p < k.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        ap.add((p0 + p) * cs + i0 + q * MR),
                        dcol.as_mut_ptr(),
                        MR,
                    )
                };
            }
        } else if cs == 1 && rows == MR && native_transposes() {
            // Row-major A, native: register transposes.
            // SAFETY: rows i0+q*MR .. +MR <= m, columns p0 .. p0+kc <= k; the
            // panel holds kc * MR values; the ISA implies AVX2.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                pack_avx2::pack_a_rows10(
                    ap.add((i0 + q * MR) * rs + p0),
                    rs,
                    kc,
                    panel.as_mut_ptr(),
                )
            };
        } else if cs == 1 && rows == MR {
            // Row-major A: interleave MR contiguous rows.
            // SAFETY: rows i0+q*MR+ii < m, columns p0 + p < k.
            let r: [*const f32; MR] =
                core::array::from_fn(|ii| unsafe { ap.add((i0 + q * MR + ii) * rs + p0) });
            for (p, dcol) in panel.chunks_exact_mut(MR).enumerate() {
                for ii in 0..MR {
                    dcol[ii] = unsafe { *r[ii].add(p) };
                }
            }
        } else {
            for ii in 0..MR {
                if ii < rows {
                    let s = (i0 + q * MR + ii) * rs + p0 * cs;
                    for p in 0..kc {
                        panel[p * MR + ii] = a[s + p * cs];
                    }
                } else {
                    for p in 0..kc {
                        panel[p * MR + ii] = 0.0;
                    }
                }
            }
        }
    }
}

/// Packs the whole `m x k` matrix `A(i, p) = a[i*rsa + p*csa]` for
/// `sgemm_packed_a`: for each k-block (see `KBlocks`), at offset
/// `round_up(m, MR) * p0`, its `ceil(m / MR)` panels of `kc * MR` values.
/// `pa.len() >= packed_a_len(m, k)`.
pub fn pack_a(m: usize, k: usize, a: &[f32], rsa: usize, csa: usize, pa: &mut [f32]) {
    assert!(strided_len_ok(a.len(), m, rsa, k, csa) && pa.len() >= packed_a_len(m, k));
    let mp = round_up(m, MR);
    for (p0, kc) in KBlocks::new(k).iter() {
        pack_a_block(a, rsa, csa, 0, m, p0, kc, &mut pa[mp * p0..mp * (p0 + kc)]);
    }
}

/// `C[i*ldc + j] (=|+=) Σ_p A(i,p) · B(p,j)` with `A(i,p) = a[i*rsa + p*csa]`,
/// `B(p,j) = b[p*rsb + j*csb]`. Overwrites C unless `accumulate` (also when k = 0).
///
/// # Shapes
/// `a`: reaches `(m-1)*rsa + (k-1)*csa`, `b`: `(k-1)*rsb + (n-1)*csb`,
/// `c`: `(m-1)*ldc + n` elements; `ws.len() >= sgemm_workspace_len(m, n, k)`.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    rsb: usize,
    csb: usize,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
    ws: &mut [f32],
) {
    assert!(strided_len_ok(a.len(), m, rsa, k, csa) && strided_len_ok(b.len(), k, rsb, n, csb));
    let init = if accumulate { Init::Keep } else { Init::Zero };
    let a = ASrc::Strided {
        a,
        rs: rsa,
        cs: csa,
    };
    #[cfg(not(target_arch = "wasm32"))]
    {
        // Column blocks of NR-wide panels, one per part: every C element is
        // computed as with one thread (the k-blocks depend on k only).
        let panels = n.div_ceil(NR);
        let n_parts = crate::threads::parts_for(panels, 1).min((m * n * k / PAR_FLOPS).max(1));
        if n_parts > 1 && m > 0 && k > 0 {
            assert!((m - 1) * ldc + n <= c.len());
            let (cp, c_len) = (crate::threads::SharedMut(c.as_mut_ptr()), c.len());
            crate::threads::run(n_parts, &|t, buf| {
                let (lo, hi) = crate::threads::range(panels, t, n_parts);
                let (j0, nt) = (lo * NR, (hi * NR).min(n) - lo * NR);
                let bt = StridedB {
                    b: &b[j0 * csb..],
                    rs: rsb,
                    cs: csb,
                };
                let ws = crate::threads::slab(buf, sgemm_workspace_len(m, nt, k));
                // SAFETY: C's columns j0 .. j0 + nt, which no other part writes;
                // in bounds by the assert above.
                unsafe {
                    gemm_with_ptr(
                        m,
                        nt,
                        k,
                        a,
                        &bt,
                        cp.ptr().add(j0),
                        c_len - j0,
                        ldc,
                        init,
                        ws,
                    )
                };
            });
            return;
        }
    }
    let b = StridedB {
        b,
        rs: rsb,
        cs: csb,
    };
    gemm_with(m, n, k, a, &b, c, ldc, init, ws);
}

/// Native: `sgemm` splits its columns across threads when `m·n·k` is at least
/// this per part (smaller products finish before the helpers wake up); tests
/// cut small products too.
#[cfg(all(not(target_arch = "wasm32"), not(test)))]
const PAR_FLOPS: usize = 1 << 19;
#[cfg(all(not(target_arch = "wasm32"), test))]
const PAR_FLOPS: usize = 1 << 10;

/// `sgemm` with A already packed by `pack_a(m, k, ..)`.
/// `ws.len() >= sgemm_packed_a_workspace_len(n, k)`.
#[allow(clippy::too_many_arguments)]
pub fn sgemm_packed_a(
    m: usize,
    n: usize,
    k: usize,
    pa: &[f32],
    b: &[f32],
    rsb: usize,
    csb: usize,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
    ws: &mut [f32],
) {
    assert!(strided_len_ok(b.len(), k, rsb, n, csb));
    let b = StridedB {
        b,
        rs: rsb,
        cs: csb,
    };
    let init = if accumulate { Init::Keep } else { Init::Zero };
    gemm_with(m, n, k, ASrc::Packed(pa), &b, c, ldc, init, ws);
}

trait MicroKernel {
    /// See `scalar::f32_gemm_scalar` for the contract.
    #[allow(clippy::too_many_arguments)]
    unsafe fn run(
        kc: usize,
        pa: *const f32,
        pb: *const f32,
        c: *mut f32,
        ldc: usize,
        mr: usize,
        nr: usize,
        store: Store,
    );
}

struct ScalarKernel;
impl MicroKernel for ScalarKernel {
    #[inline(always)]
    unsafe fn run(
        kc: usize,
        pa: *const f32,
        pb: *const f32,
        c: *mut f32,
        ldc: usize,
        mr: usize,
        nr: usize,
        store: Store,
    ) {
        scalar::f32_gemm_scalar(kc, pa, pb, c, ldc, mr, nr, store)
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
struct SimdKernel;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl MicroKernel for SimdKernel {
    #[inline(always)]
    unsafe fn run(
        kc: usize,
        pa: *const f32,
        pb: *const f32,
        c: *mut f32,
        ldc: usize,
        mr: usize,
        nr: usize,
        store: Store,
    ) {
        wasmsimd::f32_gemm_wasmsimd(kc, pa, pb, c, ldc, mr, nr, store)
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx2Kernel;
#[cfg(target_arch = "x86_64")]
impl MicroKernel for Avx2Kernel {
    #[inline(always)]
    unsafe fn run(
        kc: usize,
        pa: *const f32,
        pb: *const f32,
        c: *mut f32,
        ldc: usize,
        mr: usize,
        nr: usize,
        store: Store,
    ) {
        // SAFETY: only reached when `isa::active()` is Avx2, which
        // `isa::detected` / `isa::pin_thread` grant only on a CPU with AVX2 + FMA.
        avx2::f32_gemm_avx2(kc, pa, pb, c, ldc, mr, nr, store)
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx512Kernel;
#[cfg(target_arch = "x86_64")]
impl MicroKernel for Avx512Kernel {
    #[inline(always)]
    unsafe fn run(
        kc: usize,
        pa: *const f32,
        pb: *const f32,
        c: *mut f32,
        ldc: usize,
        mr: usize,
        nr: usize,
        store: Store,
    ) {
        // SAFETY: only reached when `isa::active()` is Avx512 (CPU has AVX-512F).
        avx512::f32_gemm_avx512(kc, pa, pb, c, ldc, mr, nr, store)
    }
}

#[cfg(target_arch = "aarch64")]
struct NeonKernel;
#[cfg(target_arch = "aarch64")]
impl MicroKernel for NeonKernel {
    #[inline(always)]
    unsafe fn run(
        kc: usize,
        pa: *const f32,
        pb: *const f32,
        c: *mut f32,
        ldc: usize,
        mr: usize,
        nr: usize,
        store: Store,
    ) {
        // SAFETY: only reached when `isa::active()` is Neon (the CPU has NEON).
        neon::f32_gemm_neon(kc, pa, pb, c, ldc, mr, nr, store)
    }
}

/// The GEMM driver behind `sgemm`, `sgemm_packed_a` and the convolutions.
/// Workspace: `sgemm_workspace_len(m, n, k)` for `ASrc::Strided`,
/// `sgemm_packed_a_workspace_len(n, k)` for `ASrc::Packed`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_with<B: PackB>(
    m: usize,
    n: usize,
    k: usize,
    a: ASrc,
    b: &B,
    c: &mut [f32],
    ldc: usize,
    init: Init,
    ws: &mut [f32],
) {
    // SAFETY: c is valid for its length and borrowed exclusively.
    unsafe { gemm_with_ptr(m, n, k, a, b, c.as_mut_ptr(), c.len(), ldc, init, ws) }
}

/// `gemm_with` on C given as a pointer and the length it may reach, for parts
/// of a parallel GEMM that each own a column block of a shared C.
///
/// # Safety
/// `c` is valid for reads and writes of `c_len` elements, and no one else
/// accesses the elements `(i, j)`, `i < m`, `j < n` while this runs.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemm_with_ptr<B: PackB>(
    m: usize,
    n: usize,
    k: usize,
    a: ASrc,
    b: &B,
    c: *mut f32,
    c_len: usize,
    ldc: usize,
    init: Init,
    ws: &mut [f32],
) {
    if m == 0 || n == 0 {
        return;
    }
    // Every C write of the micro-kernels is to some (i, j), i < m, j < n.
    assert!((m - 1) * ldc + n <= c_len);
    if let Init::RowBias(bias) = init {
        assert!(bias.len() >= m);
    }
    if k == 0 {
        for i in 0..m {
            // In bounds (assert above); only the caller's elements.
            let row = core::slice::from_raw_parts_mut(c.add(i * ldc), n);
            match init {
                Init::Zero => row.fill(0.0),
                Init::RowBias(bias) => row.fill(bias[i]),
                Init::Keep => {}
            }
        }
        return;
    }
    let kb = KBlocks::new(k);
    let need_b = kb.kc * round_up(n.min(NC), NR);
    match a {
        ASrc::Strided { a, rs, cs } => {
            assert!(strided_len_ok(a.len(), m, rs, k, cs));
            assert!(ws.len() >= need_b + kb.kc * round_up(m.min(MC), MR));
        }
        ASrc::Packed(pa) => assert!(pa.len() >= packed_a_len(m, k) && ws.len() >= need_b),
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if crate::isa::use_simd() {
        return driver::<SimdKernel, B>(m, n, kb, a, b, c, ldc, init, ws);
    }
    #[cfg(target_arch = "x86_64")]
    match crate::isa::active() {
        crate::isa::Isa::Avx512 => {
            return driver::<Avx512Kernel, B>(m, n, kb, a, b, c, ldc, init, ws)
        }
        crate::isa::Isa::Avx2 => return driver::<Avx2Kernel, B>(m, n, kb, a, b, c, ldc, init, ws),
        _ => {}
    }
    #[cfg(target_arch = "aarch64")]
    if crate::isa::active() == crate::isa::Isa::Neon {
        return driver::<NeonKernel, B>(m, n, kb, a, b, c, ldc, init, ws);
    }
    driver::<ScalarKernel, B>(m, n, kb, a, b, c, ldc, init, ws)
}

#[allow(clippy::too_many_arguments)]
#[inline(never)]
unsafe fn driver<K: MicroKernel, B: PackB>(
    m: usize,
    n: usize,
    kb: KBlocks,
    a: ASrc,
    b: &B,
    cptr: *mut f32,
    ldc: usize,
    init: Init,
    ws: &mut [f32],
) {
    let (wsb, wsa) = ws.split_at_mut(kb.kc * round_up(n.min(NC), NR));
    let mp = round_up(m, MR);
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        for (bi, (p0, kc)) in kb.iter().enumerate() {
            b.pack_b(p0, kc, jc, nc, wsb);
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                let pa: &[f32] = match a {
                    ASrc::Strided { a, rs, cs } => {
                        pack_a_block(a, rs, cs, ic, mc, p0, kc, wsa);
                        wsa
                    }
                    ASrc::Packed(pa) => &pa[mp * p0 + ic * kc..],
                };
                for jr in 0..nc.div_ceil(NR) {
                    let nr = NR.min(nc - jr * NR);
                    let pb = wsb[jr * kc * NR..].as_ptr();
                    for ir in 0..mc.div_ceil(MR) {
                        let mr = MR.min(mc - ir * MR);
                        let i = ic + ir * MR;
                        let j = jc + jr * NR;
                        let store = match init {
                            _ if bi > 0 => Store::Add,
                            Init::Zero => Store::Overwrite,
                            Init::Keep => Store::Add,
                            // In bounds: rows i..i+mr < m <= bias.len() (asserted above).
                            Init::RowBias(bias) => Store::Bias(bias[i..].as_ptr()),
                        };
                        // SAFETY: the A panel `pa[ir*kc*MR ..][.. kc*MR]` lies in the packed
                        // block (ceil(mc/MR) panels, checked lengths above), the B panel in
                        // wsb; `store` holds a valid bias pointer; the tile writes (i + ii) * ldc + j + jj for ii < mr, jj < nr,
                        // i.e. rows < m and columns < n, within c by the assert above.
                        unsafe {
                            K::run(
                                kc,
                                pa.as_ptr().add(ir * kc * MR),
                                pb,
                                cptr.add(i * ldc + j),
                                ldc,
                                mr,
                                nr,
                                store,
                            );
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    /// Checks sgemm against an f64 triple loop for one shape and stride layout.
    #[allow(clippy::too_many_arguments)]
    fn check(
        m: usize,
        n: usize,
        k: usize,
        ta: bool,
        tb: bool,
        accumulate: bool,
        packed: bool,
        seed: &mut u64,
    ) {
        let (rsa, csa) = if ta { (1, m + 1) } else { (k + 2, 1) };
        let (rsb, csb) = if tb { (1, k + 3) } else { (n + 1, 1) };
        let alen = if m == 0 || k == 0 {
            0
        } else {
            (m - 1) * rsa + (k - 1) * csa + 1
        };
        let blen = if k == 0 || n == 0 {
            0
        } else {
            (k - 1) * rsb + (n - 1) * csb + 1
        };
        let a: Vec<f32> = (0..alen).map(|_| lcg(seed)).collect();
        let b: Vec<f32> = (0..blen).map(|_| lcg(seed)).collect();
        let ldc = n + 5;
        let c0: Vec<f32> = (0..m * ldc).map(|_| lcg(seed)).collect();
        let run = || {
            let mut c = c0.clone();
            if packed {
                let mut pa = vec![f32::NAN; packed_a_len(m, k)];
                pack_a(m, k, &a, rsa, csa, &mut pa);
                let mut ws = vec![f32::NAN; sgemm_packed_a_workspace_len(n, k)];
                sgemm_packed_a(m, n, k, &pa, &b, rsb, csb, &mut c, ldc, accumulate, &mut ws);
            } else {
                let mut ws = vec![f32::NAN; sgemm_workspace_len(m, n, k)];
                sgemm(
                    m, n, k, &a, rsa, csa, &b, rsb, csb, &mut c, ldc, accumulate, &mut ws,
                );
            }
            c
        };
        // Every micro-kernel this CPU runs (scalar first), each against f64 and
        // each SIMD path against the scalar twin.
        let mut scalar: Vec<f32> = Vec::new();
        for isa in crate::isa::native_isas() {
            assert!(crate::isa::pin_thread(Some(isa)));
            let c = run();
            crate::isa::pin_thread(None);
            if isa == crate::isa::Isa::Scalar {
                scalar = c.clone();
            }
            for i in 0..m {
                for j in 0..ldc {
                    let got = c[i * ldc + j];
                    if j >= n {
                        assert_eq!(got.to_bits(), c0[i * ldc + j].to_bits(), "wrote outside C");
                        continue;
                    }
                    let mut r = if accumulate {
                        c0[i * ldc + j] as f64
                    } else {
                        0.0
                    };
                    let mut mag = r.abs();
                    for p in 0..k {
                        let t = a[i * rsa + p * csa] as f64 * b[p * rsb + j * csb] as f64;
                        r += t;
                        mag += t.abs();
                    }
                    let tag = format!("{isa:?} m={m} n={n} k={k} ta={ta} tb={tb} acc={accumulate} packed={packed} ({i},{j})");
                    // f32 accumulation over k terms: 1e-5 relative to the sum of |terms|.
                    assert!(
                        (got as f64 - r).abs() <= 1e-5 * (1.0 + mag),
                        "{tag}: {got} vs {r}"
                    );
                    // FMA (one rounding) vs mul + add (two): same order, so the twins
                    // differ by rounding only: 2e-6 relative to the sum of |terms|.
                    let s = scalar[i * ldc + j];
                    assert!(
                        (got - s).abs() as f64 <= 2e-6 * (1.0 + mag),
                        "{tag}: {got} vs scalar {s}"
                    );
                }
            }
        }
    }

    #[test]
    fn sgemm_grid_vs_f64() {
        let sizes = [1usize, 2, 3, 4, 5, 7, 8, 9, 13, 17, 33, 64, 100];
        let mut seed = 1u64;
        let mut count = 0;
        for &m in &sizes {
            for &n in &sizes {
                for &k in &sizes {
                    for t in 0..4 {
                        let acc = (m + n + k + t) % 2 == 0;
                        check(m, n, k, t & 1 == 1, t & 2 == 2, acc, false, &mut seed);
                        count += 1;
                    }
                }
            }
        }
        assert_eq!(count, 13 * 13 * 13 * 4);
    }

    #[test]
    fn sgemm_kc_boundaries_and_blocks() {
        let mut seed = 7u64;
        // k around multiples of KC, m around MC, n around NC.
        for &k in &[0usize, 1, KC - 1, KC, KC + 1, 2 * KC + 3, 3 * KC] {
            for &(m, n) in &[(5usize, 9usize), (MC + 3, 11), (3, NC + 5)] {
                for t in 0..4 {
                    for acc in [false, true] {
                        check(m, n, k, t & 1 == 1, t & 2 == 2, acc, false, &mut seed);
                        check(m, n, k, t & 1 == 1, t & 2 == 2, acc, true, &mut seed);
                    }
                }
            }
        }
    }

    #[test]
    fn sgemm_packed_a_grid() {
        let mut seed = 3u64;
        for &m in &[1usize, 4, 5, 13, 50] {
            for &n in &[1usize, 8, 9, 64, 100] {
                for &k in &[1usize, 3, 25, 257, 500] {
                    check(m, n, k, false, false, false, true, &mut seed);
                    check(m, n, k, true, true, true, true, &mut seed);
                }
            }
        }
    }

    /// `threads::set(n)`: sgemm splits C's column panels across parts, each C
    /// element computed as with one thread: bit-identical for every n, on every
    /// ISA, for both stride layouts and with accumulation.
    #[test]
    fn sgemm_threads_bit_identical() {
        use crate::testing::{bits, each_isa, rnd, with_threads};
        let mut seed = 9u64;
        for &(m, n, k) in &[
            (64usize, 500usize, 800usize),
            (100, 300, 257),
            (33, 1000, 100),
            (500, 800, 64),
        ] {
            for (ta, tb, acc) in [
                (false, false, false),
                (true, true, true),
                (false, true, true),
            ] {
                let (rsa, csa) = if ta { (1, m) } else { (k, 1) };
                let (rsb, csb) = if tb { (1, k) } else { (n, 1) };
                let a = rnd(m * k, &mut seed);
                let b = rnd(k * n, &mut seed);
                let c0 = rnd(m * n, &mut seed);
                each_isa(|isa| {
                    let run = |t: usize| {
                        with_threads(t, || {
                            let mut c = c0.clone();
                            let mut ws = vec![f32::NAN; sgemm_workspace_len(m, n, k)];
                            sgemm(m, n, k, &a, rsa, csa, &b, rsb, csb, &mut c, n, acc, &mut ws);
                            c
                        })
                    };
                    let one = run(1);
                    for t in [2usize, 3, 4] {
                        assert_eq!(bits(&run(t)), bits(&one), "{isa:?} threads={t} {m}x{n}x{k}");
                    }
                });
            }
        }
    }

    #[test]
    fn native_isas_cover_the_cpu() {
        // The host tests must exercise the SIMD paths the CPU has.
        let isas = crate::isa::native_isas();
        assert_eq!(isas[0], crate::isa::Isa::Scalar);
        assert_eq!(*isas.last().unwrap(), crate::isa::detected());
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            assert!(isas.contains(&crate::isa::Isa::Avx512));
        }
        #[cfg(target_arch = "aarch64")]
        assert!(isas.contains(&crate::isa::Isa::Neon));
    }

    #[test]
    fn k_blocks_are_balanced() {
        let b: Vec<_> = KBlocks::new(500).iter().collect();
        assert_eq!(b, vec![(0, 250), (250, 250)]);
        let b: Vec<_> = KBlocks::new(257).iter().collect();
        assert_eq!(b, vec![(0, 129), (129, 128)]);
        assert_eq!(KBlocks::new(0).iter().count(), 0);
        assert_eq!(KBlocks::new(KC).iter().count(), 1);
    }
}
