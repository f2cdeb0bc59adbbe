/**
 * An in-memory image dataset: N images of one shape [C, H, W], NCHW, with
 * optional class labels. Runs in browsers and Node (no platform imports).
 *
 * Storage is either one Float32Array (`fromFloat32`, `fromImageData`, and
 * `fromUint8` by default) or the bytes themselves (`fromUint8` with
 * `store: 'uint8'`: a quarter of the memory, converted to floats batch by batch
 * in `batches`, `readImages` and `image`). Reading `images` of a byte-stored
 * dataset converts the whole set once and keeps the result.
 *
 * Buffers are shared, not copied, wherever the doc comment of a method says
 * so; a dataset never mutates its buffers, and callers should not either.
 */
import { ArgumentError, DataError, quote } from '../errors.js';
import { MAX_DATASET_BYTES, MAX_RESULT_FLOATS } from '../limits.js';
import { optionsOf } from '../util/options.js';
import { Rng } from '../util/rng.js';

/** [channels, height, width] of every image. */
export type ImageShape = readonly [c: number, h: number, w: number];

/** Labels as given to the factories: bytes, or plain integers in [0, 255]. */
export type LabelsInput = Uint8Array | readonly number[];

/** One batch from `ImageDataset.batches`. */
export interface Batch {
  /** `size × C × H × W` floats, NCHW. See `batches` for when this is a view of the dataset. */
  images: Float32Array;
  /** `size` labels, or null for an unlabelled dataset. */
  labels: Uint8Array | null;
  /** Images in this batch (the batch size, or fewer for the last batch). */
  size: number;
  /** Dataset index of each image of the batch. */
  indices: Uint32Array;
}

/** How `ImageDataset.batches` orders and sizes batches. */
export interface BatchOptions {
  /** Visit the images in a random order drawn from `rng` (required then). Default false: dataset order. */
  shuffle?: boolean;
  /** The generator the permutation is drawn from; one permutation (n − 1 draws) per epoch. */
  rng?: Rng;
  /** Skip the last batch if it holds fewer than `batchSize` images. Default false. */
  dropLast?: boolean;
  /**
   * Shuffled batches only: gather every batch into the same two buffers instead
   * of fresh ones, so an epoch allocates nothing. A batch is then valid only
   * until the iterator advances. Default false.
   */
  reuseBuffers?: boolean;
}

/** Options of `ImageDataset.fromUint8`. */
export interface Uint8Options {
  /** Each byte is multiplied by this. Default 1/255 (bytes to [0, 1]; 255 maps to exactly 1). */
  scale?: number;
  /** Number of classes; labels must lie below it. Default: largest label + 1. */
  numClasses?: number;
  /**
   * 'float32' (default): convert every byte now. 'uint8': keep (and share, no
   * copy) `bytes` and convert per batch, so 100 000 images of 32×32×3 take 307 MB, not 1.2 GB.
   */
  store?: 'float32' | 'uint8';
}

/** A canvas `ImageData` or anything shaped like it: RGBA bytes, row-major. */
export interface ImageDataLike {
  /** width·height·4 bytes: R, G, B, A of each pixel, rows top to bottom. */
  data: Uint8ClampedArray | Uint8Array;
  /** Pixels per row. */
  width: number;
  /** Rows. */
  height: number;
}

/** Options of `ImageDataset.fromImageData`. */
export interface ImageDataOptions {
  /** 1: luma `0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601, as PIL's "L"); 3: R, G, B planes. */
  channels: 1 | 3;
  /** Store `1 − v` instead of `v`, e.g. to turn dark strokes on white into MNIST's white-on-black. */
  invert?: boolean;
  /**
   * How to treat alpha: 'ignore' (default) uses the colour bytes as they are;
   * 'white' / 'black' composites each pixel over that background first
   * (a transparent canvas reads as the background, not as black).
   */
  alpha?: 'ignore' | 'white' | 'black';
  /** Number of classes; labels must lie below it. Default: largest label + 1. */
  numClasses?: number;
}

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;

function checkShape(op: string, shape: ImageShape): [number, number, number] {
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every(isPositiveInt)) {
    throw new DataError(`${op}: shape must be [channels, height, width] of positive integers, got ${quote(shape)}`);
  }
  return [shape[0], shape[1], shape[2]];
}

/** `v` as a dataset argument of `op`: an ImageDataset, or an ArgumentError before anything reads it. */
export function datasetArg(op: string, v: unknown, arg = 'data'): ImageDataset {
  if (!(v instanceof ImageDataset)) throw new ArgumentError(op, arg, `must be an ImageDataset, got ${quote(v)}`);
  return v;
}

