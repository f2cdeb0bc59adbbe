/**
 * Folders of PNG / JPEG / WebP files as an `ImageDataset` — **Node only**.
 *
 * Decoding is `sharp` (libvips): its npm packages ship prebuilt binaries for
 * every common platform, so `npm install` needs no compiler, and it decodes,
 * auto-rotates (EXIF), composites alpha and resizes in native code several
 * times faster than pure-JS decoders, refusing corrupt or truncated files
 * instead of returning partial pixels. It is an optional dependency loaded
 * here with a dynamic import, so bundles for browsers never see it.
 *
 * Labels follow torchvision's ImageFolder: `root/<class>/…/<file>` has the class
 * `<class>` (sub-folders inside a class folder are searched too); class names
 * are sorted and numbered from 0. Hidden files and folders (leading `.`) and
 * files of other extensions are ignored; symbolic links are not followed.
 */
import { DataError, FormatError } from '../errors.js';
import { MAX_IMAGE_PIXELS } from '../limits.js';
import { ImageDataset } from './dataset.js';
import {
  boundedReason,
  type CheckedImageOptions,
  checkDatasetBytes,
  checkImageOptions,
  type ImageLoadOptions,
} from './imageopts.js';
import { interleavedToPlanes } from './pixels.js';

/** File extensions read as images (case-insensitive). */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.png', '.jpg', '.jpeg', '.webp']);

/** Options of `loadImageFolder`: labels from sub-folders or none, what to do with unreadable files, and the image options. */
export interface ImageFolderOptions extends ImageLoadOptions {
  /**
   * 'folders': one class per top-level sub-folder (files at the top level are an error);
   * 'none': every image anywhere below, unlabelled; 'auto' (default): 'folders'
   * when the top level holds sub-folders and no images, else 'none'.
   */
  labels?: 'auto' | 'folders' | 'none';
  /** Read at most this many files (the first in sorted order). */
  limit?: number;
  /** Files decoded at once. Default 4. */
  concurrency?: number;
}

/** An image folder as loaded: the dataset, the file of each image, the class names, and what was skipped. */
export interface ImageFolder {
  /** The images (byte-stored, converted per batch), labelled when the folder has classes. */
  dataset: ImageDataset;
  /** Path of each image relative to the root, with `/` separators, in dataset order. */
  files: string[];
  /** Class names (sub-folder names) in label order, or null for an unlabelled folder. */
  classes: string[] | null;
  /** Files that could not be decoded (only with `onError: 'skip'`), with the decoder's reason. */
  skipped: { file: string; reason: string }[];
}

type SharpModule = typeof import('sharp');

async function loadSharp(): Promise<SharpModule['default']> {
  try {
    return (await import('sharp')).default;
  } catch (e) {
    throw new DataError(
      `reading image files needs the optional package 'sharp' (${boundedReason(e)}): run \`npm install sharp\``,
    );
  }
}

interface Listed {
  rel: string;
  abs: string;
  cls: string | null;
}

const isImage = (name: string) => IMAGE_EXTENSIONS.some((x) => name.toLowerCase().endsWith(x));
const codepoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Every image file below `dir`, sorted by relative path. */
async function listImages(root: string, dir: string, rel: string, cls: string | null, out: Listed[]): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const entries = await fs.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => codepoint(a.name, b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) await listImages(root, path.join(dir, e.name), r, cls, out);
    else if (e.isFile() && isImage(e.name)) out.push({ rel: r, abs: path.join(dir, e.name), cls });
  }
}

/**
 * Reads every image below `dir`, resized to `size` (scaled to cover, centre-cropped),
 * as `channels` planes of bytes. Throws `DataError` for a missing or empty
 * folder, more than 256 classes, or too many bytes; `FormatError` naming the
 * file for a file that cannot be decoded (unless `onError: 'skip'`) — never a
 * blank image in its place.
 */
