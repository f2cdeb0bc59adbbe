//! Which instruction set a kernel call uses.
//!
//! Every SIMD kernel has a scalar twin. The SIMD path is compiled in only when
//! the build enables `simd128`; `set_force_scalar` lets one SIMD build run its
//! scalar twins so tests can compare the two in one process.

use core::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    Scalar,
    Simd128,
    /// SIMD128 plus relaxed-SIMD (`f32x4_relaxed_madd`, a fused multiply-add where the CPU has one).
    Relaxed,
}

impl Isa {
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Simd128 => "simd",
            Isa::Relaxed => "relaxed",
        }
    }
}

/// The best instruction set compiled into this build.
pub const COMPILED: Isa = if cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd")) {
    Isa::Relaxed
} else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
    Isa::Simd128
} else {
    Isa::Scalar
};

/// True when SIMD code paths exist in this build at all.
pub const HAS_SIMD: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

static FORCE_SCALAR: AtomicBool = AtomicBool::new(false);

pub fn set_force_scalar(on: bool) {
    FORCE_SCALAR.store(on, Ordering::Relaxed);
}

/// The instruction set kernels use right now.
#[inline]
pub fn active() -> Isa {
    if FORCE_SCALAR.load(Ordering::Relaxed) {
        Isa::Scalar
    } else {
        COMPILED
    }
}

/// True when kernels should take their SIMD path now.
#[inline]
pub fn use_simd() -> bool {
    HAS_SIMD && !FORCE_SCALAR.load(Ordering::Relaxed)
}
