/**
 * PNG files from rasters, with pngjs (its synchronous encoder: zlib deflate,
 * 8-bit RGBA, no interlace). Node-side: pngjs needs Node's zlib and stream. In a
 * browser, put the raster in an ImageData and let a canvas encode it
 * (`canvas.toBlob(cb, 'image/png')`); `writePng` loads node:fs only when called.
 */
import { PNG } from 'pngjs';
import { ShapeError } from '../errors.js';

/** Anything laid out like ImageData: a `Raster`, or an ImageData itself. */
export interface RgbaImage {
  /** Pixels per row. */
  width: number;
  /** Rows, top to bottom. */
  height: number;
  /** width·height·4 bytes: R, G, B, A of each pixel, row-major. */
  data: Uint8ClampedArray | Uint8Array;
}

/** Options of `encodePng`. */
export interface EncodePngOptions {
  /** Write an 8-bit grey PNG (each pixel the mean of its R, G and B: for rasters of grey pixels) instead of RGBA. */
  grey?: boolean;
}

/** The PNG file (8-bit RGBA, or grey with `opts.grey`) of a raster. */
export function encodePng(raster: RgbaImage, opts: EncodePngOptions = {}): Uint8Array {
  const { width, height, data } = raster;
  if (!(Number.isInteger(width) && width >= 1 && Number.isInteger(height) && height >= 1))
    throw new ShapeError('encodePng', 'raster', 'a positive integer width and height', `${width}×${height}`);
  if (data.length !== width * height * 4)
    throw new ShapeError('encodePng', 'raster.data', `${width * height * 4} bytes (width·height·4)`, `${data.length}`);
  const png = new PNG({ width, height });
  png.data.set(data);
  const file = PNG.sync.write(png, { colorType: opts.grey === true ? 0 : 6, inputColorType: 6, inputHasAlpha: true });
  return new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
}

/**
 * Encodes `raster` and writes it to `path`, creating missing parent folders. Node only. Written
 * beside and renamed (`writeAtomic`), so a full disk never leaves a half-written picture over an
 * earlier one; a failed write is an OutputError naming the file, and leaves no `.tmp`.
 */
export async function writePng(path: string, raster: RgbaImage): Promise<void> {
  const bytes = encodePng(raster);
  const [{ dirname }, { makeDirs, writeAtomic }] = await Promise.all([
    import('node:path'),
    // Loaded here, not at the top: this module stays importable where node:fs is not.
    import('../io/files.js'),
  ]);
  await makeDirs(dirname(path));
  await writeAtomic(path, bytes);
}
