/**
 * The IDX file format (LeCun's MNIST files): bytes 0–1 are zero, byte 2 the
 * element type, byte 3 the number of dimensions d; then d big-endian u32 sizes;
 * then the elements, row-major. Only unsigned bytes (type 0x08) are accepted.
 * Browser-safe: works on bytes, reads no files.
 */
import { ArgumentError, DataError, FormatError, quote } from '../errors.js';
import { ImageDataset } from './dataset.js';
import { optionsOf } from '../util/options.js';

const TYPE_NAMES: Record<number, string> = {
  8: 'unsigned byte',
  9: 'signed byte',
  11: 'i16',
  12: 'i32',
  13: 'f32',
  14: 'f64',
};

/** A parsed IDX file (MNIST's format): element type, dimensions and data. */
export interface IdxArray {
  /** The sizes from the header. */
  dims: number[];
  /** The prod(dims) elements: a **view** of the given bytes (no copy). */
  data: Uint8Array;
}

/**
 * Parses an IDX file of unsigned bytes. Throws `FormatError` (prefixed with
 * `source`) for a wrong magic number, another element type, a header cut
 * short, or a body whose size differs from the one the header declares
 * (truncated file or trailing bytes). Allocates nothing but `dims`.
 */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(source, 'IDX input must be a Uint8Array');
  if (bytes.length < 4)
    throw new FormatError(source, `not an IDX file: ${bytes.length} bytes, shorter than the 4-byte magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new FormatError(source, `not an IDX file: magic number ${hex}, expected 00 00 <type> <ndims>`);
  }
  const type = bytes[2];
  if (type !== 0x08) {
    const name = TYPE_NAMES[type];
    throw new FormatError(
      source,
      name
        ? `IDX element type 0x${type.toString(16).padStart(2, '0')} (${name}) is not supported: only 0x08 (unsigned byte) is`
        : `unknown IDX element type 0x${type.toString(16).padStart(2, '0')}; only 0x08 (unsigned byte) is supported`,
    );
  }
  const ndims = bytes[3];
  if (ndims === 0) throw new FormatError(source, 'IDX header declares 0 dimensions');
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) {
    throw new FormatError(
      source,
      `truncated IDX header: ${ndims} dimensions need ${headerLen} header bytes, the file has ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let declared = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    declared *= d; // exact while ≤ 2^53; compared to a real length below, so larger values are simply wrong
  }
  const actual = bytes.length - headerLen;
  const shape = `[${dims.join(',')}]`;
  if (declared > actual) {
    throw new FormatError(
      source,
      `truncated IDX file: header declares ${shape} = ${declared} bytes of data, the file holds ${actual}`,
    );
  }
  if (declared < actual) {
    throw new FormatError(
      source,
      `IDX file has ${actual - declared} trailing bytes: header declares ${shape} = ${declared} bytes of data, the file holds ${actual}`,
    );
  }
  return { dims, data: bytes.subarray(headerLen) };
}

/** Options of `readIdxImages`. */
export interface IdxImagesOptions {
  /** When given, every label must be below it (else `DataError`); e.g. 10 for MNIST. Default: largest label + 1. */
  numClasses?: number;
  /** Keep only the first `limit` images (and labels); only those are converted to floats. */
  limit?: number;
  /** Byte-to-float factor. Default 1/255 (pixels in [0, 1]). */
  scale?: number;
}

/**
 * Pairs an IDX images file [N, H, W] with an IDX labels file [N] (or `null`
 * for no labels) into an `ImageDataset` of shape [1, H, W], pixels scaled to
 * [0, 1]. `source` names the pair in errors; give an object to name each file.
 * A count mismatch or a wrong rank is a `FormatError`; a label not below
 * `numClasses` is a `DataError`.
 */
export function readIdxImages(
  imagesBytes: Uint8Array,
  labelsBytes: Uint8Array | null,
  source: string | { images: string; labels: string },
  opts?: IdxImagesOptions,
): ImageDataset {
  const op = 'readIdxImages';
  const options = optionsOf(op, opts);
  if (
    typeof source !== 'string' &&
    !(
      source !== null &&
      typeof source === 'object' &&
      typeof source.images === 'string' &&
      typeof source.labels === 'string'
    )
  )
    throw new ArgumentError(op, 'source', `must be a name or { images, labels } of names, got ${quote(source)}`);
  const srcImages = typeof source === 'string' ? `${source} (images)` : source.images;
  const srcLabels = typeof source === 'string' ? `${source} (labels)` : source.labels;
  const images = parseIdx(imagesBytes, srcImages);
  if (images.dims.length !== 3) {
    throw new FormatError(
      srcImages,
      `IDX images must have 3 dimensions [N, H, W], the header declares [${images.dims.join(',')}]`,
    );
  }
  const [n, h, w] = images.dims;
  if (n === 0 || h === 0 || w === 0)
    throw new FormatError(srcImages, `IDX images [${images.dims.join(',')}] hold no pixels`);
  let labels: Uint8Array | null = null;
  if (labelsBytes !== null) {
    const parsed = parseIdx(labelsBytes, srcLabels);
    if (parsed.dims.length !== 1) {
      throw new FormatError(
        srcLabels,
        `IDX labels must have 1 dimension [N], the header declares [${parsed.dims.join(',')}]`,
      );
    }
    if (parsed.dims[0] !== n) {
      throw new FormatError(srcLabels, `${parsed.dims[0]} labels for ${n} images (${srcImages})`);
    }
    labels = parsed.data;
  }
  let m = n;
  if (options.limit !== undefined) {
    if (!Number.isInteger(options.limit) || options.limit < 1)
      throw new ArgumentError(op, 'limit', `must be a positive integer, got ${quote(options.limit)}`);
    m = Math.min(n, options.limit);
  }
  const pixels = images.data.subarray(0, m * h * w);
  // A real copy (a Node Buffer's slice() would be a view), so the dataset does not pin the file.
  const lab = labels ? new Uint8Array(labels.subarray(0, m)) : null;
  try {
    return ImageDataset.fromUint8(pixels, [1, h, w], lab, { numClasses: options.numClasses, scale: options.scale });
  } catch (e) {
    if (e instanceof DataError) throw new DataError(`${srcLabels}: ${e.message}`);
    throw e;
  }
}
