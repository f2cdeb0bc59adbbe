import { MAX_MESSAGE_CHARS, MAX_QUOTED_CHARS } from './limits.js';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `s` cut to `max` characters (never inside a surrogate pair), with the number of characters left out. */
export function truncate(s: string, max = MAX_MESSAGE_CHARS): string {
  if (s.length <= max) return s;
  const tail = ` … (${s.length} characters)`;
  let cut = Math.max(0, max - tail.length);
  if (cut > 0 && /[\ud800-\udbff]/.test(s[cut - 1])) cut--;
  return `${s.slice(0, cut)}${tail}`;
}

/**
 * A name or value from untrusted input, quoted for an error message: strings
 * JSON-quoted (so control characters and quotes are visible), lists and plain
 * objects written out like JSON (a shape reads `[1,28,0]`), anything else by
 * its tag; never longer than about MAX_QUOTED_CHARS. Written by hand, not with
 * JSON.stringify, because the values are the caller's: a BigInt, a circular
 * list, a getter that throws or a list of 10⁸ items must give a message, not a
 * TypeError or a 100 MB string.
 */
export function quote(v: unknown): string {
  if (typeof v === 'string') return quoteString(v, MAX_QUOTED_CHARS);
  const out = { text: '', full: false };
  try {
    write(v, out, new Set(), 0);
  } catch {
    // A Proxy or getter threw while being read.
    return 'an unreadable value';
  }
  return out.full ? `${out.text.slice(0, MAX_QUOTED_CHARS)}…` : out.text;
}

function quoteString(s: string, max: number): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(cut.replace(LONE_SURROGATE, '\ufffd'));
}

/** Appends `v` to `out.text` until it passes MAX_QUOTED_CHARS; `seen` holds the lists and objects being written (cycles). */
function write(v: unknown, out: { text: string; full: boolean }, seen: Set<object>, depth: number): void {
  const room = MAX_QUOTED_CHARS - out.text.length;
  if (room <= 0) {
    out.full = true;
    return;
  }
  const leaf = leafText(v, room, seen, depth);
  if (leaf !== null) {
    out.text += leaf;
    return;
  }
  const list = Array.isArray(v);
  const o = v as Record<string, unknown>;
  seen.add(o);
  out.text += list ? '[' : '{';
  const keys = list ? null : Object.keys(o);
  const n = list ? (v as unknown[]).length : keys!.length;
  for (let i = 0; i < n && !out.full; i++) {
    if (out.text.length >= MAX_QUOTED_CHARS) out.full = true;
    else {
      if (i > 0) out.text += ',';
      if (keys) out.text += `${quoteString(keys[i], MAX_QUOTED_CHARS)}:`;
      write(keys ? o[keys[i]] : (v as unknown[])[i], out, seen, depth + 1);
    }
  }
  seen.delete(o);
  out.text += list ? ']' : '}';
}

/** The text of `v` when it is written whole (not a list or plain object to open), else null. */
function leafText(v: unknown, room: number, seen: Set<object>, depth: number): string | null {
  if (typeof v === 'string') return quoteString(v, room);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' || typeof v === 'boolean' || v == null) return String(v);
  if (typeof v !== 'object') return quoteString(Object.prototype.toString.call(v), room);
  const list = Array.isArray(v);
  const proto = Object.getPrototypeOf(v);
  if (!list && proto !== Object.prototype && proto !== null)
    return quoteString(Object.prototype.toString.call(v), room);
  if (seen.has(v)) return '(circular)';
  if (depth >= 4) return list ? '[…]' : '{…}';
  return null;
}

/** Up to `show` quoted names, then how many more ("'a', 'b' and 99 990 more"). */
export function summarize(names: readonly string[], show = 5): string {
  const shown = names.slice(0, show).map(quote).join(', ');
  const rest = names.length - show;
  return rest > 0 ? `${shown} and ${rest.toLocaleString('en-US').replace(/,/g, ' ')} more` : shown;
}

/** Base class of every error convae throws on purpose. Messages are cut to MAX_MESSAGE_CHARS. */
export class ConvaeError extends Error {
  /** The class's name ('ShapeError', …), which an error thrown in a worker keeps, with its class and fields. */
  override name = 'ConvaeError';
  /** `options.cause` as for Error. */
  constructor(message?: string, options?: ErrorOptions) {
    super(truncate(String(message ?? '')), options);
  }
}

/** A tensor argument has the wrong shape, rank or dtype. */
export class ShapeError extends ConvaeError {
  override name = 'ShapeError';
  /** The message reads "`op`: `arg` must be `expected`, got `got`". */
  constructor(
    /** The operation called (`conv2d`, `dense`, …; `tensor` when creating one). */
    readonly op: string,
    /** The argument at fault, as the operation names it (`x`, `w`, `dy`, …). */
    readonly arg: string,
    /** What it must be: a shape (`[n,1,28,28]`), a rank or a dtype. */
    readonly expected: string,
    /** What it was, in the same terms. */
    readonly got: string,
  ) {
    super(`${op}: ${arg} must be ${expected}, got ${got}`);
  }
}

