import { MAX_MESSAGE_CHARS } from '../../ts/limits.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ArgumentError, FormatError } from '../../ts/errors.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  SAFETENSORS_MAX_HEADER,
  type SafetensorsTensor,
} from '../../ts/io/safetensors.js';

const u32bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const f32 = (bits: number[]): Float32Array => new Float32Array(new Uint32Array(bits).buffer);

/** A file from a header string and data bytes, the length field written as given (default: the header's byte length). */
function file(header: string, data: number[] | Uint8Array = [], lengthField?: bigint): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function formatError(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error('expected a FormatError, nothing was thrown');
}

const entry = (dtype: string, shape: unknown, offsets: unknown): string =>
  JSON.stringify({ dtype, shape, data_offsets: offsets });

describe('safetensors round trip', () => {
  it('is bit-exact for every dtype, incl. NaN payloads, −0, ±Inf, subnormals and extreme integers', () => {
    const weird = f32([
      0x7fc00001, 0xffc12345, 0x7f800001 /* signalling NaN */, 0x80000000 /* -0 */, 0x00000001, 0x7f800000, 0xff800000,
      0x3f800000,
    ]);
    const tensors: Record<string, SafetensorsTensor> = {
      w: { dtype: 'F32', shape: [2, 4], data: weird },
      s: { dtype: 'U32', shape: [3], data: new Uint32Array([0, 1, 0xffffffff]) },
      i: { dtype: 'I32', shape: [1, 3], data: new Int32Array([-2147483648, 0, 2147483647]) },
      b: { dtype: 'U8', shape: [4], data: new Uint8Array([0, 1, 128, 255]) },
      scalar: { dtype: 'F32', shape: [], data: new Float32Array([42]) },
      empty: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
    };
    const bytes = encodeSafetensors(tensors);
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLen % 8).toBe(0);
    const back = decodeSafetensors(bytes, 'mem');
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
    expect(back.metadata).toEqual({});
    const w = back.tensors.w;
    expect(w.dtype).toBe('F32');
    expect(w.shape).toEqual([2, 4]);
    expect(w.data).toBeInstanceOf(Float32Array);
    expect(u32bits(w.data as Float32Array)).toEqual(u32bits(weird));
    expect(Object.is((w.data as Float32Array)[3], -0)).toBe(true);
    for (const k of ['s', 'i', 'b', 'scalar', 'empty']) {
      expect(back.tensors[k].dtype).toBe(tensors[k].dtype);
      expect(back.tensors[k].shape).toEqual(tensors[k].shape);
      expect(back.tensors[k].data.constructor).toBe(tensors[k].data.constructor);
      expect(Array.from(back.tensors[k].data)).toEqual(Array.from(tensors[k].data));
    }
    // re-encoding the decoded tensors gives the same bytes
    expect(encodeSafetensors(back.tensors)).toEqual(bytes);
  });

  it('keeps metadata (sorted keys, any Unicode) and the name __proto__ as a plain entry', () => {
    const metadata = { zeta: 'é\u2028"\\\n\u0001', alpha: '😀', format: 'pt' };
    const bytes = encodeSafetensors({ x: { dtype: 'U8', shape: [1], data: new Uint8Array([7]) } }, metadata);
    const back = decodeSafetensors(bytes, 'mem');
    expect(back.metadata).toEqual(metadata);
    const header = new TextDecoder().decode(
      bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))),
    );
    expect(header.startsWith('{"__metadata__":{"alpha":"😀","format":"pt","zeta":')).toBe(true);

    const proto = decodeSafetensors(file(`{"__proto__":${entry('U8', [1], [0, 1])}}`, [9]), 'mem');
    expect(Object.getPrototypeOf(proto.tensors)).toBe(Object.prototype);
    expect(Object.keys(proto.tensors)).toEqual(['__proto__']);
    expect(Array.from(Object.getOwnPropertyDescriptor(proto.tensors, '__proto__')?.value.data)).toEqual([9]);
  });

  it('empty metadata is written as {} (as the reference does when given a dict), none is omitted', () => {
    const t = { a: { dtype: 'F32', shape: [1], data: new Float32Array(1) } } satisfies Record<
      string,
      SafetensorsTensor
    >;
    expect(new TextDecoder().decode(encodeSafetensors(t, {}).subarray(8, 26))).toBe('{"__metadata__":{}');
    expect(new TextDecoder().decode(encodeSafetensors(t).subarray(8, 13))).toBe('{"a":');
    // no tensors at all: "{}" padded to 8 bytes, as the reference writes it
    expect(Array.from(encodeSafetensors({}))).toEqual([
      8,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...new TextEncoder().encode('{}      '),
    ]);
  });

  it('lays out by dtype (F32, U32, I32, U8) then by name in code-point order, like the reference', () => {
    const one = (dtype: 'F32' | 'U32' | 'I32' | 'U8'): SafetensorsTensor =>
      ({
        F32: { dtype, shape: [1], data: new Float32Array(1) },
        U32: { dtype, shape: [1], data: new Uint32Array(1) },
        I32: { dtype, shape: [1], data: new Int32Array(1) },
        U8: { dtype, shape: [1], data: new Uint8Array(1) },
      })[dtype] as SafetensorsTensor;
    const bytes = encodeSafetensors({
      u8: one('U8'),
      a_i32: one('I32'),
      z_f32: one('F32'),
      b_u32: one('U32'),
      '\uffff': one('F32'),
      '😀': one('F32'),
      B: one('F32'),
      é: one('F32'),
    });
    const header = JSON.parse(
      new TextDecoder().decode(bytes.subarray(8, 8 + new DataView(bytes.buffer).getUint32(0, true))),
    ) as Record<string, unknown>;
    // JS string order would put 😀 (a surrogate pair) before \uffff; UTF-8 byte order puts it after.
    expect(Object.keys(header)).toEqual(['B', 'z_f32', 'é', '\uffff', '😀', 'b_u32', 'a_i32', 'u8']);
  });

  it('rejects bad tensors when encoding', () => {
    expect(() => encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array(3) } })).toThrow(
      /shape \[2\] \(2 elements\) but 3 data elements/,
    );
    expect(() =>
      encodeSafetensors({ a: { dtype: 'F32', shape: [1], data: new Uint32Array(1) } as unknown as SafetensorsTensor }),
    ).toThrow(/dtype F32 but data is a Uint32Array/);
    expect(() =>
      encodeSafetensors({ a: { dtype: 'F64', shape: [1], data: new Float64Array(1) } as unknown as SafetensorsTensor }),
    ).toThrow(ArgumentError);
    expect(() => encodeSafetensors({ a: { dtype: 'U8', shape: [-1], data: new Uint8Array(0) } })).toThrow(
      /non-negative integers/,
    );
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } })).toThrow(
      /reserved name/,
    );
    expect(() => encodeSafetensors({ '\ud800': { dtype: 'U8', shape: [0], data: new Uint8Array(0) } })).toThrow(
      /lone surrogate/,
    );
    expect(() => encodeSafetensors({}, { k: 1 } as unknown as Record<string, string>)).toThrow(
      /metadata\["k"\] must be a string/,
    );
  });

  it('copies tensor data out of unaligned offsets', () => {
    // U8 [3] first, then F32 at buffer offset 3 (and file offset 8 + header + 3): unaligned for a Float32Array view
    const header = `{"a":${entry('U8', [3], [0, 3])},"b":${entry('F32', [2], [3, 11])}}`;
    const data = new Uint8Array([1, 2, 3, ...new Uint8Array(new Float32Array([1.5, -0]).buffer)]);
    const back = decodeSafetensors(file(header, data), 'mem');
    expect(Array.from(back.tensors.a.data)).toEqual([1, 2, 3]);
    expect(u32bits(back.tensors.b.data as Float32Array)).toEqual([0x3fc00000, 0x80000000]);
    // and a file that is itself a view at an odd offset of a larger buffer
    const f = file(header, data);
    const big = new Uint8Array(f.length + 1);
    big.set(f, 1);
    expect(Array.from(decodeSafetensors(big.subarray(1), 'mem').tensors.b.data)).toEqual([1.5, -0]);
  });

  it('copy: false gives views of the input where aligned (one copy on the way into wasm), copies elsewhere', () => {
    const bytes = encodeSafetensors({
      w: { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, -0, 7]) },
      n: { dtype: 'U8', shape: [3], data: new Uint8Array([9, 8, 7]) },
    });
    const copied = decodeSafetensors(bytes, 'mem');
    const viewed = decodeSafetensors(bytes, 'mem', { copy: false });
    for (const name of ['w', 'n']) {
      expect(viewed.tensors[name].shape).toEqual(copied.tensors[name].shape);
      expect(Array.from(viewed.tensors[name].data)).toEqual(Array.from(copied.tensors[name].data));
      expect(copied.tensors[name].data.buffer).not.toBe(bytes.buffer);
      expect(viewed.tensors[name].data.buffer).toBe(bytes.buffer);
    }
    // A view follows the input: writing the input changes it (what the option documents).
    const w = viewed.tensors.w.data as Float32Array;
    new Float32Array(bytes.buffer, w.byteOffset, 1)[0] = 42;
    expect(w[0]).toBe(42);
    // At an offset no Float32Array can start at, the F32 tensor is copied (the U8 one can still be a view).
    const big = new Uint8Array(bytes.length + 1);
    big.set(bytes, 1);
    const odd = decodeSafetensors(big.subarray(1), 'mem', { copy: false });
    expect(odd.tensors.w.data.buffer).not.toBe(big.buffer);
    expect(Array.from(odd.tensors.w.data)).toEqual([42, -2, 3.5, 0, -0, 7]);
    expect(odd.tensors.n.data.buffer).toBe(big.buffer);
  });
});

