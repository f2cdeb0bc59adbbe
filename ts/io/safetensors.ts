/**
 * The safetensors format (Hugging Face; PyTorch, JAX, candle, … read it):
 *
 *     [u64 little-endian N] [N bytes of UTF-8 JSON header] [data buffer]
 *
 * The header maps each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}`
 * (offsets in bytes from the start of the data buffer, data little-endian,
 * row-major), plus an optional `"__metadata__": {string: string}`.
 *
 * The encoder writes what the reference implementation (the `safetensors`
 * crate, which its Python package wraps) writes, byte for byte:
 *   - tensors are laid out, and listed in the header, by dtype in the crate's
 *     descending alignment order (F32, U32, I32, U8 for the dtypes here), then by
 *     name (byte order of the UTF-8, i.e. code-point order);
 *   - `__metadata__` comes first when given (even when empty); the reference keeps
 *     metadata in a hash map, so with two or more entries its key order is random
 *     per process; this encoder sorts the keys, so byte identity with the reference
 *     holds for at most one metadata entry;
 *   - compact JSON (`serde_json` and `JSON.stringify` escape strings the same
 *     way), padded with spaces to a multiple of 8 bytes so the data buffer is
 *     8-byte aligned.
 *
 * The decoder treats the file as hostile: every size, offset and type is checked
 * (see `decodeSafetensors`) before anything is copied, and nothing is allocated
 * beyond what the file's own bytes justify. Browser-safe.
 */
import { ArgumentError, FormatError, quote } from '../errors.js';
import { MAX_SAFETENSORS_HEADER_BYTES } from '../limits.js';
import { checkJsonDepth } from './json.js';

/** The dtypes convae reads and writes. */
export type SafetensorsDType = 'F32' | 'U32' | 'I32' | 'U8';

interface DataOf {
  F32: Float32Array;
  U32: Uint32Array;
  I32: Int32Array;
  U8: Uint8Array;
}

/** One tensor: a dtype, a shape (row-major; `[]` is a scalar) and prod(shape) elements of the matching typed array. */
export type SafetensorsTensor = {
  [D in SafetensorsDType]: { dtype: D; shape: number[]; data: DataOf[D] };
}[SafetensorsDType];

/** Options of `decodeSafetensors`. */
export interface SafetensorsDecodeOptions {
  /**
   * `false`: each tensor's data is a view of the input bytes where its offset is
   * aligned for its dtype (on little-endian hosts), so reading a file into wasm
   * memory copies it once; the views change if the input bytes do. Default true:
   * fresh arrays that own their data.
   */
  copy?: boolean;
}

/** A parsed safetensors file: its tensors by name and its string metadata. */
export interface SafetensorsFile {
  /** Every tensor by its name in the header. */
  tensors: Record<string, SafetensorsTensor>;
  /** The `__metadata__` entries; `{}` when the file has none. */
  metadata: Record<string, string>;
}

/**
 * The longest header convae parses: MAX_SAFETENSORS_HEADER_BYTES (the reference
 * allows 100 MB, which JSON.parse turns into gigabytes; a model's header is a few KB).
 */
export const SAFETENSORS_MAX_HEADER = MAX_SAFETENSORS_HEADER_BYTES;

/**
 * The format's deepest nesting: the header object, an entry (or `__metadata__`),
 * a shape or data_offsets list. Anything deeper (in an unknown field) is refused
 * before parsing, so a header cannot make JSON.parse build a deep tree.
 */
const HEADER_DEPTH = 3;

const DTYPES: Record<
  SafetensorsDType,
  {
    size: number;
    rank: number;
    array: {
      new (n: number): DataOf[SafetensorsDType];
      new (b: ArrayBufferLike, at: number, n: number): DataOf[SafetensorsDType];
    };
  }
> = {
  // `rank` is the position in the crate's `Dtype` enum order, whose descending
  // order sets the layout; only the relative order of these four matters.
  F32: { size: 4, rank: 3, array: Float32Array },
  U32: { size: 4, rank: 2, array: Uint32Array },
  I32: { size: 4, rank: 1, array: Int32Array },
  U8: { size: 1, rank: 0, array: Uint8Array },
};

/** Dtypes of the format that convae does not handle: named in the error instead of "unknown". */
const OTHER_DTYPES = new Set([
  'BOOL',
  'I8',
  'I16',
  'U16',
  'F16',
  'BF16',
  'F64',
  'I64',
  'U64',
  'C64',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
]);

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const isDType = (d: unknown): d is SafetensorsDType => typeof d === 'string' && Object.hasOwn(DTYPES, d);

/** Code-point (= UTF-8 byte) order, the order of Rust's `String` comparison. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

/** An own, enumerable property, also for the name `__proto__`. */
function put<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function typedArrayMatches(dtype: SafetensorsDType, data: unknown): boolean {
  switch (dtype) {
    case 'F32':
      return data instanceof Float32Array;
    case 'U32':
      return data instanceof Uint32Array;
    case 'I32':
      return data instanceof Int32Array;
    case 'U8':
      return data instanceof Uint8Array;
  }
}

