/**
 * convae: convolutional autoencoders for TypeScript, on SIMD WebAssembly kernels.
 *
 * Kernel names mirror the Rust crate (`conv2d_backward_input` ↔ `conv2dBackwardInput`).
 * Conventions: f32, NCHW, PyTorch weight layouts; input gradients are
 * overwritten, parameter gradients accumulate. See docs/DESIGN.md.
 */
export { Backend, loadBackend } from './backend/backend.js';
export {
  BUILDS,
  supportedBuilds,
  type Build,
  type Isa,
  type LoadOptions,
  type WasmBuild,
  type WasmModule,
} from './backend/loader.js';
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
  axpby,
  mseLoss,
  sgdStep,
  softmaxCrossEntropy,
  type Activation,
  type AdamOptions,
  type SgdOptions,
} from './ops/elementwise.js';
export {
  maxPool2d,
  maxPool2dBackward,
  maxUnpool2d,
  maxUnpool2dBackward,
  pool2dGeometry,
  type Pool2dGeometry,
  type Pool2dOptions,
} from './ops/pool.js';
export { checkFinite } from './ops/check.js';

// Models, training and data (browser-safe; Node-only helpers are in `convae/node`).
export { Layer, Param, type Shape } from './model/layer.js';
export {
  Activation as ActivationLayer,
  Conv2D,
  ConvTranspose2D,
  Dense as DenseLayer,
  Dropout,
  Flatten,
  MaxPool2D,
  MaxUnpool2D,
} from './model/layers.js';
export type { Conv2DOptions, ConvTranspose2DOptions, DenseOptions, Init, PoolOptions } from './model/layers.js';
export { Sequential } from './model/sequential.js';
export {
  ConvAutoencoder,
  StackedConvAutoencoder,
  type AutoencoderOptions,
  type BlockSpec,
  type ConvSpec,
  type Noise,
} from './model/autoencoder.js';
export { plannedCodeSizes, smallestInputSide } from './model/plan.js';
export { Classifier, type HeadSpec } from './model/classifier.js';
export {
  exportWeights,
  importWeights,
  loadModel,
  modelJson,
  saveModel,
  type LoadOptions as LoadModelOptions,
  type ModelJson,
  type WeightsOptions,
} from './model/serialize.js';
export {
  isClassifying,
  type Architecture,
  type Classifying,
  type ImageFootprint,
  type Model,
  type TaskSpec,
} from './model/model.js';
export { modelKind, modelKindNames, registerModelKind, type ModelKind, type ModelKinds } from './model/kinds.js';
export type { ParamInit, PlannedParam, RandomFill } from './model/layer.js';
export {
  argmaxRows,
  confusionMatrix,
  evaluateClassifier,
  evaluateTask,
  predict,
  predictLogits,
  type EvaluateOptions,
  type Evaluation,
} from './train/evaluate.js';
export { threadRunner, type RunOptions, type Runner } from './train/runner.js';
export {
  fit,
  type BatchInfo,
  type EpochInfo,
  type FitOptions,
  type History,
  type Task,
} from './train/fit.js';
export type { Augment } from './train/augment.js';
export { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './train/checkpoint.js';
export { Optimizer, scheduledLr, type OptimizerSpec, type Schedule } from './train/optimizer.js';
export { autoencoderTask, classifierTask, stackLayerTask } from './model/tasks.js';
export { ImageDataset, type Batch, type BatchOptions, type ImageShape } from './data/dataset.js';
export { parseIdx, readIdxImages } from './data/idx.js';
export { FASHION_MNIST_CLASSES, parseFashionMnistJson } from './data/fashion.js';
export { CIFAR10_CLASSES, CIFAR10_FILES, parseCifar10, parseCifar10Records } from './data/cifar.js';
export { labelledSubset, splitDataset, type SplitOptions, type SplitPart } from './data/split.js';
export {
  checkToPixels,
  contrastNormalize,
  toPixels,
  type ContrastOptions,
  type TrainingInput,
} from './data/normalize.js';
export { addNoise, MAX_NOISE_STD, type AddNoiseOptions, type ImageNoise } from './data/imagenoise.js';
export { imageErrors, MAX_PSNR, quantize, type ImageErrors } from './data/quality.js';
export {
  fitWhitening,
  MAX_WHITENING_WINDOW,
  whiten,
  whiteningOf,
  type Whitening,
  type WhiteningOptions,
} from './data/whiten.js';
export type { ImageLoadOptions, ImagePatches } from './data/imageopts.js';
export { patchOrigins } from './data/patches.js';
export {
  filesFromDrop,
  loadImageFiles,
  loadImageSources,
  loadVideoFrames,
  MAX_IMAGE_FILES,
  type DecodeOptions,
  type ImageFileEntry,
  type ImageFileInput,
  type ImageFiles,
  type ImageFilesOptions,
  type ImageSources,
  type ImageSourcesOptions,
} from './data/imagefiles.js';
export { IMAGE_EXTENSIONS, type LoadedImages } from './data/imagelist.js';
export type {
  DataTransferItemLike,
  DataTransferLike,
  DecodedIn,
  FileSystemEntryLike,
  ImageSourceLike,
  VideoElementLike,
} from './data/browsertypes.js';
export {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsDecodeOptions,
  type SafetensorsFile,
  type SafetensorsTensor,
} from './io/safetensors.js';
export { Rng } from './util/rng.js';
export * from './viz/index.js';

// Training in workers (Node worker_threads, browser module Workers).
export { Trainer, type TrainerFitOptions, type TrainerOptions, type TrainResult } from './worker/trainer.js';
export { createRunner, defaultParallelism, type Parallelism } from './worker/runner.js';
export type { PassOptions } from './worker/passes.js';
export { WorkerPool, defaultWorkers, type PoolOptions as WorkerPoolOptions } from './worker/pool.js';
export type { SpawnOptions } from './worker/spawnopts.js';
export { canShareMemory, type DataMode } from './worker/wire.js';
export {
  blockOf,
  candidates,
  searchCAE,
  type Candidate,
  type CandidateResult,
  type SearchOptions,
  type SearchResult,
  type SearchSpace,
} from './worker/search.js';
// Types that the exports above mention, so that the API reference (and a user's annotations) can name them.
export type { Size } from './shape.js';
export { MODEL_FORMAT } from './model/serialize.js';
export type { SafetensorsDType } from './io/safetensors.js';
export type { EarlyStoppingState } from './train/checkpoint.js';
export type { FashionClassFile } from './data/fashion.js';
export type { IdxArray, IdxImagesOptions } from './data/idx.js';
export type { ImageDataLike, ImageDataOptions, LabelsInput, Uint8Options } from './data/dataset.js';
export type { TypedArray } from './util/rng.js';

// Anomaly scores, embeddings and feature projections (ts/anomaly), ranking metrics.
export { auroc, averagePrecision, rocCurve, type RocCurve } from './train/metrics.js';
export {
  encode,
  nearestNeighbours,
  type EncodeOptions,
  type Embeddings,
  type NeighbourOptions,
  type Neighbours,
} from './anomaly/embed.js';
export {
  meanDistances,
  neighbourScores,
  reconstructionScores,
  reconstructThrough,
  type NeighbourScoreOptions,
  type ReconstructThroughOptions,
  type ReconstructionOptions,
  type ReconstructionScores,
} from './anomaly/score.js';
export { reconstructTiled, type TiledOptions, tileCount, type TileWindow } from './anomaly/tiled.js';
export { fitThreshold, flaggedFraction, type ThresholdSpec } from './anomaly/threshold.js';
export { AnomalyDetector, type Detection, type DetectorOptions } from './anomaly/detector.js';
export {
  DETECTOR_FORMAT,
  DETECTOR_VERSION,
  type DetectorJson,
  type DetectorLoadOptions,
} from './anomaly/detectorfile.js';
export {
  oneClassRun,
  oneClassSplit,
  trainStack,
  type OneClassOptions,
  type OneClassResult,
  type ScoreSpec,
} from './anomaly/oneclass.js';
export {
  knnAccuracy,
  knnAccuracyOn,
  linearProbeAccuracy,
  linearProbeAccuracyOn,
  type KnnOptions,
  type ProbeOptions,
} from './anomaly/probe.js';
export { codeSaturation, type SaturationOptions } from './anomaly/saturation.js';
export {
  MAX_MAP_DIMS,
  MAX_MAP_NEIGHBOURS,
  mapCodes,
  neighbourAgreement,
  type CodeMap,
  type MapOptions,
} from './anomaly/map.js';
export {
  clusterCodes,
  MAX_CLUSTERS,
  MAX_ITERATIONS,
  MAX_RESTARTS,
  type ClusterOptions,
  type Clustering,
} from './anomaly/cluster.js';
export { clusterScores, MAX_SCORED_GROUPS, type ClusterScores } from './anomaly/clusterscores.js';
export {
  defaultSilhouetteSample,
  MAX_SILHOUETTE_SAMPLE,
  silhouetteScore,
  type SilhouetteOptions,
} from './anomaly/silhouette.js';
export {
  chooseClusterCount,
  MAX_K_CANDIDATES,
  type ClusterCount,
  type ClusterCountOptions,
  type ClusterCountRow,
} from './anomaly/clustercount.js';
export { rescaleConvs, type RescaleOptions, type RescaledConv } from './train/rescale.js';
export { featureStrengths, projectFeature, type FeatureOptions, type FeatureProjection } from './anomaly/project.js';
export { projectionGrid } from './anomaly/draw.js';

// Export to PyTorch / ONNX (its protobuf packages are imported only when exportOnnx runs) and import from PyTorch.
export {
  exportOnnx,
  exportPyTorch,
  importPyTorch,
  resolveArchitecture,
  type ImportResult,
  type PyTorchExport,
} from './export/index.js';

// The limits on untrusted input (README *Untrusted input*).
export * from './limits.js';
// Types the API above names (so the reference and a user's annotations can name them too).
export type { Block, Conv, Fail, Head, Pool } from './model/schema.js';
export type { Arch, BlockArch, Op } from './export/arch.js';
export type { Loaded } from './model/serialize.js';
export type { OneClassSplit, ScoreResult } from './anomaly/oneclass.js';
