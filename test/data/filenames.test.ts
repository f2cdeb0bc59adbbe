/**
 * File names that are not UTF-8 (Latin-1 `caf\xe9.png` from an old archive). Node's string names replace the bad
 * bytes with U+FFFD, so the folder loader opened a path that does not exist ("Input file is missing"), and
 * `caf\xe9.png`, `caf\xe8.png` and a real `caf�.png` were one name: the last read three times. Now names are listed as
 * bytes, shown escaped (`shownName`) and opened by their bytes: checked against sharp's own decoding of the same
 * bytes, the escaping against a decoder written here, valid names against Node's own string names.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../ts/errors.js';
import { shownName } from '../../ts/data/filenames.js';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { comparePaths } from '../../ts/data/imagelist.js';
import { MAX_IMAGE_FILE_BYTES } from '../../ts/limits.js';
import { Rng } from '../../ts/util/rng.js';
import { at, bytes, whyNoOddNames } from '../util/oddnames.js';

const noOddNames = whyNoOddNames();
if (noOddNames) console.warn(`test/data/filenames.test.ts: the loader's tests are skipped: ${noOddNames}`);

/** The bytes a shown name stands for, decoded here: `%XX` is byte XX, anything else its UTF-8. */
function bytesOfShown(shown: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < shown.length; ) {
    if (shown[i] === '%') {
      parts.push(Buffer.from([Number.parseInt(shown.slice(i + 1, i + 3), 16)]));
      i += 3;
    } else {
      const ch = String.fromCodePoint(shown.codePointAt(i)!);
      parts.push(Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  return Buffer.concat(parts);
}

describe('shownName', () => {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  it('a valid name as Node and a strict decoder read it; one that is not: its bad bytes and % escaped, reversibly', () => {
    const rng = new Rng(7);
    // Bytes that make names valid and not: ASCII, %, whole sequences, and lone, cut or overlong ones.
    const pieces = [
      [0x61],
      [0x25],
      [0x2e],
      [0xc3, 0xa9],
      [0xe2, 0x82, 0xac],
      [0xf0, 0x9f, 0x98, 0x80],
      [0xef, 0xbb, 0xbf],
      [0xef, 0xbf, 0xbd],
      [0xe9],
      [0xff],
      [0x80],
      [0xc0, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
      [0xf0, 0x9f],
    ];
    let odd = 0;
    const seen = new Map<string, string>();
    for (let t = 0; t < 3000; t++) {
      const b = Buffer.from(
        Array.from(
          { length: 1 + Math.floor(rng.next() * 6) },
          () => pieces[Math.floor(rng.next() * pieces.length)]!,
        ).flat(),
      );
      const shown = shownName(b);
      let valid: string | null = null;
      try {
        valid = strict.decode(b);
      } catch {
        valid = null;
      }
      if (valid !== null) {
        expect(shown).toBe(valid);
        expect(shown).toBe(b.toString('utf8')); // what readdir gives today
      } else {
        odd++;
        expect(bytesOfShown(shown).equals(b), `${b.toString('hex')} → ${shown}`).toBe(true);
        // Shown without a byte the escaping had to leave out: it spells only valid UTF-8.
        expect(Buffer.from(shown, 'utf8').toString('utf8')).toBe(shown);
      }
      const before = seen.get(shown);
      if (before !== undefined && valid === null) expect(before).toBe(b.toString('hex'));
      if (valid === null) seen.set(shown, b.toString('hex'));
    }
    expect(odd).toBeGreaterThan(1000);
    // The documented examples.
    expect(shownName(bytes('caf\xe9.png'))).toBe('caf%E9.png');
    expect(shownName(bytes('50%\xff.png'))).toBe('50%25%FF.png');
    expect(shownName(Buffer.from('50%.png'))).toBe('50%.png');
    expect(shownName(Buffer.from([0xe2, 0x82, 0x41]))).toBe('%E2%82A');
  });
});

describe.skipIf(noOddNames !== null)('loadImageFolder with names that are not UTF-8', () => {
  let root: string;
  /** A w×h RGB image with a different gradient for each `seed`, as PNG bytes. */
  const png = (w: number, h: number, seed: number) => {
    const px = Buffer.alloc(w * h * 3);
    for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) px[3 * p + c] = (p * (c + 1) * 7 + seed * 41) % 256;
    return sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toBuffer();
  };
  /** A file's bytes as the loader decodes them (sharp, fit: cover), as RGB planes: the reference. */
  const planesOf = async (file: Buffer, h: number, w: number) => {
    const { data } = await sharp(file)
      .rotate()
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .resize(w, h, { fit: 'cover', position: 'centre' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return Uint8Array.from({ length: 3 * h * w }, (_, q) => data[3 * (q % (h * w)) + Math.floor(q / (h * w))]!);
  };
  // The names of the mixed folder, as bytes: valid ones (a BOM, a real U+FFFD, a %) beside Latin-1 ones; caf\xe9,
  // caf\xe8 and caf� were one name before.
  const mixed = [
    bytes('a.png'),
    bytes('caf\xe9.png'),
    bytes('caf\xe8.png'),
    Buffer.from('caf\uFFFD.png'),
    bytes('50%\xff.png'),
    Buffer.from('\uFEFFbom.png'),
    Buffer.from('z%E9.png'),
  ];
  const shown = ['a.png', 'caf%E9.png', 'caf%E8.png', 'caf\uFFFD.png', '50%25%FF.png', '\uFEFFbom.png', 'z%E9.png'];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'convae-names-'));
    mkdirSync(join(root, 'mixed'));
    for (const [i, name] of mixed.entries()) writeFileSync(at(join(root, 'mixed'), name), await png(30 + i, 20, i));
    // Classes from a folder named in Latin-1, and one named in UTF-8.
    for (const cls of [bytes('\xe9t\xe9'), Buffer.from('hiver')]) {
      mkdirSync(at(join(root, 'seasons'), cls), { recursive: true });
      for (const f of ['0.png', '1.png'])
        writeFileSync(at(join(root, 'seasons'), Buffer.concat([cls, bytes(`/${f}`)])), await png(20, 20, cls.length));
    }
    // A valid name that an escaped one would be shown as.
    mkdirSync(join(root, 'clash'));
    writeFileSync(at(join(root, 'clash'), bytes('caf\xe9.png')), await png(20, 20, 1));
    writeFileSync(join(root, 'clash', 'caf%E9.png'), await png(20, 20, 2));
    // A file over the byte limit of files read whole (sparse: no disk used), beside one that decodes.
    mkdirSync(join(root, 'huge'));
    writeFileSync(at(join(root, 'huge'), bytes('big\xff.png')), '');
    truncateSync(at(join(root, 'huge'), bytes('big\xff.png')), MAX_IMAGE_FILE_BYTES + 1);
    writeFileSync(join(root, 'huge', 'ok.png'), await png(20, 20, 3));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads each file, pixels as sharp decodes its bytes; names shown distinct, valid ones as Node names them', async () => {
    const dir = join(root, 'mixed');
    const f = await loadImageFolder(dir, { size: [12, 16], channels: 3 });
    const want = [...shown].sort(comparePaths);
    expect(f.files).toEqual(want);
    // The valid names are Node's own string names, today's.
    const nodeNames = readdirSync(dir);
    for (const [i, name] of mixed.entries())
      if (shown[i] === name.toString('utf8')) expect(nodeNames).toContain(shown[i]);
    for (const [k, file] of f.files.entries()) {
      const ref = await planesOf(readFileSync(at(dir, mixed[shown.indexOf(file)]!)), 12, 16);
      expect(
        Buffer.from(f.dataset.bytes!.subarray(k * ref.length, (k + 1) * ref.length)).equals(Buffer.from(ref)),
        file,
      ).toBe(true);
    }
    // Seven different images: none read in another's place.
    const images = new Set(
      f.files.map((_, k) => Buffer.from(f.dataset.bytes!.subarray(k * 576, (k + 1) * 576)).toString('hex')),
    );
    expect(images.size).toBe(mixed.length);
  });

  it('patches: cut from sharp’s decoding of each file’s bytes, at the places patchOrigins gives', async () => {
    const dir = join(root, 'mixed');
    const f = await loadImageFolder(dir, { size: [5, 6], channels: 3, patches: { perImage: 4, seed: 2 } });
    const o = f.patchOrigins!;
    expect(f.files.length).toBe(4 * mixed.length);
    for (let p = 0; p < f.files.length; p++) {
      const file = f.files[p]!;
      const { data, info } = await sharp(readFileSync(at(dir, mixed[shown.indexOf(file)]!)))
        .raw()
        .toBuffer({ resolveWithObject: true });
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 5; y++)
          for (let x = 0; x < 6; x++)
            expect(f.dataset.bytes![p * 90 + c * 30 + y * 6 + x]).toBe(
              data[info.channels * ((o.y[p]! + y) * info.width + o.x[p]! + x) + c],
            );
    }
  });

  it('labels from a class folder whose name is not UTF-8', async () => {
    const f = await loadImageFolder(join(root, 'seasons'), { size: [4, 4], channels: 1 });
    expect(f.classes).toEqual(['%E9t%E9', 'hiver']);
    expect(f.files).toEqual(['%E9t%E9/0.png', '%E9t%E9/1.png', 'hiver/0.png', 'hiver/1.png']);
    expect(Array.from(f.dataset.labels!)).toEqual([0, 0, 1, 1]);
  });

  it('an escaped name that meets a valid one beside it is refused, naming it; a file over the byte limit is skipped by its size', async () => {
    const clash = await loadImageFolder(join(root, 'clash')).catch((e) => e);
    expect(clash).toBeInstanceOf(DataError);
    expect(clash.message).toContain('"caf%E9.png"');
    const f = await loadImageFolder(join(root, 'huge'), { size: [4, 4], onError: 'skip' });
    expect(f.files).toEqual(['ok.png']);
    // Refused by the size the open file reports, before a byte is read (a read would have stopped past the limit).
    expect(f.skipped).toEqual([
      {
        file: 'big%FF.png',
        reason: `the file is ${MAX_IMAGE_FILE_BYTES + 1} bytes, more than the limit of ${MAX_IMAGE_FILE_BYTES} bytes for an image whose name is not UTF-8, which is read whole (MAX_IMAGE_FILE_BYTES)`,
      },
    ]);
  });
});
