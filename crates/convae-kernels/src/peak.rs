//! Peak-rate probes: how many f32 flops per second this runtime issues at best,
//! so benchmarks can report GEMM and conv rates as a fraction of it.
//!
//! Each probe runs `iters` iterations of `acc[a] = acc[a] * s + t` over
//! `PEAK_ACCUMULATORS` independent f32x4 chains and returns a reduction of
//! them (so the optimizer cannot drop the loop). Flops per call:
//! `peak_flops(iters) = iters * PEAK_ACCUMULATORS * 8` (4 lanes, 1 mul + 1 add).
//! - `peak_mul_add`: `f32x4_mul` then `f32x4_add` (what the SIMD128 GEMM issues).
//! - `peak_fma`: `f32x4_relaxed_madd` in the relaxed build; elsewhere the same as
//!   `peak_mul_add`.
//! - Scalar build (no `simd128`): the same flop count with scalar f32 chains
//!   (4 scalar steps per iteration per accumulator).
//!
//! The chains converge to `t / (1 - s) = 1`, so values stay normal for any `iters`.

/// Independent accumulators per probe. 12 chains of (mul 3 + add 3 cycles
/// latency) keep 2 mul + 2 add pipes busy; 12 + 2 constants fit in the 15
/// xmm registers V8 allocates on x64.
pub const PEAK_ACCUMULATORS: usize = 12;

const S: f32 = 0.999_9;
const T: f32 = 1.0e-4;

/// Flops one call of a probe performs.
pub fn peak_flops(iters: u32) -> f64 {
    iters as f64 * PEAK_ACCUMULATORS as f64 * 8.0
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use super::{PEAK_ACCUMULATORS, S, T};
    use core::arch::wasm32::*;

    #[inline(always)]
    fn run(iters: u32, step: impl Fn(v128, v128, v128) -> v128) -> f32 {
        // Distinct starting values so no two chains can be merged.
        let mut acc: [v128; PEAK_ACCUMULATORS] = core::array::from_fn(|a| {
            f32x4(
                a as f32 * 0.01,
                a as f32 * 0.02,
                a as f32 * 0.03,
                a as f32 * 0.04,
            )
        });
        let s = f32x4_splat(S);
        let t = f32x4_splat(T);
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = step(*x, s, t);
            }
        }
        let mut r = f32x4_splat(0.0);
        for x in acc {
            r = f32x4_add(r, x);
        }
        f32x4_extract_lane::<0>(r)
            + f32x4_extract_lane::<1>(r)
            + f32x4_extract_lane::<2>(r)
            + f32x4_extract_lane::<3>(r)
    }

    #[inline(never)]
    pub fn peak_mul_add(iters: u32) -> f32 {
        run(iters, |x, s, t| f32x4_add(f32x4_mul(x, s), t))
    }

    #[inline(never)]
    pub fn peak_fma(iters: u32) -> f32 {
        // The madd helper is an FMA in the relaxed build and mul + add otherwise.
        run(iters, |x, s, t| crate::gemm::madd(x, s, t))
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    use super::{PEAK_ACCUMULATORS, S, T};

    #[inline(never)]
    pub fn peak_mul_add(iters: u32) -> f32 {
        let mut acc: [f32; PEAK_ACCUMULATORS] = core::array::from_fn(|a| a as f32 * 0.01);
        for _ in 0..iters {
            // 4 scalar steps per iteration = one f32x4 step of the SIMD probe.
            for _ in 0..4 {
                for x in acc.iter_mut() {
                    *x = *x * S + T;
                }
            }
        }
        acc.iter().fold(0.0, |r, x| r + x)
    }

    pub fn peak_fma(iters: u32) -> f32 {
        peak_mul_add(iters)
    }
}

/// Mul + add probe; see the module doc.
pub fn peak_mul_add(iters: u32) -> f32 {
    imp::peak_mul_add(iters)
}

/// FMA probe (relaxed build), mul + add elsewhere; see the module doc.
pub fn peak_fma(iters: u32) -> f32 {
    imp::peak_fma(iters)
}

