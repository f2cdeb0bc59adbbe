/**
 * The CLI's output folder, checked before any data is loaded (an unwritable
 * `--out` used to fail with a raw stack trace after pretraining), and file
 * writes that never leave a `*.tmp` behind and fail with one line.
 */
import { mkdir, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { OutputError, quote } from '../errors.js';

/** Why a file-system call failed, in words (Node's error codes). */
export function reason(e: unknown): string {
  const code = (e as { code?: string })?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EEXIST':
      return 'it exists and is not a directory';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EFBIG':
      return 'file too large';
    case 'ENOENT':
      return 'no such file or directory';
    case 'ENAMETOOLONG':
      return 'name too long';
    case 'EISDIR':
      return 'is a directory';
    default:
      return code ?? (e instanceof Error ? e.message : String(e));
  }
}

/** Kernel file systems: writes there mean something else, or block. */
const VIRTUAL = ['/proc', '/sys', '/dev'];

const fail = (out: string, why: string) => new OutputError(`cannot write to --out ${quote(out)}: ${why}`);

/** Creates `out` if needed and proves it writable (a probe file written and removed); OutputError otherwise. */
export async function checkOutDir(out: string): Promise<void> {
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
      await mkdir(abs, { recursive: true });
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
 * Writes beside and renames, so a crash never leaves a half-written file over a
 * good one; on any failure the `.tmp` is removed and an OutputError names the file.
 */
export async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await writeAtomicAll([[file, data]]);
}

/**
 * Writes files that only make sense together (a model's JSON and its weights, an
 * export folder) as one: every file goes to its `.tmp` first, and nothing is
 * renamed until all of them are written, so a full disk or a file-size limit
 * leaves the pair already saved there as it was, never a new JSON over old
 * weights. The renames themselves (same folder, no data moved) are the only
 * step that cannot be undone; if one fails, the files not yet renamed keep
 * their old contents. The error is an OutputError naming the file that failed;
 * no `.tmp` is left behind.
 */
export async function writeAtomicAll(files: ReadonlyArray<readonly [string, string | Uint8Array]>): Promise<void> {
  const tmps = files.map(([file]) => `${file}.tmp`);
  const cleanUp = () => Promise.all(tmps.map((t) => unlink(t).catch(() => {})));
  const failed = async (file: string, e: unknown) => {
    await cleanUp();
    return new OutputError(`cannot write ${quote(file)}: ${reason(e)}`);
  };
  for (const [k, [file, data]] of files.entries()) {
    try {
      await writeFile(tmps[k], data);
    } catch (e) {
      throw await failed(file, e);
    }
  }
  for (const [k, [file]] of files.entries()) {
    try {
      await rename(tmps[k], file);
    } catch (e) {
      throw await failed(file, e);
    }
  }
}

/** Writes a saved model as `<base>.json` + `<base>.safetensors`, the two together (`writeAtomicAll`). */
export function writeModelFiles(base: string, saved: { json: string; weights: Uint8Array }): Promise<void> {
  return writeAtomicAll([
    [`${base}.json`, saved.json],
    [`${base}.safetensors`, saved.weights],
  ]);
}
