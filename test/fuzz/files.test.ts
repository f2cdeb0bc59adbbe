/**
 * Fuzzing the file readers: safetensors (weights), checkpoints, IDX. Valid
 * files are generated, then cut, flipped, re-headed and rewritten; each case
 * carries its expectation (see harness.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseIdx } from '../../ts/data/idx.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsDType,
  type SafetensorsTensor,
} from '../../ts/io/safetensors.js';
import { Classifier } from '../../ts/model/classifier.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../ts/train/checkpoint.js';
import { fit } from '../../ts/train/fit.js';
import { classifierTask } from '../../ts/model/tasks.js';
import { backendUnderTest } from '../util/backend.js';
import { deepJson, type Expect, expectClean, fuzzCase, Gen, report, snapshot } from './harness.js';

const be = await backendUnderTest();
const before = snapshot(be);
afterAll(() => report('files', be, before));

const ARRAYS = { F32: Float32Array, U32: Uint32Array, I32: Int32Array, U8: Uint8Array } as const;
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

function randomTensors(g: Gen): Record<string, SafetensorsTensor> {
  const out: Record<string, SafetensorsTensor> = {};
  const n = g.int(0, 5);
  for (let i = 0; i < n; i++) {
    const dtype = g.pick(['F32', 'U32', 'I32', 'U8'] as SafetensorsDType[]);
    const shape = Array.from({ length: g.int(0, 3) }, () => g.int(0, 4));
    const count = shape.reduce((a, b) => a * b, 1);
    const raw = new Uint8Array(count * (dtype === 'U8' ? 1 : 4)).map(() => g.int(0, 255));
    const data = new ARRAYS[dtype](raw.buffer);
    const name = g.bool(0.15) ? g.name() : `t${i}`;
    Object.defineProperty(out, name, {
      value: { dtype, shape, data },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Verifies a decoded file holds exactly `want`, and survives encode → decode. */
function verifyTensors(got: Record<string, SafetensorsTensor>, want: Record<string, SafetensorsTensor>) {
  return () => {
    const gk = Object.keys(got).sort();
    const wk = Object.keys(want).sort();
    expect(gk).toEqual(wk);
    for (const k of wk) {
      expect(got[k].dtype).toBe(want[k].dtype);
      expect(got[k].shape).toEqual(want[k].shape);
      expect(sameBytes(bytesOf(got[k].data), bytesOf(want[k].data))).toBe(true);
    }
    const again = decodeSafetensors(encodeSafetensors(got), 'again').tensors;
    for (const k of wk) expect(sameBytes(bytesOf(again[k].data), bytesOf(got[k].data))).toBe(true);
  };
}

/** A file from an explicit header text and buffer (header padded with spaces, length field as given). */
function rawFile(header: string, buffer: Uint8Array, lengthField?: bigint): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + buffer.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(buffer, 8 + h.length);
  return out;
}

function split(file: Uint8Array): { header: Record<string, unknown>; buffer: Uint8Array } {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return {
    header: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))),
    buffer: file.subarray(8 + n),
  };
}

type Mutation = (g: Gen, file: Uint8Array, tensors: Record<string, SafetensorsTensor>) => [Expect, Uint8Array, string];

const entries = (h: Record<string, unknown>) => Object.keys(h).filter((k) => k !== '__metadata__') as string[];
const put = (h: Record<string, unknown>, k: string, v: unknown) =>
  Object.defineProperty(h, k, { value: v, enumerable: true, writable: true, configurable: true });

