//! Which instruction set a kernel call uses.
//!
//! Every SIMD kernel has a scalar twin. wasm: the SIMD path is compiled in only
//! when the build enables `simd128`; `set_force_scalar` lets one SIMD build run
//! its scalar twins so tests can compare the two in one process. Native: the
//! ISA is detected at run time (`detected`, `active`), and `pin_thread` does
//! the same job per thread.

use core::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    Scalar,
    Simd128,
    /// SIMD128 plus relaxed-SIMD (`f32x4_relaxed_madd`, a fused multiply-add where the CPU has one).
    Relaxed,
    /// x86-64 native: AVX2 + FMA (256-bit).
    Avx2,
    /// x86-64 native: AVX-512F (512-bit, masked edge stores).
    Avx512,
    /// aarch64 native: NEON (128-bit, `fmla` by element).
    Neon,
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

/// True when kernels should take their SIMD path now.
#[inline]
pub fn use_simd() -> bool {
    HAS_SIMD && !FORCE_SCALAR.load(Ordering::Relaxed)
}

/// Native builds (not wasm): every kernel with native SIMD twins (GEMM,
/// activations, pooling, ...) is chosen at run time from the CPU's features. A thread may pin a lower ISA (tests compare every path
/// with the scalar twin in one process; benchmarks time each).
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::Isa;
    use std::cell::Cell;
    use std::sync::OnceLock;

    static DETECTED: OnceLock<Isa> = OnceLock::new();
    thread_local! {
        static PINNED: Cell<Option<Isa>> = const { Cell::new(None) };
    }

    /// The best native ISA this CPU runs.
    pub fn detected() -> Isa {
        *DETECTED.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    return Isa::Avx512;
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    return Isa::Avx2;
                }
            }
            #[cfg(target_arch = "aarch64")]
            if std::arch::is_aarch64_feature_detected!("neon") {
                return Isa::Neon;
            }
            Isa::Scalar
        })
    }

    /// Whether this CPU can run `isa`'s native kernels.
    pub fn supported(isa: Isa) -> bool {
        match isa {
            Isa::Scalar => true,
            Isa::Avx2 => matches!(detected(), Isa::Avx2 | Isa::Avx512),
            Isa::Avx512 => detected() == Isa::Avx512,
            Isa::Neon => detected() == Isa::Neon,
            Isa::Simd128 | Isa::Relaxed => false,
        }
    }

    /// Pins this thread's kernels to `isa` (`None`: back to `detected()`).
    /// Returns false, changing nothing, when the CPU cannot run it.
    pub fn pin_thread(isa: Option<Isa>) -> bool {
        if isa.is_some_and(|i| !supported(i)) {
            return false;
        }
        PINNED.with(|p| p.set(isa));
        true
    }

    /// Every native ISA this CPU runs, scalar first.
    pub fn native_isas() -> Vec<Isa> {
        [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon]
            .into_iter()
            .filter(|&i| supported(i))
            .collect()
    }

    /// The ISA the kernels use on this thread now.
    #[inline]
    pub fn active() -> Isa {
        PINNED.with(|p| p.get()).unwrap_or_else(detected)
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::{active, detected, native_isas, pin_thread, supported};
