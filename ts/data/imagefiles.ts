/**
 * Image datasets in a browser: from `File`s (a file picker, a folder picked
 * with `<input type=file webkitdirectory>`, a dropped folder) and from video
 * frames or any `ImageBitmapSource`, decoded by the browser's own decoders in
 * module Workers (decodepool.ts). Same options, labels, order, byte storage,
 * limits and errors as `loadImageFolder` in Node (imagelist.ts and
 * imageopts.ts are shared); the seeded split is `splitDataset` for both.
 *
 * Where decoding cannot leave the main thread: a video element is a DOM
 * object, so each frame is captured there (`createImageBitmap(video)`, a copy of
 * the current frame, no decoding) and only drawn and converted in a worker; a
 * browser without OffscreenCanvas in workers decodes on the main thread (the
 * result says so in `decodedIn`).
 */
import { ArgumentError, DataError } from '../errors.js';
import type {
  DataTransferLike,
  DecodedIn,
  FileSystemEntryLike,
  ImageSourceLike,
  VideoElementLike,
} from './browsertypes.js';
import { decodeAll, defaultDecodeWorkers, ImageFailure, MAX_DECODE_WORKERS } from './decodepool.js';
import type { LabelsInput } from './dataset.js';
import { ImageDataset } from './dataset.js';
import { BITMAP_OPTIONS } from './imagedecode.js';
import { boundedReason, checkDatasetBytes, checkImageOptions, type ImageLoadOptions } from './imageopts.js';
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
import { optionsOf } from '../util/options.js';
import { assemblePatches, PatchFailure, patchless, patchStore, takePatches } from './patches.js';

/** A file with the path it had in its folder (`cat/a.png`), as `filesFromDrop` gives them. */
export interface ImageFileEntry {
  /** `/`-separated path relative to what was picked or dropped. */
  path: string;
  /** The file's bytes (a `File` is a Blob). */
  file: Blob;
}

/** What `loadImageFiles` takes: `File`s (their `webkitRelativePath`, else their name, is the path) or entries with a path. */
export type ImageFileInput = File | ImageFileEntry;