describe('safetensors interoperability with the reference implementation', () => {
  /*
   * test/fixtures/reference.safetensors (501 bytes) is written by
   * scripts/fixtures/make_safetensors_fixture.py with safetensors 0.8.0
   * (`safetensors.numpy.save_file`, numpy 2.4.6):
   *
   *   encoder.weight  F32 [2,1,2,2]  [0.5, -1.25, 3.0, -0.0, 1e-45, 3.4028234663852886e38, -inf, 0.0]
   *   decoder.bias    F32 [3]        [0.1, -2.5, NaN with bits 0x7fc00001]
   *   labels          U8  [5]        [0, 1, 9, 128, 255]
   *   switches        U32 [2,2]      [[0, 3], [4294967295, 7]]
   *   steps           I32 [3]        [-2147483648, -1, 2147483647]
   *   metadata        {"note": "convae reference fixture — written by safetensors save_file"}
   *
   * Its header (410 bytes of JSON + 6 spaces) lists __metadata__ first, then
   * decoder.bias, encoder.weight, switches, steps, labels: dtype order, then name.
   */
  const fixture = new Uint8Array(
    readFileSync(fileURLToPath(new URL('../fixtures/reference.safetensors', import.meta.url))),
  );
  const expected: Record<string, SafetensorsTensor> = {
    'encoder.weight': {
      dtype: 'F32',
      shape: [2, 1, 2, 2],
      data: new Float32Array([0.5, -1.25, 3.0, -0.0, 1e-45, 3.4028234663852886e38, -Infinity, 0.0]),
    },
    'decoder.bias': { dtype: 'F32', shape: [3], data: new Float32Array([0.1, -2.5, 0]) },
    labels: { dtype: 'U8', shape: [5], data: new Uint8Array([0, 1, 9, 128, 255]) },
    switches: { dtype: 'U32', shape: [2, 2], data: new Uint32Array([0, 3, 4294967295, 7]) },
    steps: { dtype: 'I32', shape: [3], data: new Int32Array([-2147483648, -1, 2147483647]) },
  };
  new Uint32Array(expected['decoder.bias'].data.buffer)[2] = 0x7fc00001;
  const metadata = { note: 'convae reference fixture — written by safetensors save_file' };

  it('decodes the exact values written by safetensors.numpy.save_file', () => {
    expect(fixture.length).toBe(501);
    const back = decodeSafetensors(fixture, 'reference.safetensors');
    expect(back.metadata).toEqual(metadata);
    expect(Object.keys(back.tensors)).toEqual(['decoder.bias', 'encoder.weight', 'switches', 'steps', 'labels']);
    for (const [name, t] of Object.entries(expected)) {
      const got = back.tensors[name];
      expect(got.dtype, name).toBe(t.dtype);
      expect(got.shape, name).toEqual(t.shape);
      expect(got.data.constructor, name).toBe(t.data.constructor);
      expect(Array.from(new Uint8Array(got.data.buffer, got.data.byteOffset, got.data.byteLength)), name).toEqual(
        Array.from(new Uint8Array(t.data.buffer)),
      );
    }
    expect(Object.is(back.tensors['encoder.weight'].data[3], -0)).toBe(true);
    expect(back.tensors['encoder.weight'].data[4]).toBe(1.401298464324817e-45);
  });

  it('encodes the same tensors to the same bytes as the reference', () => {
    expect(encodeSafetensors(expected, metadata)).toEqual(fixture);
  });
});

