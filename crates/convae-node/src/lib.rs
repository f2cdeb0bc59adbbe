//! convae-node: the Node-API addon over `convae-kernels` (built with napi-rs).
//!
//! It exports the same operations as the wasm export layer (`convae-wasm`),
//! under the same names, with the same argument order, argument checks and
//! status codes: both layers expand the one list in `convae-abi` and run its
//! op bodies. The kernels run native code (AVX-512F, AVX2 + FMA or scalar,
//! chosen at run time by CPU feature detection).
//!
//! # Instances (context-aware)
//! Node runs the module's registration once per environment that loads it: the
//! main thread and every `worker_threads` worker get their own instance, with
//! their own arena. Nothing is shared between instances.
//!
//! # Memory and ownership
//! - Each instance owns one **arena** (see `arena.rs`): 4 GiB of address space
//!   reserved once (`MAP_NORESERVE`, committed page by page as it is touched).
//!   JS sees it as **one ArrayBuffer**, `exports.memory`, created once per
//!   instance over the arena (external, never copied). The buffer never moves
//!   or detaches, so views over it stay valid across every call.
//! - An **address** is a byte offset into that buffer, exactly as a wasm
//!   address is an offset into `memory.buffer`. `alloc(bytes)` returns a
//!   16-byte aligned address, or 0 when the arena is full (0 is never a
//!   block). The caller owns the block until `free(addr, bytes)` with the same
//!   size; `free` of anything else does nothing.
//! - The instance owns the arena for its whole life: the arena is unmapped
//!   when the environment is torn down (the instance-data finalizer), not when
//!   the ArrayBuffer is collected — the buffer is a view that never owns it.
//!   Do not transfer or detach `exports.memory`.
//! - Argument checks bound addresses by the arena's high-water mark (the end
//!   of the highest block ever handed out), the counterpart of wasm's memory
//!   size: a buffer reaching beyond it is OUT_OF_BOUNDS.
//! - `memory_bytes()` is the bytes of the blocks alive now (tensors, the
//!   workspace, the loss slot): it falls when they are freed.
//!
//! # Exports beyond the wasm layer's
//! `memory` (the ArrayBuffer) and `memory_bytes()`; the wasm glue gets the
//! former from its instance and the latter from `memory.buffer.byteLength`.

pub mod arena;

use arena::Arena;
use convae_abi as abi;
use convae_kernels as k;
use napi::bindgen_prelude::{FunctionCallContext, JsObjectValue, JsValue, Object, Unknown};
use napi::{sys, Env, Error, Result};
use napi_derive::napi;

pub use arena::{ALIGN, ARENA_BYTES, HEAP_START};

/// A JS argument as the wasm-bindgen glue converts it: sizes and addresses as
/// u32 (ToUint32, like `>>> 0`), floats rounded to f32, booleans as booleans.
trait FromJs: Sized {
    fn arg(ctx: &FunctionCallContext, i: usize) -> Result<Self>;
}
impl FromJs for usize {
    fn arg(ctx: &FunctionCallContext, i: usize) -> Result<Self> {
        Ok(ctx.get::<u32>(i)? as usize)
    }
}
impl FromJs for u32 {
    fn arg(ctx: &FunctionCallContext, i: usize) -> Result<Self> {
        ctx.get::<u32>(i)
    }
}
impl FromJs for f32 {
    fn arg(ctx: &FunctionCallContext, i: usize) -> Result<Self> {
        Ok(ctx.get::<f64>(i)? as f32)
    }
}
impl FromJs for bool {
    fn arg(ctx: &FunctionCallContext, i: usize) -> Result<Self> {
        ctx.get::<bool>(i)
    }
}

/// The instance's arena, as the op closures hold it.
///
/// Safety: the closures run only on their environment's JS thread while the
/// environment lives, and the arena (the instance data) is dropped only when
/// the environment is torn down, after which no JS runs.
#[derive(Clone, Copy)]
struct ArenaRef(*const Arena);
impl ArenaRef {
    fn get(&self) -> &Arena {
        unsafe { &*self.0 }
    }
}

/// Defines `name` on `exports` as a function running `f`.
fn export<R, F>(env: &Env, exports: &mut Object, name: &str, f: F) -> Result<()>
where
    R: napi::bindgen_prelude::ToNapiValue,
    F: 'static + Fn(FunctionCallContext) -> Result<R>,
{
    // The JS-side argument types are not modelled (`Unknown`): the closure reads them itself.
    let func = env.create_function_from_closure::<Unknown, R, F>(name, f)?;
    exports.set_named_property(name, func)
}