/** A non-tensor argument is invalid (a stride of 0, an unknown activation, ...). */
export class ArgumentError extends ConvaeError {
  override name = 'ArgumentError';
  /** The message reads "`op`: `arg` `message`", e.g. "fit: batchSize must be an integer in …". */
  constructor(
    /** The function or operation called (`fit`, `conv2d`, …). */
    readonly op: string,
    /** The argument or option at fault, with its path inside an options object (`schedule.every`). */
    readonly arg: string,
    message: string,
  ) {
    super(`${op}: ${arg} ${message}`);
  }
}

/** A tensor holds NaN or ±Infinity where finite values are required. */
export class NonFiniteError extends ConvaeError {
  override name = 'NonFiniteError';
  /** The message reads "`op`: `arg` holds `value` at flat index `index`". */
  constructor(
    /** The operation that found it (`fit` for a training loss). */
    readonly op: string,
    /** The tensor at fault, as the operation names it (`loss` for a training loss). */
    readonly arg: string,
    /** Flat (row-major) index of the first non-finite element; for a training loss, the step. */
    readonly index: number,
    /** That element: NaN, Infinity or -Infinity. */
    readonly value: number,
  ) {
    super(`${op}: ${arg} holds ${value} at flat index ${index}`);
  }
}

/** The wasm module could not be loaded, or a build was asked for that this runtime cannot run. */
export class BackendError extends ConvaeError {
  override name = 'BackendError';
}

/** A tensor was used after dispose(), or memory ran out. */
export class MemoryError extends ConvaeError {
  override name = 'MemoryError';
}

/**
 * The wasm layer refused a call (its own checks, behind the TypeScript ones).
 * Seeing this means the TypeScript validation missed a case: please report it.
 */
export class KernelError extends ConvaeError {
  override name = 'KernelError';
  /** The message names `op` and what the status `code` means (`describeStatus`). */
  constructor(
    /** The kernel that refused the call. */
    readonly op: string,
    /** Its status code (`describeStatus` says what it means). */
    readonly code: number,
  ) {
    super(`${op}: the kernel refused the call: ${describeStatus(code)} (status ${code})`);
  }
}

const SHAPE_ERRORS = [
  'a size is 0',
  'kernel larger than the padded input',
  'padding not smaller than the kernel',
  'output padding not smaller than the stride',
  'tensor too large',
];

/** The meaning of a status code returned by the wasm layer. */
export function describeStatus(code: number): string {
  switch (code) {
    case 2:
      return 'a buffer lies outside wasm memory';
    case 3:
      return 'a buffer is not 4-byte aligned';
    case 4:
      return 'an output overlaps an input';
    case 5:
      return 'a max-pool switch points outside its plane';
    case 6:
      return 'a class label is not below the number of classes';
    case 7:
      return 'an argument is invalid';
    default:
      if (code >= 16 && code < 16 + SHAPE_ERRORS.length) return `invalid shape: ${SHAPE_ERRORS[code - 16]}`;
      return 'unknown status';
  }
}

/** A file is not what it claims to be: wrong magic number, truncated, sizes that disagree, hostile offsets. */
export class FormatError extends ConvaeError {
  override name = 'FormatError';
  /** The message reads "`source`: `message`". */
  constructor(
    /** What was being read (a path or a description). */
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
  }
}

/** A dataset is unusable: labels missing or out of range, images of the wrong size, a required package absent. */
export class DataError extends ConvaeError {
  override name = 'DataError';
}

/** A model cannot be built as described: shapes that do not chain, a tied layer without its partner, bad hyper-parameters. */
export class ModelError extends ConvaeError {
  override name = 'ModelError';
  /** The message reads "`layer`: `message`". */
  constructor(
    /** The layer (or model part) at fault. */
    readonly layer: string,
    message: string,
  ) {
    super(`${layer}: ${message}`);
  }
}

/** Why a worker stopped serving a call. */
export type WorkerFailure = 'crashed' | 'out-of-memory' | 'exited' | 'terminated' | 'peer-failed' | 'unavailable';

/**
 * A training worker died or could not start: it threw outside a call, ran out
 * of memory, exited or was terminated. The caller's model is left as it was
 * before the call; the pool replaces the worker.
 */
export class WorkerError extends ConvaeError {
  override name = 'WorkerError';
  /** The message reads "worker `failure`: `message`". */
  constructor(
    /** How it stopped; 'peer-failed': another worker of the same job failed; 'unavailable': it could not start. */
    readonly failure: WorkerFailure,
    message: string,
    /** Exit code, when the worker exited. */
    readonly exitCode?: number,
  ) {
    super(`worker ${failure}: ${message}`);
  }
}

/** The command line cannot write its output (a folder that is not writable, a full disk, …). */
export class OutputError extends ConvaeError {
  override name = 'OutputError';
}
