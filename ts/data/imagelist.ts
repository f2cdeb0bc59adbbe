/**
 * What the image loaders share after the files are found and before they are
 * decoded, and after decoding: which paths count as images, their order, the
 * ImageFolder labelling rule, and how decoded bytes become the dataset (corrupt
 * files thrown or skipped and listed, never a blank image). The Node folder
 * loader (imagefolder.ts, paths from the disk) and the browser file loader
 * (imagefiles.ts, paths from a picked or dropped folder) both go through here,
 * so the same folder gives the same files, labels and order. Browser-safe.
 */
import { DataError, FormatError } from '../errors.js';
import { ImageDataset } from './dataset.js';
import type { CheckedImageOptions } from './imageopts.js';

/** File extensions read as images (case-insensitive). */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.png', '.jpg', '.jpeg', '.webp']);

/** An image file by its name: one of `IMAGE_EXTENSIONS`, case-insensitive. */
export const isImageName = (name: string): boolean => IMAGE_EXTENSIONS.some((x) => name.toLowerCase().endsWith(x));

/** A path component that is skipped with everything below it: hidden (leading `.`). */
export const isHidden = (name: string): boolean => name.startsWith('.');

const codepoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Orders `/`-separated relative paths folder by folder, each folder's entries by
 * code point: the order of a sorted directory walk (`a/x` before `a.b/y`, which a
 * plain string sort would reverse).
 */
export function comparePaths(a: string, b: string): number {
  const pa = a.split('/'),
    pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = codepoint(pa[i], pb[i]);
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

/** How labels are found: from top-level sub-folders, none, or 'auto' (folders when the top level holds folders and no images). */
export type LabelsMode = 'auto' | 'folders' | 'none';

/** Checks a `labels` option. */
export function checkLabelsMode(op: string, mode: unknown): LabelsMode {
  const m = mode ?? 'auto';
  if (m !== 'auto' && m !== 'folders' && m !== 'none')
    throw new DataError(`${op}: labels must be 'auto', 'folders' or 'none', got ${String(m).slice(0, 40)}`);
  return m;
}

/** Most classes a labelled set may have (labels are bytes). */
export const MAX_CLASSES = 256;

/**
 * The ImageFolder rule on relative paths (already filtered to images, sorted by
 * `comparePaths`): a path `<class>/…/<file>` has the class `<class>`. With
 * 'auto', the set is labelled when every path lies in a sub-folder. Classes are
 * the sub-folders holding images, sorted, numbered from 0. `where` names the
 * root in messages.
 */
export function labelPaths(
  op: string,
  paths: readonly string[],
  mode: LabelsMode,
  where: string,
): { classes: string[] | null; labels: Uint8Array | null } {
  const topLevel = paths.find((p) => !p.includes('/'));
  const labelled = mode === 'folders' || (mode === 'auto' && paths.length > 0 && topLevel === undefined);
  if (!labelled) return { classes: null, labels: null };
  if (topLevel !== undefined)
    throw new DataError(
      `${op}: labels come from sub-folders, but ${topLevel} lies at the top level of ${where} (move it into a class folder, or use labels: 'none')`,
    );
  const top = (p: string) => p.slice(0, p.indexOf('/'));
  const classes = [...new Set(paths.map(top))].sort(codepoint);
  if (classes.length > MAX_CLASSES)
    throw new DataError(`${op}: ${classes.length} class folders in ${where}; at most ${MAX_CLASSES}`);
  const index = new Map(classes.map((c, i) => [c, i]));
  return { classes, labels: Uint8Array.from(paths, (p) => index.get(top(p))!) };
}

/** Images loaded from files: the dataset, the file of each image, the class names, and what was skipped. */
export interface LoadedImages {
  /** The images (byte-stored, converted per batch), labelled when the files have classes. */
  dataset: ImageDataset;
  /**
   * Path of each image relative to the root, with `/` separators, in dataset order (with `patches`: each patch's
   * file). A file or folder name that is not valid UTF-8 (Node's `loadImageFolder` only; Latin-1 `caf\xe9.png` from
   * an old archive) is shown with each byte outside a valid UTF-8 sequence, and each `%`, written as `%` and two
   * upper-case hex digits: `caf%E9.png`, `50%25%FF.png` (`caf\xe8.png` stays apart: `caf%E8.png`). Valid names are
   * as they are; files are sorted by these names. Messages, `skipped` and the CLI's CSV, JSON and denoise outputs use
   * the same names.
   */
  files: string[];
  /** Class names (sub-folder names) in label order, or null for an unlabelled set. */
  classes: string[] | null;
  /** Files that could not be decoded or (with `patches`) hold no patch, only with `onError: 'skip'`, with the reason. */
  skipped: { file: string; reason: string }[];
  /**
   * With `patches`: the top-left corner of each patch (column `x`, row `y`) in its file's image as decoded and
   * scaled (`patchOrigins` draws them), and `image`, the index of its file among the files that gave patches (0, 1,
   * … in file order; `perImage` patches each), in dataset order. Split with `splitDataset`'s `groups: image` so that
   * the windows of a held-out image are all held out: overlapping windows of one photograph in both parts measure
   * memory, not generalisation.
   */
  patchOrigins?: { x: Uint32Array; y: Uint32Array; image: Uint32Array };
}

/**
 * The dataset from decoded images: `bytes` holds `paths.length` images of
 * `o`'s size, `ok[k]` says whether image k was decoded. Failed ones are dropped
 * (their files listed in `skipped`); none decoded at all is a DataError.
 */
export function assembleImages(
  op: string,
  o: CheckedImageOptions,
  paths: readonly string[],
  labelling: { classes: string[] | null; labels: Uint8Array | null },
  bytes: Uint8Array,
  ok: Uint8Array,
  skipped: { file: string; reason: string }[],
  where: string,
): LoadedImages {
  const size = o.channels * o.height * o.width;
  const keep: number[] = [];
  for (let k = 0; k < paths.length; k++) if (ok[k]) keep.push(k);
  if (keep.length === 0)
    throw new DataError(`${op}: none of the ${paths.length} image files in ${where} could be decoded`);
  let pixels = bytes;
  if (keep.length < paths.length) {
    pixels = new Uint8Array(keep.length * size);
    keep.forEach((k, j) => pixels.set(bytes.subarray(k * size, (k + 1) * size), j * size));
  }
  const { classes } = labelling;
  const labels = labelling.labels ? Uint8Array.from(keep, (k) => labelling.labels![k]) : null;
  const dataset = ImageDataset.fromUint8(pixels, [o.channels, o.height, o.width], labels, {
    store: 'uint8',
    numClasses: classes ? classes.length : undefined,
  });
  return {
    dataset,
    files: keep.map((k) => paths[k]),
    classes,
    skipped: [...skipped].sort((a, b) => comparePaths(a.file, b.file)),
  };
}

/** The error for a file that cannot be decoded with `onError: 'throw'`. */
export const undecodable = (file: string, reason: string): FormatError =>
  new FormatError(file, `cannot decode the image: ${reason}`);
