/**
 * convae: convolutional autoencoders for TypeScript, on SIMD WebAssembly kernels.
 *
 * Kernel names mirror the Rust crate (`conv2d_backward_input` ↔ `conv2dBackwardInput`).
 * Conventions: f32, NCHW, PyTorch weight layouts; input gradients are
 * overwritten, parameter gradients accumulate. See docs/DESIGN.md.
 */
export { Backend, loadBackend } from './backend/backend.js';
export { BUILDS, supportedBuilds, type Build, type LoadOptions } from './backend/loader.js';
export { Tensor, type DType } from './backend/memory.js';
export * from './errors.js';
export { convOut, convTransposeOut, poolOut, type Pair } from './shape.js';
export {
  biasBackward,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dGeometry,
  convTranspose2d,
  convTranspose2dBackwardInput,
  convTranspose2dBackwardWeight,
  convTranspose2dGeometry,
  type Conv2dGeometry,
  type Conv2dOptions,
  type ConvTranspose2dGeometry,
  type ConvTranspose2dOptions,
} from './ops/conv.js';
export { dense, denseBackwardInput, denseBackwardWeight, gemm, type GemmOptions } from './ops/dense.js';
export {
  activation,
  activationBackward,
  adamStep,
  mseLoss,
  sgdStep,
  softmaxCrossEntropy,
  type Activation,
  type AdamOptions,
  type SgdOptions,
} from './ops/elementwise.js';
export { maxPool2d, maxPool2dBackward, maxUnpool2d, maxUnpool2dBackward, pool2dGeometry, type Pool2dGeometry, type Pool2dOptions } from './ops/pool.js';
export { checkFinite } from './ops/check.js';
