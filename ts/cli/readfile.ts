/**
 * Files the CLI reads (model descriptions and weights, search.json,
 * paper-runs.json, run.json), refused by their size before they are read: with
 * `readFile` a multi-GB file took the memory first and then failed with Node's
 * untyped ERR_STRING_TOO_LONG or ERR_FS_FILE_TOO_LARGE (or the length check came after).
 */
import { lstat, open, stat } from 'node:fs/promises';
import { DataError, FormatError, quote } from '../errors.js';
import { reason } from '../io/files.js';
import { FileTooLarge, readBounded } from '../io/read.js';
import { MAX_MODEL_JSON_CHARS, MAX_MODEL_PARAM_BYTES, MAX_SAFETENSORS_HEADER_BYTES } from '../limits.js';

/** Largest small file a run leaves in --out (search.json, paper-runs.json, run.json); they hold a few KB to a few MB. */
export const MAX_RUN_FILE_BYTES = 64 * 1024 * 1024;

/** The largest weights file a model can have: its 8-byte length, the largest header, the largest parameters. */
export const MAX_WEIGHTS_FILE_BYTES = 8 + MAX_SAFETENSORS_HEADER_BYTES + MAX_MODEL_PARAM_BYTES;

/**
 * The first `bytes` bytes of `path` as text, '' when it is not a regular file (a link or a folder the user put
 * there): enough to tell a file a command wrote by its header before replacing or removing it.
 */
export async function readFileHead(path: string, bytes: number): Promise<string> {
  const st = await lstat(path);
  if (!st.isFile()) return '';
  const f = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await f.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await f.close();
  }
}

/**
 * The bytes of `file`, at most `max` (`readBounded`): FormatError naming the file and the limit when it is larger,
 * DataError when it cannot be read (its `cause` is Node's error).
 */
export async function readLimited(file: string, max: number): Promise<Uint8Array> {
  try {
    return await readBounded(file, max);
  } catch (e) {
    if (e instanceof FileTooLarge) throw new FormatError(quote(file), `${e.message} for it`);
    throw new DataError(`cannot read ${quote(file)}: ${reason(e)}`, { cause: e });
  }
}

/** The UTF-8 text of `file`, at most `max` bytes (`readLimited`). */
export async function readJsonText(file: string, max: number): Promise<string> {
  return Buffer.from(await readLimited(file, max)).toString('utf8');
}

/** Whether `file` is a regular file (links followed); false when it is missing or cannot be read. */
export const isFile = (file: string): Promise<boolean> =>
  stat(file).then(
    (s) => s.isFile(),
    () => false,
  );

/**
 * A saved model's or detector's file must be a regular file (links followed): a FIFO there blocked the read forever,
 * and a link to /dev/zero read gigabytes before the size limit refused it. A missing file is left to the read.
 */
export async function checkRegularFile(file: string, why: string): Promise<void> {
  const st = await stat(file).catch(() => null);
  if (st && !st.isFile()) throw new DataError(`${file} is not a regular file: ${why}`);
}

/**
 * A saved pair, `<base>.json` (within MAX_MODEL_JSON_CHARS) and `<base>.safetensors` (within `maxWeights`), as a
 * command reads it from the folder a flag names: a file that cannot be read, or is not a regular file (a FIFO, a
 * device), is a DataError saying `why` (what the folder must be); one too large stays a FormatError.
 */
export async function readSavedPair(
  base: string,
  maxWeights: number,
  why: string,
): Promise<{ json: string; weights: Uint8Array }> {
  const read = async <T>(file: string, how: (file: string) => Promise<T>) => {
    await checkRegularFile(file, why);
    try {
      return await how(file);
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw new DataError(`${file} cannot be read: ${why}`);
    }
  };
  return {
    json: await read(`${base}.json`, (f) => readJsonText(f, MAX_MODEL_JSON_CHARS)),
    weights: await read(`${base}.safetensors`, (f) => readLimited(f, maxWeights)),
  };
}