export async function loadImageFolder(dir: string, options: ImageFolderOptions = {}): Promise<ImageFolder> {
  const op = 'loadImageFolder';
  const o = checkImageOptions(op, options);
  const labelsMode = options.labels ?? 'auto';
  if (labelsMode !== 'auto' && labelsMode !== 'folders' && labelsMode !== 'none')
    throw new DataError(`${op}: labels must be 'auto', 'folders' or 'none', got ${String(labelsMode).slice(0, 40)}`);
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new DataError(`${op}: concurrency must be an integer in [1, 64], got ${concurrency}`);
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit >= 1))
    throw new DataError(`${op}: limit must be a positive integer, got ${options.limit}`);
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let top: import('node:fs').Dirent[];
  try {
    top = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new DataError(
      code === 'ENOENT'
        ? `${op}: ${dir} does not exist`
        : code === 'ENOTDIR'
          ? `${op}: ${dir} is not a folder`
          : `${op}: cannot read ${dir}: ${boundedReason(e)}`,
    );
  }
  top = top.filter((e) => !e.name.startsWith('.')).sort((a, b) => codepoint(a.name, b.name));
  const topDirs = top.filter((e) => e.isDirectory()).map((e) => e.name);
  const topImages = top.filter((e) => e.isFile() && isImage(e.name)).map((e) => e.name);
  const labelled = labelsMode === 'folders' || (labelsMode === 'auto' && topDirs.length > 0 && topImages.length === 0);
  if (labelled && topImages.length > 0)
    throw new DataError(
      `${op}: labels come from sub-folders, but ${path.join(dir, topImages[0])} lies at the top level of ${dir} (move it into a class folder, or use labels: 'none')`,
    );
  let listed: Listed[] = [];
  let classes: string[] | null = null;
  if (labelled) {
    if (topDirs.length > 256) throw new DataError(`${op}: ${topDirs.length} class folders in ${dir}; at most 256`);
    for (const c of topDirs) await listImages(dir, path.join(dir, c), c, c, listed);
    // Only classes with images count: an empty folder is no class.
    classes = topDirs.filter((c) => listed.some((l) => l.cls === c));
  } else {
    await listImages(dir, dir, '', null, listed);
  }
  if (options.limit !== undefined) listed = listed.slice(0, options.limit);
  if (listed.length === 0)
    throw new DataError(`${op}: no image files (${IMAGE_EXTENSIONS.join(', ')}) found in ${dir}`);
  const size = o.channels * o.height * o.width;
  checkDatasetBytes(op, listed.length, o);

  const sharp = await loadSharp();
  const bytes = new Uint8Array(listed.length * size);
  const ok = new Uint8Array(listed.length);
  const skipped: { file: string; reason: string }[] = [];
  let next = 0;
  let failure: FormatError | null = null;
  const worker = async () => {
    while (next < listed.length && !failure) {
      const k = next++;
      try {
        await decodeInto(sharp, listed[k].abs, o, bytes, k * size);
        ok[k] = 1;
      } catch (e) {
        if (o.onError === 'skip') skipped.push({ file: listed[k].rel, reason: boundedReason(e) });
        else failure ??= new FormatError(listed[k].abs, `cannot decode the image: ${boundedReason(e)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, listed.length) }, worker));
  if (failure) throw failure;
  skipped.sort((a, b) => codepoint(a.file, b.file));

  const keep: number[] = [];
  for (let k = 0; k < listed.length; k++) if (ok[k]) keep.push(k);
  if (keep.length === 0)
    throw new DataError(`${op}: none of the ${listed.length} image files in ${dir} could be decoded`);
  let pixels = bytes;
  if (keep.length < listed.length) {
    pixels = new Uint8Array(keep.length * size);
    keep.forEach((k, j) => pixels.set(bytes.subarray(k * size, (k + 1) * size), j * size));
  }
  const labels = classes ? Uint8Array.from(keep, (k) => classes!.indexOf(listed[k].cls!)) : null;
  const dataset = ImageDataset.fromUint8(pixels, [o.channels, o.height, o.width], labels, {
    store: 'uint8',
    numClasses: classes ? classes.length : undefined,
  });
  return { dataset, files: keep.map((k) => listed[k].rel), classes, skipped };
}

/** Decodes one file, resizes it and writes its planes at `offset`. */
async function decodeInto(
  sharp: SharpModule['default'],
  file: string,
  o: CheckedImageOptions,
  out: Uint8Array,
  offset: number,
): Promise<void> {
  const bg = o.background === 'white' ? 255 : 0;
  const { data, info } = await sharp(file, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' })
    .rotate()
    .flatten({ background: { r: bg, g: bg, b: bg } })
    .resize(o.width, o.height, { fit: 'cover', position: 'centre' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== o.width || info.height !== o.height || data.length !== o.width * o.height * info.channels)
    throw new Error(`decoder returned ${info.width}×${info.height}×${info.channels}, expected ${o.width}×${o.height}`);
  interleavedToPlanes(data, o.width, o.height, info.channels, o.channels, out, offset);
}
