/**
 * `patches` of the image-folder loader (ts/data/patches.ts): random windows of each image at its own resolution.
 * The reference is the pixels the test wrote (pngjs, not sharp) cut with plain loops at the places the loader
 * reports; scaled and EXIF-rotated images are compared with sharp's own decode, rotate and resize of the file.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { loadImageSources } from '../../ts/data/imagefiles.js';
import { patchOrigins } from '../../ts/data/patches.js';
import { ArgumentError, DataError, FormatError } from '../../ts/errors.js';
import { MAX_DATASET_BYTES, MAX_PATCHES } from '../../ts/limits.js';

/** Pixels of w×h×c bytes, every value unrelated to its neighbours (a hash of the index). */
function noise(w: number, h: number, c: number, salt: number): Uint8Array {
  const b = new Uint8Array(w * h * c);
  for (let i = 0; i < b.length; i++) b[i] = (Math.imul(i + salt * 7919, 2654435761) >>> 13) & 255;
  return b;
}

/** A PNG of interleaved RGB (c = 3) or grey (c = 1) pixels, written with pngjs. */
function writePng(file: string, w: number, h: number, c: 1 | 3, px: Uint8Array): void {
  const png = new PNG({ width: w, height: h, colorType: c === 3 ? 2 : 0, inputColorType: c === 3 ? 2 : 0 });
  png.data = Buffer.from(px);
  writeFileSync(file, PNG.sync.write(png, { colorType: c === 3 ? 2 : 0, inputColorType: c === 3 ? 2 : 0 }));
}

const luma = (r: number, g: number, b: number) => Math.round(0.299 * r + 0.587 * g + 0.114 * b);

/** Value of channel `ch` (of `outC`) at (x, y) of interleaved pixels with `inC` channels, as the loader converts it. */
function pixel(px: Uint8Array, w: number, inC: number, outC: number, x: number, y: number, ch: number): number {
  const q = (y * w + x) * inC;
  if (inC === 1) return px[q];
  return outC === 1 ? luma(px[q], px[q + 1], px[q + 2]) : px[q + ch];
}

interface Source {
  w: number;
  h: number;
  c: number;
  px: Uint8Array;
}

/** Checks every patch of `r` against the window of its source cut with plain loops at its reported place. */
function expectWindows(
  r: Awaited<ReturnType<typeof loadImageFolder>>,
  sources: Record<string, Source>,
  ph: number,
  pw: number,
): void {
  const [c] = r.dataset.shape;
  const size = c * ph * pw;
  const bytes = r.dataset.bytes!;
  const { x, y } = r.patchOrigins!;
  expect(x.length).toBe(r.dataset.length);
  for (let j = 0; j < r.dataset.length; j++) {
    const s = sources[r.files[j]];
    expect(x[j] + pw).toBeLessThanOrEqual(s.w);
    expect(y[j] + ph).toBeLessThanOrEqual(s.h);
    for (let ch = 0; ch < c; ch++)
      for (let row = 0; row < ph; row++)
        for (let col = 0; col < pw; col++) {
          const got = bytes[j * size + (ch * ph + row) * pw + col];
          const want = pixel(s.px, s.w, s.c, c, x[j] + col, y[j] + row, ch);
          if (got !== want) expect({ patch: j, ch, row, col, got }).toEqual({ patch: j, ch, row, col, got: want });
        }
  }
}

