/** The one check every public function with an options argument makes first. */
import { ArgumentError, quote } from '../errors.js';

/**
 * Optional options as given: undefined or null mean the defaults; anything
 * else that is not an object is refused before it is read as one.
 */
export function optionsOf<T extends object>(op: string, v: T | null | undefined, arg = 'options'): Partial<T> {
  if (v == null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ArgumentError(op, arg, `must be an object, got ${quote(v)}`);
  return v;
}

/**
 * Refuses a field of `o` outside `known` (and `hidden`, accepted but never named): a misspelt or misplaced
 * option would otherwise be ignored without a word.
 */
export function knownFields(
  op: string,
  arg: string,
  o: object,
  known: readonly string[],
  hidden: readonly string[] = [],
): void {
  for (const k of Object.keys(o))
    if (!known.includes(k) && !hidden.includes(k))
      throw new ArgumentError(op, arg, `has an unknown field ${quote(k)} (known: ${known.join(', ')})`);
}