/// Native FMA probes: `PEAK_ACCUMULATORS` independent chains of
/// `acc = fma(acc, s, t)` over 8 (AVX2), 16 (AVX-512) or 4 (NEON) lanes; flops
/// per call `iters * PEAK_ACCUMULATORS * lanes * 2`. 12 chains cover 2 FMA
/// pipes x 4-5 cycles latency and fit 16 ymm registers.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub mod native {
    use super::{PEAK_ACCUMULATORS, S, T};
    use crate::isa::{supported, Isa};
    #[cfg(target_arch = "aarch64")]
    use core::arch::aarch64::*;
    #[cfg(target_arch = "x86_64")]
    use core::arch::x86_64::*;

    #[cfg(target_arch = "aarch64")]
    #[target_feature(enable = "neon")]
    unsafe fn neon(iters: u32) -> f32 {
        let mut acc: [float32x4_t; PEAK_ACCUMULATORS] =
            core::array::from_fn(|a| vdupq_n_f32(a as f32 * 0.01));
        let (s, t) = (vdupq_n_f32(S), vdupq_n_f32(T));
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = vfmaq_f32(t, *x, s);
            }
        }
        vaddvq_f32(acc.iter().fold(vdupq_n_f32(0.0), |r, x| vaddq_f32(r, *x)))
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn avx2(iters: u32) -> f32 {
        let mut acc: [__m256; PEAK_ACCUMULATORS] =
            core::array::from_fn(|a| _mm256_set1_ps(a as f32 * 0.01));
        let (s, t) = (_mm256_set1_ps(S), _mm256_set1_ps(T));
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm256_fmadd_ps(*x, s, t);
            }
        }
        let mut r = [0.0f32; 8];
        let sum = acc
            .iter()
            .fold(_mm256_setzero_ps(), |r, x| _mm256_add_ps(r, *x));
        _mm256_storeu_ps(r.as_mut_ptr(), sum);
        r.iter().sum()
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn avx512(iters: u32) -> f32 {
        let mut acc: [__m512; PEAK_ACCUMULATORS] =
            core::array::from_fn(|a| _mm512_set1_ps(a as f32 * 0.01));
        let (s, t) = (_mm512_set1_ps(S), _mm512_set1_ps(T));
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm512_fmadd_ps(*x, s, t);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_ps(), |r, x| _mm512_add_ps(r, *x));
        _mm512_reduce_add_ps(sum)
    }

    /// f32 lanes per vector of `isa` (1 for scalar).
    pub fn lanes(isa: Isa) -> usize {
        match isa {
            Isa::Avx512 => 16,
            Isa::Avx2 => 8,
            Isa::Neon => 4,
            _ => 1,
        }
    }

    /// Flops one call of `peak_fma_native(isa, iters)` performs.
    pub fn peak_flops_native(isa: Isa, iters: u32) -> f64 {
        iters as f64 * PEAK_ACCUMULATORS as f64 * lanes(isa) as f64 * 2.0
    }

    /// Runs the FMA probe of `isa`; `None` when the CPU lacks it (or for a
    /// non-native ISA). Scalar: mul + add chains (what the scalar twin issues).
    #[inline(never)]
    pub fn peak_fma_native(isa: Isa, iters: u32) -> Option<f32> {
        if !supported(isa) {
            return None;
        }
        // SAFETY: `supported` checked the CPU features each probe needs.
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => Some(unsafe { avx512(iters) }),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => Some(unsafe { avx2(iters) }),
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => Some(unsafe { neon(iters) }),
            Isa::Scalar => {
                let mut acc: [f32; PEAK_ACCUMULATORS] = core::array::from_fn(|a| a as f32 * 0.01);
                for _ in 0..iters {
                    for x in acc.iter_mut() {
                        *x = *x * S + T;
                    }
                }
                Some(acc.iter().sum())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn probes_stay_finite() {
        for it in [0u32, 1, 1000, 100_000] {
            let a = super::peak_mul_add(it);
            let b = super::peak_fma(it);
            assert!(a.is_finite() && b.is_finite());
        }
        // Converged chains sum to about 12 * 4 = 48 (the scalar probe has 12 chains).
        let r = super::peak_mul_add(200_000);
        assert!((r - 12.0).abs() < 0.1 || (r - 48.0).abs() < 0.1, "{r}");
    }

    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[test]
    fn native_probes_converge_on_every_isa() {
        use super::native::*;
        for isa in crate::isa::native_isas() {
            // Converged chains are 1 each: 12 chains x lanes.
            let r = peak_fma_native(isa, 200_000).unwrap();
            let want = 12.0 * lanes(isa) as f32;
            assert!((r - want).abs() < 0.01 * want, "{isa:?}: {r} vs {want}");
            assert_eq!(
                peak_flops_native(isa, 10),
                10.0 * 12.0 * lanes(isa) as f64 * 2.0
            );
        }
        assert!(peak_fma_native(crate::isa::Isa::Relaxed, 1).is_none());
    }
}
