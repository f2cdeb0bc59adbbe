/**
 * The CLI's output folder, checked before any data is loaded (an unwritable
 * `--out` used to fail with a raw stack trace after pretraining).
 */
import { mkdir, realpath, stat, unlink, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { OutputError, quote } from '../errors.js';
import { reason } from '../io/files.js';

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