/** Header rewrites (the buffer kept as it is). */
const MUTATIONS: Record<string, Mutation> = {
  truncate: (g, f) => ['invalid', f.subarray(0, g.int(0, f.length - 1)), 'truncate'],
  append: (g, f) => {
    const out = new Uint8Array(f.length + g.int(1, 16));
    out.set(f);
    return ['invalid', out, 'append'];
  },
  headerLength: (g, f) => {
    const { header, buffer } = split(f);
    const text = JSON.stringify(header);
    const len = g.pick([0n, 1n, 2n ** 40n, 2n ** 64n - 1n, BigInt(f.length), BigInt(text.length + buffer.length + 1)]);
    return ['invalid', rawFile(text, buffer, len), `header length ${len}`];
  },
  flip: (g, f) => {
    const out = f.slice();
    for (let k = g.int(1, 3); k > 0; k--) out[g.int(0, out.length - 1)] ^= 1 << g.int(0, 7);
    return ['either', out, 'flip'];
  },
  dtype: (g, f) => {
    const { header, buffer } = split(f);
    const ks = entries(header);
    if (!ks.length) return ['valid', f, 'dtype (no tensors)'];
    const e = header[g.pick(ks)] as Record<string, unknown>;
    e.dtype = g.pick(['F64', 'f32', 'BF16', '', null, 7, [], 'x'.repeat(5000), '__proto__', 'toString']);
    return ['invalid', rawFile(JSON.stringify(header), buffer), `dtype ${String(e.dtype).slice(0, 20)}`];
  },
  shape: (g, f) => {
    const { header, buffer } = split(f);
    const ks = entries(header).filter((k) => hasBytes(header[k]));
    if (!ks.length) return ['valid', f, 'shape (no data)'];
    const e = header[g.pick(ks)] as Record<string, unknown>;
    e.shape = g.pick<unknown>([
      [-1],
      [1.5],
      ['1'],
      null,
      {},
      [2 ** 53],
      [1e9, 1e9],
      [0],
      [...(e.shape as number[]), 2],
      [2 ** 32 + 1],
    ]);
    return ['invalid', rawFile(JSON.stringify(header), buffer), `shape ${JSON.stringify(e.shape)}`];
  },
  offsets: (g, f) => {
    const { header, buffer } = split(f);
    const ks = entries(header).filter((k) => hasBytes(header[k]));
    if (!ks.length) return ['valid', f, 'offsets (no data)'];
    const e = header[g.pick(ks)] as { data_offsets: unknown };
    const [b, en] = e.data_offsets as number[];
    e.data_offsets = g.pick<unknown>([
      [en, b],
      [b + 1, en + 1],
      [b, en + buffer.length + 1],
      [-1, en],
      [b, 2 ** 60],
      [b],
      [b, en, 0],
      null,
      [`${b}`, en],
      [b + 0.5, en],
    ]);
    return ['invalid', rawFile(JSON.stringify(header), buffer), `offsets ${JSON.stringify(e.data_offsets)}`];
  },
  extraTensor: (g, f) => {
    const { header, buffer } = split(f);
    put(header, g.name(), { dtype: 'F32', shape: [1], data_offsets: [buffer.length, buffer.length + 4] });
    return ['invalid', rawFile(JSON.stringify(header), buffer), 'extra tensor past the end'];
  },
  overlap: (g, f) => {
    const { header, buffer } = split(f);
    if (buffer.length < 4) return ['valid', f, 'overlap (small)'];
    put(header, `dup${g.int(0, 9)}`, { dtype: 'U8', shape: [4], data_offsets: [0, 4] });
    return ['invalid', rawFile(JSON.stringify(header), buffer), 'overlapping tensor'];
  },
  remove: (g, f, _t) => {
    const { header, buffer } = split(f);
    const ks = entries(header);
    if (!ks.length) return ['valid', f, 'remove (none)'];
    const k = g.pick(ks);
    const [b, e] = (header[k] as { data_offsets: number[] }).data_offsets;
    delete header[k];
    // Removing a zero-byte tensor leaves a valid file (and no verification of `t` applies): 'either'.
    return [e > b ? 'invalid' : 'either', rawFile(JSON.stringify(header), buffer), `remove ${k.slice(0, 20)}`];
  },
  deepField: (g, f) => {
    const { header, buffer } = split(f);
    const ks = entries(header);
    const d = g.int(2, 20000);
    const text = JSON.stringify(header);
    const inject = ks.length
      ? text.replace(/"data_offsets"/, `"junk":${deepJson(d)},"data_offsets"`)
      : `{"junk":${deepJson(d)}}`;
    return ['invalid', rawFile(inject, buffer), `deep ${d}`];
  },
  leading: (g, f) => {
    const { header, buffer } = split(f);
    return ['invalid', rawFile(`${g.pick([' ', '\n', '\t', '\ufeff'])}${JSON.stringify(header)}`, buffer), 'leading'];
  },
  metadata: (g, f) => {
    const { header, buffer } = split(f);
    header.__metadata__ = g.pick<unknown>([null, [], { a: 1 }, { a: null }, { a: [] }, 'x', 5]);
    return ['invalid', rawFile(JSON.stringify(header), buffer), `metadata ${JSON.stringify(header.__metadata__)}`];
  },
  notObject: (g) => {
    const text = g.pick(['[]', 'null', '7', '"x"', '', '{', '{"a":', '{}}', '{}\0']);
    return ['invalid', rawFile(text, new Uint8Array(0)), `header ${text}`];
  },
  hugeName: (g, f, t) => {
    // Valid: a long name is legal; the file must load with it.
    const { header, buffer } = split(f);
    const ks = entries(header);
    if (!ks.length) return ['valid', f, 'rename (none)'];
    const k = g.pick(ks);
    const to = `${g.pick(['__proto__', 'constructor', 'toString', 'n'.repeat(g.int(1000, 200000))])}`;
    if (Object.hasOwn(header, to)) return ['valid', f, 'rename (exists)'];
    put(header, to, header[k]);
    delete header[k];
    const want: Record<string, SafetensorsTensor> = {};
    for (const [n, v] of Object.entries(t)) put(want, n === k ? to : n, v);
    renamed = want;
    return ['valid', rawFile(JSON.stringify(header), buffer), `rename to ${to.slice(0, 12)}…`];
  },
};
const hasBytes = (e: unknown) => {
  const [b, en] = (e as { data_offsets: number[] }).data_offsets;
  return en > b;
};
let renamed: Record<string, SafetensorsTensor> | null = null;

