/**
 * The browser loader's header check (ts/data/imagedecode.ts), run in Node
 * (Blob is global there): the format and size come from the file's first
 * bytes, and a file over MAX_IMAGE_PIXELS or of another format is refused
 * before anything is decoded. Files are made by sharp; a hostile PNG header
 * is forged by hand (its CRC is not checked by a header reader, nor needed).
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DecodeFailure, imageHeader } from '../../ts/data/imagedecode.js';
import { MAX_IMAGE_PIXELS } from '../../ts/limits.js';

const blob = (b: Uint8Array) => new Blob([Uint8Array.from(b)]);
const rgb = (w: number, h: number) => sharp(Buffer.alloc(w * h * 3, 90), { raw: { width: w, height: h, channels: 3 } });

describe('imageHeader (browser loader, before decoding)', () => {
  it('reads the format and size of PNG, JPEG and WebP files', async () => {
    expect(await imageHeader(blob(await rgb(37, 21).png().toBuffer()))).toEqual({
      format: 'PNG',
      width: 37,
      height: 21,
    });
    expect(await imageHeader(blob(await rgb(37, 21).jpeg().toBuffer()))).toEqual({
      format: 'JPEG',
      width: 37,
      height: 21,
    });
    expect(await imageHeader(blob(await rgb(37, 21).webp().toBuffer()))).toEqual({
      format: 'WebP',
      width: 37,
      height: 21,
    });
  });

  it('finds a JPEG size behind more than 64 KiB of metadata', async () => {
    const jpeg = await rgb(40, 30).jpeg().toBuffer();
    // An APP2 segment of 65 000 bytes (length field counts itself), three times, right after SOI.
    const seg = Buffer.alloc(65_002, 0x41);
    seg.set([0xff, 0xe2, 65_000 >> 8, 65_000 & 255]);
    const big = Buffer.concat([jpeg.subarray(0, 2), seg, seg, seg, jpeg.subarray(2)]);
    expect(big.indexOf(Buffer.from([0xff, 0xc0]))).toBeGreaterThan(64 * 1024);
    expect(await imageHeader(blob(big))).toEqual({ format: 'JPEG', width: 40, height: 30 });
  });

  it('refuses an image larger than MAX_IMAGE_PIXELS from its header alone, other formats, empty and garbage files', async () => {
    const png = await rgb(4, 4).png().toBuffer();
    const forged = Buffer.from(png);
    forged.writeUInt32BE(100_000, 16); // IHDR width
    forged.writeUInt32BE(100_000, 20); // IHDR height: 10^10 pixels
    const err = await imageHeader(blob(forged)).catch((e) => e);
    expect(err).toBeInstanceOf(DecodeFailure);
    expect(err.message).toBe(`100000×100000 pixels, more than the limit of ${MAX_IMAGE_PIXELS} (MAX_IMAGE_PIXELS)`);
    const gif = await rgb(4, 4).gif().toBuffer();
    await expect(imageHeader(blob(gif))).rejects.toThrow(/a GIF file; only PNG, JPEG and WebP are read/);
    await expect(imageHeader(blob(new Uint8Array(0)))).rejects.toThrow(/the file is empty/);
    await expect(imageHeader(blob(new TextEncoder().encode('not an image at all')))).rejects.toThrow(
      /not a PNG, JPEG or WebP file/,
    );
    // A JPEG whose segments run off the end: unreadable, with a bounded reason.
    const cut = await imageHeader(blob((await rgb(8, 8).jpeg().toBuffer()).subarray(0, 30))).catch((e) => e);
    expect(cut).toBeInstanceOf(DecodeFailure);
    expect(cut.message).toMatch(/^unreadable JPEG header/);
    expect(cut.message.length).toBeLessThan(250);
  });
});