/**
 * Throws unless `images` × `perImage` floats (an array a call returns: codes, reconstructions, maps, a normalised
 * copy) are within MAX_RESULT_FLOATS; `arg` is the option that asked for them. A byte-stored dataset within
 * MAX_DATASET_BYTES is 4× larger as floats.
 */
export function checkResultFloats(op: string, arg: string, images: number, perImage: number, what: string): void {
  if (images * perImage > MAX_RESULT_FLOATS)
    throw new ArgumentError(
      op,
      arg,
      `asks for ${what} of ${perImage} floats: ${images} images × ${perImage} = ${images * perImage} floats, more than ${MAX_RESULT_FLOATS} (MAX_RESULT_FLOATS); take fewer images at a time`,
    );
}

/** Validates labels and the class count; returns labels as a Uint8Array (the caller's own if it was one). */
function checkLabels(
  op: string,
  labels: LabelsInput,
  n: number,
  numClasses: number | undefined,
): { labels: Uint8Array; numClasses: number } {
  if (labels.length !== n) throw new DataError(`${op}: ${labels.length} labels for ${n} images`);
  let out: Uint8Array;
  if (labels instanceof Uint8Array) {
    out = labels;
  } else if (Array.isArray(labels)) {
    out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = labels[i];
      if (!Number.isInteger(v) || v < 0 || v > 255)
        throw new DataError(`${op}: label ${i} is ${v}, not an integer in [0, 255]`);
      out[i] = v;
    }
  } else {
    throw new DataError(`${op}: labels must be a Uint8Array or an array of integers`);
  }
  let max = 0;
  for (let i = 0; i < n; i++) if (out[i] > max) max = out[i];
  if (numClasses === undefined) return { labels: out, numClasses: max + 1 };
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 256) {
    throw new DataError(`${op}: numClasses must be an integer in [1, 256], got ${numClasses}`);
  }
  if (max >= numClasses) {
    const i = out.findIndex((v) => v >= numClasses);
    throw new DataError(`${op}: label ${i} is ${out[i]}, not below numClasses ${numClasses}`);
  }
  return { labels: out, numClasses };
}

function checkIndex(op: string, i: number, n: number, k: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n)
    throw new DataError(`${op}: index ${k} is ${i}, not an integer in [0, ${n})`);
}

/** Bytes to floats: v/255 exactly for the default scale (and for 1/255 itself), else v·scale. */
function byteTable(scale: number): Float32Array {
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = scale === 1 / 255 ? v / 255 : v * scale;
  return lut;
}

function convertBytes(lut: Float32Array, src: Uint8Array, out: Float32Array, offset: number): void {
  for (let i = 0; i < src.length; i++) out[offset + i] = lut[src[i]];
}

/** A dataset's storage: floats, or bytes with their conversion table. */
type Store = { floats: Float32Array } | { bytes: Uint8Array; scale: number; lut: Float32Array };

/**
 * The split of `split()` as indices: `round(n × fraction)` images for validation,
 * chosen by a permutation from `new Rng(seed)`, each part in dataset order.
 */
export function splitIndices(
  n: number,
  validationFraction: number,
  seed: number,
  op = 'split',
): { train: Uint32Array; validation: Uint32Array } {
  if (typeof validationFraction !== 'number' || !(validationFraction > 0 && validationFraction < 1)) {
    throw new ArgumentError(op, 'validationFraction', `must be in (0, 1), got ${validationFraction}`);
  }
  const nVal = Math.round(n * validationFraction);
  if (nVal < 1 || nVal >= n) {
    throw new DataError(
      `${op}: a fraction ${validationFraction} of ${n} images leaves ${nVal} for validation and ${n - nVal} for training; both need at least one`,
    );
  }
  const perm = new Rng(seed).permutation(n);
  return { validation: perm.slice(0, nVal).sort(), train: perm.slice(nVal).sort() };
}

/** Images `[length, C, H, W]` as floats in [0, 1], with optional labels; made from bytes, floats or canvas ImageData, batched for training. */
export class ImageDataset {
  /** One label per image, or null. May be shared like `images`. */
  readonly labels: Uint8Array | null;
  /** [C, H, W] of every image. */
  readonly shape: ImageShape;
  /** Number of images. */
  readonly length: number;
  /** Number of classes (labels are below it); undefined without labels. */
  readonly numClasses?: number;
  private floats: Float32Array | null;
  private readonly store: Store;

