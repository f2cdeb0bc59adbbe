/**
 * Where `convae denoise` writes each image, and the checks that keep those writes inside `OUT/images/`: names
 * mirrored from the input folder (never leaving the folder, never two images in one file), no symbolic link on the
 * way, no input folder under `--out`; and the writing itself (one PNG per image, each atomic).
 */
import { lstat, realpath, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ArgumentError } from '../errors.js';
import { makeDirs, TMP_SUFFIX, writeAtomic } from '../io/files.js';
import { encodePng } from '../viz/png.js';
import { imageGrid } from '../viz/raster.js';
import { type AllData, imageFolderOf } from './data.js';
import { readFileHead } from './readfile.js';

const OP = 'convae denoise';

/** Bytes of a file or folder name on Linux's and macOS's file systems (NAME_MAX). */
const NAME_MAX = 255;

/** Refuses an image folder `--data` inside `--out`: its files could be replaced by their own denoised versions. */
export async function checkDataNotInOut(data: string, out: string): Promise<void> {
  const dir = await imageFolderOf(data);
  if (dir === null) return;
  const [root, at] = await Promise.all([realpath(dir), realpath(out).catch(() => resolve(out))]);
  const rel = relative(at, root);
  if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) return;
  throw new ArgumentError(
    OP,
    '--out',
    `${out.slice(0, 160)} holds --data ${data.slice(0, 160)}: its images could be replaced by their denoised versions; give --out a folder outside it`,
  );
}

/**
 * Each image's output file, relative to `--out`: `images/` and the folder's relative path with its extension made
 * .png (two inputs that would meet keep their whole name: `a.jpg.png`, `a.png`), or `images/<index>.png` for the
 * fixed-format sets. Every name is checked to stay inside `images/` and to be one image's alone.
 */
