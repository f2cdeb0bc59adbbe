/**
 * `convae denoise`: the PNGs it writes decode (with the project's decoder) to the library's reconstructions,
 * quantised to 8 bits; the CSV's errors are recomputed here from the PNGs and from the seeded noise; workers write
 * the same files as this thread; a contrast-normalised model's output is mapped back to pixels with each image's
 * own mean and spread (an undo written here); odd file names stay inside OUT/images; every refusal comes before an
 * image is encoded.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconstructThrough } from '../../ts/anomaly/score.js';
import { reconstructTiled } from '../../ts/anomaly/tiled.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { folderFiles, limitSample } from '../../ts/cli/data.js';
import { denoise } from '../../ts/cli/denoise.js';
import { outputNames } from '../../ts/cli/denoise-files.js';
import { decodableFiles, denoiseOwnSize, type OwnSizeTiling, ownSizeFiles } from '../../ts/cli/denoise-own.js';
import { describeNoise } from '../../ts/cli/denoise-report.js';
import { ArgumentError, FormatError } from '../../ts/errors.js';
import { MAX_DENOISE_TILES } from '../../ts/limits.js';
import { decodeImageFile, imageFileSize, loadImageFolder } from '../../ts/data/imagefolder.js';
import { addNoise } from '../../ts/data/imagenoise.js';
import { loadMnist } from '../../ts/data/mnist.js';
import { CONTRAST_EPS, contrastNormalize } from '../../ts/data/normalize.js';
import { quantize } from '../../ts/data/quality.js';
import { threadRunner } from '../../ts/train/runner.js';
import { deriveSeed, Rng } from '../../ts/util/rng.js';
import { BUILD } from '../util/backend.js';
import { tilesOf } from '../util/tiles.js';
import { cliAsync, savedStackAndImages } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliAsync(120_000);

/** A CSV of our writing: quoted fields may hold commas, quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [],
    field = '',
    quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',' || ch === '\n') {
      row.push(field);
      field = '';
      if (ch === '\n') {
        rows.push(row);
        row = [];
      }
    } else field += ch;
  }
  return rows;
}

/** Images read back from the PNGs under `dir`, in `names`' order (16×16 RGB: no resizing). */
async function readBack(dir: string, names: string[], shape: [number, number, number]): Promise<Float32Array> {
  const f = await loadImageFolder(dir, { size: [shape[1], shape[2]], channels: shape[0] as 1 | 3, labels: 'none' });
  const at = new Map(f.files.map((name, i) => [name, i]));
  const out = new Float32Array(names.length * f.dataset.imageSize);
  names.forEach((name, i) => {
    const j = at.get(name);
    if (j === undefined) throw new Error(`no output ${name}`);
    out.set(f.dataset.readImages(j, j + 1), i * f.dataset.imageSize);
  });
  return out;
}

/** A file as sharp decodes it, without resizing, as RGB planes: the reference of the own-size reads. */
async function rgbPlanes(file: string): Promise<{ planes: Uint8Array; h: number; w: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const h = info.height,
    w = info.width;
  const planes = new Uint8Array(3 * h * w);
  for (let p = 0; p < h * w; p++) for (let ch = 0; ch < 3; ch++) planes[ch * h * w + p] = data[3 * p + ch]!;
  return { planes, h, w };
}

const quantised = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));
const mseOf = (a: Float32Array, b: Float32Array, i: number, size: number) => {
  let s = 0;
  for (let t = i * size; t < (i + 1) * size; t++) s += (a[t]! - b[t]!) ** 2;
  return s / size;
};