/** Little-endian bytes of `data` written at `out[at]`. */
function writeLE(out: Uint8Array, at: number, data: DataOf[SafetensorsDType], size: number): void {
  if (LITTLE_ENDIAN || size === 1) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return;
  }
  const src = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const dst = new DataView(out.buffer, out.byteOffset + at, data.byteLength);
  for (let i = 0; i < data.byteLength; i += 4) dst.setUint32(i, src.getUint32(i, false), true);
}

/**
 * Serialises tensors (and optional string metadata) to safetensors bytes,
 * identical to the reference implementation's output (see the module comment
 * for the ordering rules). Data bytes are copied as they are, so NaN payloads
 * and −0 survive. Throws `ArgumentError` for a dtype that does not match its
 * typed array, a shape whose product differs from the element count, a name
 * `__metadata__`, a non-string metadata value, or a string that is not
 * well-formed Unicode.
 */
export function encodeSafetensors(
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const op = 'encodeSafetensors';
  if (tensors === null || typeof tensors !== 'object')
    throw new ArgumentError(op, 'tensors', 'must be an object of tensors');
  const entries = Object.entries(tensors).map(([name, t]) => {
    const arg = `tensors[${quote(name)}]`;
    if (name === '__metadata__') throw new ArgumentError(op, arg, 'uses the reserved name __metadata__');
    if (LONE_SURROGATE.test(name))
      throw new ArgumentError(op, arg, 'has a name that is not well-formed Unicode (a lone surrogate)');
    if (t === null || typeof t !== 'object') throw new ArgumentError(op, arg, 'must be {dtype, shape, data}');
    if (!isDType(t.dtype))
      throw new ArgumentError(op, arg, `has dtype ${quote(t.dtype)}; convae writes F32, U32, I32, U8`);
    if (!typedArrayMatches(t.dtype, t.data)) {
      throw new ArgumentError(
        op,
        arg,
        `has dtype ${t.dtype} but data is a ${(t.data as object)?.constructor?.name ?? typeof t.data}`,
      );
    }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ArgumentError(op, arg, `has shape ${quote(t.shape)}; sizes must be non-negative integers`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new ArgumentError(
        op,
        arg,
        `has shape [${t.shape.join(',')}] (${count} elements) but ${t.data.length} data elements`,
      );
    return { name, t, size: DTYPES[t.dtype].size, rank: DTYPES[t.dtype].rank };
  });
  entries.sort((a, b) => b.rank - a.rank || compareCodePoints(a.name, b.name));

  const parts: string[] = [];
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
      throw new ArgumentError(op, 'metadata', 'must be an object of strings');
    const keys = Object.keys(metadata).sort(compareCodePoints);
    const fields = keys.map((k) => {
      const v = metadata[k];
      if (typeof v !== 'string')
        throw new ArgumentError(op, `metadata[${quote(k)}]`, `must be a string, got ${typeof v}`);
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v))
        throw new ArgumentError(op, `metadata[${quote(k)}]`, 'is not well-formed Unicode (a lone surrogate)');
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const e of entries) {
    const len = e.t.data.length * e.size;
    parts.push(
      `${JSON.stringify(e.name)}:{"dtype":"${e.t.dtype}","shape":[${e.t.shape.join(',')}],"data_offsets":[${offset},${offset + len}]}`,
    );
    offset += len;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLen, true);
  view.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const e of entries) {
    writeLE(out, at, e.t.data, e.size);
    at += e.t.data.byteLength;
  }
  return out;
}

const kindOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `${typeof v} ${quote(v)}`;

