/**
 * File writes that never leave a half-written file over a good one (Node only):
 * beside, then renamed; and why a file-system call failed, in words. The CLI
 * and `writePng` share them.
 */
import { mkdir, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
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

/**
 * `mkdir -p`, but a path under /proc is an OutputError at once: there mkdir answers ENOENT under a folder that
 * exists, and Node's recursive mkdir retried forever (`--out /proc/x` hung every command at 100 % CPU). The deepest
 * part of the path that exists is looked at with its links followed, so a link into /proc is refused too.
 */
export async function makeDirs(dir: string): Promise<void> {
  let p = resolve(dir);
  while (
    !(await stat(p).then(
      () => true,
      () => false,
    ))
  ) {
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  const real = await realpath(p).catch(() => p);
  if (real === '/proc' || real.startsWith('/proc/'))
    throw new OutputError(
      `cannot make the folder ${quote(dir)}: it is under /proc, a kernel file system, not a place for files`,
    );
  await mkdir(dir, { recursive: true });
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
  const write = writeAll(files);
  inFlight.add(write);
  try {
    await write;
  } finally {
    inFlight.delete(write);
  }
}

/** Atomic writes not yet settled: an interrupt waits for them (`settleWrites`) before it tidies the `.tmp` files. */
const inFlight = new Set<Promise<void>>();

/**
 * Whether an atomic write is in flight. Its `.tmp` is created by a file-system call on libuv's threads: an
 * interrupt that tidied up while one is pending would miss the file it creates a moment later.
 */
export const writesInFlight = (): boolean => inFlight.size > 0;

/** Resolves when the atomic writes in flight now have settled, or after `ms`. */
export async function settleWrites(ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled([...inFlight]),
    new Promise((ok) => {
      timer = setTimeout(ok, ms);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * The `.tmp` files this process's atomic writes have started and not yet renamed or removed. An interrupt removes
 * these and no others: a user's own `notes.tmp` in an output folder is not convae's to delete.
 */
const unfinished = new Set<string>();
export const unfinishedTmpFiles = (): string[] => [...unfinished];

/**
 * Writes a few bytes to `probe` and removes it: whether a file can be written there (rejects with the file-system
 * error). Counted as an atomic write is, so that an interrupt in between waits for it and removes the probe.
 */
export async function writeProbe(probe: string): Promise<void> {
  const probing = (async () => {
    unfinished.add(probe);
    try {
      await writeFile(probe, 'ok');
    } finally {
      await unlink(probe).catch(() => {});
      unfinished.delete(probe);
    }
  })();
  inFlight.add(probing);
  try {
    await probing;
  } finally {
    inFlight.delete(probing);
  }
}

/** What an atomic write adds to the file's name for the file it writes first (`writeAtomic`). */
export const TMP_SUFFIX = '.tmp';

async function writeAll(files: ReadonlyArray<readonly [string, string | Uint8Array]>): Promise<void> {
  const tmps = files.map(([file]) => `${file}${TMP_SUFFIX}`);
  const cleanUp = () =>
    Promise.all(
      tmps.map((t) =>
        unlink(t)
          .catch(() => {})
          .then(() => unfinished.delete(t)),
      ),
    );
  const failed = async (file: string, e: unknown) => {
    await cleanUp();
    return new OutputError(`cannot write ${quote(file)}: ${reason(e)}`);
  };
  for (const [k, [file, data]] of files.entries()) {
    try {
      unfinished.add(tmps[k]);
      await writeFile(tmps[k], data);
    } catch (e) {
      throw await failed(file, e);
    }
  }
  for (const [k, [file]] of files.entries()) {
    try {
      await rename(tmps[k], file);
      unfinished.delete(tmps[k]);
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

/**
 * Writes a file whose path the user named (`--out` of predict and assess), making its folder. A regular file
 * (or none) is written beside and renamed (`writeAtomic`), so a failed write keeps the results already there.
 * Anything else there — a pipe, /dev/stdout, a terminal — is written to in place: renaming over it would
 * replace the device or pipe with a plain file. Failures are OutputErrors naming the file.
 */
export async function writeOutput(file: string, data: string | Uint8Array): Promise<void> {
  const kind = await stat(file).then(
    (st) => (st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'special'),
    () => 'none',
  );
  let target = file;
  try {
    if (kind === 'directory') throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (kind === 'special') return await writeFile(file, data);
    // Through a symbolic link, the file it names is replaced, not the link.
    if (kind === 'file') target = await realpath(file);
    else await makeDirs(dirname(file));
  } catch (e) {
    if (e instanceof OutputError) throw e;
    throw new OutputError(`cannot write ${quote(file)}: ${reason(e)}`);
  }
  await writeAtomic(target, data);
}