export function outputNames(d: Pick<AllData, 'name' | 'names'>): string[] {
  const n = d.names.length;
  if (!d.name.startsWith('folder:')) {
    const digits = String(Math.max(0, n - 1)).length;
    return Array.from({ length: n }, (_, i) => `images/${String(i).padStart(digits, '0')}.png`);
  }
  const parts = d.names.map((name) => {
    const segs = name.split('/');
    // The folder walk gives none of these; a name that had one would write outside images/.
    if (segs.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0')))
      throw new ArgumentError(
        OP,
        '--data',
        `holds a file name that cannot be an output's: ${JSON.stringify(name.slice(0, 160))}`,
      );
    // A backslash is a name's own character on Linux and macOS, a separator on Windows: never one here.
    return segs.map((s) => s.replaceAll('\\', '_'));
  });
  const stem = (segs: string[]) => {
    const last = segs[segs.length - 1]!;
    const dot = last.lastIndexOf('.');
    return [...segs.slice(0, -1), `${dot > 0 ? last.slice(0, dot) : last}.png`].join('/');
  };
  const first = parts.map(stem);
  const count = new Map<string, number>();
  // Compared without case: on a case-insensitive disk (macOS, Windows) `A.png` and `a.png` are one file.
  for (const f of first) count.set(f.toLowerCase(), (count.get(f.toLowerCase()) ?? 0) + 1);
  const names = parts.map((segs, i) => (count.get(first[i]!.toLowerCase())! > 1 ? `${segs.join('/')}.png` : first[i]!));
  const seen = new Set<string>();
  for (const [i, f] of names.entries()) {
    const key = f.toLowerCase();
    if (seen.has(key))
      throw new ArgumentError(
        OP,
        '--data',
        `two files would be written to one output, ${JSON.stringify(f.slice(0, 160))} (the last: ${JSON.stringify(d.names[i]!.slice(0, 160))}): rename one`,
      );
    seen.add(key);
    // Refused here, not by the file system after earlier images were written: a name shown escaped is up to three
    // times its bytes (`%FF`), and a name of 252 bytes or more has no room for the `.tmp` it is written to first.
    const segs = f.split('/');
    const long = segs.findIndex(
      (s, k) => Buffer.byteLength(s) + (k === segs.length - 1 ? TMP_SUFFIX.length : 0) > NAME_MAX,
    );
    if (long >= 0)
      throw new ArgumentError(
        OP,
        '--data',
        `holds a file whose output name is too long to write, ${JSON.stringify(segs[long]!.slice(0, 80))}… (${Buffer.byteLength(segs[long]!)} bytes; a name on disk has at most ${NAME_MAX}${long === segs.length - 1 ? `, ${TMP_SUFFIX.length} of them for ${TMP_SUFFIX} while it is written` : ''}): rename it`,
      );
  }
  return names.map((f) => `images/${f}`);
}

/**
 * Refuses a symbolic link among the folders the images go to (`OUT/images` and its sub-folders, where they exist):
 * the images would land wherever it points, the data folder included.
 */
export async function checkNoLinks(out: string, outputs: readonly string[]): Promise<void> {
  const root = await realpath(out);
  const dirs = new Set<string>();
  for (const o of outputs) {
    const segs = o.split('/');
    for (let k = 1; k < segs.length; k++) dirs.add(segs.slice(0, k).join('/'));
  }
  for (const dir of dirs) {
    const at = join(root, dir);
    const real = await realpath(at).catch(() => at);
    if (real !== at)
      throw new ArgumentError(
        OP,
        '--out',
        `${join(out, dir).slice(0, 160)} is a symbolic link (to ${real.slice(0, 160)}): the images would be written there; remove it or give another --out`,
      );
  }
}

/** Writes `png` to `out`/`output` atomically, making its folder first unless `madeDirs` says it was made. */
export async function writeImageFile(
  out: string,
  output: string,
  png: Uint8Array,
  madeDirs: Set<string>,
): Promise<void> {
  const file = join(out, output);
  const dir = dirname(file);
  if (!madeDirs.has(dir)) {
    await makeDirs(dir);
    madeDirs.add(dir);
  }
  await writeAtomic(file, png);
}

/** Writes image i's values (pixels in [0, 1], quantised) to `out`/`outputs[i]`, a few at a time, each atomically. */
export async function writeImages(out: string, d: AllData, outputs: string[], pixels: Float32Array): Promise<void> {
  const [c, h, w] = d.data.shape;
  const size = c * h * w;
  const madeDirs = new Set<string>();
  const one = (i: number) =>
    writeImageFile(out, outputs[i]!, imagePng(pixels.subarray(i * size, (i + 1) * size), c, h, w), madeDirs);
  for (let i = 0; i < outputs.length; i += 16)
    await Promise.all(Array.from({ length: Math.min(16, outputs.length - i) }, (_, k) => one(i + k)));
}

/** One image (planes, values on the 1/255 grid) as a PNG: grey for one channel, RGB for three. */
export function imagePng(img: Float32Array, c: number, h: number, w: number): Uint8Array {
  const raster = imageGrid(img, [1, c, h, w], { columns: 1, scale: 1, pad: 0, range: [0, 1] });
  return encodePng(raster, { grey: c === 1 });
}

/**
 * Whether `out` holds the comparison.png of an earlier `--add-noise` run, which a run without it removes
 * (`removeStaleComparison`): a regular file (not a link or anything else the user put there) beside a denoise.csv
 * with the error columns only such a run writes. Asked before this run overwrites denoise.csv. Without the CSV the
 * picture is not known to be the command's: --out may be any folder, and a comparison.png of the user's was removed.
 */
export async function staleComparison(out: string): Promise<boolean> {
  const st = await lstat(join(out, 'comparison.png')).catch(() => null);
  if (!st?.isFile()) return false;
  const head = await readFileHead(join(out, 'denoise.csv'), 64).catch(() => '');
  return head.startsWith('file,output,noisy_mse,');
}

/** Removes `out`/comparison.png, which `staleComparison` found stale; true when it was still a file and removed. */
export async function removeStaleComparison(out: string): Promise<boolean> {
  const path = join(out, 'comparison.png');
  const st = await lstat(path).catch(() => null);
  if (!st?.isFile()) return false;
  await rm(path);
  return true;
}
