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
