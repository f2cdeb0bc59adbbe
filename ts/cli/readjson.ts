/**
 * The text of a JSON file the CLI reads (a model description, search.json,
 * paper-runs.json, run.json), refused by its size before it is read: with
 * `readFile(…, 'utf8')` a multi-GB file took the memory first and then failed
 * with Node's untyped ERR_STRING_TOO_LONG (or the length check came after).
 */
import { open } from 'node:fs/promises';
import { DataError, FormatError, quote } from '../errors.js';
import { reason } from '../io/files.js';

/** Largest small file a run leaves in --out (search.json, paper-runs.json, run.json); they hold a few KB to a few MB. */
export const MAX_RUN_FILE_BYTES = 64 * 1024 * 1024;

const CHUNK = 1 << 20;

/**
 * The UTF-8 text of `file`, at most `max` bytes: FormatError naming the file and the limit when it is
 * larger, DataError when it cannot be read. The size is read from the open file (a regular file larger
 * than `max` is refused without reading a byte); the read stops after `max + 1` bytes all the same, as a
 * pipe or a device reports no size, and a file may grow after it was measured.
 */
export async function readJsonText(file: string, max: number): Promise<string> {
  const tooLarge = (size?: number) =>
    new FormatError(
      quote(file),
      `the file is ${size === undefined ? 'longer than' : `${size} bytes, more than`} the limit of ${max} bytes for it`,
    );
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    const st = await handle.stat();
    if (st.isFile() && st.size > max) throw tooLarge(st.size);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buf = new Uint8Array(Math.min(CHUNK, max + 1 - total));
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > max) throw tooLarge();
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new DataError(`cannot read ${quote(file)}: ${reason(e)}`, { cause: e });
  } finally {
    await handle?.close().catch(() => {});
  }
}
