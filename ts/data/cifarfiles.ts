/** CIFAR-10's binary files read from a folder — Node only (dynamically imported `node:` modules). */
import { ArgumentError, DataError } from '../errors.js';
import { CIFAR10_FILES, parseCifar10Records } from './cifar.js';
import { ImageDataset } from './dataset.js';

const PIXELS = 3 * 32 * 32;

/** Options of `loadCifar10`: the split, the folder of the `.bin` files, and an optional image limit. */
export interface Cifar10Options {
  /** 'train' (the five data batches, 50 000 images) or 'test' (test_batch.bin, 10 000). */
  split: 'train' | 'test';
  /** The folder with the `.bin` files, or the folder holding `cifar-10-batches-bin/`. */
  dir: string;
  /** Keep only the first `limit` images (files are read only as far as needed). */
  limit?: number;
}

/**
 * CIFAR-10 from its binary files (Node only): shape [3, 32, 32], byte-stored
 * (converted per batch to byte / 255), labels 0–9 named by `CIFAR10_CLASSES`.
 * A missing file is a `DataError`; a damaged one a `FormatError` naming it.
 */
export async function loadCifar10(options: Cifar10Options): Promise<ImageDataset> {
  const op = 'loadCifar10';
  const split = options?.split;
  if (split !== 'train' && split !== 'test')
    throw new ArgumentError(op, 'split', `must be 'train' or 'test', got ${String(split).slice(0, 40)}`);
  if (typeof options.dir !== 'string') throw new ArgumentError(op, 'dir', 'must be a folder path');
  const limit = options.limit;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1))
    throw new ArgumentError(op, 'limit', `must be a positive integer, got ${limit}`);
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let dir = options.dir;
  const nested = path.join(dir, 'cifar-10-batches-bin');
  if (
    await fs
      .stat(nested)
      .then((s) => s.isDirectory())
      .catch(() => false)
  )
    dir = nested;
  const pixels: Uint8Array[] = [];
  const labels: Uint8Array[] = [];
  let total = 0;
  for (const name of CIFAR10_FILES[split]) {
    if (limit !== undefined && total >= limit) break;
    const file = path.join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(file);
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new DataError(
        code === 'ENOENT'
          ? `${op}: ${file} does not exist (CIFAR-10 binary version: ${CIFAR10_FILES[split].join(', ')})`
          : `${op}: cannot read ${file}: ${(e as Error).message.slice(0, 200)}`,
      );
    }
    const r = parseCifar10Records(bytes, file);
    const keep = limit === undefined ? r.labels.length : Math.min(r.labels.length, limit - total);
    pixels.push(keep === r.labels.length ? r.pixels : r.pixels.subarray(0, keep * PIXELS));
    labels.push(r.labels.subarray(0, keep));
    total += keep;
  }
  const allPixels = pixels.length === 1 ? pixels[0] : new Uint8Array(total * PIXELS);
  const allLabels = labels.length === 1 ? labels[0] : new Uint8Array(total);
  if (pixels.length > 1) {
    let k = 0;
    for (let i = 0; i < pixels.length; i++) {
      allPixels.set(pixels[i], k * PIXELS);
      allLabels.set(labels[i], k);
      k += labels[i].length;
    }
  }
  return ImageDataset.fromUint8(allPixels, [3, 32, 32], allLabels, { numClasses: 10, store: 'uint8' });
}
