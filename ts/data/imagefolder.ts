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
 *
 * Names are listed as bytes: one that is not UTF-8 is shown escaped
 * (`shownName`: `caf%E9.png`) and opened by its bytes, which sharp cannot take
 * as a path, so such a file is read whole first (within MAX_IMAGE_FILE_BYTES).
 * `listImageFolder`'s `path` is the one place that maps a shown name to the file.
 */
import { DataError, quote } from '../errors.js';
import { MAX_IMAGE_FILE_BYTES, MAX_IMAGE_PIXELS } from '../limits.js';
import { shownName } from './filenames.js';
import {
  boundedReason,
  type CheckedImageOptions,
  checkDatasetBytes,
  checkImageOptions,
  type ImageLoadOptions,
} from './imageopts.js';
import {
  assembleImages,
  checkLabelsMode,
  comparePaths,
  IMAGE_EXTENSIONS,
  isHidden,
  isImageName,
  labelPaths,
  type LoadedImages,
  undecodable,
} from './imagelist.js';
import { interleavedToPlanes, scaledSize } from './pixels.js';
import { assemblePatches, PatchFailure, type PatchStore, patchless, patchStore, takePatches } from './patches.js';
import { optionsOf } from '../util/options.js';

export { IMAGE_EXTENSIONS };

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
export type ImageFolder = LoadedImages;

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

/**
 * A path Node's fs opens: a string, or the path's bytes when a name on it is not UTF-8 (Node's string names replace
 * such bytes, and the string no longer names the file).
 */
export type FilePath = string | Buffer;

/**
 * Every image file below `dir` (hidden entries skipped, symbolic links not followed), as shown paths relative to the
 * root (`shownName`); `raw` gets the path of bytes of each one with a name on its way that is not UTF-8.
 */
async function listImages(dir: FilePath, rel: string, out: string[], raw: Map<string, Buffer>): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const { isUtf8 } = await import('node:buffer');
  const where = () => (rel ? `the sub-folder ${quote(rel)}` : 'the folder');
  let entries: import('node:fs').Dirent<Buffer>[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch (e) {
    // Node's message repeats the path, which below a deep tree runs to thousands of characters.
    throw new DataError(`loadImageFolder: cannot list ${where()}: ${boundedReason(e)}`);
  }
  const shown = new Set<string>();
  for (const e of entries) {
    const plain = isUtf8(e.name);
    const name = plain ? e.name.toString('utf8') : shownName(e.name);
    const folder = e.isDirectory();
    if (isHidden(name) || !(folder || (e.isFile() && isImageName(name)))) continue;
    // Only a valid name beside one shown escaped can meet it: the escaping keeps the others apart.
    if (shown.has(name))
      throw new DataError(
        `loadImageFolder: two entries of ${where()} are shown as ${quote(name)}, one of them escaped as its name is not UTF-8: rename one`,
      );
    shown.add(name);
    const r = rel ? `${rel}/${name}` : name;
    let at: FilePath;
    if (typeof dir === 'string' && plain) at = path.join(dir, name);
    else {
      at = Buffer.concat([typeof dir === 'string' ? Buffer.from(dir) : dir, Buffer.from(path.sep), e.name]);
      if (!folder) raw.set(r, at);
    }
    if (folder) await listImages(at, r, out, raw);
    else out.push(r);
  }
}

/**
 * Reads every image below `dir`, resized to `size` (scaled to cover, centre-cropped),
 * as `channels` planes of bytes; with `patches`, `perImage` windows of `size` of
 * each image at its own resolution (scaled by `patches.scale`), at seeded places.
 * Throws `DataError` for a missing or empty folder, more than 256 classes, or too
 * many bytes (before decoding); `FormatError` naming the file for a file that
 * cannot be decoded or holds no patch (unless `onError: 'skip'`) — never a blank
 * image in its place. Decoding at full size holds up to `concurrency` decoded
 * images (each at most MAX_IMAGE_PIXELS) at once. A file or folder name that is
 * not UTF-8 is read and shown percent-escaped (see `files`); such a file is read
 * whole first, at most MAX_IMAGE_FILE_BYTES.
 */