/// One function per shared op that touches memory: arguments in list order, checked and run by `convae-abi`.
macro_rules! register_memory_ops {
    ($( $(#[$doc:meta])* fn $name:ident ( $($a:ident : $t:tt),* $(,)? ) -> $r:ty ; )*) => {
        fn register_memory_ops(env: &Env, exports: &mut Object, arena: ArenaRef) -> Result<()> {
            $(
                export(env, exports, stringify!($name), move |ctx| -> Result<$r> {
                    let mut _i = 0usize;
                    $( let $a = <$t as FromJs>::arg(&ctx, { _i += 1; _i - 1 })?; )*
                    Ok(abi::$name(arena.get(), abi::$name::Args { $($a),* }))
                })?;
            )*
            Ok(())
        }
    };
}

/// One function per shared op that touches no memory.
macro_rules! register_pure_ops {
    ($( $(#[$doc:meta])* fn $name:ident ( $($a:ident : $t:tt),* $(,)? ) -> $r:ty ; )*) => {
        fn register_pure_ops(env: &Env, exports: &mut Object) -> Result<()> {
            $(
                export(env, exports, stringify!($name), move |ctx| -> Result<$r> {
                    let mut _i = 0usize;
                    $( let $a = <$t as FromJs>::arg(&ctx, { _i += 1; _i - 1 })?; )*
                    let _ = &ctx;
                    Ok(abi::$name(abi::$name::Args { $($a),* }))
                })?;
            )*
            Ok(())
        }
    };
}

abi::memory_ops!(register_memory_ops);
abi::pure_ops!(register_pure_ops);

/// The ArrayBuffer over the whole arena. Created once per instance: V8 must
/// not see two buffers over the same memory. No copy fallback: a runtime that
/// refuses external buffers fails the load (the loader then uses wasm).
fn arena_buffer(env: &Env, arena: &Arena) -> Result<sys::napi_value> {
    unsafe extern "C" fn keep(
        _: sys::napi_env,
        _: *mut std::ffi::c_void,
        _: *mut std::ffi::c_void,
    ) {
        // The instance owns the arena; the buffer never frees it.
    }
    let mut value = std::ptr::null_mut();
    let status = unsafe {
        sys::napi_create_external_arraybuffer(
            env.raw(),
            arena.base().cast(),
            arena.len(),
            Some(keep),
            std::ptr::null_mut(),
            &mut value,
        )
    };
    if status != sys::Status::napi_ok {
        return Err(Error::from_reason(format!(
            "convae: this runtime refused a {} GiB external ArrayBuffer over the arena (napi status {status})",
            arena.len() >> 30
        )));
    }
    Ok(value)
}

#[napi(module_exports)]
pub fn init(mut exports: Object, env: Env) -> Result<()> {
    let arena = Arena::new().map_err(|e| {
        Error::from_reason(format!(
            "convae: could not reserve the {} GiB arena: {e}",
            ARENA_BYTES >> 30
        ))
    })?;
    env.set_instance_data(arena, (), |_| {})?;
    let arena: &Arena = env
        .get_instance_data::<Arena>()?
        .ok_or_else(|| Error::from_reason("convae: the arena vanished"))?;
    let arena = ArenaRef(arena);

    let buffer = arena_buffer(&env, arena.get())?;
    unsafe {
        napi::bindgen_prelude::set_named_property_raw(
            env.raw(),
            exports.raw(),
            c"memory".as_ptr(),
            buffer,
        )?
    };

    register_memory_ops(&env, &mut exports, arena)?;
    register_pure_ops(&env, &mut exports)?;

    // alloc(bytes) -> address (0 = full); free(address, bytes).
    export(&env, &mut exports, "alloc", move |ctx| {
        let bytes = usize::arg(&ctx, 0)?;
        // Addresses fit a u32: the arena is at most 4 GiB and never hands out its last byte.
        Ok(arena.get().alloc(bytes) as u32)
    })?;
    export(&env, &mut exports, "free", move |ctx| {
        let (addr, bytes) = (usize::arg(&ctx, 0)?, usize::arg(&ctx, 1)?);
        arena.get().free(addr, bytes);
        Ok(())
    })?;
    export(&env, &mut exports, "memory_bytes", move |_| {
        Ok(arena.get().live_bytes() as f64)
    })?;

    // The native ISA the GEMM uses (convae_kernels::isa::Isa: 0 scalar, 3 AVX2 + FMA, 4 AVX-512F).
    export(&env, &mut exports, "build_isa", |_| {
        Ok(k::isa::detected() as u32)
    })?;
    // Scalar twins on this thread (each instance runs on its own JS thread).
    export(&env, &mut exports, "set_force_scalar", |ctx| {
        let on = bool::arg(&ctx, 0)?;
        k::isa::set_force_scalar(on);
        k::isa::pin_thread(on.then_some(k::isa::Isa::Scalar));
        Ok(())
    })?;
    // TODO(issue 15, threads): export `set_threads(n)` / `get_threads()` over
    // `convae_kernels::threads::{set, get}` once the intra-op pool lands in the
    // kernel crate (another branch provides it; not written here).
    Ok(())
}