let root: string;
const sources: Record<string, Source> = {};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'convae-patches-'));
  for (const d of ['pets/cat', 'pets/dog', 'small', 'rotated', 'bad']) mkdirSync(join(root, d), { recursive: true });
  const add = (rel: string, w: number, h: number, c: 1 | 3, salt: number) => {
    const px = noise(w, h, c, salt);
    writePng(join(root, 'pets', rel), w, h, c, px);
    sources[rel] = { w, h, c, px };
  };
  add('cat/a.png', 40, 30, 3, 1);
  add('cat/b-grey.png', 17, 50, 1, 2);
  add('dog/c.png', 14, 12, 3, 3); // exactly one patch's size: one place only
  add('dog/d.png', 64, 20, 3, 4);
  writePng(join(root, 'small', 'ok.png'), 30, 30, 3, noise(30, 30, 3, 5));
  writePng(join(root, 'small', 'tiny.png'), 13, 40, 3, noise(13, 40, 3, 6)); // 1 pixel narrower than a patch
  // Stored 40 wide and 24 high with EXIF orientation 6 (rotate 90° clockwise): 24 wide and 40 high as shown.
  await sharp(Buffer.from(noise(40, 24, 3, 7)), { raw: { width: 40, height: 24, channels: 3 } })
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toFile(join(root, 'rotated', 'r.jpg'));
  writeFileSync(join(root, 'bad', 'broken.png'), Buffer.from('not a png'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadImageFolder with patches', () => {
  it('cuts perImage windows at their own resolution, at the places it reports; labels carry over', async () => {
    for (const channels of [3, 1] as const) {
      const r = await loadImageFolder(join(root, 'pets'), { size: [12, 14], channels, patches: { perImage: 9 } });
      expect(r.dataset.shape).toEqual([channels, 12, 14]);
      expect(r.dataset.length).toBe(4 * 9);
      const files = ['cat/a.png', 'cat/b-grey.png', 'dog/c.png', 'dog/d.png'];
      expect(r.files).toEqual(files.flatMap((f) => Array(9).fill(f)));
      expect(r.classes).toEqual(['cat', 'dog']);
      expect(Array.from(r.dataset.labels!)).toEqual(files.flatMap((f) => Array(9).fill(f.startsWith('cat') ? 0 : 1)));
      expect(r.skipped).toEqual([]);
      expectWindows(r, sources, 12, 14);
      // The image of a patch's size has one place.
      expect(Array.from(r.patchOrigins!.x.subarray(18, 27))).toEqual(Array(9).fill(0));
    }
  });

  it('places: patchOrigins of the file index and its size; same seed the same, another seed others', async () => {
    const opts = { size: [12, 14] as [number, number], patches: { perImage: 9, seed: 5 } };
    const a = await loadImageFolder(join(root, 'pets'), opts);
    const b = await loadImageFolder(join(root, 'pets'), { ...opts, concurrency: 1 });
    expect(Array.from(b.dataset.bytes!)).toEqual(Array.from(a.dataset.bytes!));
    expect(Array.from(b.patchOrigins!.x)).toEqual(Array.from(a.patchOrigins!.x));
    const d = patchOrigins({ perImage: 9, seed: 5 }, 3, 64, 20, 12, 14);
    expect(Array.from(a.patchOrigins!.x.subarray(27))).toEqual(Array.from(d.x));
    expect(Array.from(a.patchOrigins!.y.subarray(27))).toEqual(Array.from(d.y));
    const c = await loadImageFolder(join(root, 'pets'), { ...opts, patches: { perImage: 9, seed: 6 } });
    // 64×20 with 14×12 windows: 51 × 9 places; nine equal draws of two seeds would be a broken stream.
    expect(Array.from(c.patchOrigins!.x.subarray(27))).not.toEqual(Array.from(d.x));
    expect(Array.from(c.dataset.bytes!)).not.toEqual(Array.from(a.dataset.bytes!));
    expectWindows(c, sources, 12, 14);
    // The default seed is 1.
    const one = await loadImageFolder(join(root, 'pets'), { size: [12, 14], patches: { perImage: 9 } });
    const seeded = await loadImageFolder(join(root, 'pets'), { size: [12, 14], patches: { perImage: 9, seed: 1 } });
    expect(Array.from(one.patchOrigins!.y)).toEqual(Array.from(seeded.patchOrigins!.y));
  });

  it('places are uniform over every place a window fits', () => {
    // 17×50 with 14×12 windows: 4 × 39 = 156 places; 156 000 draws, about 1 000 at each.
    const { x, y } = patchOrigins({ perImage: 156_000, seed: 3 }, 1, 17, 50, 12, 14);
    const count = new Float64Array(4 * 39);
    for (let i = 0; i < x.length; i++) {
      expect(x[i] < 4 && y[i] < 39).toBe(true);
      count[y[i] * 4 + x[i]]++;
    }
    let chi2 = 0;
    for (const n of count) chi2 += (n - 1000) ** 2 / 1000;
    // 155 degrees of freedom: mean 155, sd 17.6; 260 is 6 sd above.
    expect(chi2).toBeLessThan(260);
    expect(Math.min(...count)).toBeGreaterThan(850);
  });

  it('scale: each image scaled first (as sharp resizes it), EXIF orientation applied before', async () => {
    const r = await loadImageFolder(join(root, 'pets'), { size: [6, 5], patches: { perImage: 4, scale: 0.5 } });
    const scaled: Record<string, Source> = {};
    for (const [file, s] of Object.entries(sources)) {
      const w = Math.round(s.w * 0.5),
        h = Math.round(s.h * 0.5);
      // sharp gives 3 channels from a grey raw image resized: `c` from what it returns.
      const { data, info } = await sharp(Buffer.from(s.px), {
        raw: { width: s.w, height: s.h, channels: s.c as 1 | 3 },
      })
        .resize(w, h, { fit: 'fill', kernel: 'lanczos3' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([w, h]);
      scaled[file] = { w, h, c: info.channels, px: new Uint8Array(data) };
    }
    expectWindows(r, scaled, 6, 5);

    // Shown 24 wide and 40 high: at scale 0.5, 12 × 20, windows of 5 × 6 go up to x = 7 and y = 14.
    const rot = await loadImageFolder(join(root, 'rotated'), { size: [6, 5], patches: { perImage: 200, scale: 0.5 } });
    const { data } = await sharp(join(root, 'rotated', 'r.jpg'))
      .rotate()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const px = await sharp(data, { raw: { width: 24, height: 40, channels: 3 } })
      .resize(12, 20, { fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    expectWindows(rot, { 'r.jpg': { w: 12, h: 20, c: 3, px: new Uint8Array(px) } }, 6, 5);
    expect(Math.max(...rot.patchOrigins!.x)).toBe(7);
    expect(Math.max(...rot.patchOrigins!.y)).toBe(14);
  });

  it('an image smaller than a patch: a FormatError naming it, or skipped with the reason; the others keep their places', async () => {
    const dir = join(root, 'small');
    const thrown = await loadImageFolder(dir, { size: [12, 14], patches: { perImage: 3 } }).catch((e) => e);
    expect(thrown).toBeInstanceOf(FormatError);
    expect(thrown.message).toMatch(/tiny\.png: the image is 13×40 pixels, smaller than a patch of 14×12/);
    const r = await loadImageFolder(dir, { size: [12, 14], patches: { perImage: 3 }, onError: 'skip' });
    expect(r.files).toEqual(['ok.png', 'ok.png', 'ok.png']);
    expect(r.skipped).toEqual([{ file: 'tiny.png', reason: expect.stringMatching(/smaller than a patch/) }]);
    const own = patchOrigins({ perImage: 3, seed: 1 }, 0, 30, 30, 12, 14);
    expect(Array.from(r.patchOrigins!.x)).toEqual(Array.from(own.x));
    // After scaling the reason says so.
    const half = await loadImageFolder(dir, { size: [12, 14], patches: { perImage: 3, scale: 0.5 } }).catch((e) => e);
    expect(half.message).toMatch(/tiny\.png: the image is 7×20 pixels after scaling by 0\.5, smaller/);
    // None left: a DataError that says why of the first (the skipped list is never returned).
    const none = loadImageFolder(dir, { size: [40, 40], patches: { perImage: 3 }, onError: 'skip' });
    await expect(none).rejects.toThrow(DataError);
    await expect(none).rejects.toThrow(
      /none of the 2 image files in .* both decodes and holds a 40×40 patch \(ok\.png: the image is 30×30 pixels, smaller than a patch of 40×40 \(width×height\)\)$/,
    );
  });

  it("image: the index of each patch's file among the files that gave patches, for splitDataset's groups", async () => {
    const dir = join(root, 'mixed');
    mkdirSync(dir);
    // A skipped file between kept ones: the images are numbered among the kept files.
    const sizes: [string, number][] = [
      ['a.png', 30],
      ['b-tiny.png', 8],
      ['c.png', 20],
      ['d.png', 40],
    ];
    for (const [k, [f, side]] of sizes.entries()) writePng(join(dir, f), side, side, 3, noise(side, side, 3, 20 + k));
    for (const perImage of [1, 4]) {
      const r = await loadImageFolder(dir, { size: [12, 14], patches: { perImage }, onError: 'skip' });
      expect(r.skipped.map((x) => x.file)).toEqual(['b-tiny.png']);
      const kept = ['a.png', 'c.png', 'd.png'];
      expect(Array.from(r.patchOrigins!.image)).toEqual(r.files.map((f) => kept.indexOf(f)));
      expect(r.patchOrigins!.image.length).toBe(r.dataset.length);
    }
  });

  it('bad patches options are refused before anything is listed or decoded', async () => {
    const none = join(root, 'no-such-folder');
    const bad: unknown[] = [
      5,
      [],
      {},
      { perImage: 0 },
      { perImage: 1.5 },
      { perImage: MAX_PATCHES + 1 },
      { perImage: '3' },
      { perImage: 2, seed: -1 },
      { perImage: 2, seed: 2 ** 32 },
      { perImage: 2, seed: 0.5 },
      { perImage: 2, scale: 0 },
      { perImage: 2, scale: 1.5 },
      { perImage: 2, scale: Number.NaN },
      { perImage: 2, scale: '0.5' },
      { perImage: 2, scales: 0.5 },
    ];
    for (const patches of bad) {
      const e = await loadImageFolder(none, { patches: patches as never }).catch((x) => x);
      expect(e, JSON.stringify(patches)).toBeInstanceOf(ArgumentError);
      expect(e.message).toMatch(/^loadImageFolder: patches/);
      expect(e.message.length).toBeLessThan(300);
    }
  });

  it('memory: files × perImage × channels × size over the limits is refused before decoding', async () => {
    // The folder holds one file that cannot be decoded: a decode would have been a FormatError.
    const dir = join(root, 'bad');
    const huge = await loadImageFolder(dir, { size: [4096, 4096], patches: { perImage: 100 } }).catch((e) => e);
    expect(huge).toBeInstanceOf(ArgumentError);
    expect(huge.message).toMatch(
      new RegExp(
        `100 patches of 3×4096×4096 need ${100 * 3 * 4096 * 4096} bytes, more than the limit ${MAX_DATASET_BYTES}`,
      ),
    );
    // More patches than MAX_PATCHES (two files of MAX_PATCHES each), however small.
    const two = join(root, 'two-bad');
    mkdirSync(two);
    writeFileSync(join(two, 'x.png'), 'x');
    writeFileSync(join(two, 'y.png'), 'y');
    const many = await loadImageFolder(two, { size: [1, 1], patches: { perImage: MAX_PATCHES } }).catch((e) => e);
    expect(many).toBeInstanceOf(ArgumentError);
    expect(many.message).toMatch(/more than the limit 16777216/);
  });

  it('loadImageSources refuses patches (they follow the sorted file list)', async () => {
    await expect(loadImageSources([{} as never], { patches: { perImage: 2 } } as never)).rejects.toThrow(
      /loadImageSources: patches is an option of the file loaders/,
    );
  });
});