describe.runIf(BUILD === 'simd')('convae denoise', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-denoise-'));
  const imgs = join(dir, 'imgs'); // reds/ and blues/, 40 each
  const odd = join(dir, 'odd');
  const damaged = join(dir, 'damaged');
  const stack = join(dir, 'stack');
  const contrast = join(dir, 'contrast');
  const white = join(dir, 'white');
  const oddNames = ['a b, "c".png', 'x..y.png', '=cmd.png', 'x.png', 'x.jpg', 'sub/é.png', 'sub/x.png'];
  beforeAll(async () => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    mkdirSync(join(odd, 'sub'), { recursive: true });
    for (const [i, name] of oddNames.entries()) {
      const px = Buffer.alloc(16 * 16 * 3, 40 + 20 * i);
      const img = sharp(px, { raw: { width: 16, height: 16, channels: 3 } });
      await (name.endsWith('.jpg') ? img.jpeg() : img.png()).toFile(join(odd, name));
    }
    writeFileSync(join(odd, 'zz-bad.png'), 'not a png');
    // imgs and 30 damaged files among its 80 images (the folder's listing is 110 files).
    cpSync(imgs, damaged, { recursive: true });
    for (let i = 0; i < 30; i++) writeFileSync(join(damaged, i % 2 ? 'reds' : 'blues', `${i}-bad.png`), 'not a png');
    const runs = await Promise.all(
      [
        [stack, 'none'],
        [contrast, 'contrast'],
        [white, 'whiten'],
      ].map(([out, how]) =>
        cli(['pretrain', '--data', imgs, '--size', '16x16', '--epochs', '1', '--normalize', how!, '--out', out!, '-q']),
      ),
    );
    for (const r of runs) expect(r.status, r.stderr).toBe(0);
    tiling = { stack: (await savedStackAndImages(stack, imgs)).stack, stride: undefined };
  }, 240_000);
  afterAll(() => {
    tiling?.stack.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  /** `ownSizeFiles`'s tiling: the saved stack (16×16 tiles) at the default stride. */
  let tiling: OwnSizeTiling | undefined;

  it('writes each image denoised (the library’s reconstruction, quantised) and a CSV of errors recomputed here', async () => {
    const out = join(dir, 'out');
    const r = await cli([
      'denoise',
      ...['--model', stack, '--data', imgs, '--out', out, '--add-noise', 'masking:0.3', '--seed', '5'],
      ...['--workers', '0', '--resize'],
    ]);
    expect(r.status, r.stderr).toBe(0);
    const { stack: s, images } = await savedStackAndImages(stack, imgs);
    try {
      const size = images.imageSize,
        n = images.length;
      const rows = parseCsv(readFileSync(join(out, 'denoise.csv'), 'utf8'));
      expect(rows[0]).toEqual(['file', 'output', 'noisy_mse', 'noisy_psnr', 'denoised_mse', 'denoised_psnr']);
      expect(rows.length).toBe(n + 1);
      const files = rows.slice(1).map((row) => row[0]!);
      expect(rows.slice(1).map((row) => row[1])).toEqual(files.map((f) => `images/${f}`));
      const got = await readBack(join(out, 'images'), files, [3, 16, 16]);
      const noisy = addNoise(images, { type: 'masking', fraction: 0.3 }, { seed: 5 });
      const want = reconstructThrough(s, noisy, 1);
      for (let i = 0; i < got.length; i++) expect(Math.round(got[i]! * 255)).toBe(quantised(want[i]!));
      let sumNoisy = 0,
        sumDenoised = 0;
      const clean = images.images,
        dirty = noisy.images;
      rows.slice(1).forEach((row, i) => {
        const [nm, np, dm, dp] = row.slice(2).map(Number) as [number, number, number, number];
        const noisyMse = mseOf(clean, dirty, i, size),
          denoisedMse = mseOf(clean, got, i, size);
        expect(Math.abs(nm - noisyMse) / noisyMse).toBeLessThan(1e-5);
        expect(Math.abs(dm - denoisedMse) / denoisedMse).toBeLessThan(1e-5);
        expect(np).toBeCloseTo(10 * Math.log10(1 / noisyMse), 2);
        expect(dp).toBeCloseTo(10 * Math.log10(1 / denoisedMse), 2);
        sumNoisy += np;
        sumDenoised += dp;
      });
      expect(r.stdout).toContain(
        `mean PSNR noisy ${(sumNoisy / n).toFixed(2)} dB → denoised ${(sumDenoised / n).toFixed(2)} dB`,
      );
      // comparison.png: 12 images at 6 pixels a pixel, in three rows (clean, noisy, denoised), 1-pixel gaps, with
      // the rows' names beside them and a title above.
      const cmp = PNG.sync.read(readFileSync(join(out, 'comparison.png')));
      expect(cmp.width).toBeGreaterThan(1 + 12 * 97 + 40);
      expect(cmp.height).toBeGreaterThan(1 + 3 * 97 + 20);
      // The same run in two workers writes the same files.
      const out2 = join(dir, 'out2');
      const w = await cli([
        'denoise',
        ...['--model', stack, '--data', imgs, '--out', out2, '--add-noise', 'masking:0.3', '--seed', '5'],
        ...['--workers', '2', '--resize', '-q'],
      ]);
      expect(w.status, w.stderr).toBe(0);
      expect(w.stdout).toBe('');
      expect(readFileSync(join(out2, 'denoise.csv'), 'utf8')).toBe(readFileSync(join(out, 'denoise.csv'), 'utf8'));
      for (const f of files.slice(0, 10))
        expect(readFileSync(join(out2, 'images', f)).equals(readFileSync(join(out, 'images', f)))).toBe(true);
      // Without --add-noise: no errors, no comparison.
      const out3 = join(dir, 'out3');
      const plain = await cli([
        ...['denoise', '--model', stack, '--data', imgs, '--out', out3, '--depth', '2', '--resize', '-q'],
      ]);
      expect(plain.status, plain.stderr).toBe(0);
      expect(readFileSync(join(out3, 'denoise.csv'), 'utf8').split('\n')[0]).toBe('file,output');
      expect(existsSync(join(out3, 'comparison.png'))).toBe(false);
      const deep = await readBack(join(out3, 'images'), files, [3, 16, 16]);
      const want2 = reconstructThrough(s, images, 2);
      for (let i = 0; i < deep.length; i++) expect(Math.round(deep[i]! * 255)).toBe(quantised(want2[i]!));
      // A run without --add-noise removes an earlier run's comparison.png (its title gave the PSNRs of images
      // denoise.csv no longer lists); a link of that name is not the command's, and is left.
      const again = await cli(['denoise', '--model', stack, '--data', imgs, '--out', out2, '--resize']);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/removed the comparison\.png of an earlier --add-noise run/);
      expect(existsSync(join(out2, 'comparison.png'))).toBe(false);
      symlinkSync(join(out, 'comparison.png'), join(out3, 'comparison.png'));
      const linked = await cli(['denoise', '--model', stack, '--data', imgs, '--out', out3, '--resize', '-q']);
      expect(linked.status, linked.stderr).toBe(0);
      expect(lstatSync(join(out3, 'comparison.png')).isSymbolicLink()).toBe(true);
      // Nor a comparison.png of the user's in a folder no --add-noise run wrote to (no denoise.csv with errors): it
      // was removed.
      const mine = join(dir, 'out-mine');
      mkdirSync(mine);
      writeFileSync(join(mine, 'comparison.png'), 'my own picture');
      const kept = await cli(['denoise', '--model', stack, '--data', imgs, '--out', mine, '--resize']);
      expect(kept.status, kept.stderr).toBe(0);
      expect(kept.stderr).not.toMatch(/removed/);
      expect(readFileSync(join(mine, 'comparison.png'), 'utf8')).toBe('my own picture');
    } finally {
      s.dispose();
    }
  }, 240_000);

  it('maps a contrast-normalised model’s reconstructions back with each image’s own mean and spread', async () => {
    const out = join(dir, 'out-contrast');
    const r = await cli([
      ...['denoise', '--model', contrast, '--data', imgs, '--out', out, '--workers', '0', '--resize', '-q'],
    ]);
    expect(r.status, r.stderr).toBe(0);
    const { stack: s, images } = await savedStackAndImages(contrast, imgs);
    try {
      const files = parseCsv(readFileSync(join(out, 'denoise.csv'), 'utf8'))
        .slice(1)
        .map((row) => row[0]!);
      const got = await readBack(join(out, 'images'), files, [3, 16, 16]);
      const y = reconstructThrough(s, contrastNormalize(images), 1);
      const size = images.imageSize;
      let far = 0;
      for (let i = 0; i < images.length; i++) {
        const img = images.images.subarray(i * size, (i + 1) * size);
        const m = img.reduce((a, v) => a + v, 0) / size;
        const sd = Math.sqrt(img.reduce((a, v) => a + (v - m) ** 2, 0) / size + CONTRAST_EPS);
        for (let t = 0; t < size; t++) {
          const d = Math.abs(Math.round(got[i * size + t]! * 255) - quantised(y[i * size + t]! * sd + m));
          // float32 against float64 may round a value at a half level the other way.
          expect(d).toBeLessThanOrEqual(1);
          if (d) far++;
        }
      }
      expect(far).toBeLessThan(images.images.length / 100);
    } finally {
      s.dispose();
    }
  }, 120_000);

  it('reads a folder at each image’s own size: larger, smaller and the model’s size, tiled, noise seeded per image', async () => {
    const sizes = join(dir, 'sizes');
    const dims: [string, number, number][] = [
      ['a-wide.png', 37, 50],
      ['b-small.png', 7, 10],
      ['c-exact.png', 16, 16],
      ['d-tall.jpg', 41, 18],
    ];
    mkdirSync(sizes);
    for (const [name, h, w] of dims) {
      const rng = new Rng(h * w);
      const img = sharp(Buffer.from(Array.from({ length: h * w * 3 }, () => Math.floor(256 * rng.next()))), {
        raw: { width: w, height: h, channels: 3 },
      });
      await (name.endsWith('.jpg') ? img.jpeg() : img.png()).toFile(join(sizes, name));
    }
    const out = join(dir, 'out-sizes');
    const line = ['denoise', '--model', stack, '--data', sizes, '--add-noise', 'gaussian:0.2', '--seed', '5'];
    const r = await cli([...line, '--out', out, '--workers', '0']);
    expect(r.status, r.stderr).toBe(0);
    // stderr is no terminal here: the progress comes as plain lines, the last with the run's tiles, counted apart.
    const tiles = dims.reduce((sum, [, h, w]) => sum + tilesOf(h, w, 16, 8), 0);
    expect(r.stderr).toMatch(
      new RegExp(`^convae denoise: 100% \\(${tiles} of ${tiles} tiles\\), image 4/4, \\S+$`, 'm'),
    );
    const rows = parseCsv(readFileSync(join(out, 'denoise.csv'), 'utf8')).slice(1);
    expect(rows.map((row) => row.slice(0, 2))).toEqual([
      ['a-wide.png', 'images/a-wide.png'],
      ['b-small.png', 'images/b-small.png'],
      ['c-exact.png', 'images/c-exact.png'],
      ['d-tall.jpg', 'images/d-tall.png'],
    ]);
    const { be, stack: s } = await savedStackAndImages(stack, imgs);
    try {
      for (const [i, [name, h, w]] of dims.entries()) {
        // The clean image as sharp decodes it, without resizing; the noise of image i seeded deriveSeed(5, i).
        const { data } = await sharp(join(sizes, name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
        const planes = new Uint8Array(3 * h * w);
        for (let p = 0; p < h * w; p++) for (let ch = 0; ch < 3; ch++) planes[ch * h * w + p] = data[3 * p + ch]!;
        const clean = ImageDataset.fromUint8(planes, [3, h, w], null, { store: 'uint8' });
        const noisy = addNoise(clean, { type: 'gaussian', std: 0.2 }, { seed: deriveSeed(5, i) });
        const want = quantize(await reconstructTiled(threadRunner(be), s, noisy.images, [3, h, w]));
        const png = PNG.sync.read(readFileSync(join(out, rows[i]![1]!)));
        expect([png.width, png.height], name).toEqual([w, h]);
        const got = new Float32Array(3 * h * w);
        for (let p = 0; p < h * w; p++)
          for (let ch = 0; ch < 3; ch++) got[ch * h * w + p] = png.data[4 * p + ch]! / 255;
        for (let t = 0; t < got.length; t++) expect(Math.round(got[t]! * 255)).toBe(Math.round(want[t]! * 255));
        const [nm, , dm] = rows[i]!.slice(2).map(Number) as [number, number, number];
        const size = 3 * h * w;
        expect(Math.abs(nm - mseOf(clean.images, noisy.images, 0, size)) / nm).toBeLessThan(1e-5);
        expect(Math.abs(dm - mseOf(clean.images, got, 0, size)) / dm).toBeLessThan(1e-5);
      }
    } finally {
      s.dispose();
    }
    // comparison.png: the four whole (each under 96 px a side), each on black in a cell of the largest, 41×50 at
    // scale 1 (cut to the smallest, 7×10, they had all been 7×10).
    const cmp = PNG.sync.read(readFileSync(join(out, 'comparison.png')));
    expect(cmp.width).toBeGreaterThan(1 + 4 * 51);
    expect(cmp.height).toBeGreaterThan(1 + 3 * 42);
    // The widest, a-wide.png (37×50), is shown whole at scale 1: its middle row, 50 pixels as the file holds them, is
    // a run of the picture. Cut to the smallest shown (7×10, scaled by 9) it was not.
    const { data: wide } = await sharp(join(sizes, 'a-wide.png')).raw().toBuffer({ resolveWithObject: true });
    const middle = Buffer.from(wide.subarray(18 * 50 * 3, 19 * 50 * 3));
    const rgb = Buffer.alloc(cmp.width * cmp.height * 3);
    for (let p = 0; p < cmp.width * cmp.height; p++) cmp.data.copy(rgb, 3 * p, 4 * p, 4 * p + 3);
    expect(rgb.indexOf(middle)).toBeGreaterThanOrEqual(0);
    // Two workers write the same files.
    const out2 = join(dir, 'out-sizes2');
    const w2 = await cli([...line, '--out', out2, '--workers', '2', '-q']);
    expect(w2.status, w2.stderr).toBe(0);
    expect(w2.stderr).toBe(''); // -q: no progress either
    expect(readFileSync(join(out2, 'denoise.csv'), 'utf8')).toBe(readFileSync(join(out, 'denoise.csv'), 'utf8'));
    for (const row of rows)
      expect(readFileSync(join(out2, row[1]!)).equals(readFileSync(join(out, row[1]!)))).toBe(true);
    // A photo over MAX_TILED_PIXELS is refused from its header, before anything is written.
    const big = join(dir, 'big');
    mkdirSync(big);
    await sharp({ create: { width: 4100, height: 4100, channels: 3, background: { r: 9, g: 9, b: 9 } } })
      .png()
      .toFile(join(big, 'huge.png'));
    const refused = await cli(['denoise', '--model', stack, '--data', big, '--out', join(dir, 'out-big'), '-q']);
    expect(refused.status).not.toBe(0);
    // Named as what it is, a photo too large for the tiles, and what reads it (before, "cannot decode the image").
    expect(refused.stderr).toMatch(
      /huge\.png: too large to denoise at its own size: 4100×4100 pixels, more than the limit of 16777216 \(MAX_TILED_PIXELS; --resize reads it resized to the model's input\) \(--skip-bad skips such files\)/,
    );
    expect(existsSync(join(dir, 'out-big'))).toBe(false);
    // Skipped, it leaves no image: refused too.
    const none = await cli(['denoise', '--model', stack, '--data', big, '--out', join(dir, 'out-big'), '--skip-bad']);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toMatch(/none of the 1 image files in .*big could be decoded/);
    expect(existsSync(join(dir, 'out-big'))).toBe(false);
  }, 120_000);

  it('--stride and --window lay the tiles at own size: reconstructTiled’s result with them, not its default', async () => {
    const tiles = join(dir, 'tiles');
    mkdirSync(tiles);
    const [h, w] = [29, 43];
    const rng = new Rng(7);
    await sharp(Buffer.from(Array.from({ length: h * w * 3 }, () => Math.floor(256 * rng.next()))), {
      raw: { width: w, height: h, channels: 3 },
    })
      .png()
      .toFile(join(tiles, 'a.png'));
    const out = join(dir, 'out-tiles');
    const line = ['denoise', '--model', stack, '--data', tiles, '--workers', '0', '-q'];
    const r = await cli([...line, '--out', out, '--stride', '5', '--window', 'flat']);
    expect(r.status, r.stderr).toBe(0);
    const { be, stack: s } = await savedStackAndImages(stack, imgs);
    try {
      const { planes } = await rgbPlanes(join(tiles, 'a.png'));
      const clean = Float32Array.from(planes, (v) => v / 255);
      const tiled = (o: { stride?: number; window?: 'flat' }) =>
        reconstructTiled(threadRunner(be), s, clean, [3, h, w], o).then(quantize);
      const want = await tiled({ stride: 5, window: 'flat' });
      const byDefault = await tiled({});
      const png = PNG.sync.read(readFileSync(join(out, 'images', 'a.png')));
      expect([png.width, png.height]).toEqual([w, h]);
      let differ = 0;
      for (let p = 0; p < h * w; p++)
        for (let ch = 0; ch < 3; ch++) {
          const t = ch * h * w + p;
          expect(png.data[4 * p + ch], `pixel ${p} channel ${ch}`).toBe(Math.round(want[t]! * 255));
          if (Math.round(want[t]! * 255) !== Math.round(byDefault[t]! * 255)) differ++;
        }
      // The flags changed the tiling: the default's PNG would differ at many pixels.
      expect(differ).toBeGreaterThan(100);
      // Each flag alone reaches the tiling too.
      for (const [flag, value, o] of [
        ['--stride', '5', { stride: 5 }],
        ['--window', 'flat', { window: 'flat' }],
      ] as const) {
        const one = join(dir, `out-tiles${flag}`);
        expect((await cli([...line, '--out', one, flag, value])).status).toBe(0);
        const expected = await tiled(o);
        const got = PNG.sync.read(readFileSync(join(one, 'images', 'a.png')));
        for (let p = 0; p < h * w; p++)
          for (let ch = 0; ch < 3; ch++) expect(got.data[4 * p + ch]).toBe(Math.round(expected[ch * h * w + p]! * 255));
      }
    } finally {
      s.dispose();
    }
  }, 120_000);

  it('a run of more tiles than MAX_DENOISE_TILES is refused from the headers, naming --stride, before decoding', async () => {
    // 2 900² pixels, one colour; cut to half its bytes, so its header reads and its pixels do not decode.
    const folder = join(dir, 'many-tiles');
    mkdirSync(folder);
    const png = await sharp({ create: { width: 2900, height: 2900, channels: 3, background: { r: 9, g: 99, b: 9 } } })
      .png()
      .toBuffer();
    writeFileSync(join(folder, 'wide.png'), png.subarray(0, png.length >> 1));
    const out = join(dir, 'many-tiles-out');
    const line = ['denoise', '--model', stack, '--data', folder, '--out', out, '--workers', '0'];
    const r = await cli([...line, '--stride', '1']);
    const tiles = tilesOf(2900, 2900, 16, 1);
    expect(tiles).toBeGreaterThan(MAX_DENOISE_TILES);
    // The smallest stride whose tiles fit, counted apart.
    const fits = [2, 3, 4, 5, 6, 7, 8].find((s) => tilesOf(2900, 2900, 16, s) <= MAX_DENOISE_TILES)!;
    expect(fits).toBeGreaterThan(1);
    expect(r.status).toBe(1);
    // Refused from the header: the decoder, which would have stopped at the damaged pixels, never ran.
    expect(r.stderr.trim()).toBe(
      `convae denoise: --stride 1 lays ${tiles} tiles of 16×16 on "wide.png" (2900×2900), more than MAX_DENOISE_TILES (${MAX_DENOISE_TILES} an image, 6–13 minutes on 2 cores): give --stride ${fits} or more (up to 16)`,
    );
    expect(existsSync(out)).toBe(false);
    // At the default stride its tiles are few: the check decodes it, and stops at its pixels.
    const byDefault = await cli(line);
    expect(byDefault.status).toBe(1);
    expect(byDefault.stderr).toContain(`${join(folder, 'wide.png')}: cannot decode the image`);
    expect(existsSync(out)).toBe(false);
    // Stride 8 on a 4 096² photo passes (about a minute of tiles), its count counted apart.
    const large = join(dir, 'large-photo');
    mkdirSync(large);
    await sharp({ create: { width: 4096, height: 4096, channels: 3, background: { r: 1, g: 2, b: 3 } } })
      .png()
      .toFile(join(large, 'p.png'));
    const spec = { data: large };
    const files = await ownSizeFiles((await folderFiles(spec))!, spec, { stack: tiling!.stack, stride: 8 }, 0);
    expect(files.tiles).toEqual([tilesOf(4096, 4096, 16, 8)]);
    // The bound is an image's: seven images each under it, together over it, pass.
    const seven = join(dir, 'seven');
    mkdirSync(seven);
    const small = await sharp({ create: { width: 600, height: 600, channels: 3, background: { r: 5, g: 6, b: 7 } } })
      .png()
      .toBuffer();
    for (let i = 0; i < 7; i++) writeFileSync(join(seven, `${i}.png`), small);
    const each = tilesOf(600, 600, 16, 1);
    expect(each).toBeLessThanOrEqual(MAX_DENOISE_TILES);
    expect(7 * each).toBeGreaterThan(MAX_DENOISE_TILES);
    const sevenSpec = { data: seven };
    const sevenFiles = await ownSizeFiles(
      (await folderFiles(sevenSpec))!,
      sevenSpec,
      { stack: tiling!.stack, stride: 1 },
      0,
    );
    expect(sevenFiles.tiles).toEqual(Array(7).fill(each));
    // The header's size is the decoded one, EXIF rotation applied: stored 40 wide and 24 high, orientation 6.
    const turned = join(dir, 'turned.jpg');
    await sharp(Buffer.alloc(40 * 24 * 3, 77), { raw: { width: 40, height: 24, channels: 3 } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(turned);
    const decoded = await decodeImageFile(turned, { channels: 3 });
    expect([decoded.height, decoded.width]).toEqual([40, 24]);
    expect(await imageFileSize(turned)).toEqual({ height: 40, width: 24 });
  }, 120_000);

  it('--skip-bad --limit k at own size: k images, sampled among the files that decode, the ones --resize picks', async () => {
    const line = ['denoise', '--model', stack, '--data', damaged, '--skip-bad', '--limit', '12', '--workers', '0'];
    const [own, resized] = await Promise.all([
      cli([...line, '--out', join(dir, 'out-damaged'), '-q']),
      cli([...line, '--out', join(dir, 'out-damaged-resized'), '--resize', '-q']),
    ]);
    expect(own.status, own.stderr).toBe(0);
    expect(resized.status, resized.stderr).toBe(0);
    const names = (out: string) =>
      parseCsv(readFileSync(join(dir, out, 'denoise.csv'), 'utf8'))
        .slice(1)
        .map((row) => row[0]!);
    const picked = names('out-damaged');
    expect(picked.length).toBe(12);
    expect(picked.some((f) => f.includes('bad'))).toBe(false);
    expect(picked).toEqual(names('out-damaged-resized'));
    expect(readdirSync(join(dir, 'out-damaged', 'images', 'reds')).length).toBe(
      picked.filter((f) => f.startsWith('reds/')).length,
    );
    // Both name the 30 files they skipped.
    for (const r of [own, resized]) expect(r.stderr).toMatch(/skipped 30 file\(s\) that cannot be decoded/);
  }, 120_000);

  it('--limit k without --skip-bad: a damaged file outside the sample stops own size as it stops --resize', async () => {
    // The 80 images and one damaged file, which --limit 5's sample (seed 1) leaves out.
    const folder = join(dir, 'one-bad');
    cpSync(imgs, folder, { recursive: true });
    writeFileSync(join(folder, 'reds', 'zz-bad.png'), 'not a png');
    const listed = (await folderFiles({ data: folder }))!;
    const bad = listed.files.indexOf('reds/zz-bad.png');
    expect(bad).toBeGreaterThanOrEqual(0);
    expect(Array.from(limitSample(listed.labels, listed.files.length, 5, 1))).not.toContain(bad);
    const line = ['denoise', '--model', stack, '--data', folder, '--limit', '5', '--workers', '0', '-q'];
    const run = (out: string, ...extra: string[]) => cli([...line, '--out', join(dir, out), ...extra]);
    const [own, resized] = await Promise.all([run('one-bad-own'), run('one-bad-resized', '--resize')]);
    // Both stop on it, name it alike and write nothing (own size denoised its sample and said nothing of it).
    for (const [r, out] of [
      [own, 'one-bad-own'],
      [resized, 'one-bad-resized'],
    ] as const) {
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain(`${join(folder, 'reds', 'zz-bad.png')}: cannot decode the image`);
      expect(r.stderr).toContain('(--skip-bad skips such files)');
      expect(existsSync(join(dir, out))).toBe(false);
    }
    // With --skip-bad both leave it out and denoise the same five files.
    const [ownSkip, resizedSkip] = await Promise.all([
      run('one-bad-own-skip', '--skip-bad'),
      run('one-bad-resized-skip', '--skip-bad', '--resize'),
    ]);
    expect(ownSkip.status, ownSkip.stderr).toBe(0);
    expect(resizedSkip.status, resizedSkip.stderr).toBe(0);
    const names = (out: string) =>
      parseCsv(readFileSync(join(dir, out, 'denoise.csv'), 'utf8'))
        .slice(1)
        .map((row) => row[0]!);
    expect(names('one-bad-own-skip')).toHaveLength(5);
    expect(names('one-bad-own-skip')).toEqual(names('one-bad-resized-skip'));
    // Without --skip-bad the sample is known before the check: of the whole folder it decodes, only the sample's
    // images are kept, the first up to the budget.
    const clean = { data: imgs, limit: 12 };
    const cleanListed = (await folderFiles(clean))!;
    const kept = await ownSizeFiles(cleanListed, clean, tiling!, 5 * 1200);
    expect(kept.files).toEqual(Array.from(limitSample(cleanListed.labels, 80, 12, 1), (i) => cleanListed.files[i]!));
    expect(kept.decoded.map((d) => d !== undefined)).toEqual(kept.files.map((_, j) => j < 5));
  }, 120_000);

  it('comparison.png at own size shows the images the run at the model’s size shows: sampled by class', async () => {
    // 40 reds and 10 blues: shown in proportion, 10 and 2 (a sample of the files alone gave 11 and 1).
    const uneven = join(dir, 'uneven');
    cpSync(join(imgs, 'reds'), join(uneven, 'reds'), { recursive: true });
    for (let i = 0; i < 10; i++) cpSync(join(imgs, 'blues', `${i}.png`), join(uneven, 'blues', `${i}.png`));
    const out = join(dir, 'out-shown');
    const line = ['denoise', '--model', stack, '--data', uneven, '--add-noise', 'masking:0.3', '--workers', '0', '-q'];
    const r = await cli([...line, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const cmp = PNG.sync.read(readFileSync(join(out, 'comparison.png')));
    const rgb = Buffer.alloc(cmp.width * cmp.height * 3);
    for (let p = 0; p < cmp.width * cmp.height; p++) cmp.data.copy(rgb, 3 * p, 4 * p, 4 * p + 3);
    // 12 of the 50 20×20 images are shown, each at 4 pixels a pixel (96 / 20): an image is shown when its clean
    // middle row, each pixel four times, is a run of the picture.
    const files = parseCsv(readFileSync(join(out, 'denoise.csv'), 'utf8'))
      .slice(1)
      .map((row) => row[0]!);
    expect(files.length).toBe(50);
    const shown: string[] = [];
    for (const f of files) {
      const { planes } = await rgbPlanes(join(uneven, f));
      const row = Buffer.alloc(20 * 4 * 3);
      for (let x = 0; x < 20; x++)
        for (let k = 0; k < 4; k++)
          for (let ch = 0; ch < 3; ch++) row[3 * (4 * x + k) + ch] = planes[ch * 400 + 10 * 20 + x]!;
      if (rgb.indexOf(row) >= 0) shown.push(f);
    }
    // In proportion to the classes, and the same sample the run at the model's size draws (`limitIndices` on its
    // decoded images: `limitSample` on their labels, seed 1).
    expect(shown.filter((f) => f.startsWith('reds/')).length).toBe(10);
    expect(shown.filter((f) => f.startsWith('blues/')).length).toBe(2);
    const labels = files.map((f) => (f.startsWith('blues/') ? 0 : 1));
    expect(shown).toEqual(Array.from(limitSample(labels, 50, 12, 1), (i) => files[i]!));
  }, 120_000);

  it('the check decodes each chosen file once, before anything is written, and keeps the images up to its budget', async () => {
    const spec = { data: damaged, skipBad: true, limit: 12 };
    const listed = (await folderFiles(spec))!;
    expect(listed.files.length).toBe(110);
    const all = await ownSizeFiles(listed, spec, tiling!);
    // 20×20 RGB images: 1 200 bytes each. With room for five, the sample's first five are kept (the headers told the
    // damaged files apart before the whole folder was decoded), the others read again when denoised.
    const five = await ownSizeFiles(listed, spec, tiling!, 5 * 1200);
    expect(five.files).toEqual(all.files);
    expect(five.decoded.map((d) => d !== undefined)).toEqual(five.files.map((_, j) => j < 5));
    expect(all.decoded.every((d) => d !== undefined)).toBe(true);
    // Each kept image is its own file's pixels (the lists stay aligned after the skipped files and the sample).
    for (const [j, file] of all.files.entries()) {
      const ref = await rgbPlanes(join(damaged, file));
      const got = all.decoded[j]!;
      expect([got.height, got.width], file).toEqual([ref.h, ref.w]);
      expect(Buffer.from(got.planes).equals(Buffer.from(ref.planes)), file).toBe(true);
    }
    expect(all.skipped.length).toBe(30);
    // Without --skip-bad the first damaged file in the folder's order stops it (four are decoded at once).
    const first = listed.files.find((f) => f.includes('bad'))!;
    await expect(ownSizeFiles(listed, { data: damaged }, tiling!)).rejects.toThrow(
      `${join(damaged, first)}: cannot decode the image`,
    );
    // Of two failing in one batch, the earlier in the list.
    await expect(
      decodableFiles(listed, ['blues/1.png', 'reds/1-bad.png', 'blues/0-bad.png'], 3, { skipBad: false }),
    ).rejects.toThrow(`${join(damaged, 'reds/1-bad.png')}: cannot decode the image`);
  }, 60_000);

  it('a file changed or removed after the check is a FormatError naming it, not the decoder’s bare error', async () => {
    const folder = join(dir, 'changing');
    mkdirSync(folder, { recursive: true });
    for (const f of ['0.png', '1.png', '2.png']) cpSync(join(imgs, 'reds', f), join(folder, f));
    const spec = { data: folder };
    const { be, stack: s } = await savedStackAndImages(stack, imgs);
    try {
      for (const [damage, why] of [
        [(f: string) => writeFileSync(f, 'not a png'), /unsupported image format|corrupt|not a png/i],
        [(f: string) => rmSync(f), /missing|no such file|does not exist/i],
      ] as const) {
        for (const f of ['0.png', '1.png', '2.png']) cpSync(join(imgs, 'reds', f), join(folder, f));
        const listed = (await folderFiles(spec))!;
        // Nothing kept decoded (a folder of photos past the budget): every file is decoded again when denoised.
        const files = await ownSizeFiles(listed, spec, tiling!, 0);
        damage(join(folder, '1.png'));
        const out = join(dir, 'changing-out');
        const run = denoiseOwnSize({
          args: { model: stack, data: folder, out, depth: 1, noiseSeed: 1, build: BUILD, quiet: true },
          ...{ stack: s, input: { normalize: 'none' }, depth: 1, runner: threadRunner(be), files },
          ...{ outputs: outputNames({ name: files.name, names: files.files }), log: () => {} },
        });
        const err = await run.catch((e: unknown) => e);
        expect(err).toBeInstanceOf(FormatError);
        const m = (err as Error).message;
        expect(m.startsWith(`${join(folder, '1.png')}: decoded when the files were checked`), m).toBe(true);
        expect(m).toMatch(why);
        expect(m).toMatch(/; 1 \(of 3\) images written to .*changing-out, denoise\.csv not$/);
      }
      // Replaced by a valid image of other tiles: the tile bound and the progress total were counted on the old one.
      for (const f of ['0.png', '1.png', '2.png']) cpSync(join(imgs, 'reds', f), join(folder, f));
      const listed = (await folderFiles(spec))!;
      const files = await ownSizeFiles(listed, spec, tiling!, 0);
      await sharp({ create: { width: 200, height: 120, channels: 3, background: { r: 200, g: 0, b: 0 } } })
        .png()
        .toFile(join(folder, '1.png'));
      const out = join(dir, 'changing-out-2');
      const err = await denoiseOwnSize({
        args: { model: stack, data: folder, out, depth: 1, noiseSeed: 1, build: BUILD, quiet: true },
        ...{ stack: s, input: { normalize: 'none' }, depth: 1, runner: threadRunner(be), files },
        ...{ outputs: outputNames({ name: files.name, names: files.files }), log: () => {} },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FormatError);
      const [, th] = s.inputShape as [number, number, number];
      expect((err as Error).message).toBe(
        `${join(folder, '1.png')}: changed since the files were checked: now 200×120 pixels, ${tilesOf(120, 200, th, Math.ceil(th / 2))} tiles where the check counted ${files.tiles[1]}; 1 (of 3) images written to ${out}, denoise.csv not`,
      );
    } finally {
      s.dispose();
    }
  }, 60_000);

  it('--skip-bad with no file decodable says why, from the first: too large at own size, naming --resize', async () => {
    const big = join(dir, 'all-too-big');
    mkdirSync(big, { recursive: true });
    // 4 097² pixels, one more row and column than MAX_TILED_PIXELS (2²⁴) allows; one colour, so a small file.
    const raw = { raw: { width: 4097, height: 4097, channels: 3 as const } };
    await sharp(Buffer.alloc(4097 * 4097 * 3, 90), raw)
      .png()
      .toFile(join(big, 'photo.png'));
    const r = await cli([
      'denoise',
      '--model',
      stack,
      '--data',
      big,
      '--out',
      join(dir, 'all-too-big-out'),
      '--skip-bad',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^convae denoise: none of the 1 image files in .*big could be decoded \(photo\.png: too large to denoise at its own size: 4097×4097 pixels.*--resize/,
    );
    expect(existsSync(join(dir, 'all-too-big-out'))).toBe(false);
  }, 60_000);

  it('called as a function, a window it does not know is refused before any file is decoded', async () => {
    // odd holds zz-bad.png, which the check before writing would stop at first.
    const args = { model: stack, data: odd, out: join(dir, 'window-out'), depth: 1, noiseSeed: 1, build: BUILD };
    const err = await denoise({ ...args, quiet: true, window: 'box' as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as Error).message).toBe('convae denoise: --window must be hann or flat, got "box"');
    expect(existsSync(join(dir, 'window-out'))).toBe(false);
  });

  it('grey models write grey PNGs named by index for mnist', async () => {
    const grey = join(dir, 'grey');
    const p = await cli([
      'pretrain',
      '--data',
      'mnist',
      '--limit',
      '300',
      '--epochs',
      '1',
      '--maps',
      '4,6',
      '--out',
      grey,
      '-q',
    ]);
    expect(p.status, p.stderr).toBe(0);
    const out = join(dir, 'out-grey');
    const r = await cli([
      'denoise',
      ...['--model', grey, '--data', 'mnist', '--limit', '12', '--out', out, '--add-noise', 'salt-pepper:0.2'],
      ...['--workers', '0', '-q'],
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(out, 'images')).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `${String(i).padStart(2, '0')}.png`),
    );
    const rows = parseCsv(readFileSync(join(out, 'denoise.csv'), 'utf8'));
    expect(rows[1]!.slice(0, 2)).toEqual(['test#0', 'images/00.png']);
    // Colour type 0: grey, one byte a pixel.
    const png = readFileSync(join(out, 'images', '03.png'));
    expect(png[25]).toBe(0);
    const decoded = PNG.sync.read(png);
    expect([decoded.width, decoded.height]).toEqual([28, 28]);
    const clean = await loadMnist({ split: 'test', limit: 12 });
    const mse = Number(rows[4]![4]);
    const img = new Float32Array(784);
    for (let q = 0; q < 784; q++) img[q] = decoded.data[4 * q]! / 255;
    const want = mseOf(clean.readImages(3, 4), img, 0, 784);
    expect(Math.abs(mse - want) / want).toBeLessThan(1e-5);
  }, 120_000);

  it('keeps odd file names inside OUT/images, each its own output; --skip-bad leaves a damaged file out', async () => {
    const out = join(dir, 'out-odd');
    const line = ['denoise', '--model', stack, '--data', odd, '--out', out, '--workers', '0', '-q'];
    const bad = await cli(line);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/zz-bad\.png/);
    expect(existsSync(out)).toBe(false);
    const r = await cli([...line, '--skip-bad']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/zz-bad\.png/);
    const rows = parseCsv(readFileSync(join(out, 'denoise.csv'), 'utf8')).slice(1);
    const byFile = new Map(rows.map(([file, output]) => [file!.replace(/^'/, ''), output!]));
    expect(byFile.get('a b, "c".png')).toBe('images/a b, "c".png');
    expect(byFile.get('x..y.png')).toBe('images/x..y.png');
    expect(byFile.get('=cmd.png')).toBe('images/=cmd.png');
    // x.png and x.jpg would meet at x.png: both keep their whole name.
    expect(byFile.get('x.png')).toBe('images/x.png.png');
    expect(byFile.get('x.jpg')).toBe('images/x.jpg.png');
    expect(byFile.get('sub/é.png')).toBe('images/sub/é.png');
    for (const o of byFile.values()) expect(existsSync(join(out, o)), o).toBe(true);
    expect(byFile.size).toBe(oddNames.length);
    expect(readdirSync(out).sort()).toEqual(['denoise.csv', 'images']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.png'))).toEqual([]);
    // A spreadsheet formula is shown as text.
    expect(readFileSync(join(out, 'denoise.csv'), 'utf8')).toContain("'=cmd.png");
  }, 120_000);

  it('describeNoise gives the fraction as a percentage a user wrote, not its float product', () => {
    // 100 × 0.07 = 7.000000000000001 and 100 × 0.29 = 28.999999999999996 in float64.
    for (const [fraction, pct] of [
      [0.07, '7'],
      [0.29, '29'],
      [0.57, '57'],
      [0.001, '0.1'],
      [0.123456789, '12.3456789'],
    ])
      expect(describeNoise({ type: 'salt-pepper', fraction: Number(fraction) })).toBe(
        `salt-pepper noise on ${pct} % of the values`,
      );
    expect(describeNoise({ type: 'masking', fraction: 0.07 })).toBe('masking noise on 7 % of the values');
  });

  it('outputNames: a name that would leave OUT/images (../, absolute, empty parts) is refused', () => {
    const d = (names: string[]) => ({
      name: 'folder:/x',
      names,
      classes: null,
      data: ImageDataset.fromFloat32(new Float32Array(names.length), [1, 1, 1]),
    });
    expect(outputNames(d(['a/b.jpg', 'c.webp']))).toEqual(['images/a/b.png', 'images/c.png']);
    for (const bad of ['../x.png', 'a/../../x.png', '/etc/x.png', 'a//x.png', './x.png', 'a/./x.png'])
      expect(() => outputNames(d(['ok.png', bad])), bad).toThrow(ArgumentError);
    // A backslash (a separator on Windows) becomes '_'.
    expect(outputNames(d(['a\\..\\x.png']))).toEqual(['images/a_.._x.png']);
    // Two names that differ by case only would be one file on macOS: both keep their whole name.
    expect(outputNames(d(['A.jpg', 'a.png']))).toEqual(['images/A.jpg.png', 'images/a.png.png']);
    expect(() => outputNames(d(['a.png', 'a.png']))).toThrow(/two files would be written to one output/);
    expect(outputNames({ ...d(['test#0']), name: 'mnist' })).toEqual(['images/0.png']);
  });

  it('refuses, before anything is encoded or written: one error line each', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const holder = join(dir, 'holder');
    mkdirSync(join(holder, 'data', 'a'), { recursive: true });
    await sharp(Buffer.alloc(16 * 16 * 3, 90), { raw: { width: 16, height: 16, channels: 3 } })
      .png()
      .toFile(join(holder, 'data', 'a', '1.png'));
    const linked = join(dir, 'linked');
    mkdirSync(linked);
    symlinkSync(join(imgs, 'reds'), join(linked, 'images'));
    const blocked = join(dir, 'blocked');
    mkdirSync(join(blocked, 'denoise.csv'), { recursive: true });
    const cases: [string[], RegExp][] = [
      [['--depth', '3'], /^convae denoise: --depth must be at most 2 \(the blocks of the stack in /],
      [['--depth', '0'], /--depth must be an integer in \[1, /],
      [['--add-noise', 'masking:2'], /--add-noise takes masking:f, salt-pepper:f/],
      [['--add-noise', 'gaussian:-1'], /--add-noise gaussian:σ takes σ in \[0, 10\]/],
      [['--add-noise', 'blur:0.1'], /--add-noise takes masking:f/],
      [['--add-noise', 'masking:'], /--add-noise takes masking:f/],
      [['--add-noise', 'masking:0x1'], /--add-noise takes masking:f/],
      [['--seed', '-1'], /--seed must be an integer/],
      [['--out', file], /--out/],
      [['--out', blocked], /^convae: cannot write --out ".*denoise\.csv": is a directory/],
      [['--out', join(imgs, 'reds', 'denoised')], /^convae denoise: --out .* lies inside --data/],
      [['--data', join(holder, 'data'), '--out', holder], /^convae denoise: --out .* holds --data/],
      [['--data', join(holder, 'data'), '--out', join(holder, 'data')], /^convae denoise: --out .* lies inside --data/],
      [['--model', white], /^convae denoise: --model was trained on whitened images/],
      [['--out', linked], /^convae denoise: --out .*images is a symbolic link \(to .*reds\)/],
      // The tiling flags: parsed strictly, refused where they would do nothing, a stride past the tile refused
      // before a file is decoded (odd holds a damaged file, which would stop the run first).
      [['--stride', '17'], /^convae denoise: --stride must be an integer in \[1, 16\] \(the tile is 16×16/],
      [['--stride', '17', '--data', odd], /^convae denoise: --stride must be an integer in \[1, 16\]/],
      [['--stride', '0'], /--stride must be an integer in \[1, 65536\], in digits/],
      [['--stride', '8.0'], /--stride must be an integer/],
      [['--stride', '1e1'], /--stride must be an integer/],
      [['--stride', ' 8'], /--stride must be an integer/],
      [['--window', 'box'], /'--window <kind>' argument 'box' is invalid/],
      [['--stride', '8', '--resize'], /^convae denoise: --stride lays the tiles .* with --resize each is resized/],
      [['--window', 'flat', '--resize'], /^convae denoise: --window lays the tiles .* with --resize/],
      [['--window', 'hann', '--data', 'mnist'], /^convae denoise: --window lays the tiles .* --data mnist is a fixed/],
      [['--stride', '4', '--data', 'mnist'], /^convae denoise: --stride lays the tiles .* --data mnist is a fixed/],
      // --resize of a fixed-format set would do nothing.
      [['--resize', '--data', 'mnist'], /^convae denoise: --resize resizes an image folder's files .* --data mnist/],
    ];
    const rs = await Promise.all(
      cases.map(([extra]) =>
        cli(['denoise', '--model', stack, '--data', imgs, '--out', join(dir, 'never'), '--workers', '0', ...extra]),
      ),
    );
    rs.forEach((r, i) => {
      const [extra, re] = cases[i]!;
      expect(r.status, `${extra.join(' ')}: ${r.stderr}`).not.toBe(0);
      expect(r.stderr, extra.join(' ')).toMatch(re);
      expect(r.stderr, extra.join(' ')).not.toMatch(/block\(s\) and back|\n\s+at /);
      expect(r.stderr.trim().split('\n').length, extra.join(' ')).toBeLessThanOrEqual(3);
    });
    expect(readFileSync(file, 'utf8')).toBe('x');
    expect(existsSync(join(dir, 'never', 'images'))).toBe(false);
    expect(existsSync(join(holder, 'images'))).toBe(false);
    expect(readdirSync(join(holder, 'data', 'a'))).toEqual(['1.png']);
    expect(readdirSync(join(imgs, 'reds')).length).toBe(40);
    // Nothing was written inside the data folder.
    expect(existsSync(join(imgs, 'reds', 'denoised'))).toBe(false);
  }, 120_000);
});
