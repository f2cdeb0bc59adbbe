//! GEMM blocking: the register tile and the cache blocks. `shape.rs` derives the
//! workspace lengths from these, `gemm` packs and runs by them.

/// Rows of the register tile (rows of a packed A panel). wasm: 4 x 8 f32x4
/// lanes fit V8's 16 xmm registers. Native x86-64: 8 rows x 32 columns is 16 zmm
/// accumulators (AVX-512: 2 FMA pipes x 4 cycles latency need at least 8 in
/// flight; 2 B loads + 8 broadcasts per 16 FMAs) or four 4 x 16 quarters of 8
/// ymm accumulators each (AVX2, 16 registers).
#[cfg(target_arch = "wasm32")]
pub const MR: usize = 4;
#[cfg(not(target_arch = "wasm32"))]
pub const MR: usize = 8;
/// Columns of the register tile (columns of a packed B panel); a multiple of 4.
#[cfg(target_arch = "wasm32")]
pub const NR: usize = 8;
#[cfg(not(target_arch = "wasm32"))]
pub const NR: usize = 32;
/// Largest k-block. A `KC x NR` B panel (8 KiB wasm, 32 KiB native) stays in L1.
pub const KC: usize = 256;
/// Rows of A packed per block (a multiple of `MR`); `MC x KC` (128 KiB) stays in L2.
pub const MC: usize = 128;
/// Columns of B packed per block (a multiple of `NR`).
pub const NC: usize = 2048;

// MR even: the scalar twin works in 2-row sub-tiles.
const _: () = assert!(
    NR.is_multiple_of(4) && MR.is_multiple_of(2) && MC.is_multiple_of(MR) && NC.is_multiple_of(NR)
);
