/**
 * How a file name that is not valid UTF-8 is shown (old archives, zips made on Windows: Latin-1 `caf\xe9.png`). Node
 * gives such a name as a string with U+FFFD in place of the bad bytes: that string no longer opens the file, and
 * `caf\xe9.png` and `caf\xe8.png` both read `caf�.png`. The Node folder walk lists names as bytes and shows each
 * with `shownName`; a valid name is shown as it is. Browser-safe (a browser's `File` names are strings already).
 */

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The length of the valid UTF-8 sequence at `b[i]` (1 to 4), or 0 when none starts there: the well-formed byte
 * sequences of the Unicode standard (table 3-7), so no overlong form, surrogate or code point past U+10FFFF.
 */
function sequenceAt(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let n: number,
    lo = 0x80,
    hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c === 0xe0) lo = 0xa0;
    else if (c === 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c === 0xf0) lo = 0x90;
    else if (c === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + n > b.length) return 0;
  for (let k = 1; k < n; k++) {
    const x = b[i + k]!;
    if (x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return 0;
  }
  return n;
}

const hex = (x: number) => `%${x.toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * A file name's bytes as shown in `files`, messages, CSV and JSON: a valid UTF-8 name as it is; in one that is not,
 * each byte outside a valid UTF-8 sequence and each `%` as `%` and two upper-case hex digits (`caf\xe9.png` →
 * `caf%E9.png`, `50%\xff.png` → `50%25%FF.png`). The escaping is reversible, so two names that are not UTF-8 are
 * never shown alike; one shown like a valid name beside it is the folder walk's to refuse.
 */
export function shownName(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    // Not UTF-8: escaped below.
  }
  let out = '',
    run = 0;
  const flush = (end: number) => {
    if (end > run) out += utf8.decode(bytes.subarray(run, end)).replaceAll('%', '%25');
  };
  for (let i = 0; i < bytes.length; ) {
    const n = sequenceAt(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    flush(i);
    out += hex(bytes[i]!);
    run = ++i;
  }
  flush(bytes.length);
  return out;
}
