/**
 * JSON from untrusted sources. `JSON.parse` builds the whole tree before anyone
 * can look at it, so a few megabytes of `[[[[…` cost hundreds of megabytes and
 * a 10 000-deep value breaks every recursive walker later (structuredClone,
 * JSON.stringify). The depth is therefore measured on the text first, in one
 * pass that allocates nothing. Browser-safe.
 */
import { ArgumentError, FormatError } from '../errors.js';
import { MAX_JSON_DEPTH } from '../limits.js';

/**
 * The index of the first bracket that opens level `max + 1` of arrays/objects
 * in `text` (brackets inside strings do not count), or -1 when none does.
 */
export function depthExceededAt(text: string, max: number): number {
  let depth = 0,
    inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

/** Throws FormatError (prefixed with `source`) when `text` nests arrays/objects deeper than `max`. */
export function checkJsonDepth(text: string, source: string, max = MAX_JSON_DEPTH, what = 'JSON'): void {
  const at = depthExceededAt(text, max);
  if (at >= 0) throw new FormatError(source, `${what} nests deeper than ${max} levels (at character ${at})`);
}

/** JSON.parse after the depth check; FormatError for either failure. */
export function parseJson(text: string, source: string, max = MAX_JSON_DEPTH, what = 'JSON'): unknown {
  checkJsonDepth(text, source, max, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FormatError(source, `${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * A description about to be saved (a model's, a detector's), as the pretty-printed JSON its loader will read, or an
 * ArgumentError naming `arg` (the caller-shaped part, `training`): a value JSON cannot hold (a cycle, a BigInt) threw
 * JSON.stringify's TypeError, and one longer than `maxChars` or deeper than MAX_JSON_DEPTH was written to a file its
 * own loader then refused: the save looked done and the model was lost.
 */
export function savedJson(op: string, arg: string, value: unknown, maxChars: number, what: string): string {
  let json: string;
  try {
    json = JSON.stringify(value, null, 2);
  } catch (e) {
    throw new ArgumentError(
      op,
      arg,
      `cannot be written as JSON: ${(e instanceof Error ? e.message : String(e)).slice(0, 120)}`,
    );
  }
  if (json.length > maxChars)
    throw new ArgumentError(
      op,
      arg,
      `makes the ${what} ${json.length} characters, more than the ${maxChars} it may have`,
    );
  if (depthExceededAt(json, MAX_JSON_DEPTH) >= 0)
    throw new ArgumentError(op, arg, `nests too deep: the ${what} may nest ${MAX_JSON_DEPTH} levels`);
  return json;
}