describe('fuzz: safetensors', () => {
  it('1 500 generated files and mutations', async () => {
    const g = new Gen(20261201);
    const names = Object.keys(MUTATIONS);
    for (let i = 0; i < 1500; i++) {
      const tensors = randomTensors(g);
      const file = encodeSafetensors(tensors, g.bool(0.3) ? { note: g.name() } : undefined);
      if (i % 6 === 0) {
        await fuzzCase(be, 'safetensors', `#${i} valid`, 'valid', () =>
          verifyTensors(decodeSafetensors(file, 'f').tensors, tensors),
        );
        continue;
      }
      renamed = null;
      const m = names[i % names.length];
      const [exp, bytes, label] = MUTATIONS[m](g, file, tensors);
      const want = renamed ?? tensors;
      await fuzzCase(be, 'safetensors', `#${i} ${label}`, exp, () => {
        const got = decodeSafetensors(bytes, 'f').tensors;
        if (exp === 'valid') return verifyTensors(got, want);
        // 'either': whatever loaded must be self-consistent and survive a round trip.
        return () => {
          const again = decodeSafetensors(encodeSafetensors(got), 'again').tensors;
          for (const k of Object.keys(got)) expect(sameBytes(bytesOf(again[k].data), bytesOf(got[k].data))).toBe(true);
        };
      });
    }
    expectClean('safetensors');
  }, 60_000);
});

describe('fuzz: checkpoints', () => {
  it('800 mutated checkpoints of a real training run', async () => {
    const rng = new Gen(7);
    const images = Float32Array.from({ length: 30 * 64 }, () => rng.rng.next());
    const data = ImageDataset.fromFloat32(
      images,
      [1, 8, 8],
      Array.from({ length: 30 }, (_, i) => i % 3),
      3,
    );
    const model = Classifier.fromBlocks(
      be,
      [{ convs: [{ filters: 2, kernel: 3 }] }],
      [1, 8, 8],
      { hidden: [4], classes: 3 },
      1,
    );
    const saved: Uint8Array[] = [];
    await fit(be, classifierTask(model), data, {
      epochs: 2,
      batchSize: 10,
      optimizer: { type: 'adam', lr: 1e-3 },
      validation: 0.2,
      earlyStopping: { patience: 5 },
      checkpoint: { save: (c) => void saved.push(encodeCheckpoint(c)) },
    });
    model.dispose();
    const g = new Gen(99);
    for (let i = 0; i < 800; i++) {
      const good = saved[i % saved.length];
      const want = decodeCheckpoint(good, 'good');
      const verify = (bytes: Uint8Array) => () => {
        const c = decodeCheckpoint(bytes, 'c');
        const back = decodeCheckpoint(encodeCheckpoint(c), 'back');
        expect(Object.keys(back.params)).toEqual(Object.keys(c.params));
        for (const k of Object.keys(c.params)) expect(back.params[k]).toEqual(c.params[k]);
        expect(back.history).toEqual(c.history);
        expect(back.rngState).toBe(c.rngState);
        return c;
      };
      const kind = i % 8;
      if (kind === 0) {
        await fuzzCase(be, 'checkpoint', `#${i} valid`, 'valid', () => () => {
          const c = verify(good)();
          for (const k of Object.keys(want.params)) expect(c.params[k]).toEqual(want.params[k]);
        });
      } else if (kind <= 3) {
        const m = ['truncate', 'flip', 'headerLength'][kind - 1];
        const [exp, bytes, label] = MUTATIONS[m](g, good, {});
        await fuzzCase(be, 'checkpoint', `#${i} ${label}`, exp, () => verify(bytes));
      } else if (kind <= 5) {
        // Extra or renamed tensors: prototype names, unknown parameters, a third optimizer buffer.
        const f = decodeSafetensors(good, 'g');
        const tensors: Record<string, SafetensorsTensor> = {};
        for (const [k, v] of Object.entries(f.tensors)) put(tensors, k, v);
        const p = g.pick(Object.keys(want.params));
        const name = g.pick([
          `opt/${g.pick(['__proto__', 'constructor', 'toString', 'valueOf'])}/${g.int(0, 3)}`,
          `param/${g.pick(['__proto__', 'constructor', 'x.y', 'nope'])}`,
          `best/${g.pick(['__proto__', 'hasOwnProperty', 'missing'])}`,
          `opt/${p}/${g.int(2, 99)}`,
          `opt/unknown${g.int(0, 9)}/0`,
          g.name(),
          `param/${p}/extra`,
        ]);
        if (kind === 5 && !name.startsWith('param/')) {
          // Rename an existing tensor instead of adding one.
          const from = g.pick(Object.keys(tensors));
          put(tensors, name, tensors[from]);
          delete tensors[from];
        } else
          put(tensors, name, {
            dtype: 'F32',
            shape: [want.params[p].length],
            data: new Float32Array(want.params[p].length),
          });
        const bytes = encodeSafetensors(tensors, f.metadata);
        await fuzzCase(be, 'checkpoint', `#${i} tensor ${name.slice(0, 30)}`, 'invalid', () => verify(bytes));
        expect(({} as Record<string, unknown>)[0]).toBeUndefined();
      } else {
        const f = decodeSafetensors(good, 'g');
        const key = g.pick(['counters', 'history', 'format', 'extra']);
        const j = g.junk();
        const counters = JSON.parse(f.metadata.counters);
        const value = g.pick([
          () => JSON.stringify(j),
          () => deepJson(g.int(65, 5000)),
          () => 'not json',
          () => JSON.stringify({ ...counters, [g.pick(Object.keys(counters))]: j }),
        ])();
        if (key === 'counters' && value === f.metadata.counters) continue;
        const meta = { ...f.metadata, [key]: value };
        const bytes = encodeSafetensors(f.tensors, meta);
        // Junk that happens to be an acceptable value ('early' undefined ← dropped by JSON) is 'either'.
        await fuzzCase(be, 'checkpoint', `#${i} metadata ${key}=${value.slice(0, 30)}`, 'either', () => verify(bytes));
      }
    }
    expectClean('checkpoint');
  }, 60_000);
});

