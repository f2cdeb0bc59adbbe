/**
 * The CLI's output folder, checked before any data is loaded (an unwritable
 * `--out` used to fail with a raw stack trace after pretraining).
 */
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isHidden, isImageName } from '../data/imagelist.js';
import { ArgumentError, OutputError, quote } from '../errors.js';
import { makeDirs, reason, writeProbe } from '../io/files.js';
import { imageFolderOf } from './data.js';

/** Kernel file systems: writes there mean something else, or block. */
const VIRTUAL = ['/proc', '/sys', '/dev'];

/**
 * Creates `out` if needed and proves it writable (a probe file written and removed); OutputError otherwise, naming
 * `flag` (`detect --save` names its folder with another flag).
 */
export async function checkOutDir(out: string, flag = '--out'): Promise<void> {
  const fail = (dir: string, why: string) => new OutputError(`cannot write to ${flag} ${quote(dir)}: ${why}`);
  if (typeof out !== 'string' || out === '') throw fail(String(out), 'no folder given');
  const abs = resolve(out);
  const under = (p: string) => VIRTUAL.some((v) => p === v || p.startsWith(`${v}/`));
  if (under(abs)) throw fail(out, 'a kernel file system (/proc, /sys, /dev), not a folder for files');
  try {
    const st = await stat(abs);
    if (!st.isDirectory()) throw fail(out, 'it exists and is not a directory');
  } catch (e) {
    if (e instanceof OutputError) throw e;
    if ((e as { code?: string }).code !== 'ENOENT') throw fail(out, reason(e));
    try {
      await makeDirs(abs);
    } catch (e2) {
      throw fail(out, reason(e2));
    }
  }
  if (under(await realpath(abs).catch(() => abs))) throw fail(out, 'a kernel file system (/proc, /sys, /dev)');
  const probe = resolve(abs, `.convae-write-test-${process.pid}.tmp`);
  try {
    await writeProbe(probe);
  } catch (e) {
    throw fail(out, reason(e));
  }
}

/**
 * A file the user names with `--out`, checked before the work that fills it (`detect` trains first): a folder, a
 * kernel file, or a place no file can be written is an OutputError now, not after training. A pipe or device
 * (/dev/stdout) is fine: `writeOutput` writes to it in place. Errors name `flag` (`similar --picture` names its PNG).
 */
export async function checkOutFile(out: string, flag = '--out'): Promise<void> {
  const fail = (why: string) => new OutputError(`cannot write ${flag} ${quote(out)}: ${why}`);
  if (typeof out !== 'string' || out === '') throw fail('no file given');
  const st = await stat(out).catch(() => null);
  if (st?.isDirectory()) throw fail('is a directory');
  if (st && !st.isFile()) return;
  const abs = await realpath(out).catch(() => resolve(out));
  if (VIRTUAL.some((v) => abs === v || abs.startsWith(`${v}/`)))
    throw fail('a kernel file system (/proc, /sys, /dev), not a place for files');
  const dir = dirname(abs);
  const probe = resolve(dir, `.convae-write-test-${process.pid}.tmp`);
  try {
    await makeDirs(dir);
    await writeProbe(probe);
  } catch (e) {
    throw fail(reason(e));
  }
}

/**
 * `p` absolute, the symbolic links of its longest existing part followed: where a write to `p` lands, though the
 * folders below that part are made later. Not normalised first: `link/..` is the folder above the link's target.
 */
async function landing(p: string): Promise<string> {
  const names = (isAbsolute(p) ? p : `${process.cwd()}${sep}${p}`).split(sep);
  for (let n = names.length; n > 0; n--) {
    const real = await realpath(names.slice(0, n).join(sep) || sep).catch(() => null);
    if (real !== null) return resolve(real, ...names.slice(n));
  }
  return resolve(p);
}

/**
 * `p` resolved, its folders' symbolic links followed (the file itself need not exist): a link in the file's own
 * place is not followed, as the rename of an atomic write replaces it.
 */
async function canonical(p: string): Promise<string> {
  return join(await landing(dirname(p)), basename(p));
}

/**
 * Whether two files a command writes are one: the second write would replace the first (`detect --out` naming the
 * detector.json `--save` writes, `similar --out` and `--picture` the same file), and the run would end without a word.
 */
export async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([canonical(a), canonical(b)]);
  if (x === y) return true;
  const [sa, sb] = await Promise.all([stat(x).catch(() => null), stat(y).catch(() => null)]);
  return !!sa && !!sb && sa.dev === sb.dev && sa.ino === sb.ino;
}

/** A picture a command writes (`folder: false`), or a folder it writes pictures into, with the flag that names it. */
export interface ImageOutput {
  flag: string;
  path: string;
  folder: boolean;
  /** How `flag` reads in messages when the path is not the flag's value (`features`: the --model folder). */
  shown?: string;
}

/** A `--data` spec a command reads, with its flag; undefined when the flag is not given. */
export interface DataInput {
  flag: string;
  spec: string | undefined;
}

/**
 * Refuses an image output the next run on one of the command's input image folders would read back: a picture
 * written inside the folder becomes a training image, a query, a scored image (or, at the top of a folder of class
 * sub-folders, stops it; a folder of pictures becomes a class). The rule is the folder walk's (`listImages`): inside
 * the folder's real path, no hidden name on the way, an image file name. Called before anything is read or written.
 */
export async function checkOutsideData(
  op: string,
  outputs: readonly ImageOutput[],
  inputs: readonly DataInput[],
): Promise<void> {
  for (const input of inputs) {
    const dir = input.spec === undefined ? null : await imageFolderOf(input.spec);
    const root = dir === null ? null : await realpath(dir).catch(() => null);
    if (root === null) continue;
    for (const out of outputs) {
      const at = out.folder ? await landing(out.path) : await canonical(out.path);
      if (readBack(relative(root, at), out.folder)) throw readBackError(op, out, input);
    }
  }
}

/** Whether the folder walk reads a file at `rel` (below the folder's root), or the pictures of a folder at `rel`. */
function readBack(rel: string, folder: boolean): boolean {
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return false;
  const names = rel.split(sep).filter((n) => n !== '');
  if (names.some(isHidden)) return false;
  return folder || (names.length > 0 && isImageName(names[names.length - 1]!));
}

function readBackError(op: string, out: ImageOutput, input: DataInput): ArgumentError {
  const data = (input.spec ?? '').slice(0, 160);
  const what = out.folder ? 'the pictures written there as images' : 'it as an image';
  return new ArgumentError(
    op,
    out.shown ?? out.flag,
    `${out.path.slice(0, 160)} lies inside ${input.flag} ${data}: the next run on ${data} would read ${what}; give ${out.flag} a ${out.folder ? 'folder' : 'file'} outside ${data} (or a name starting with '.', which is not read)`,
  );
}