export async function loadImageFolder(dir: string, opts?: ImageFolderOptions): Promise<ImageFolder> {
  const op = 'loadImageFolder';
  const options = optionsOf(op, opts);
  const o = checkImageOptions(op, options);
  const labelsMode = checkLabelsMode(op, options.labels);
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new DataError(`${op}: concurrency must be an integer in [1, 64], got ${quote(concurrency)}`);
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit >= 1))
    throw new DataError(`${op}: limit must be a positive integer, got ${quote(options.limit)}`);
  const path = await import('node:path');
  const found = await listImageFolder(dir, { labels: labelsMode });
  let listed = found.files;
  // Files are named by their shown paths (`abs`) and opened by `found.path`.
  const abs = (p: string) => path.join(dir, p);
  let labelling: { classes: string[] | null; labels: Uint8Array | null } = found;
  if (options.limit !== undefined && options.limit < listed.length) {
    listed = listed.slice(0, options.limit);
    labelling = { classes: labelling.classes, labels: labelling.labels?.slice(0, options.limit) ?? null };
  }
  const size = o.channels * o.height * o.width;
  checkDatasetBytes(op, listed.length, o);

  const sharp = await loadSharp();
  const store = o.patches ? patchStore(listed.length, o) : null;
  const bytes = store ? store.bytes : new Uint8Array(listed.length * size);
  const ok = new Uint8Array(listed.length);
  const skipped: { file: string; reason: string }[] = [];
  let next = 0;
  let failure: Error | null = null;
  const worker = async () => {
    while (next < listed.length && !failure) {
      const k = next++;
      try {
        if (store) await patchesInto(found.path(listed[k]), k, o, store);
        else await decodeInto(sharp, found.path(listed[k]), o, bytes, k * size);
        ok[k] = 1;
      } catch (e) {
        if (o.onError === 'skip') skipped.push({ file: listed[k], reason: boundedReason(e) });
        else
          failure ??=
            e instanceof PatchFailure ? patchless(abs(listed[k]), e) : undecodable(abs(listed[k]), boundedReason(e));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, listed.length) }, worker));
  if (failure) throw failure;
  return store
    ? assemblePatches(op, o, listed, labelling, store, ok, skipped, dir)
    : assembleImages(op, o, listed, labelling, bytes, ok, skipped, dir);
}

/** Decodes one file at its own size scaled by the patches' scale (`decodeImageFile`), and cuts its patches. */
async function patchesInto(file: FilePath, k: number, o: CheckedImageOptions, store: PatchStore): Promise<void> {
  const { planes, width, height } = await decodeImageFile(file, {
    channels: o.channels,
    background: o.background,
    scale: o.patches!.scale,
  });
  takePatches(planes, width, height, k, o, store);
}

/** An image folder's files as `loadImageFolder` reads them, nothing decoded: relative paths and their labels. */
export interface ImageFolderList {
  /** Relative paths ('/'-separated), sorted as `loadImageFolder` reads them; a name that is not UTF-8 as `shownName` shows it. */
  files: string[];
  /** The path that opens `file`, one of `files`: the folder joined with it, or its bytes when a name on it is not UTF-8. */
  path: (file: string) => FilePath;
  /** The class names (sorted), or null when unlabelled. */
  classes: string[] | null;
  /** Each file's class index, or null when unlabelled. */
  labels: Uint8Array | null;
}

/**
 * Lists the image files below `dir` and labels them as `loadImageFolder` does (same order, same rules, same
 * errors), without decoding any: for reading a folder one image at a time (`decodeImageFile`).
 */