  private constructor(store: Store, shape: ImageShape, labels: Uint8Array | null, numClasses: number | undefined) {
    this.store = store;
    this.floats = 'floats' in store ? store.floats : null;
    this.shape = Object.freeze([shape[0], shape[1], shape[2]] as const);
    const data = 'floats' in store ? store.floats : store.bytes;
    this.length = data.length / (shape[0] * shape[1] * shape[2]);
    this.labels = labels;
    if (numClasses !== undefined) this.numClasses = numClasses;
  }

  /**
   * `length × C × H × W` floats, NCHW. May be shared with the array given to
   * `fromFloat32` or with a parent dataset (`take`). For a byte-stored dataset
   * the first read converts every image (4 bytes each) and keeps the floats:
   * prefer `batches` / `readImages` there. Floats of more than MAX_RESULT_FLOATS
   * (a byte store within MAX_DATASET_BYTES is up to 16 GiB of them) are an
   * ArgumentError, before anything is allocated.
   */
  get images(): Float32Array {
    if (!this.floats) {
      checkResultFloats('ImageDataset.images', 'images', this.length, this.imageSize, 'floats of every image');
      const st = this.store as { bytes: Uint8Array; lut: Float32Array };
      const f = new Float32Array(st.bytes.length);
      convertBytes(st.lut, st.bytes, f, 0);
      this.floats = f;
    }
    return this.floats;
  }

  /** The bytes of a byte-stored dataset (`fromUint8` with `store: 'uint8'`), else null. Shared, do not write. */
  get bytes(): Uint8Array | null {
    return 'bytes' in this.store ? this.store.bytes : null;
  }

  /** The byte-to-float factor of a byte-stored dataset, else null (`fromUint8(ds.bytes, …, { scale, store: 'uint8' })` rebuilds it). */
  get byteScale(): number | null {
    return 'bytes' in this.store ? this.store.scale : null;
  }

  /** Floats per image: C·H·W. */
  get imageSize(): number {
    return this.shape[0] * this.shape[1] * this.shape[2];
  }

