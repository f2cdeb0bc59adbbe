/**
 * One image decoded by the browser's own decoders (`createImageBitmap`) and
 * drawn at the dataset's size on a canvas (`OffscreenCanvas` in a worker), as
 * the Node loader makes it: EXIF orientation applied, transparency composited
 * over the background, scaled to cover the target and centre-cropped (sharp's
 * `fit: 'cover'`), then 8-bit planes, grey as BT.601 luma (pixels.ts). Runs in
 * a worker or on the main thread; no DOM types are needed at import time.
 *
 * The header is read first (image-size, on the file's first bytes): a file
 * that is not a PNG, JPEG or WebP, or whose width × height exceeds
 * MAX_IMAGE_PIXELS, is refused before anything is decoded, as sharp's
 * `limitInputPixels` does in Node. A file the browser cannot decode (corrupt,
 * truncated: Chromium refuses incomplete frames) is an error with its reason.
 */
import { imageSize } from 'image-size';
import { MAX_IMAGE_PIXELS } from '../limits.js';
import type { CheckedImageOptions } from './imageopts.js';
import { coverRect, interleavedToPlanes, scaledSize } from './pixels.js';

/** Bytes read for the header; a JPEG whose size marker lies further (large metadata) is read up to HEADER_MAX_BYTES. */
const HEADER_BYTES = 64 * 1024;
/** Furthest into a file the header reader looks for a JPEG's size. */
export const HEADER_MAX_BYTES = 4 * 1024 * 1024;
const FORMATS: Record<string, string> = { png: 'PNG', jpg: 'JPEG', webp: 'WebP' };

/**
 * What the decoder is asked: the size and channels of the output, the background under transparency; with
 * `patches`, the image whole at its own size scaled by `patches.scale` (the patches are cut by the caller).
 */
export type DecodeSettings = Pick<CheckedImageOptions, 'height' | 'width' | 'channels' | 'background'> & {
  patches?: Pick<NonNullable<CheckedImageOptions['patches']>, 'scale'> | null;
};

/** One decoded image: `channels` planes of `width × height` bytes. */
export interface DecodedImage {
  bytes: Uint8Array;
  width: number;
  height: number;
}

/** A reason why a file is refused or undecodable (the loaders wrap it in a FormatError naming the file). */
export class DecodeFailure extends Error {
  override name = 'DecodeFailure';
}

const reasonOf = (e: unknown) => {
  const m = e instanceof Error ? e.message : String(e);
  return m.length > 160 ? `${m.slice(0, 160)}…` : m;
};

/** Format and size from the file's header; throws DecodeFailure for other formats, unreadable headers and images over MAX_IMAGE_PIXELS. */
export async function imageHeader(blob: Blob): Promise<{ format: string; width: number; height: number }> {
  let bytes = new Uint8Array(await blob.slice(0, HEADER_BYTES).arrayBuffer());
  let size: ReturnType<typeof imageSize>;
  for (;;) {
    try {
      size = imageSize(bytes);
      break;
    } catch (e) {
      // Only a JPEG's size marker can lie past the first bytes (after EXIF, XMP, ICC segments).
      const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
      if (jpeg && bytes.length < blob.size && bytes.length < HEADER_MAX_BYTES) {
        bytes = new Uint8Array(await blob.slice(0, Math.min(blob.size, HEADER_MAX_BYTES)).arrayBuffer());
        continue;
      }
      if (blob.size === 0) throw new DecodeFailure('the file is empty');
      if (/unsupported file type/i.test(reasonOf(e))) throw new DecodeFailure('not a PNG, JPEG or WebP file');
      throw new DecodeFailure(`unreadable ${jpeg ? 'JPEG' : 'image'} header (${reasonOf(e)})`);
    }
  }
  const format = FORMATS[size.type ?? ''];
  if (!format) throw new DecodeFailure(`a ${String(size.type).toUpperCase()} file; only PNG, JPEG and WebP are read`);
  const { width = 0, height = 0 } = size;
  if (!(width >= 1 && height >= 1)) throw new DecodeFailure(`the header gives a size of ${width}×${height}`);
  if (width * height > MAX_IMAGE_PIXELS)
    throw new DecodeFailure(`${width}×${height} pixels, more than the limit of ${MAX_IMAGE_PIXELS} (MAX_IMAGE_PIXELS)`);
  return { format, width, height };
}

/** createImageBitmap as the Node loader decodes: EXIF orientation applied, no colour-space conversion, alpha kept straight. */
export const BITMAP_OPTIONS: ImageBitmapOptions = {
  imageOrientation: 'from-image',
  premultiplyAlpha: 'none',
  colorSpaceConversion: 'none',
};

/** Decodes `blob` (header checked first) into planes of `o`'s size, or with `o.patches` of its own size scaled. */
export async function decodeImageBlob(blob: Blob, o: DecodeSettings): Promise<DecodedImage> {
  await imageHeader(blob);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, BITMAP_OPTIONS);
  } catch (e) {
    throw new DecodeFailure(`the browser cannot decode it (${reasonOf(e)})`);
  }
  try {
    return drawDecoded(bitmap, bitmap.width, bitmap.height, o);
  } finally {
    bitmap.close();
  }
}

/** `drawToPlanes` at `o`'s size, or with `o.patches` at the source's own size scaled by `patches.scale`. */
export function drawDecoded(src: CanvasImageSource, srcW: number, srcH: number, o: DecodeSettings): DecodedImage {
  const size = o.patches ? scaledSize(srcW, srcH, o.patches.scale) : o;
  const bytes = drawToPlanes(src, srcW, srcH, { ...o, width: size.width, height: size.height });
  return { bytes, width: size.width, height: size.height };
}

type Canvas2d = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;
let cached: { w: number; h: number; g: Canvas2d } | null = null;

/** A 2D context of `w × h` (reused between calls of one size): an OffscreenCanvas, or a document's canvas where there is none. */
function context(w: number, h: number): Canvas2d {
  if (cached && cached.w === w && cached.h === h) return cached.g;
  let g: Canvas2d | null;
  if (typeof OffscreenCanvas === 'function')
    g = new OffscreenCanvas(w, h).getContext('2d', { willReadFrequently: true });
  else {
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    g = c.getContext('2d', { willReadFrequently: true });
  }
  if (!g) throw new DecodeFailure('this browser gives no 2D canvas context here');
  cached = { w, h, g };
  return g;
}

/**
 * Draws `src` (`srcW × srcH` pixels) over the background, scaled to cover the
 * target and centre-cropped, and returns its planes. With the target's own size
 * the pixels are copied as they are.
 */
export function drawToPlanes(src: CanvasImageSource, srcW: number, srcH: number, o: DecodeSettings): Uint8Array {
  if (!(srcW >= 1 && srcH >= 1)) throw new DecodeFailure(`the image has no pixels (${srcW}×${srcH})`);
  const g = context(o.width, o.height);
  g.globalCompositeOperation = 'source-over';
  g.fillStyle = o.background === 'white' ? '#fff' : '#000';
  g.fillRect(0, 0, o.width, o.height);
  g.imageSmoothingEnabled = true;
  g.imageSmoothingQuality = 'high';
  const r = coverRect(srcW, srcH, o.width, o.height);
  g.drawImage(src, r.x, r.y, r.w, r.h, 0, 0, o.width, o.height);
  const rgba = g.getImageData(0, 0, o.width, o.height).data;
  const out = new Uint8Array(o.channels * o.height * o.width);
  interleavedToPlanes(rgba, o.width, o.height, 4, o.channels, out, 0);
  return out;
}
