/**
 * A `node:fs/promises` whose `writeFile` to a path matching `inject.re` stores half the bytes and then
 * fails with EFBIG, as a full disk or a file-size limit does (and as root, where permissions do not stop
 * a write). Used from a test's `vi.mock('node:fs/promises', async (io) => (await import(…)).efbigFs(io, inject))`.
 */
export async function efbigFs(importOriginal: () => Promise<unknown>, inject: { re: RegExp | null }) {
  const fs = (await importOriginal()) as typeof import('node:fs/promises');
  const writeFile: typeof fs.writeFile = async (file, data, options) => {
    if (inject.re?.test(String(file))) {
      const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data as Uint8Array);
      await fs.writeFile(file, bytes.subarray(0, bytes.length >> 1));
      throw Object.assign(new Error(`EFBIG: file too large, write '${String(file)}'`), {
        code: 'EFBIG',
        syscall: 'write',
      });
    }
    return fs.writeFile(file, data, options);
  };
  return { ...fs, default: { ...fs, writeFile }, writeFile };
}
