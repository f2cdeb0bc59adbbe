/**
 * The CLI's output folder, checked before any data is loaded (an unwritable
 * `--out` used to fail with a raw stack trace after pretraining).
 */
import { realpath, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { OutputError, quote } from '../errors.js';
import { reason, makeDirs } from '../io/files.js';

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
    await writeFile(probe, 'ok');
  } catch (e) {
    await unlink(probe).catch(() => {});
    throw fail(out, reason(e));
  }
  await unlink(probe).catch(() => {});
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
    await writeFile(probe, 'ok');
  } catch (e) {
    throw fail(reason(e));
  } finally {
    await unlink(probe).catch(() => {});
  }
}

/** `p` resolved, its folder's symbolic links followed (the file itself need not exist). */
async function canonical(p: string): Promise<string> {
  const abs = resolve(p);
  const dir = await realpath(dirname(abs)).catch(() => dirname(abs));
  return resolve(dir, basename(abs));
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