describe('safetensors decoding rejects corrupt and hostile files with FormatError', () => {
  const good = encodeSafetensors({
    a: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
    b: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
  });

  it('accepts the valid file used below', () => {
    expect(Object.keys(decodeSafetensors(good, 'ok').tensors)).toEqual(['a', 'b']);
  });

  it('file shorter than 8 bytes', () => {
    expect(formatError(() => decodeSafetensors(new Uint8Array(0), 'x.safetensors')).message).toBe(
      'x.safetensors: not a safetensors file: 0 bytes, shorter than the 8-byte header length',
    );
    expect(formatError(() => decodeSafetensors(good.subarray(0, 7), 'x')).message).toMatch(
      /7 bytes, shorter than the 8-byte header length/,
    );
  });

  it('header length beyond the file, or absurdly large', () => {
    expect(formatError(() => decodeSafetensors(good.subarray(0, 20), 'x')).message).toMatch(
      /header length \d+ exceeds the 12 bytes after the length field/,
    );
    expect(formatError(() => decodeSafetensors(file('{}', [], 9n), 'x')).message).toMatch(
      /header length 9 exceeds the 2 bytes after the length field/,
    );
    expect(
      formatError(() => decodeSafetensors(file('{}', [], BigInt(SAFETENSORS_MAX_HEADER) + 1n), 'x')).message,
    ).toMatch(
      new RegExp(`header length ${SAFETENSORS_MAX_HEADER + 1} exceeds the ${SAFETENSORS_MAX_HEADER}-byte limit`),
    );
    expect(formatError(() => decodeSafetensors(file('{}', [], 0xffffffffffffffffn), 'x')).message).toMatch(
      /header length 18446744073709551615 exceeds the \d+-byte limit/,
    );
    expect(formatError(() => decodeSafetensors(file('{}', [], 1n << 32n), 'x')).message).toMatch(
      /header length 4294967296 exceeds/,
    );
  });

  it('header not UTF-8, not JSON, not an object', () => {
    const bad = file('{"a":1}');
    bad[10] = 0xff;
    expect(formatError(() => decodeSafetensors(bad, 'x')).message).toMatch(/header is not valid UTF-8/);
    expect(formatError(() => decodeSafetensors(file(''), 'x')).message).toMatch(
      /header must begin with '\{', got an empty header/,
    );
    expect(formatError(() => decodeSafetensors(file('{"a":'), 'x')).message).toMatch(/header is not valid JSON/);
    expect(formatError(() => decodeSafetensors(file('{}\0'), 'x')).message).toMatch(/header is not valid JSON/);
    // The format: the header MUST begin with '{'.
    expect(formatError(() => decodeSafetensors(file('[]'), 'x')).message).toMatch(
      /header must begin with '\{', got "\["/,
    );
    expect(formatError(() => decodeSafetensors(file('null'), 'x')).message).toMatch(/got "n"/);
    expect(formatError(() => decodeSafetensors(file('7'), 'x')).message).toMatch(/got "7"/);
  });

  it('metadata that is not an object of strings', () => {
    expect(formatError(() => decodeSafetensors(file('{"__metadata__":{"a":1}}'), 'x')).message).toMatch(
      /metadata "a" must be a string, got number 1/,
    );
    expect(formatError(() => decodeSafetensors(file('{"__metadata__":{"a":null}}'), 'x')).message).toMatch(
      /metadata "a" must be a string, got null/,
    );
    expect(formatError(() => decodeSafetensors(file('{"__metadata__":["a"]}'), 'x')).message).toMatch(
      /__metadata__ must be an object of strings, got an array/,
    );
  });

  it('unknown or unsupported dtype', () => {
    expect(formatError(() => decodeSafetensors(file(`{"a":${entry('Q7', [1], [0, 1])}}`, [0]), 'x')).message).toBe(
      'x: tensor "a": unknown dtype string "Q7"',
    );
    expect(
      formatError(() => decodeSafetensors(file(`{"a":${entry('F64', [1], [0, 8])}}`, new Uint8Array(8)), 'x')).message,
    ).toMatch(/tensor "a": dtype "F64" is not supported \(convae reads F32, U32, I32, U8\)/);
    expect(
      formatError(() => decodeSafetensors(file('{"a":{"shape":[1],"data_offsets":[0,1]}}', [0]), 'x')).message,
    ).toMatch(/unknown dtype undefined/);
  });

  it('bad shapes', () => {
    for (const shape of [[-1], [1.5], ['2'], 3, null, [2 ** 53]]) {
      expect(
        formatError(() => decodeSafetensors(file(`{"a":${entry('U8', shape, [0, 1])}}`, [0]), 'x')).message,
      ).toMatch(/tensor "a": shape must be a list of non-negative integers/);
    }
  });

  it('bad offsets: not integers, not a pair, end < begin, end beyond the buffer', () => {
    for (const off of [[0.5, 1], [-1, 0], [0], [0, 1, 2], '0,1', [0, '1'], [0, 2 ** 60]]) {
      expect(formatError(() => decodeSafetensors(file(`{"a":${entry('U8', [1], off)}}`, [0]), 'x')).message).toMatch(
        /tensor "a": data_offsets must be \[begin, end\] of non-negative integers/,
      );
    }
    expect(formatError(() => decodeSafetensors(file(`{"a":${entry('U8', [0], [1, 0])}}`, [0]), 'x')).message).toMatch(
      /data_offsets \[1,0\] end before they begin/,
    );
    expect(formatError(() => decodeSafetensors(file(`{"a":${entry('U8', [2], [0, 2])}}`, [0]), 'x')).message).toMatch(
      /data_offsets \[0,2\] run past the 1-byte data buffer/,
    );
    // an absurd size, declared consistently, never reaches an allocation
    expect(
      formatError(() => decodeSafetensors(file(`{"a":${entry('F32', [2 ** 30, 2 ** 20], [0, 2 ** 52])}}`, [0]), 'x'))
        .message,
    ).toMatch(/run past the 1-byte data buffer/);
  });

  it('byte length ≠ prod(shape) × dtype size', () => {
    expect(
      formatError(() => decodeSafetensors(file(`{"a":${entry('F32', [2], [0, 4])}}`, new Uint8Array(4)), 'x')).message,
    ).toBe('x: tensor "a": shape [2] of F32 needs 8 bytes, data_offsets [0,4] hold 4');
    expect(
      formatError(() =>
        decodeSafetensors(file(`{"a":${entry('F32', [1000000, 1000000, 1000000], [0, 4])}}`, new Uint8Array(4)), 'x'),
      ).message,
    ).toMatch(/needs more than 4 bytes/);
    expect(
      formatError(() => decodeSafetensors(file(`{"a":${entry('U8', [0, 5], [0, 1])}}`, [0]), 'x')).message,
    ).toMatch(/shape \[0,5\] of U8 needs 0 bytes, data_offsets \[0,1\] hold 1/);
  });

  it('overlapping, gapped, or incompletely covered ranges', () => {
    const two = (a: number[], b: number[], n: number) =>
      file(`{"a":${entry('U8', [a[1] - a[0]], a)},"b":${entry('U8', [b[1] - b[0]], b)}}`, new Uint8Array(n));
    expect(formatError(() => decodeSafetensors(two([0, 4], [2, 6], 6), 'x')).message).toBe(
      'x: tensor "b": data_offsets [2,6] overlap tensor "a", which ends at 4',
    );
    expect(formatError(() => decodeSafetensors(two([0, 4], [0, 4], 4), 'x')).message).toMatch(/overlap tensor "a"/);
    expect(formatError(() => decodeSafetensors(two([0, 2], [3, 5], 5), 'x')).message).toBe(
      'x: tensor "b": data_offsets [3,5] leave a gap of 1 bytes after tensor "a" (at 2)',
    );
    expect(formatError(() => decodeSafetensors(two([1, 2], [2, 4], 4), 'x')).message).toMatch(
      /tensor "a": data_offsets \[1,2\] leave a gap of 1 bytes after the buffer start/,
    );
    expect(formatError(() => decodeSafetensors(two([0, 2], [2, 4], 5), 'x')).message).toBe(
      'x: the data buffer has 1 bytes after the last tensor (5 bytes, tensors cover 4)',
    );
    expect(formatError(() => decodeSafetensors(file('{}', [1, 2]), 'x')).message).toMatch(
      /the data buffer has 2 bytes after the last tensor/,
    );
    // a truncated good file: the last tensor now runs past the buffer
    expect(formatError(() => decodeSafetensors(good.subarray(0, good.length - 1), 'x')).message).toMatch(
      /tensor "b": data_offsets \[8,11\] run past the 10-byte data buffer/,
    );
    // zero-length tensors may share an offset (the reference writes [0,0] for each)
    const zeros = decodeSafetensors(
      file(
        `{"a":${entry('F32', [0], [0, 0])},"b":${entry('F32', [2, 0], [0, 0])},"c":${entry('F32', [], [0, 4])}}`,
        new Uint8Array(4),
      ),
      'x',
    );
    expect(zeros.tensors.b.shape).toEqual([2, 0]);
    expect(zeros.tensors.c.data.length).toBe(1);
  });

  it('like the reference: trailing whitespace and unknown entry fields are accepted', () => {
    const back = decodeSafetensors(
      file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":true}} \r\n\t `, [5]),
      'x',
    );
    expect(Array.from(back.tensors.a.data)).toEqual([5]);
  });

  it('the format: a header with leading whitespace or a byte-order mark is refused', () => {
    const body = '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}';
    for (const lead of [' ', '\n', '\t', '\ufeff'])
      expect(formatError(() => decodeSafetensors(file(`${lead}${body}`, [5]), 'x')).message).toMatch(
        /header must begin with '\{'/,
      );
  });

  it('deep nesting is refused before JSON.parse builds it, also inside an unknown field, in bounded time', () => {
    const deep = (n: number) =>
      `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":${'['.repeat(n)}${']'.repeat(n)}}}`;
    expect(formatError(() => decodeSafetensors(file(deep(2), [5]), 'x')).message).toMatch(
      /header nests deeper than 3 levels/,
    );
    expect(decodeSafetensors(file(deep(1), [5]), 'x').tensors.a.data[0]).toBe(5);
    // 2 MB of brackets: refused by the pre-scan (no tree is built) quickly.
    const t0 = performance.now();
    expect(formatError(() => decodeSafetensors(file(deep(1_000_000), [5]), 'x')).message).toMatch(/nests deeper/);
    expect(performance.now() - t0).toBeLessThan(2000);
    // Brackets inside strings do not count.
    const ok = decodeSafetensors(
      file(`{"__metadata__":{"k":"[[[[[[\\"{{{{"},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, [5]),
      'x',
    );
    expect(ok.metadata.k).toBe('[[[[[["{{{{');
  });

  it('error messages quote names and dtypes cut short, and never exceed the message limit', () => {
    const long = 'n'.repeat(5_000_000);
    const m1 = formatError(() =>
      decodeSafetensors(file(`{"${long}":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, new Uint8Array(8)), 'x'),
    ).message;
    expect(m1.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(m1).toMatch(/^x: tensor "n{120}…": dtype "F64" is not supported/);
    const m2 = formatError(() =>
      decodeSafetensors(file(`{"a":{"dtype":"${long}","shape":[1],"data_offsets":[0,8]}}`, new Uint8Array(8)), 'x'),
    ).message;
    expect(m2.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(m2).toMatch(/unknown dtype string "n{120}…"/);
  });

  it('every single-byte truncation of a valid file is a FormatError, never a crash or a partial read', () => {
    for (let n = 0; n < good.length; n++)
      expect(() => decodeSafetensors(good.subarray(0, n), 'x')).toThrow(FormatError);
  });
});
