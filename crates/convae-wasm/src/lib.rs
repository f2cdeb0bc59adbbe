//! convae-wasm: the thin wasm-bindgen export layer over `convae-kernels`.
//!
//! The call protocol, the status codes, the argument checks and the list of
//! shared exports live in `convae-abi` (the Node-API addon `convae-node` uses
//! the same). Here an address is a pointer into wasm linear memory.
//!
//! **Only `alloc` can grow memory**, so JS views over `memory.buffer` stay
//! valid across every other call; rebuild them after an `alloc`. Nothing
//! panics across the boundary: a panic would trap (panic = "abort").

use convae_abi as abi;
use convae_kernels as k;
use wasm_bindgen::prelude::*;

mod alloc;

/// Wasm linear memory: an address is the pointer itself.
struct Linear;

// SAFETY: every address below `memory_size` is readable and writable linear memory.
unsafe impl abi::Memory for Linear {
    #[cfg(target_arch = "wasm32")]
    fn bytes(&self) -> usize {
        core::arch::wasm32::memory_size(0) * 65536
    }
    #[cfg(not(target_arch = "wasm32"))]
    fn bytes(&self) -> usize {
        usize::MAX
    }
    fn at(&self, addr: usize) -> *mut u8 {
        addr as *mut u8
    }
}

/// One `#[wasm_bindgen]` function per shared op that touches memory.
macro_rules! export_memory_ops {
    ($( $(#[$doc:meta])* fn $name:ident ( $($a:ident : $t:ty),* $(,)? ) -> $r:ty ; )*) => {
        $(
            $(#[$doc])*
            #[allow(clippy::too_many_arguments)]
            #[wasm_bindgen]
            pub fn $name($($a: $t),*) -> $r {
                abi::$name(&Linear, abi::$name::Args { $($a),* })
            }
        )*
    };
}

/// One `#[wasm_bindgen]` function per shared op that touches no memory.
macro_rules! export_pure_ops {
    ($( $(#[$doc:meta])* fn $name:ident ( $($a:ident : $t:ty),* $(,)? ) -> $r:ty ; )*) => {
        $(
            $(#[$doc])*
            #[allow(clippy::too_many_arguments)]
            #[wasm_bindgen]
            pub fn $name($($a: $t),*) -> $r {
                abi::$name(abi::$name::Args { $($a),* })
            }
        )*
    };
}

abi::memory_ops!(export_memory_ops);
abi::pure_ops!(export_pure_ops);

// ---------------------------------------------------------------- build info

/// 0 = scalar, 1 = simd (SIMD128), 2 = relaxed (SIMD128 + relaxed SIMD): the best
/// instruction set compiled into this module.
#[wasm_bindgen]
pub fn build_isa() -> u32 {
    k::isa::COMPILED as u32
}

/// Makes every kernel run its scalar twin (for tests comparing SIMD to scalar).
#[wasm_bindgen]
pub fn set_force_scalar(on: bool) {
    k::isa::set_force_scalar(on);
}

// ---------------------------------------------------------------- memory

/// Returns a 16-byte aligned block of `bytes` bytes, or 0 when memory cannot grow.
#[wasm_bindgen]
pub fn alloc(bytes: usize) -> usize {
    alloc::alloc(bytes)
}

/// Frees a block from `alloc`; `bytes` must be the size it was allocated with.
#[wasm_bindgen]
pub fn free(ptr: usize, bytes: usize) {
    alloc::free(ptr, bytes)
}