export async function listImageFolder(
  dir: string,
  opts?: Pick<ImageFolderOptions, 'labels'>,
): Promise<ImageFolderList> {
  const op = 'loadImageFolder';
  const labelsMode = checkLabelsMode(op, optionsOf(op, opts).labels);
  const fs = await import('node:fs/promises');
  try {
    if (!(await fs.stat(dir)).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
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
  const files: string[] = [];
  const raw = new Map<string, Buffer>();
  await listImages(dir, '', files, raw);
  files.sort(comparePaths);
  const labelling = labelPaths(op, files, labelsMode, dir);
  if (files.length === 0) throw new DataError(`${op}: no image files (${IMAGE_EXTENSIONS.join(', ')}) found in ${dir}`);
  const { join } = await import('node:path');
  return { files, path: (file) => raw.get(file) ?? join(dir, file), ...labelling };
}

/** `decodeImageFile`'s refusal of a file of more than its `maxPixels`, from the header, before decoding. */
export class ImageTooLarge extends Error {
  override name = 'ImageTooLarge';
}

/** One image decoded at its own size: `channels` planes of bytes, `height × width` after its EXIF rotation. */
export interface DecodedImage {
  planes: Uint8Array;
  height: number;
  width: number;
}

/**
 * Decodes one file at its own size as `loadImageFolder` decodes (EXIF rotation applied, transparency over
 * `background`), without resizing, or scaled by `scale` in (0, 1] (Lanczos 3; sides rounded, at least 1 pixel). A
 * file of more than `maxPixels` pixels (default MAX_IMAGE_PIXELS) is refused before it is decoded (`imageFileSize`;
 * with `headerRead`, which says the caller had it pass already, sharp's own limit refuses it); a file that cannot
 * be decoded throws (the caller names it: `undecodable`). What `convae denoise` reads a photo with, and what
 * `patches` cuts its windows from.
 */
export async function decodeImageFile(
  file: FilePath,
  opts: { channels: 1 | 3; background?: 'black' | 'white'; maxPixels?: number; scale?: number; headerRead?: boolean },
): Promise<DecodedImage> {
  const sharp = await loadSharp();
  const bg = opts.background === 'white' ? 255 : 0;
  const max = opts.maxPixels ?? MAX_IMAGE_PIXELS;
  const input = await sharpInput(file);
  // The header's size first: sharp's own refusal says only "exceeds pixel limit". A caller that read every header
  // first (`headerRead`) has had it; on a folder of small images it was a third of the decoding.
  if (!opts.headerRead) await headerSize(sharp, input, max);
  let { data, info } = await sharp(input, { limitInputPixels: max, failOn: 'error' })
    .rotate()
    .flatten({ background: { r: bg, g: bg, b: bg } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const to = scaledSize(info.width, info.height, opts.scale ?? 1);
  // Resized from the oriented pixels: a resize in the first pipeline would take the sizes before the rotation.
  if (to.width !== info.width || to.height !== info.height)
    ({ data, info } = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
      .resize(to.width, to.height, { fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer({ resolveWithObject: true }));
  const { width, height, channels } = info;
  if (data.length !== width * height * channels)
    throw new Error(`decoder returned ${data.length} bytes for ${width}×${height}×${channels}`);
  const planes = new Uint8Array(opts.channels * height * width);
  interleavedToPlanes(data, width, height, channels, opts.channels, planes, 0);
  return { planes, height, width };
}

/**
 * What sharp is given for `file`: a string path as it is (sharp opens it); a path of bytes, which sharp cannot take
 * (its string paths go to libvips as UTF-8), read whole first — refused by its size beyond MAX_IMAGE_FILE_BYTES before
 * a byte is read.
 */
async function sharpInput(file: FilePath): Promise<string | Uint8Array> {
  if (typeof file === 'string') return file;
  const { FileTooLarge, readBounded } = await import('../io/read.js');
  let bytes: Uint8Array;
  try {
    bytes = await readBounded(file, MAX_IMAGE_FILE_BYTES);
  } catch (e) {
    if (e instanceof FileTooLarge)
      throw new Error(`${e.message} for an image whose name is not UTF-8, which is read whole (MAX_IMAGE_FILE_BYTES)`);
    const { reason } = await import('../io/files.js');
    // Node's message would spell the path's bytes.
    throw new Error(`cannot read it: ${reason(e)}`);
  }
  // sharp's word for it would be "Input Buffer is empty".
  if (bytes.length === 0) throw new Error('the file is empty');
  return bytes;
}

/**
 * The size of `file` from its header alone, after its EXIF rotation: the `height × width` `decodeImageFile` decodes
 * it to (unscaled). A file of more than `maxPixels` pixels (default MAX_IMAGE_PIXELS) throws ImageTooLarge, one whose
 * header cannot be read the decoder's error (the caller names it). What `convae denoise` bounds its work by before
 * it decodes anything; nothing past the header is read (but for a name that is not UTF-8: `sharpInput`), so a file
 * whose pixels are damaged passes.
 */
export async function imageFileSize(
  file: FilePath,
  maxPixels = MAX_IMAGE_PIXELS,
): Promise<{ height: number; width: number }> {
  return headerSize(await loadSharp(), await sharpInput(file), maxPixels);
}

async function headerSize(
  sharp: SharpModule['default'],
  input: string | Uint8Array,
  maxPixels: number,
): Promise<{ height: number; width: number }> {
  const m = await sharp(input).metadata();
  const { width = 0, height = 0 } = m.autoOrient ?? m;
  if (width * height > maxPixels)
    throw new ImageTooLarge(`${width}×${height} pixels, more than the limit of ${maxPixels}`);
  return { height, width };
}

/** Decodes one file, resizes it and writes its planes at `offset`. */
async function decodeInto(
  sharp: SharpModule['default'],
  file: FilePath,
  o: CheckedImageOptions,
  out: Uint8Array,
  offset: number,
): Promise<void> {
  const bg = o.background === 'white' ? 255 : 0;
  const { data, info } = await sharp(await sharpInput(file), { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' })
    .rotate()
    .flatten({ background: { r: bg, g: bg, b: bg } })
    .resize(o.width, o.height, { fit: 'cover', position: 'centre' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== o.width || info.height !== o.height || data.length !== o.width * o.height * info.channels)
    throw new Error(`decoder returned ${info.width}×${info.height}×${info.channels}, expected ${o.width}×${o.height}`);
  interleavedToPlanes(data, o.width, o.height, info.channels, o.channels, out, offset);
}
