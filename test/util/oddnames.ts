/** File names that are not UTF-8, made with paths of bytes (Node's fs takes a Buffer path as it is). */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A name's bytes: `\xNN` characters as single bytes (Latin-1), so `bytes('caf\xe9')` is not UTF-8. */
export const bytes = (latin1: string): Buffer => Buffer.from(latin1, 'latin1');

/** `dir`/`name` as a path of bytes. */
export const at = (dir: string, name: Buffer): Buffer => Buffer.concat([Buffer.from(`${dir}/`), name]);

/** Why this file system cannot hold a name that is not UTF-8 (APFS refuses one: EILSEQ), or null when it can. */
export function whyNoOddNames(): string | null {
  const d = mkdtempSync(join(tmpdir(), 'convae-names-probe-'));
  try {
    writeFileSync(at(d, bytes('caf\xe9')), '');
    const [name] = readdirSync(d, { encoding: 'buffer' });
    return name?.equals(bytes('caf\xe9')) ? null : 'the file system rewrites names that are not UTF-8';
  } catch (e) {
    return `the file system refuses names that are not UTF-8 (${(e as { code?: string }).code ?? String(e)})`;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}