/**
 * Parses safetensors bytes. Throws `FormatError` (prefixed with `source`) for:
 * a file shorter than 8 bytes; a header length beyond the file or above
 * `SAFETENSORS_MAX_HEADER`; a header that is not UTF-8 or not a JSON object;
 * metadata that is not an object of strings; an entry with an unknown or
 * unsupported dtype, a shape that is not a list of non-negative integers,
 * offsets that are not two non-negative integers, `end < begin`, `end` past the
 * buffer, or a byte length other than prod(shape) × dtype size; and ranges
 * that overlap, leave a gap, or leave buffer bytes unused (like the reference,
 * the tensors must tile the buffer exactly). Tensor data are copied into new,
 * aligned typed arrays only after all of that, so any offset alignment works —
 * unless `copy: false` asks for views of `bytes` where they can be made.
 *
 * Like the reference, it ignores unknown fields of an entry, and a name given
 * twice keeps its last entry. Unlike it, a size written `1.0` reads as 1.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source: string,
  options: SafetensorsDecodeOptions = {},
): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(source, 'safetensors input must be a Uint8Array');
  if (bytes.length < 8)
    throw new FormatError(
      source,
      `not a safetensors file: ${bytes.length} bytes, shorter than the 8-byte header length`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  if (hi !== 0 || lo > SAFETENSORS_MAX_HEADER) {
    throw new FormatError(
      source,
      `header length ${view.getBigUint64(0, true)} exceeds the ${SAFETENSORS_MAX_HEADER}-byte limit`,
    );
  }
  const headerLen = lo;
  if (headerLen > bytes.length - 8) {
    throw new FormatError(
      source,
      `header length ${headerLen} exceeds the ${bytes.length - 8} bytes after the length field (truncated or not a safetensors file)`,
    );
  }
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, where the '{' check below refuses it.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    throw new FormatError(source, 'header is not valid UTF-8');
  }
  // The format: the header MUST begin with `{` (no leading spaces, no byte-order mark); it MAY end in spaces.
  if (text.charCodeAt(0) !== 0x7b)
    throw new FormatError(
      source,
      `header must begin with '{', got ${text.length ? quote(text.slice(0, 1)) : 'an empty header'}`,
    );
  checkJsonDepth(text, source, HEADER_DEPTH, 'header');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new FormatError(source, `header is not valid JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new FormatError(source, `header must be a JSON object, got ${kindOf(header)}`);
  }

  const bufferStart = 8 + headerLen;
  const bufferLen = bytes.length - bufferStart;
  const metadata: Record<string, string> = {};
  const specs: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
        throw new FormatError(source, `__metadata__ must be an object of strings, got ${kindOf(entry)}`);
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string')
          throw new FormatError(source, `metadata ${quote(k)} must be a string, got ${kindOf(v)}`);
        put(metadata, k, v);
      }
      continue;
    }
    const where = `tensor ${quote(name)}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw new FormatError(source, `${where}: entry must be an object, got ${kindOf(entry)}`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isDType(dtype)) {
      if (typeof dtype === 'string' && OTHER_DTYPES.has(dtype))
        throw new FormatError(
          source,
          `${where}: dtype ${quote(dtype)} is not supported (convae reads F32, U32, I32, U8)`,
        );
      throw new FormatError(source, `${where}: unknown dtype ${kindOf(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new FormatError(source, `${where}: shape must be a list of non-negative integers, got ${quote(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new FormatError(
        source,
        `${where}: data_offsets must be [begin, end] of non-negative integers, got ${quote(offsets)}`,
      );
    }
    const [begin, end] = offsets as number[];
    if (end < begin) throw new FormatError(source, `${where}: data_offsets [${begin},${end}] end before they begin`);
    if (end > bufferLen)
      throw new FormatError(
        source,
        `${where}: data_offsets [${begin},${end}] run past the ${bufferLen}-byte data buffer`,
      );
    // prod(shape) × size, stopping once it exceeds the range (no overflow; a zero size gives exactly 0).
    const range = end - begin;
    let need = (shape as number[]).includes(0) ? 0 : DTYPES[dtype].size;
    let exact = true;
    for (const d of shape as number[]) {
      if (need > range) {
        exact = false;
        break;
      }
      need *= d;
    }
    if (need !== range) {
      throw new FormatError(
        source,
        `${where}: shape ${quote(shape)} of ${dtype} needs ${exact ? need : `more than ${range}`} bytes, data_offsets [${begin},${end}] hold ${range}`,
      );
    }
    specs.push({ name, dtype, shape: (shape as number[]).slice(), begin, end });
  }

  // The ranges must tile [0, bufferLen) exactly.
  const byOffset = specs.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: string | null = null;
  for (const s of byOffset) {
    if (s.begin < pos)
      throw new FormatError(
        source,
        `tensor ${quote(s.name)}: data_offsets [${s.begin},${s.end}] overlap tensor ${quote(prev)}, which ends at ${pos}`,
      );
    if (s.begin > pos)
      throw new FormatError(
        source,
        `tensor ${quote(s.name)}: data_offsets [${s.begin},${s.end}] leave a gap of ${s.begin - pos} bytes after ${prev === null ? 'the buffer start' : `tensor ${quote(prev)}`} (at ${pos})`,
      );
    pos = s.end;
    prev = s.name;
  }
  if (pos !== bufferLen)
    throw new FormatError(
      source,
      `the data buffer has ${bufferLen - pos} bytes after the last tensor (${bufferLen} bytes, tensors cover ${pos})`,
    );

  const tensors: Record<string, SafetensorsTensor> = {};
  for (const s of specs) {
    const { size, array } = DTYPES[s.dtype];
    const at = bytes.byteOffset + bufferStart + s.begin;
    if (options.copy === false && LITTLE_ENDIAN && at % size === 0) {
      const data = new array(bytes.buffer, at, (s.end - s.begin) / size);
      put(tensors, s.name, { dtype: s.dtype, shape: s.shape, data } as SafetensorsTensor);
      continue;
    }
    const data = new array((s.end - s.begin) / size);
    const src = bytes.subarray(bufferStart + s.begin, bufferStart + s.end);
    if (LITTLE_ENDIAN || size === 1) {
      new Uint8Array(data.buffer).set(src);
    } else {
      const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
      const dst = new DataView(data.buffer);
      for (let i = 0; i < src.byteLength; i += 4) dst.setUint32(i, dv.getUint32(i, true), false);
    }
    put(tensors, s.name, { dtype: s.dtype, shape: s.shape, data } as SafetensorsTensor);
  }
  return { tensors, metadata };
}
