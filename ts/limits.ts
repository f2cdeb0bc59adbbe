/**
 * What convae accepts from untrusted files and options, in one place (the README's
 * *Untrusted input* section lists the same numbers). Every loader and constructor
 * checks against these before it allocates; raising one is a deliberate choice.
 */

/** Largest safetensors header convae parses (the reference allows 100 MB; a model's header is a few KB). */
export const MAX_SAFETENSORS_HEADER_BYTES = 16 * 1024 * 1024;

/** Deepest nesting of arrays/objects accepted in any JSON convae parses (headers, model files, checkpoints). */
export const MAX_JSON_DEPTH = 64;

/** Largest element count of one tensor (2^28 f32 = 1 GiB). */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

/** Largest total parameter storage of one model, in bytes (values only; gradients double it). */
export const MAX_MODEL_PARAM_BYTES = 1024 * 1024 * 1024;

/** Longest tensor, field or file name quoted in an error message. */
export const MAX_QUOTED_CHARS = 120;

/** Longest error message convae produces. */
export const MAX_MESSAGE_CHARS = 1000;

/** Most blocks, convolutions per block or hidden layers a model description may list. */
export const MAX_MODEL_LAYERS = 256;

/** Largest image side, kernel, stride or padding in a model description. */
export const MAX_SPATIAL_SIZE = 65536;

/** Longest model description (JSON text) loadModel reads; a model's is a few KB. */
export const MAX_MODEL_JSON_CHARS = 16 * 1024 * 1024;

/** Largest decoded image (width × height) the image-folder loader accepts; larger files are refused before decoding. */
export const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;

/**
 * Largest image file the folder loader reads whole into memory: a file whose name is not UTF-8 (sharp opens files by
 * a string name, which cannot spell it). 256 MiB, one largest image decoded as RGBA bytes, so reading it at most
 * doubles what decoding holds; a larger file is refused by its size before a byte is read.
 */
export const MAX_IMAGE_FILE_BYTES = 4 * MAX_IMAGE_PIXELS;

/**
 * Largest image (height × width) `reconstructTiled` and `convae denoise` at the images' own size take: 16.7 million
 * pixels, a 5000×3300 photo. Denoising one holds it about five times as floats (clean, noisy, reconstruction, the
 * PNG's pixels: 12 bytes a pixel each in colour), 1 GB at this size; MAX_IMAGE_PIXELS would allow 4 GB.
 */
export const MAX_TILED_PIXELS = 2 ** 24;

/**
 * Most tiles `convae denoise` at the images' own size lays on one image (`tileCount`), refused (naming `--stride`)
 * before a file is decoded: a small stride lays about one tile per pixel, 17 million on a MAX_TILED_PIXELS photo at
 * stride 1. Measured (`scripts/denoise-tile-time.ts`, the README's photo stack, 32 maps of 5×5 on 3×32×32 tiles, 2
 * workers on 2 cores): 365–369 µs of CPU a tile, 226–376 µs of wall time as other jobs ran, so this many take 13
 * CPU-minutes, 6–13 minutes on 2 cores, for one image (docs/denoise.md). Per image, not per run: a folder of many
 * photos at the default stride is long because it is large, which the progress bar shows, not because of a stride
 * the user mistyped. Stride 8 on a 4096×4096 image is 265 225 tiles (a minute or two), the README's photo runs at most
 * 19 038 (the flower at stride 4); a 12-megapixel phone photo is refused at stride 1 and 2 (12.2 and 3 million
 * tiles) and takes stride 3 (1.35 million).
 */
export const MAX_DENOISE_TILES = 2 ** 21;

/** Largest side of the size images are resized to (`--size`). */
export const MAX_IMAGE_SIDE = 4096;

/** Largest byte storage of one loaded image dataset (N·C·H·W bytes). */
export const MAX_DATASET_BYTES = 4 * 1024 * 1024 * 1024;

/**
 * Most patches one load of image files cuts (files × `patches.perImage`). Besides its pixels each patch costs about
 * 20 bytes of bookkeeping (its file, label and place): 2^24 patches of 2×2 grey pixels are 64 MiB of pixels but
 * 340 MiB of bookkeeping, which MAX_DATASET_BYTES alone would not have bounded.
 */
export const MAX_PATCHES = 2 ** 24;

/**
 * Most workers of one pool (`Trainer.create`'s and `WorkerPool.create`'s `size`, `createRunner`'s `workers`; the
 * CLI's `--workers` takes as many). Each holds a backend of its own; before this bound, `size: 2 ** 26` ran the
 * process out of heap listing the idle slots, before any worker started.
 */
export const MAX_WORKERS = 256;

/** Most kernel threads one backend may use (`Backend.setThreads`, the workers' `threads`): the native addon's bound. */
export const MAX_KERNEL_THREADS = 64;

/**
 * Most kernel threads of one worker pool, workers × threads per worker (each an OS thread with its own stack, on
 * top of each worker's own): MAX_WORKERS × 4. Each bound alone let 256 workers of 64 threads ask for 16 384.
 */
export const MAX_POOL_THREADS = 1024;

/** Most candidates one search space may span (the product of its lists' lengths), grid or random. */
export const MAX_SEARCH_CANDIDATES = 100_000;

/**
 * Most neighbours a nearest-neighbour search keeps per query (`k` of `nearestNeighbours`, `neighbourScores`,
 * `knnAccuracy`, a neighbour score, `convae anomaly --k`). Each query keeps its k nearest in a sorted list, so
 * its time grows with references × k: k = 4 000 of 4 000 references took a minute, k = 50 000 of 50 000 ran
 * for hours and asked for 2.5·10⁹ results.
 */
export const MAX_NEIGHBOURS = 1000;

/**
 * Most floats one call returns in a JS array (the codes `encode` returns, also in workers): 2^30, 4 GiB, as
 * large as the largest dataset (MAX_DATASET_BYTES). A code can be far larger than its image (many feature maps, no
 * pooling): 12 000 MNIST images through 256 maps of 28×28 asked for 9.6 GB and got it.
 */
export const MAX_RESULT_FLOATS = 2 ** 30;

/**
 * Bytes one backend can address: wasm32 memory and the native addon's arena both span 4 GiB. Not a choice but a
 * fact the checks use: a batch whose layer outputs alone need more cannot train, so `fit` refuses it before the
 * first step instead of failing with a MemoryError after growing memory to 4 GiB.
 */
export const MAX_BACKEND_BYTES = 2 ** 32;

/**
 * Most pixels of one picture convae draws (`filterGrid`, `imageGrid`, `reconstructionGrid`, `lossCurve`, the
 * figures, `convae features`): 2^26, 256 MiB of RGBA. `convae features` checks its grids before any projection.
 */
export const MAX_RASTER_PIXELS = 2 ** 26;

/**
 * Most values of one window `fitWhitening` decorrelates (channels × window²): 3 × 15², the colour window
 * MAX_WHITENING_WINDOW was chosen for. Its covariance has values² entries and takes values³ to decompose, and
 * the channels multiply in: 64 channels of 15 × 15 asked for a 14 400² covariance (1.7 GB, hours to fill).
 */
export const MAX_WHITENING_VALUES = 675;

/**
 * Most multiply-adds `fitWhitening` spends on its covariance: samples × values(values + 1)/2, about 20 s. The
 * default 20 000 samples of a 3 × 15 × 15 window take 4.6·10⁹; 10⁷ samples of it (each bound alone allowed it) 2.3·10¹².
 */
export const MAX_WHITENING_WORK = 2 ** 33;
