/**
 * A file read whole within a byte bound (Node only), refused by its size before it is read: with `readFile` a
 * multi-GB file took the memory first and then failed with Node's untyped ERR_STRING_TOO_LONG or
 * ERR_FS_FILE_TOO_LARGE. The CLI's files (`readLimited`) and the image loader's files whose names are not UTF-8
 * (sharp cannot open those by name) share it.
 */
import { open } from 'node:fs/promises';

/** `readBounded`'s refusal: the file's size when it said one, else undefined (it was read past `max`). */
export class FileTooLarge extends Error {
  override name = 'FileTooLarge';
  constructor(
    readonly size: number | undefined,
    readonly max: number,
  ) {
    super(`the file is ${size === undefined ? 'longer than' : `${size} bytes, more than`} the limit of ${max} bytes`);
  }
}

const CHUNK = 1 << 20;

/**
 * The bytes of `file` (a path, or a path's bytes), at most `max`: FileTooLarge when it is larger, Node's error when it
 * cannot be read. The size is read from the open file (a regular file larger than `max` is refused without reading a
 * byte); the read stops after `max + 1` bytes all the same, as a pipe or a device reports no size, and a file may
 * grow after it was measured.
 */
export async function readBounded(file: string | Buffer, max: number): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const st = await handle.stat();
    if (st.isFile() && st.size > max) throw new FileTooLarge(st.size, max);
    const chunks: Uint8Array[] = [];
    let total = 0;
    // A regular file in one buffer of its size (one byte more, to see it grow): chunks joined would take it twice.
    for (let want = st.isFile() ? st.size + 1 : CHUNK; ; want = CHUNK) {
      const buf = new Uint8Array(Math.min(want, max + 1 - total));
      let filled = 0;
      while (filled < buf.length) {
        const { bytesRead } = await handle.read(buf, filled, buf.length - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      chunks.push(buf.subarray(0, filled));
      total += filled;
      if (total > max) throw new FileTooLarge(undefined, max);
      if (filled < buf.length) break;
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    await handle.close().catch(() => {});
  }
}
