//! convae-kernels: the hot loops of a convolutional autoencoder and of the CNN
//! built from it, f32 NCHW, forward and backward. Pure Rust, no dependencies,
//! no allocation: scratch space comes in as a workspace slice whose length is
//! given by `shape`. See `docs/DESIGN.md` for the conventions every kernel follows.

pub mod blocking;
pub mod isa;
pub mod shape;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod testing;
#[cfg(not(target_arch = "wasm32"))]
pub mod threads;

// GEMM and the ops built on it.
pub mod bias;
pub mod conv;
pub mod conv_transpose;
pub mod dense;
pub mod gemm;
pub mod peak;

// Element-wise, pooling, losses, optimizers.
pub mod act;
pub mod axpby;
pub mod loss;
pub mod math;
pub mod optim;
pub mod pool;
pub mod unpool;
