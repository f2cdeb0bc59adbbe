/**
 * Damaged image files for the fuzz suite (Node, test/fuzz/images.test.ts) and the
 * browser's decoders (test/browser/images.test.ts): valid PNG, JPEG and WebP files
 * made by sharp, then cut, flipped, re-headed or replaced, each with the outcome
 * expected of a loader, fixed before any loader sees it.
 */
import sharp from 'sharp';
import { MAX_IMAGE_PIXELS } from '../../ts/limits.js';
import type { Expect, Gen } from './harness.js';

export type Format = 'png' | 'jpeg' | 'webp';

/** A small noisy picture in `format`, `channels` 1–4. */
export async function picture(g: Gen, format: Format, channels: 1 | 2 | 3 | 4): Promise<Uint8Array> {
  const width = g.int(1, 40);
  const height = g.int(1, 40);
  const raw = Buffer.from(Array.from({ length: width * height * channels }, () => g.int(0, 255)));
  const img = sharp(raw, { raw: { width, height, channels } });
  const out = format === 'png' ? img.png() : format === 'jpeg' ? img.jpeg({ quality: 80 }) : img.webp();
  return new Uint8Array(await out.toBuffer());
}

/** The header rewritten to claim `w`×`h` (PNG IHDR, the first JPEG SOF, a WebP VP8X canvas). */
export function claimSize(bytes: Uint8Array, format: Format, w: number, h: number): Uint8Array {
  const b = bytes.slice();
  const v = new DataView(b.buffer);
  if (format === 'png') {
    v.setUint32(16, w);
    v.setUint32(20, h);
  } else if (format === 'jpeg') {
    for (let i = 2; i + 9 < b.length; ) {
      if (b[i] !== 0xff) break;
      const marker = b[i + 1];
      if (marker >= 0xc0 && marker <= 0xc3) {
        v.setUint16(i + 5, h);
        v.setUint16(i + 7, w);
        break;
      }
      i += 2 + v.getUint16(i + 2);
    }
  } else {
    // RIFF … WEBP VP8X with a 24-bit canvas size minus one (what a large WebP starts with).
    const head = new Uint8Array(30);
    head.set(b.subarray(0, 12));
    head.set([0x56, 0x50, 0x38, 0x58, 10, 0, 0, 0, 0, 0, 0, 0], 12);
    const [cw, ch] = [w - 1, h - 1];
    head.set([cw & 255, (cw >> 8) & 255, cw >> 16, ch & 255, (ch >> 8) & 255, ch >> 16], 24);
    const out = new Uint8Array(head.length + b.length - 12);
    out.set(head);
    out.set(b.subarray(12), head.length);
    return out;
  }
  return b;
}

/** Kinds of damage, by index: 0 none, 1 cut in the header, 2 cut after it, 3 bits flipped, 4 a header claiming another size, 5 other magic bytes, 6 junk appended, 7 random bytes. */
export const DAMAGE_KINDS = 8;

/** One image in `format`, damaged as `kind` says, with a label and what a loader must do with it. */
export async function damagedImage(
  g: Gen,
  format: Format,
  kind: number,
): Promise<{ bytes: Uint8Array; label: string; exp: Expect }> {
  const channels = g.pick([1, 2, 3, 4] as const);
  let bytes = await picture(g, format, format === 'jpeg' ? (channels === 1 ? 1 : 3) : channels);
  let exp: Expect = 'either';
  let label: string;
  if (kind === 0) {
    exp = 'valid';
    label = 'valid';
  } else if (kind === 1) {
    const n = g.int(0, Math.min(bytes.length - 1, 64));
    bytes = bytes.slice(0, n);
    exp = 'invalid'; // nothing decodes from a file cut inside its header
    label = `cut to ${n} bytes`;
  } else if (kind === 2) {
    const n = g.int(65, bytes.length - 1);
    bytes = bytes.slice(0, n);
    label = `cut to ${n} of its bytes`;
  } else if (kind === 3) {
    const flips = g.int(1, 8);
    bytes = bytes.slice();
    for (let k = 0; k < flips; k++) bytes[g.int(0, bytes.length - 1)] ^= 1 << g.int(0, 7);
    label = `${flips} bits flipped`;
  } else if (kind === 4) {
    const w = g.pick([0, 8192, 1 << 15, 1 << 16, 65535, 2 ** 24, 2 ** 31 - 1]);
    const h = g.pick([0, 8192, 1 << 14, 65535, 2 ** 24]); // 8192² is MAX_IMAGE_PIXELS itself; 16384 × 8192 lies between it and sharp's own limit
    // A JPEG's header holds 16 bits a side; a WebP canvas 24, as the side minus one (so no 0).
    const most = format === 'jpeg' ? 0xffff : format === 'webp' ? 2 ** 24 : 2 ** 32 - 1;
    const least = format === 'webp' ? 1 : 0;
    const [cw, ch] = [w, h].map((x) => Math.max(least, Math.min(x, most)));
    bytes = claimSize(bytes, format, cw, ch);
    // What the header now claims is refused from the header alone; small claims may or may not decode.
    if (cw * ch > MAX_IMAGE_PIXELS || cw === 0 || ch === 0) exp = 'invalid';
    label = `header claims ${cw}×${ch}`;
  } else if (kind === 5) {
    // GIF, BMP, a zero byte, PNG's own start: each differs from this file's first byte.
    const magic = g.pick(
      [[0x47, 0x49, 0x46, 0x38], [0x42, 0x4d], [0x00], [0x89, 0x50]].filter((m) => m[0] !== bytes[0]),
    );
    bytes = bytes.slice();
    bytes.set(magic, 0);
    label = `magic bytes ${magic.map((x) => x.toString(16)).join(' ')}`;
    exp = 'invalid';
  } else if (kind === 6) {
    const junk = Uint8Array.from({ length: g.int(1, 5000) }, () => g.int(0, 255));
    const out = new Uint8Array(bytes.length + junk.length);
    out.set(bytes);
    out.set(junk, bytes.length);
    bytes = out;
    label = `${junk.length} bytes of junk appended`;
  } else {
    bytes = Uint8Array.from({ length: g.int(0, 3000) }, () => g.int(0, 255));
    exp = 'invalid';
    label = `${bytes.length} random bytes`;
  }
  return { bytes, label, exp };
}
