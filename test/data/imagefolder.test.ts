import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { splitDataset } from '../../ts/data/split.js';
import { ArgumentError, DataError, FormatError } from '../../ts/errors.js';

/** A solid w×h image of one colour (channels 1 or 3, or 4 with alpha a). */
const solid = (w: number, h: number, c: number[]) =>
  sharp(
    Buffer.alloc(w * h * c.length).map((_, i) => c[i % c.length]),
    {
      raw: { width: w, height: h, channels: c.length as 1 | 3 | 4 },
    },
  );

/** 64×32: left half red, right half blue. */
function halves() {
  const w = 64,
    h = 32;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const q = 3 * (y * w + x);
      if (x < 32) px[q] = 255;
      else px[q + 2] = 255;
    }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } });
}

let root: string;
const luma = (r: number, g: number, b: number) => Math.round(0.299 * r + 0.587 * g + 0.114 * b);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'convae-folder-'));
  const d = (p: string) => mkdirSync(join(root, p), { recursive: true });
  d('labelled/cat');
  d('labelled/dog/puppies/small');
  d('labelled/empty');
  d('labelled/.hidden');
  await solid(40, 20, [200, 10, 30]).png().toFile(join(root, 'labelled/cat/a-red.png'));
  await solid(17, 33, [77]).png().toFile(join(root, 'labelled/cat/b-grey.png')); // a 1-channel PNG
  await solid(50, 50, [20, 180, 90]).jpeg({ quality: 95 }).toFile(join(root, 'labelled/dog/c-green.jpg'));
  await halves().png().toFile(join(root, 'labelled/dog/puppies/d-halves.png'));
  await solid(8, 8, [0, 0, 0, 0]).png().toFile(join(root, 'labelled/dog/puppies/small/e-clear.PNG')); // transparent
  await solid(9, 9, [1, 2, 3]).png().toFile(join(root, 'labelled/.hidden/ignored.png'));
  writeFileSync(join(root, 'labelled/cat/notes.txt'), 'not an image');
  // Copies with one corrupt file: PNG signature then garbage.
  d('corrupt/cat');
  d('corrupt/dog');
  await solid(40, 20, [200, 10, 30]).png().toFile(join(root, 'corrupt/cat/a-red.png'));
  await solid(10, 10, [5, 5, 5]).png().toFile(join(root, 'corrupt/dog/ok.png'));
  writeFileSync(
    join(root, 'corrupt/dog/broken.png'),
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]), Buffer.alloc(100, 7)]),
  );
  d('flat');
  for (let i = 0; i < 5; i++)
    await solid(12, 12, [i * 50, 0, 0])
      .png()
      .toFile(join(root, `flat/${i}.png`));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadImageFolder (sharp)', () => {
  it('labels from class folders, nested folders searched, files in sorted order, hidden and other files ignored', async () => {
    const f = await loadImageFolder(join(root, 'labelled'), { size: [32, 32], channels: 3, background: 'white' });
    expect(f.classes).toEqual(['cat', 'dog']); // 'empty' has no images
    expect(f.files).toEqual([
      'cat/a-red.png',
      'cat/b-grey.png',
      'dog/c-green.jpg',
      'dog/puppies/d-halves.png',
      'dog/puppies/small/e-clear.PNG',
    ]);
    expect(Array.from(f.dataset.labels!)).toEqual([0, 0, 1, 1, 1]);
    expect(f.dataset.numClasses).toBe(2);
    expect(f.dataset.shape).toEqual([3, 32, 32]);
    expect(f.dataset.bytes).not.toBeNull(); // stored as bytes
    const px = (i: number, c: number, y: number, x: number) => f.dataset.bytes![i * 3072 + c * 1024 + y * 32 + x];
    // Solid colours survive resizing exactly; grey is repeated into R, G, B.
    for (const [y, x] of [
      [0, 0],
      [31, 31],
      [13, 7],
    ]) {
      expect([px(0, 0, y, x), px(0, 1, y, x), px(0, 2, y, x)]).toEqual([200, 10, 30]);
      expect([px(1, 0, y, x), px(1, 1, y, x), px(1, 2, y, x)]).toEqual([77, 77, 77]);
      for (const [c, v] of [20, 180, 90].entries()) expect(Math.abs(px(2, c, y, x) - v)).toBeLessThanOrEqual(3); // JPEG
      expect([px(4, 0, y, x), px(4, 1, y, x), px(4, 2, y, x)]).toEqual([255, 255, 255]); // transparent over white
    }
    // 64×32 → 32×32 by cover: scale 1, the centre columns 16..47 are kept: left half red, right half blue.
    expect([px(3, 0, 10, 15), px(3, 2, 10, 15)]).toEqual([255, 0]);
    expect([px(3, 0, 10, 16), px(3, 2, 10, 16)]).toEqual([0, 255]);
    // Floats in batches are byte / 255.
    const [b] = f.dataset.batches(5);
    expect(b.images[0]).toBe(Math.fround(200 / 255));
  });

  it('grey output is the BT.601 luma of the colours, and the size can be any height × width', async () => {
    const f = await loadImageFolder(join(root, 'labelled'), { size: [5, 9], channels: 1 });
    expect(f.dataset.shape).toEqual([1, 5, 9]);
    const b = f.dataset.bytes!;
    expect(b[0]).toBe(luma(200, 10, 30));
    expect(b[45]).toBe(77);
    expect(b[4 * 45]).toBe(0); // transparent over the default black
  });

  it('a corrupt file is a FormatError naming it, or skipped and listed with onError: skip', async () => {
    const dir = join(root, 'corrupt');
    const err = await loadImageFolder(dir).catch((e) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect(err.message).toContain(join(dir, 'dog/broken.png'));
    expect(err.message.length).toBeLessThan(500);
    const f = await loadImageFolder(dir, { onError: 'skip', size: [4, 4] });
    expect(f.files).toEqual(['cat/a-red.png', 'dog/ok.png']);
    expect(f.skipped.map((s) => s.file)).toEqual(['dog/broken.png']);
    expect(Array.from(f.dataset.labels!)).toEqual([0, 1]);
    expect(f.dataset.bytes![48]).toBe(5); // image 1 is ok.png, not a blank
  });

  it('an unlabelled folder, limit, and the seeded three-way split', async () => {
    const f = await loadImageFolder(join(root, 'flat'), { size: [2, 2] });
    expect(f.classes).toBeNull();
    expect(f.dataset.labels).toBeNull();
    expect(Array.from({ length: 5 }, (_, i) => f.dataset.bytes![i * 12])).toEqual([0, 50, 100, 150, 200]);
    expect((await loadImageFolder(join(root, 'flat'), { limit: 2 })).files).toEqual(['0.png', '1.png']);
    const none = await loadImageFolder(join(root, 'labelled'), { labels: 'none', size: [2, 2] });
    expect(none.dataset.labels).toBeNull();
    expect(none.files.length).toBe(5);
    const s1 = splitDataset(f.dataset, { validation: 0.2, test: 0.2, seed: 3 });
    const s2 = splitDataset(f.dataset, { validation: 0.2, test: 0.2, seed: 3 });
    expect(Array.from(s1.train.indices)).toEqual(Array.from(s2.train.indices));
    const all = [...s1.train.indices, ...s1.validation!.indices, ...s1.test!.indices].sort();
    expect(all).toEqual([0, 1, 2, 3, 4]);
    // The parts hold the images their indices say.
    s1.train.indices.forEach((i, k) => expect(s1.train.data.bytes![k * 12]).toBe(i * 50));
  });

  it('typed errors for a missing folder, a file, bad options, an empty folder, top-level images with labels: folders', async () => {
    await expect(loadImageFolder(join(root, 'nope'))).rejects.toThrow(/does not exist/);
    await expect(loadImageFolder(join(root, 'labelled/cat/a-red.png'))).rejects.toThrow(DataError);
    await expect(loadImageFolder(join(root, 'flat'), { size: [0, 3] })).rejects.toThrow(ArgumentError);
    await expect(loadImageFolder(join(root, 'flat'), { channels: 2 as unknown as 1 })).rejects.toThrow(
      /channels must be 1 or 3/,
    );
    await expect(loadImageFolder(join(root, 'labelled/empty'))).rejects.toThrow(/no image files/);
    await expect(loadImageFolder(join(root, 'flat'), { labels: 'folders' })).rejects.toThrow(/top level/);
  });
});