/** How images are decoded in a browser: worker count, worker script, progress. */
export interface DecodeOptions {
  /** Decoding workers; 0 decodes on this thread. Default: the cores less one, 1 to 4. */
  workers?: number;
  /** The decoding worker's script (dist/decode-worker.js of the package; default: beside the package's modules). A bundler app passes the URL it serves, e.g. Vite's `convae/decode-worker.js?url`. */
  workerUrl?: string | URL;
  /** Called after each image with the count done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Options of `loadImageFiles`: the image options of `loadImageFolder`, how labels are found, a limit, and decoding. */
export interface ImageFilesOptions extends ImageLoadOptions, DecodeOptions {
  /**
   * 'folders': one class per top-level sub-folder; 'none': unlabelled; 'auto'
   * (default): 'folders' when every image lies in a sub-folder. The top level is
   * what was picked or dropped: a single folder shared by every path (the
   * picked folder of `webkitdirectory`) is the root, not a class.
   */
  labels?: 'auto' | 'folders' | 'none';
  /** Read at most this many files (the first in sorted order). */
  limit?: number;
}

/** Images loaded in a browser: as `loadImageFolder` gives them, plus where they were decoded. */
export interface ImageFiles extends LoadedImages {
  /** The common folder stripped from every path (the picked or dropped folder's name), or '' when there was none. */
  root: string;
  /** 'workers', or 'main thread' (with `workers: 0`, or where workers cannot decode). */
  decodedIn: DecodedIn;
}

/** Most file entries `filesFromDrop` walks, and `loadImageFiles` takes, before refusing. */
export const MAX_IMAGE_FILES = 1_000_000;

function checkDecodeOptions(op: string, o: DecodeOptions): { workers: number; workerUrl?: string | URL } {
  const workers = o.workers ?? defaultDecodeWorkers();
  if (!Number.isInteger(workers) || workers < 0 || workers > MAX_DECODE_WORKERS)
    throw new ArgumentError(op, 'workers', `must be an integer in [0, ${MAX_DECODE_WORKERS}], got ${String(workers)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function')
    throw new ArgumentError(op, 'onProgress', 'must be a function');
  return o.workerUrl === undefined ? { workers } : { workers, workerUrl: o.workerUrl };
}

const isBlob = (v: unknown): v is Blob => typeof Blob === 'function' && v instanceof Blob;

/** The path of one input: an entry's path, a File's `webkitRelativePath`, else its name; leading `/` dropped. */
function pathOf(op: string, f: ImageFileInput, k: number): { path: string; blob: Blob } {
  if (isBlob(f)) {
    const file = f as File;
    const p = (typeof file.webkitRelativePath === 'string' && file.webkitRelativePath) || file.name || `file-${k}`;
    return { path: p.replace(/^\/+/, ''), blob: f };
  }
  if (!f || typeof (f as ImageFileEntry).path !== 'string' || !isBlob((f as ImageFileEntry).file))
    throw new ArgumentError(op, 'files', `item ${k} is neither a File/Blob nor { path, file: Blob }`);
  return { path: f.path.replace(/^\/+/, ''), blob: f.file };
}

/**
 * Image files as a dataset: every PNG / JPEG / WebP among `files` (by name;
 * hidden files and folders skipped), sorted folder by folder, labelled by
 * their top-level folder when they have one (ImageFolder), decoded in workers
 * and resized to `size` (scaled to cover, centre-cropped) as `channels` planes
 * of bytes; with `patches`, `perImage` windows of `size` of each image at its
 * own resolution (scaled by `patches.scale`), at the places `loadImageFolder`
 * takes for the same files and seed. Throws `ArgumentError` for bad options,
 * `DataError` for no images, too many files, classes or bytes (before decoding),
 * `FormatError` naming the file for one that cannot be decoded or holds no
 * patch (unless `onError: 'skip'`).
 */
export async function loadImageFiles(
  files: Iterable<ImageFileInput> | ArrayLike<ImageFileInput>,
  opts?: ImageFilesOptions,
): Promise<ImageFiles> {
  const op = 'loadImageFiles';
  const options = optionsOf(op, opts);
  const o = checkImageOptions(op, options);
  const mode = checkLabelsMode(op, options.labels);
  const pool = checkDecodeOptions(op, options);
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit >= 1))
    throw new ArgumentError(op, 'limit', `must be a positive integer, got ${options.limit}`);
  if (files == null || (typeof files !== 'object' && typeof files !== 'function'))
    throw new ArgumentError(op, 'files', 'must be a FileList, an array of Files or of { path, file }');
  const count = (files as ArrayLike<unknown>).length;
  if (typeof count === 'number' && count > MAX_IMAGE_FILES)
    throw new DataError(`${op}: ${count} files given; at most ${MAX_IMAGE_FILES}`);
  const list = (
    typeof (files as Iterable<ImageFileInput>)[Symbol.iterator] === 'function'
      ? Array.from(files as Iterable<ImageFileInput>)
      : Array.from(files as ArrayLike<ImageFileInput>)
  ).map((f, k) => pathOf(op, f, k));
  if (list.length > MAX_IMAGE_FILES)
    throw new DataError(`${op}: ${list.length} files given; at most ${MAX_IMAGE_FILES}`);

  let images = list.filter(({ path }) => {
    const parts = path.split('/');
    return !parts.some(isHidden) && isImageName(parts[parts.length - 1]);
  });
  // One folder holding everything (what was picked, or the one folder dropped) is the root.
  let root = '';
  const first = images[0]?.path.split('/')[0];
  if (first !== undefined && images.every((f) => f.path.startsWith(`${first}/`))) {
    root = first;
    images = images.map((f) => ({ path: f.path.slice(first.length + 1), blob: f.blob }));
  }
  images.sort((a, b) => comparePaths(a.path, b.path));
  const where = root ? `the folder ${root}` : 'the files given';
  const paths = images.map((f) => f.path);
  let labelling = labelPaths(op, paths, mode, where);
  if (options.limit !== undefined && options.limit < images.length) {
    images = images.slice(0, options.limit);
    paths.length = options.limit;
    labelling = { classes: labelling.classes, labels: labelling.labels?.slice(0, options.limit) ?? null };
  }
  if (images.length === 0)
    throw new DataError(`${op}: no image files (${IMAGE_EXTENSIONS.join(', ')}) among the ${list.length} files given`);
  const size = o.channels * o.height * o.width;
  checkDatasetBytes(op, images.length, o);

  const store = o.patches ? patchStore(images.length, o) : null;
  const bytes = store ? store.bytes : new Uint8Array(images.length * size);
  const ok = new Uint8Array(images.length);
  const skipped: { file: string; reason: string }[] = [];
  let failure: Error | null = null,
    done = 0;
  const full = (p: string) => (root ? `${root}/${p}` : p);
  const { decodedIn } = await decodeAll(
    images.length,
    async (k) => ({ kind: 'blob', blob: images[k].blob }),
    o,
    pool,
    (k, r) => {
      let bad: Error | null = null;
      if (r instanceof ImageFailure) bad = r;
      else if (store) {
        try {
          takePatches(r.bytes, r.width, r.height, k, o, store);
        } catch (e) {
          if (!(e instanceof PatchFailure)) throw e;
          bad = e;
        }
      } else bytes.set(r.bytes.subarray(0, size), k * size);
      if (bad) {
        if (o.onError === 'skip') skipped.push({ file: paths[k], reason: boundedReason(bad) });
        else
          failure ??=
            bad instanceof PatchFailure
              ? patchless(full(paths[k]), bad)
              : undecodable(full(paths[k]), boundedReason(bad));
      } else ok[k] = 1;
      options.onProgress?.(++done, images.length);
      return failure === null;
    },
  );
  if (failure) throw failure;
  const loaded = store
    ? assemblePatches(op, o, paths, labelling, store, ok, skipped, where)
    : assembleImages(op, o, paths, labelling, bytes, ok, skipped, where);
  return { ...loaded, root, decodedIn };
}

/** Options of `loadImageSources` and `loadVideoFrames`: image options (but `patches`: files only), labels given by the caller, decoding. */
export interface ImageSourcesOptions extends Omit<ImageLoadOptions, 'onError' | 'patches'>, DecodeOptions {
  /** One label per image, or none. */
  labels?: LabelsInput | null;
  /** Number of classes (labels lie below it). Default: largest label + 1. */
  numClasses?: number;
}

/** Images made from sources or video frames: the dataset and where they were drawn. */
export interface ImageSources {
  /** The images, byte-stored, in the order of the sources (or times). */
  dataset: ImageDataset;
  /** 'workers' (sources are captured here and drawn in workers), or 'main thread'. */
  decodedIn: DecodedIn;
}

async function fromBitmaps(
  op: string,
  n: number,
  capture: (k: number) => Promise<ImageBitmap>,
  opts: ImageSourcesOptions | null | undefined,
): Promise<ImageSources> {
  const options = optionsOf(op, opts);
  const o = checkImageOptions(op, options);
  // The places of patches follow a file's position in the sorted file list, which sources do not have.
  if (o.patches) throw new ArgumentError(op, 'patches', 'is an option of the file loaders (loadImageFiles) only');
  const pool = checkDecodeOptions(op, options);
  if (options.labels != null && options.labels.length !== n)
    throw new DataError(`${op}: ${options.labels.length} labels for ${n} images`);
  checkDatasetBytes(op, n, o);
  const size = o.channels * o.height * o.width;
  const bytes = new Uint8Array(n * size);
  let failure: Error | null = null,
    done = 0;
  const { decodedIn } = await decodeAll(
    n,
    async (k) => ({ kind: 'bitmap', bitmap: await capture(k) }),
    o,
    pool,
    (k, r) => {
      if (r instanceof ImageFailure)
        failure ??= new DataError(`${op}: image ${k} cannot be drawn: ${boundedReason(r)}`);
      else bytes.set(r.bytes.subarray(0, size), k * size);
      options.onProgress?.(++done, n);
      return failure === null;
    },
  );
  if (failure) throw failure;
  const dataset = ImageDataset.fromUint8(bytes, [o.channels, o.height, o.width], options.labels ?? null, {
    store: 'uint8',
    numClasses: options.numClasses,
  });
  return { dataset, decodedIn };
}

/**
 * A dataset from images already in the page: `ImageBitmap`s, canvases, `<img>`
 * and `<video>` elements (the frame shown now), `VideoFrame`s, `ImageData`,
 * Blobs… (anything `createImageBitmap` takes). Each is captured here, then
 * drawn at `size` (scaled to cover, centre-cropped) and converted in a worker.
 * A source that cannot be captured or drawn is a `DataError` naming its index.
 */
export async function loadImageSources(
  sources: readonly ImageSourceLike[],
  options: ImageSourcesOptions = {},
): Promise<ImageSources> {
  const op = 'loadImageSources';
  if (!Array.isArray(sources) || sources.length === 0)
    throw new ArgumentError(op, 'sources', 'must be a non-empty array of images (ImageBitmap, canvas, video, …)');
  return fromBitmaps(
    op,
    sources.length,
    async (k) => {
      try {
        // Typed as any object for the declarations' sake (browsertypes.ts); createImageBitmap judges it.
        return await createImageBitmap(sources[k] as ImageBitmapSource, BITMAP_OPTIONS);
      } catch (e) {
        throw new DataError(`${op}: source ${k} cannot be captured: ${boundedReason(e)}`);
      }
    },
    options,
  );
}

/** Longest wait for one seek of `loadVideoFrames`. */
const SEEK_TIMEOUT_MS = 10_000;

function once(target: VideoElementLike, ok: string, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: Error) => {
      clearTimeout(timer);
      target.removeEventListener(ok, onOk);
      target.removeEventListener('error', onError);
      if (e) reject(e);
      else resolve();
    };
    const onOk = () => done();
    const onError = () => done(new DataError(`loadVideoFrames: the video failed while ${what}`));
    const timer = setTimeout(
      () => done(new DataError(`loadVideoFrames: ${what} took more than ${timeoutMs} ms`)),
      timeoutMs,
    );
    target.addEventListener(ok, onOk);
    target.addEventListener('error', onError);
  });
}

/**
 * Frames of a `<video>` at the given `times` (seconds, in any order; the dataset
 * keeps that order): the video is seeked to each time on this thread and the
 * frame captured (`createImageBitmap(video)`), then drawn and converted in a
 * worker while the next one is seeked. Throws `ArgumentError` for times that
 * are not finite, negative or past the end, `DataError` for a video that
 * fails to seek (each seek waits at most 10 s). The video is left paused at the last time.
 */
export async function loadVideoFrames(
  video: VideoElementLike,
  times: readonly number[],
  options: ImageSourcesOptions = {},
): Promise<ImageSources> {
  const op = 'loadVideoFrames';
  if (!video || typeof (video as { currentTime?: unknown }).currentTime !== 'number')
    throw new ArgumentError(op, 'video', 'must be an HTMLVideoElement');
  if (!Array.isArray(times) || times.length === 0)
    throw new ArgumentError(op, 'times', 'must be a non-empty array of times in seconds');
  if (video.readyState < 1) await once(video, 'loadedmetadata', SEEK_TIMEOUT_MS, 'loading its metadata');
  const end = Number.isFinite(video.duration) ? video.duration : Infinity;
  times.forEach((t, k) => {
    if (typeof t !== 'number' || !(t >= 0 && t <= end))
      throw new ArgumentError(op, 'times', `time ${k} is ${String(t)}, not in [0, ${end}] seconds`);
  });
  video.pause();
  return fromBitmaps(
    op,
    times.length,
    async (k) => {
      if (video.currentTime !== times[k] || video.readyState < 2) {
        const seeked = once(video, 'seeked', SEEK_TIMEOUT_MS, `seeking to ${times[k]} s`);
        video.currentTime = times[k];
        await seeked;
      }
      // A seek started before ours (by the page) may have answered first: wait until none is pending.
      while (video.seeking) await once(video, 'seeked', SEEK_TIMEOUT_MS, `seeking to ${times[k]} s`);
      try {
        // Typed by the members used above (browsertypes.ts): a page's video element, or createImageBitmap refuses it.
        return await createImageBitmap(video as HTMLVideoElement, BITMAP_OPTIONS);
      } catch (e) {
        throw new DataError(`${op}: the frame at ${times[k]} s cannot be captured: ${boundedReason(e)}`);
      }
    },
    options,
  );
}

/**
 * The files of a drop (`DragEvent.dataTransfer`), folders walked recursively,
 * each with its path inside what was dropped (`pets/cat/a.png`): the input of
 * `loadImageFiles`. Hidden entries are skipped; more than MAX_IMAGE_FILES entries is a DataError.
 * Call it in the drop handler itself: the browser empties `dataTransfer` after the event.
 */
export async function filesFromDrop(data: DataTransferLike): Promise<ImageFileEntry[]> {
  const op = 'filesFromDrop';
  const out: ImageFileEntry[] = [];
  const roots: FileSystemEntryLike[] = [];
  const loose: File[] = [];
  // Entries must be taken synchronously, before the first await.
  for (const item of Array.from(data.items ?? [])) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) roots.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  // Not push(...files): 300 000 dropped files as arguments overflowed the call stack (a RangeError).
  if (roots.length === 0 && loose.length === 0) for (const f of Array.from(data.files ?? [])) loose.push(f);
  let seen = 0;
  const count = () => {
    if (++seen > MAX_IMAGE_FILES) throw new DataError(`${op}: more than ${MAX_IMAGE_FILES} entries dropped`);
  };
  const walk = async (e: FileSystemEntryLike): Promise<void> => {
    count();
    if (isHidden(e.name)) return;
    if (e.isFile && e.file) {
      const file = await new Promise<File>((ok, fail) => e.file!(ok, fail));
      out.push({ path: e.fullPath.replace(/^\/+/, ''), file });
    } else if (e.isDirectory && e.createReader) {
      const reader = e.createReader();
      // readEntries gives the entries in chunks (100 in Chromium) until an empty one.
      for (;;) {
        const chunk = await new Promise<FileSystemEntryLike[]>((ok, fail) => reader.readEntries(ok, fail));
        if (chunk.length === 0) break;
        for (const c of chunk) await walk(c);
      }
    }
  };
  for (const r of roots) await walk(r);
  for (const f of loose) {
    count();
    out.push({ path: f.name, file: f });
  }
  return out;
}
