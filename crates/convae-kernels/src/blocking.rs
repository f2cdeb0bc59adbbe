//! GEMM blocking: the register tile and the cache blocks. `shape.rs` derives the
//! workspace lengths from these, `gemm` packs and runs by them.

/// Rows of the register tile (rows of a packed A panel). wasm: 4 x 8 f32x4
/// lanes fit V8's 16 xmm registers. Native x86-64: 10 rows x 32 columns is 20
/// zmm accumulators of AVX-512's 32 (2 FMA pipes x 4 cycles latency need at
/// least 8 in flight; 2 B loads + 10 broadcasts per 20 FMAs) or four 5 x 16
/// quarters of 10 ymm accumulators each (AVX2, 16 registers). 10 rows, not 8:
/// the layer widths of the CAEs here (20 and 50 filters, 500 = 50·5·5 im2col
/// rows) are multiples of 10, so no tile row is padding.
/// aarch64 NEON: 8 x 12, 24 q-register accumulators of 32, A read as two
/// vectors whose lanes feed `fmla` by element (no broadcasts).
#[cfg(target_arch = "wasm32")]
pub const MR: usize = 4;
#[cfg(target_arch = "aarch64")]
pub const MR: usize = 8;
#[cfg(not(any(target_arch = "wasm32", target_arch = "aarch64")))]
pub const MR: usize = 10;
/// Columns of the register tile (columns of a packed B panel); a multiple of 4.
#[cfg(target_arch = "wasm32")]
pub const NR: usize = 8;
#[cfg(target_arch = "aarch64")]
pub const NR: usize = 12;
#[cfg(not(any(target_arch = "wasm32", target_arch = "aarch64")))]
pub const NR: usize = 32;
/// Largest k-block. A `KC x NR` B panel is 8 KiB on wasm; natively 32 KiB,
/// which fills a 32 KiB L1, yet 128 measured slower than 256 on Zen 4 (conv
/// W2 forward 88-89 vs 91-93 GFLOP/s, builds alternated): the longer k-loop and
/// fewer C passes win.
pub const KC: usize = 256;
/// Rows of A packed per block (a multiple of `MR`); `MC x KC` (128 / 120 KiB) stays in L2.
#[cfg(any(target_arch = "wasm32", target_arch = "aarch64"))]
pub const MC: usize = 128;
#[cfg(not(any(target_arch = "wasm32", target_arch = "aarch64")))]
pub const MC: usize = 120;
/// Columns of B packed per block (a multiple of `NR`).
#[cfg(not(target_arch = "aarch64"))]
pub const NC: usize = 2048;
#[cfg(target_arch = "aarch64")]
pub const NC: usize = 2040;

// MR even: the scalar twin works in 2-row sub-tiles.
const _: () = assert!(
    NR.is_multiple_of(4) && MR.is_multiple_of(2) && MC.is_multiple_of(MR) && NC.is_multiple_of(NR)
);
