/**
 * CIFAR-10's binary format (Krizhevsky 2009, "CIFAR-10 binary version"): each
 * record is 1 label byte (0–9) and 3 072 pixel bytes — the 1 024 red values of
 * the 32×32 image row by row, then green, then blue: already the NCHW planes an
 * `ImageDataset` stores. Files: `data_batch_1.bin` … `data_batch_5.bin`
 * (10 000 records each) and `test_batch.bin`.
 *
 * Browser-safe: bytes in, dataset out (`loadCifar10` in cifarfiles.ts reads the files in Node).
 */
import { FormatError } from '../errors.js';
import { ImageDataset } from './dataset.js';

/** CIFAR-10's class names, in label order (as in `batches.meta.txt`). */
export const CIFAR10_CLASSES: readonly string[] = Object.freeze([
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
]);

const PIXELS = 3 * 32 * 32;
const RECORD = 1 + PIXELS;

/** The file names of CIFAR-10's binary version, per split (as its archive `cifar-10-batches-bin/` holds them). */
export const CIFAR10_FILES = Object.freeze({
  train: Object.freeze([
    'data_batch_1.bin',
    'data_batch_2.bin',
    'data_batch_3.bin',
    'data_batch_4.bin',
    'data_batch_5.bin',
  ]),
  test: Object.freeze(['test_batch.bin']),
});

/**
 * Splits CIFAR-10 records into pixels and labels. Throws `FormatError` (prefixed
 * with `source`) for an empty input, a length that is not a whole number of
 * 3 073-byte records, or a label above 9 (naming the record). Allocates only
 * after the whole input has been checked.
 */
export function parseCifar10Records(bytes: Uint8Array, source: string): { pixels: Uint8Array; labels: Uint8Array } {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(source, 'CIFAR-10 input must be a Uint8Array');
  if (bytes.length === 0) throw new FormatError(source, 'empty file: a CIFAR-10 batch holds 3073-byte records');
  if (bytes.length % RECORD !== 0) {
    throw new FormatError(
      source,
      `${bytes.length} bytes are not a whole number of CIFAR-10 records (1 label byte + 3072 pixel bytes = 3073): ${Math.floor(bytes.length / RECORD)} records and ${bytes.length % RECORD} bytes left over`,
    );
  }
  const n = bytes.length / RECORD;
  for (let i = 0; i < n; i++) {
    const label = bytes[i * RECORD];
    if (label > 9)
      throw new FormatError(
        source,
        `record ${i} (byte ${i * RECORD}) has label ${label}; CIFAR-10 labels are 0–9 (is this CIFAR-100, with 2 label bytes?)`,
      );
  }
  const pixels = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = bytes[i * RECORD];
    pixels.set(bytes.subarray(i * RECORD + 1, (i + 1) * RECORD), i * PIXELS);
  }
  return { pixels, labels };
}

/** One CIFAR-10 batch file as a byte-stored dataset of shape [3, 32, 32], 10 classes. */
export function parseCifar10(bytes: Uint8Array, source: string): ImageDataset {
  const { pixels, labels } = parseCifar10Records(bytes, source);
  return ImageDataset.fromUint8(pixels, [3, 32, 32], labels, { numClasses: 10, store: 'uint8' });
}