  /**
   * Images [start, end) as floats. Float-stored (or already converted): a
   * **view** of `images` unless `out` is given. Byte-stored: converted into
   * `out` (at offset 0; it must hold (end − start)·C·H·W floats) or a new array.
   */
  readImages(start: number, end: number, out?: Float32Array): Float32Array {
    const op = 'ImageDataset.readImages';
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > this.length || start >= end)
      throw new ArgumentError(op, 'range', `[${start}, ${end}) must be a non-empty range inside [0, ${this.length})`);
    const s = this.imageSize;
    const need = (end - start) * s;
    if (out !== undefined && (!(out instanceof Float32Array) || out.length < need))
      throw new ArgumentError(op, 'out', `must be a Float32Array of at least ${need} floats`);
    if (this.floats) {
      const view = this.floats.subarray(start * s, end * s);
      if (!out) return view;
      out.set(view);
      return out.length === need ? out : out.subarray(0, need);
    }
    const st = this.store as { bytes: Uint8Array; lut: Float32Array };
    const dst = out ? out.subarray(0, need) : new Float32Array(need);
    convertBytes(st.lut, st.bytes.subarray(start * s, end * s), dst, 0);
    return dst;
  }

  /** Image `i`: a view into `images` when float-stored (no copy: writes would change the dataset), a converted copy when byte-stored. */
  image(i: number): Float32Array {
    checkIndex('ImageDataset.image', i, this.length, 0);
    return this.readImages(i, i + 1);
  }

  /**
   * A dataset over `images` as it is: **no copy**, the dataset keeps (and shares)
   * the given Float32Array and `labels` if it is a Uint8Array.
   * Throws `DataError` for an empty set, a length that is not a multiple of C·H·W,
   * NaN/±Infinity (naming the first index), a label count that differs from the
   * image count, or a label not below `numClasses` (default: largest label + 1).
   */
  static fromFloat32(
    images: Float32Array,
    shape: ImageShape,
    labels?: LabelsInput | null,
    numClasses?: number,
  ): ImageDataset {
    const op = 'ImageDataset.fromFloat32';
    if (!(images instanceof Float32Array)) throw new DataError(`${op}: images must be a Float32Array`);
    const [c, h, w] = checkShape(op, shape);
    const n = ImageDataset.count(op, images.length, c * h * w);
    for (let i = 0; i < images.length; i++) {
      const v = images[i];
      if (v - v !== 0)
        throw new DataError(
          `${op}: images hold ${v} at flat index ${i} (image ${Math.floor(i / (c * h * w))}); values must be finite`,
        );
    }
    return ImageDataset.withLabels(op, images, shape, n, labels, numClasses);
  }

  /**
   * A dataset from bytes (e.g. 8-bit pixels, NCHW), converted to floats `byte × scale`
   * (default 1/255, so [0, 1]): all at once into a new Float32Array, or batch by
   * batch with `store: 'uint8'` (then `bytes` is kept, not copied). Keeps `labels` if it is a Uint8Array.
   */
  static fromUint8(
    bytes: Uint8Array,
    shape: ImageShape,
    labels?: LabelsInput | null,
    opts?: Uint8Options,
  ): ImageDataset {
    const op = 'ImageDataset.fromUint8';
    const options = optionsOf(op, opts);
    if (!(bytes instanceof Uint8Array)) throw new DataError(`${op}: bytes must be a Uint8Array`);
    const [c, h, w] = checkShape(op, shape);
    const n = ImageDataset.count(op, bytes.length, c * h * w);
    const scale = options.scale ?? 1 / 255;
    if (typeof scale !== 'number' || !Number.isFinite(scale))
      throw new DataError(`${op}: scale must be a finite number, got ${quote(scale)}`);
    const store = options.store ?? 'float32';
    if (store !== 'float32' && store !== 'uint8')
      throw new DataError(`${op}: store must be 'float32' or 'uint8', got ${quote(store)}`);
    // 256-entry table: one conversion per byte value, exact v/255 for the default.
    const lut = byteTable(scale);
    // Validate labels before allocating the floats.
    const lab = labels == null ? null : checkLabels(op, labels, n, options.numClasses);
    if (store === 'uint8')
      return new ImageDataset({ bytes, scale, lut }, [c, h, w], lab ? lab.labels : null, lab?.numClasses);
    checkResultFloats(op, 'store', n, c * h * w, "floats (store: 'uint8' keeps the bytes)");
    const images = new Float32Array(bytes.length);
    convertBytes(lut, bytes, images, 0);
    return new ImageDataset({ floats: images }, [c, h, w], lab ? lab.labels : null, lab?.numClasses);
  }

  /**
   * A dataset from canvas `ImageData` (or any `{data: RGBA bytes, width, height}`),
   * all of one size, converted to [0, 1] floats: one luma channel or three RGB planes.
   * No DOM types are needed at run time.
   */
  static fromImageData(
    list: readonly ImageDataLike[],
    options: ImageDataOptions,
    labels?: LabelsInput | null,
  ): ImageDataset {
    const op = 'ImageDataset.fromImageData';
    // Required (channels has no default), so no `?? {}` here.
    if (options === null || typeof options !== 'object' || Array.isArray(options))
      throw new ArgumentError(op, 'options', `must be an object like { channels: 1 }, got ${quote(options)}`);
    if (!Array.isArray(list) || list.length === 0) throw new DataError(`${op}: no images given`);
    const channels = options.channels;
    if (channels !== 1 && channels !== 3) throw new DataError(`${op}: channels must be 1 or 3, got ${quote(channels)}`);
    const alpha = options.alpha ?? 'ignore';
    if (alpha !== 'ignore' && alpha !== 'white' && alpha !== 'black')
      throw new DataError(`${op}: alpha must be 'ignore', 'white' or 'black', got ${quote(alpha)}`);
    list.forEach((im, k) => {
      if (im === null || typeof im !== 'object')
        throw new DataError(`${op}: image ${k} must be an ImageData ({ data, width, height }), got ${quote(im)}`);
    });
    const { width, height } = list[0];
    if (!isPositiveInt(width) || !isPositiveInt(height))
      throw new DataError(`${op}: image 0 is ${quote(width)}×${quote(height)}; sizes must be positive integers`);
    list.forEach((im, k) => {
      if (im.width !== width || im.height !== height)
        throw new DataError(
          `${op}: image ${k} is ${quote(im.width)}×${quote(im.height)}, image 0 is ${width}×${height}`,
        );
      if (!im.data || im.data.length !== width * height * 4) {
        throw new DataError(
          `${op}: image ${k} has ${quote(im.data?.length)} data bytes, ${width}×${height} RGBA needs ${width * height * 4}`,
        );
      }
    });
    const lab = labels == null ? null : checkLabels(op, labels, list.length, options.numClasses);
    const plane = width * height;
    const size = channels * plane;
    const images = new Float32Array(list.length * size);
    const bg = alpha === 'white' ? 255 : 0;
    const invert = options.invert === true;
    list.forEach((im, k) => {
      const d = im.data;
      const base = k * size;
      for (let p = 0; p < plane; p++) {
        let r = d[4 * p],
          g = d[4 * p + 1],
          b = d[4 * p + 2];
        if (alpha !== 'ignore') {
          const a = d[4 * p + 3] / 255;
          r = r * a + bg * (1 - a);
          g = g * a + bg * (1 - a);
          b = b * a + bg * (1 - a);
        }
        if (channels === 1) {
          const y = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
          images[base + p] = invert ? 1 - y : y;
        } else {
          images[base + p] = invert ? 1 - r / 255 : r / 255;
          images[base + plane + p] = invert ? 1 - g / 255 : g / 255;
          images[base + 2 * plane + p] = invert ? 1 - b / 255 : b / 255;
        }
      }
    });
    return new ImageDataset({ floats: images }, [channels, height, width], lab ? lab.labels : null, lab?.numClasses);
  }

  /** The images at `indices` (in that order; repeats allowed), **copied** into a new dataset. */
  subset(indices: ArrayLike<number>): ImageDataset {
    const op = 'ImageDataset.subset';
    const m = (indices as { length?: unknown } | null)?.length;
    if (typeof indices !== 'object' || typeof m !== 'number' || !Number.isSafeInteger(m) || m < 0)
      throw new ArgumentError(op, 'indices', `must be a list of image indices, got ${quote(indices)}`);
    if (m === 0) throw new DataError(`${op}: no indices given; a dataset cannot be empty`);
    const s = this.imageSize;
    const st = this.store;
    // Repeats are allowed, so the copy is not bounded by this dataset: 2 000 indices of one 1024×1024 image asked for
    // 8 GB, 10⁵ of them a RangeError. Bytes stay within MAX_DATASET_BYTES, floats within MAX_RESULT_FLOATS.
    if (this.floats) checkResultFloats(op, 'indices', m, s, 'a copy of images');
    else if (m * s > MAX_DATASET_BYTES)
      throw new ArgumentError(
        op,
        'indices',
        `asks for a copy of ${m} images × ${s} bytes = ${m * s} bytes, more than ${MAX_DATASET_BYTES} (MAX_DATASET_BYTES)`,
      );
    for (let k = 0; k < m; k++) checkIndex(op, indices[k], this.length, k);
    // A byte-stored dataset stays byte-stored (unless it was converted already: then its floats are the source).
    const src = this.floats ?? (st as { bytes: Uint8Array }).bytes;
    const dst = this.floats ? new Float32Array(m * s) : new Uint8Array(m * s);
    const labels = this.labels ? new Uint8Array(m) : null;
    for (let k = 0; k < m; k++) {
      const i = indices[k];
      dst.set(src.subarray(i * s, (i + 1) * s) as never, k * s);
      if (labels) labels[k] = this.labels![i];
    }
    return new ImageDataset(this.derive(dst), this.shape, labels, this.numClasses);
  }

  /** The first `min(n, length)` images, as **views** of this dataset's buffers (no copy). */
  take(n: number): ImageDataset {
    if (!isPositiveInt(n)) throw new ArgumentError('ImageDataset.take', 'n', `must be a positive integer, got ${n}`);
    const m = Math.min(n, this.length);
    if (m === this.length) return this;
    const src = this.floats ?? (this.store as { bytes: Uint8Array }).bytes;
    return new ImageDataset(
      this.derive(src.subarray(0, m * this.imageSize)),
      this.shape,
      this.labels ? this.labels.subarray(0, m) : null,
      this.numClasses,
    );
  }

  /**
   * A random split into two **copies**: `round(length × validationFraction)` images
   * for validation, the rest for training, chosen by a permutation from
   * `new Rng(seed)` (so the same seed gives the same split). Each part keeps the
   * dataset order of its images. Not stratified. Both parts must be non-empty.
   */
  split(validationFraction: number, seed: number): { train: ImageDataset; validation: ImageDataset } {
    const op = 'ImageDataset.split';
    const { train, validation } = splitIndices(this.length, validationFraction, seed, op);
    return { train: this.subset(train), validation: this.subset(validation) };
  }

  /**
   * @internal A dataset over arrays already checked (a dataset posted to a worker): not scanned again.
   * `images` are floats, or bytes converted per batch by `scale` (a byte-stored dataset stays bytes on the wire).
   */
  static trusted(
    images: Float32Array | Uint8Array,
    shape: ImageShape,
    labels: Uint8Array | null,
    numClasses: number | undefined,
    scale = 1 / 255,
  ): ImageDataset {
    const store: Store =
      images instanceof Float32Array ? { floats: images } : { bytes: images, scale, lut: byteTable(scale) };
    return new ImageDataset(store, shape, labels, numClasses);
  }

  /**
   * Mini-batches covering every image once per epoch. Iterating the returned
   * iterable once is one epoch; each new iteration (a new `for … of`) is a new
   * epoch, and with `shuffle` draws a fresh permutation from `rng` when it starts.
   *
   * Buffers: without `shuffle`, `images` and `labels` are **views** of the
   * dataset (no copy) — except for a byte-stored dataset, whose images are
   * converted per batch. With `shuffle` (or byte storage), each batch is gathered
   * into fresh arrays, or into two reused ones with `reuseBuffers` (then valid
   * only until the next batch).
   */
  batches(batchSize: number, options?: BatchOptions): Iterable<Batch> {
    const op = 'ImageDataset.batches';
    if (!isPositiveInt(batchSize))
      throw new ArgumentError(op, 'batchSize', `must be a positive integer, got ${quote(batchSize)}`);
    const { shuffle = false, rng, dropLast = false, reuseBuffers = false } = optionsOf(op, options);
    if (shuffle && !(rng instanceof Rng))
      throw new ArgumentError(
        op,
        'rng',
        'is required with shuffle: pass an Rng (its state is what a checkpoint saves)',
      );
    const n = this.length;
    const s = this.imageSize;
    const ds = this;
    return {
      *[Symbol.iterator](): Iterator<Batch> {
        const order = shuffle ? rng!.permutation(n) : null;
        const bytes = ds.floats ? null : (ds.store as { bytes: Uint8Array; lut: Float32Array });
        const reusedImages = (order || bytes) && reuseBuffers ? new Float32Array(Math.min(batchSize, n) * s) : null;
        const reusedLabels = order && reuseBuffers && ds.labels ? new Uint8Array(Math.min(batchSize, n)) : null;
        for (let start = 0; start < n; start += batchSize) {
          const size = Math.min(batchSize, n - start);
          if (size < batchSize && dropLast) return;
          if (!order) {
            const indices = new Uint32Array(size);
            for (let k = 0; k < size; k++) indices[k] = start + k;
            yield {
              images: ds.readImages(start, start + size, reusedImages ?? undefined),
              labels: ds.labels ? ds.labels.subarray(start, start + size) : null,
              size,
              indices,
            };
          } else {
            const indices = order.slice(start, start + size);
            const images = reusedImages ? reusedImages.subarray(0, size * s) : new Float32Array(size * s);
            const labels = ds.labels ? (reusedLabels ? reusedLabels.subarray(0, size) : new Uint8Array(size)) : null;
            for (let k = 0; k < size; k++) {
              const i = indices[k];
              if (bytes) convertBytes(bytes.lut, bytes.bytes.subarray(i * s, (i + 1) * s), images, k * s);
              else images.set(ds.floats!.subarray(i * s, (i + 1) * s), k * s);
              if (labels) labels[k] = ds.labels![i];
            }
            yield { images, labels, size, indices };
          }
        }
      },
    };
  }

  private static count(op: string, len: number, size: number): number {
    if (len === 0) throw new DataError(`${op}: no images (empty array); a dataset cannot be empty`);
    if (len % size !== 0)
      throw new DataError(`${op}: ${len} values are not a whole number of images of ${size} values`);
    return len / size;
  }

  private static withLabels(
    op: string,
    images: Float32Array,
    shape: ImageShape,
    n: number,
    labels: LabelsInput | null | undefined,
    numClasses: number | undefined,
  ): ImageDataset {
    if (labels == null) {
      if (numClasses !== undefined) throw new DataError(`${op}: numClasses given without labels`);
      return new ImageDataset({ floats: images }, shape, null, undefined);
    }
    const lab = checkLabels(op, labels, n, numClasses);
    return new ImageDataset({ floats: images }, shape, lab.labels, lab.numClasses);
  }

  /** The storage of a part of this dataset: floats, or bytes with this dataset's conversion. */
  private derive(data: Float32Array | Uint8Array): Store {
    if (data instanceof Float32Array) return { floats: data };
    const st = this.store as { scale: number; lut: Float32Array };
    return { bytes: data, scale: st.scale, lut: st.lut };
  }
}