describe('fuzz: IDX', () => {
  it('700 generated and mutated IDX files', async () => {
    const g = new Gen(3);
    for (let i = 0; i < 700; i++) {
      const dims = Array.from({ length: g.int(1, 3) }, () => g.int(1, 6));
      const count = dims.reduce((a, b) => a * b, 1);
      const body = new Uint8Array(count).map(() => g.int(0, 255));
      const file = new Uint8Array(4 + 4 * dims.length + count);
      file.set([0, 0, 8, dims.length]);
      dims.forEach((d, k) => new DataView(file.buffer).setUint32(4 + 4 * k, d, false));
      file.set(body, 4 + 4 * dims.length);
      const verify = (bytes: Uint8Array, wantDims?: number[], wantBody?: Uint8Array) => () => {
        const r = parseIdx(bytes, 'idx');
        if (wantDims) expect(r.dims).toEqual(wantDims);
        if (wantBody) expect(sameBytes(r.data, wantBody)).toBe(true);
        expect(r.data.length).toBe(r.dims.reduce((a, b) => a * b, 1));
      };
      const kind = i % 7;
      let exp: Expect = 'invalid';
      let bytes = file.slice();
      let label = '';
      if (kind === 0) {
        exp = 'valid';
        label = 'valid';
        await fuzzCase(null, 'idx', `#${i} valid`, exp, () => verify(bytes, dims, body));
        continue;
      }
      if (kind === 1) [bytes, label] = [file.subarray(0, g.int(0, file.length - 1)), 'truncate'];
      else if (kind === 2) {
        bytes = new Uint8Array(file.length + g.int(1, 9));
        bytes.set(file);
        label = 'append';
      } else if (kind === 3) {
        bytes[g.int(0, 1)] = g.int(1, 255);
        label = 'magic';
      } else if (kind === 4) {
        bytes[2] = g.pick([0, 9, 11, 12, 13, 14, 255]);
        label = `type ${bytes[2]}`;
      } else if (kind === 5) {
        new DataView(bytes.buffer).setUint32(
          4,
          g.pick([0, 2 ** 32 - 1, 2 ** 31, 65536 * 65536 - 1, dims[0] + 1]),
          false,
        );
        label = 'dims';
        if (new DataView(bytes.buffer).getUint32(4, false) === 0) exp = 'either';
      } else {
        bytes[g.int(0, bytes.length - 1)] ^= 1 << g.int(0, 7);
        exp = 'either';
        label = 'flip';
      }
      await fuzzCase(null, 'idx', `#${i} ${label}`, exp, () => verify(bytes));
    }
    expectClean('idx');
  }, 60_000);
});
