/**
 * The options every image-file loader shares (Node folders, browser files,
 * video frames), checked in one place. Browser-safe.
 */
import { ArgumentError, quote } from '../errors.js';
import { MAX_DATASET_BYTES, MAX_IMAGE_SIDE } from '../limits.js';

/** How decoded images become a dataset: target size, channels, background for transparency. */
export interface ImageLoadOptions {
  /** Size every image is resized to, `[height, width]`: scaled to cover it and centre-cropped. Default [32, 32]. */
  size?: readonly [number, number];
  /** 1: grey (BT.601 luma of the colours); 3: RGB. Default 3. */
  channels?: 1 | 3;
  /** Transparent pixels are composited over this. Default 'black'. */
  background?: 'black' | 'white';
  /** What a file that cannot be decoded does: 'throw' (default) a `FormatError` naming it, or 'skip' it and list it in `skipped`. */
  onError?: 'throw' | 'skip';
}

export interface CheckedImageOptions {
  height: number;
  width: number;
  channels: 1 | 3;
  background: 'black' | 'white';
  onError: 'throw' | 'skip';
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
  return { height: size[0], width: size[1], channels, background, onError };
}

/** Throws before allocating when `n` images of this size would exceed `MAX_DATASET_BYTES`. */
export function checkDatasetBytes(op: string, n: number, o: CheckedImageOptions): number {
  const bytes = n * o.channels * o.height * o.width;
  if (bytes > MAX_DATASET_BYTES)
    throw new ArgumentError(
      op,
      'files',
      `${n} images of ${o.channels}×${o.height}×${o.width} need ${bytes} bytes, more than the limit ${MAX_DATASET_BYTES}`,
    );
  return bytes;
}

/** A decoder's message, bounded (it quotes nothing of ours, but may be long). */
export function boundedReason(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.length > 200 ? `${m.slice(0, 200)}…` : m;
}
