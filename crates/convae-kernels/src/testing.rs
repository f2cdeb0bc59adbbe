//! Test helpers shared by the kernel families (host tests only).

use crate::isa::{native_isas, pin_thread, Isa};
use std::sync::Mutex;

/// Held by tests that change `threads::set` (a process-wide setting), so they
/// do not change it under one another.
static THREADS: Mutex<()> = Mutex::new(());

/// Runs `f` with `threads::set(n)`, then sets 1 again.
pub(crate) fn with_threads<R>(n: usize, f: impl FnOnce() -> R) -> R {
    let _g = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    crate::threads::set(n);
    let r = f();
    crate::threads::set(1);
    r
}

/// Runs `f(isa)` with this thread pinned to each native ISA the CPU has
/// (scalar first), then unpins it.
pub(crate) fn each_isa(mut f: impl FnMut(Isa)) {
    for isa in native_isas() {
        assert!(pin_thread(Some(isa)));
        f(isa);
    }
    pin_thread(None);
}

/// Runs `f` with this thread pinned to the scalar twins.
pub(crate) fn scalar<R>(f: impl FnOnce() -> R) -> R {
    let before = crate::isa::active();
    assert!(pin_thread(Some(Isa::Scalar)));
    let r = f();
    pin_thread(Some(before));
    r
}

/// Deterministic values in [-1, 1).
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

pub(crate) fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Lengths around the vector widths (4, 8, 16) and a long one.
pub(crate) const LENGTHS: [usize; 16] = [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 1000];
