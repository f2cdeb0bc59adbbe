/**
 * Fuzzing the image-folder loader (sharp in Node) with damaged files: valid PNG,
 * JPEG and WebP files are cut, flipped, given other magic bytes or a header that
 * claims a huge size, and each is loaded from a class folder of its own. A case
 * must end in a typed error (FormatError naming the file) or a dataset of the
 * asked shape; `onError: 'skip'` must list what it skipped instead of throwing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { MAX_IMAGE_PIXELS } from '../../ts/limits.js';
import { type Expect, expectClean, fuzzCase, Gen, report, snapshot } from './harness.js';

const before = snapshot(null);
const root = mkdtempSync(join(tmpdir(), 'convae-fuzz-img-'));
afterAll(() => {
  report('images', null, before);
  rmSync(root, { recursive: true, force: true });
});

type Format = 'png' | 'jpeg' | 'webp';

/** A small noisy picture in `format`, `channels` 1–4. */
async function picture(g: Gen, format: Format, channels: 1 | 2 | 3 | 4): Promise<Uint8Array> {
  const width = g.int(1, 40);
  const height = g.int(1, 40);
  const raw = Buffer.from(Array.from({ length: width * height * channels }, () => g.int(0, 255)));
  const img = sharp(raw, { raw: { width, height, channels } });
  const out = format === 'png' ? img.png() : format === 'jpeg' ? img.jpeg({ quality: 80 }) : img.webp();
  return new Uint8Array(await out.toBuffer());
}

/** The header rewritten to claim `w`×`h` (PNG IHDR, the first JPEG SOF, a WebP VP8X canvas). */
function claimSize(bytes: Uint8Array, format: Format, w: number, h: number): Uint8Array {
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
        v.setUint16(i + 5, Math.min(h, 0xffff));
        v.setUint16(i + 7, Math.min(w, 0xffff));
        break;
      }
      i += 2 + v.getUint16(i + 2);
    }
  } else {
    // RIFF … WEBP VP8X with a 24-bit canvas size minus one (what a large WebP starts with).
    const head = new Uint8Array(30);
    head.set(b.subarray(0, 12));
    head.set([0x56, 0x50, 0x38, 0x58, 10, 0, 0, 0, 0, 0, 0, 0], 12);
    const cw = Math.min(w, 2 ** 24) - 1;
    const ch = Math.min(h, 2 ** 24) - 1;
    head.set([cw & 255, (cw >> 8) & 255, cw >> 16, ch & 255, (ch >> 8) & 255, ch >> 16], 24);
    const out = new Uint8Array(head.length + b.length - 12);
    out.set(head);
    out.set(b.subarray(12), head.length);
    return out;
  }
  return b;
}

describe('fuzz: image files', () => {
  it('400 damaged PNG, JPEG and WebP files through loadImageFolder', async () => {
    const g = new Gen(31);
    const formats: Format[] = ['png', 'jpeg', 'webp'];
    for (let i = 0; i < 400; i++) {
      const format = formats[i % 3];
      const channels = g.pick([1, 2, 3, 4] as const);
      let bytes = await picture(g, format, format === 'jpeg' ? (channels === 1 ? 1 : 3) : channels);
      const kind = i % 8;
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
        bytes = claimSize(bytes, format, w, h);
        // What the header now claims is refused from the header alone; small claims may or may not decode.
        if (w * h > MAX_IMAGE_PIXELS || w === 0 || h === 0) exp = 'invalid';
        label = `header claims ${w}×${h}`;
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
      const dir = join(root, String(i));
      mkdirSync(join(dir, 'a'), { recursive: true });
      mkdirSync(join(dir, 'b'), { recursive: true });
      const file = `a/x.${format === 'jpeg' ? 'jpg' : format}`;
      writeFileSync(join(dir, file), bytes);
      // A second, sound class keeps the folder valid when the damaged file is skipped.
      writeFileSync(join(dir, 'b/y.png'), await picture(g, 'png', 3));
      const size: [number, number] = [g.int(1, 12), g.int(1, 12)];
      const out = g.pick([1, 3] as const);
      const skip = g.bool(0.3);
      await fuzzCase(
        null,
        'image files',
        `#${i} ${format} ${label}${skip ? ' (skip)' : ''}`,
        skip ? 'valid' : exp,
        async () => {
          const r = await loadImageFolder(dir, { size, channels: out, onError: skip ? 'skip' : 'throw' });
          return () => {
            const n = r.dataset.length;
            expect(r.dataset.shape).toEqual([out, ...size]);
            expect(r.dataset.bytes!.length).toBe(n * out * size[0] * size[1]);
            expect(r.files.length + r.skipped.length).toBe(2);
            expect(r.files).toContain('b/y.png');
            if (r.skipped.length) {
              expect(r.skipped[0].file).toBe(file);
              expect(r.skipped[0].reason.length).toBeLessThan(1000);
            }
            if (exp === 'invalid') expect(r.skipped.map((s) => s.file)).toEqual([file]);
          };
        },
      );
      rmSync(dir, { recursive: true, force: true });
    }
    expectClean('image files');
  }, 120_000);
});
