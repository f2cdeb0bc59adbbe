/**
 * The options every image-file loader shares (Node folders, browser files,
 * video frames), checked in one place. Browser-safe.
 */
import { ArgumentError, quote } from '../errors.js';
import { MAX_DATASET_BYTES, MAX_IMAGE_SIDE, MAX_PATCHES } from '../limits.js';
import { knownFields } from '../util/options.js';

/**
 * Random windows of each image at its own resolution, instead of the whole image resized (`ImageLoadOptions.patches`):
 * what a convolutional autoencoder's filters should learn from in photographs and scans, where resizing a whole
 * picture to a few dozen pixels throws its detail away.
 */
export interface ImagePatches {
  /** Windows of `size` cut from each image, at seeded random places (they may overlap). */
  perImage: number;
  /**
   * Seed of the places, an integer in [0, 2^32): the same seed, files and scale give the same places in Node and in
   * a browser (`patchOrigins`). Default 1.
   */
  seed?: number;
  /**
   * Each image is first scaled by this factor in (0, 1] (sides rounded, at least 1 pixel; Lanczos 3 in Node, the
   * canvas's high-quality filter in a browser). Default 1. At full size most small windows of a photograph are smooth.
   */
  scale?: number;
}

/** `ImagePatches` checked, its defaults filled in. */
export interface CheckedPatches {
  perImage: number;
  seed: number;
  scale: number;
}

/** How decoded images become a dataset: target size, channels, background for transparency. */
export interface ImageLoadOptions {
  /**
   * Size every image is resized to, `[height, width]`: scaled to cover it and centre-cropped. Default [32, 32].
   * With `patches`, the size of each patch.
   */
  size?: readonly [number, number];
  /** 1: grey (BT.601 luma of the colours); 3: RGB. Default 3. */
  channels?: 1 | 3;
  /** Transparent pixels are composited over this. Default 'black'. */
  background?: 'black' | 'white';
  /** What a file that cannot be decoded does: 'throw' (default) a `FormatError` naming it, or 'skip' it and list it in `skipped`. */
  onError?: 'throw' | 'skip';
  /**
   * Cut `perImage` random windows of `size` from each image at its own resolution (optionally scaled first) instead
   * of resizing the whole image: the dataset holds files × perImage patches, each labelled as its file. An image
   * smaller than a patch is treated as a file that cannot be decoded: a `FormatError` naming it, or with
   * `onError: 'skip'` left out and listed in `skipped` with the reason. Image files only: `loadImageSources` and
   * `loadVideoFrames` refuse it.
   */
  patches?: ImagePatches;
}

export interface CheckedImageOptions {
  height: number;
  width: number;
  channels: 1 | 3;
  background: 'black' | 'white';
  onError: 'throw' | 'skip';
  /** Null: whole images resized to height × width. */
  patches: CheckedPatches | null;
}

function checkPatches(op: string, p: unknown): CheckedPatches | null {
  if (p === undefined || p === null) return null;
  if (typeof p !== 'object' || Array.isArray(p))
    throw new ArgumentError(op, 'patches', `must be { perImage, seed?, scale? }, got ${quote(p)}`);
  knownFields(op, 'patches', p, ['perImage', 'seed', 'scale']);
  const { perImage, seed = 1, scale = 1 } = p as ImagePatches;
  if (!Number.isInteger(perImage) || perImage < 1 || perImage > MAX_PATCHES)
    throw new ArgumentError(
      op,
      'patches.perImage',
      `must be an integer in [1, ${MAX_PATCHES}], got ${quote(perImage)}`,
    );
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1)
    throw new ArgumentError(op, 'patches.seed', `must be an integer in [0, 2^32), got ${quote(seed)}`);
  // Down only: an enlarged image has no detail of its own at the patch's scale, and the bound stays MAX_IMAGE_PIXELS.
  if (typeof scale !== 'number' || !(scale > 0 && scale <= 1))
    throw new ArgumentError(op, 'patches.scale', `must be a number in (0, 1], got ${quote(scale)}`);
  return { perImage, seed, scale };
}

export function checkImageOptions(op: string, options: ImageLoadOptions | null | undefined): CheckedImageOptions {
  if (options != null && (typeof options !== 'object' || Array.isArray(options)))
    throw new ArgumentError(op, 'options', `must be an object, got ${quote(options)}`);
  const o = options ?? {};
  const size = o.size ?? [32, 32];
  if (
    !Array.isArray(size) ||
    size.length !== 2 ||
    !size.every((v) => Number.isInteger(v) && v >= 1 && v <= MAX_IMAGE_SIDE)
  )
    throw new ArgumentError(
      op,
      'size',
      `must be [height, width] of integers in [1, ${MAX_IMAGE_SIDE}], got ${quote(size)}`,
    );
  const channels = o.channels ?? 3;
  if (channels !== 1 && channels !== 3)
    throw new ArgumentError(op, 'channels', `must be 1 or 3, got ${quote(channels)}`);
  const background = o.background ?? 'black';
  if (background !== 'black' && background !== 'white')
    throw new ArgumentError(op, 'background', `must be 'black' or 'white', got ${quote(background)}`);
  const onError = o.onError ?? 'throw';
  if (onError !== 'throw' && onError !== 'skip')
    throw new ArgumentError(op, 'onError', `must be 'throw' or 'skip', got ${quote(onError)}`);
  const patches = checkPatches(op, o.patches);
  return { height: size[0], width: size[1], channels, background, onError, patches };
}

/**
 * Throws before allocating when `n` files give more than `MAX_DATASET_BYTES` (images, or with `patches` their
 * n × perImage patches, of this size), or more than `MAX_PATCHES` patches.
 */
export function checkDatasetBytes(op: string, n: number, o: CheckedImageOptions): number {
  const items = n * (o.patches?.perImage ?? 1);
  if (o.patches && items > MAX_PATCHES)
    throw new ArgumentError(
      op,
      'patches',
      `${n} files × ${o.patches.perImage} patches are ${items} patches, more than the limit ${MAX_PATCHES}`,
    );
  const bytes = items * o.channels * o.height * o.width;
  if (bytes > MAX_DATASET_BYTES)
    throw new ArgumentError(
      op,
      'files',
      `${items} ${o.patches ? 'patches' : 'images'} of ${o.channels}×${o.height}×${o.width} need ${bytes} bytes, more than the limit ${MAX_DATASET_BYTES}`,
    );
  return bytes;
}

/** A decoder's message, bounded (it quotes nothing of ours, but may be long). */
export function boundedReason(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.length > 200 ? `${m.slice(0, 200)}…` : m;
}
