/**
 * The defects of issue 12, one test each: prototype pollution and extra
 * tensors from checkpoints, tensor sizes that wrap at 2^32, names from
 * Object.prototype as activations, unbounded messages, fit options checked
 * late, and a failed resume leaking its optimizer state.
 */
import { describe, expect, it } from 'vitest';
import * as cv from '../ts/index.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../ts/io/safetensors.js';
import { MAX_MESSAGE_CHARS, MAX_TENSOR_ELEMENTS } from '../ts/limits.js';
import { Classifier } from '../ts/model/classifier.js';
import { decodeCheckpoint, encodeCheckpoint } from '../ts/train/checkpoint.js';
import { fit, type FitOptions } from '../ts/train/fit.js';
import { checkSearchOptions } from '../ts/train/options.js';
import { classifierTask } from '../ts/model/tasks.js';
import { backendUnderTest } from './util/backend.js';

const be = await backendUnderTest();
const shape = [1, 8, 8] as const;
const rng = new cv.Rng(5);
const images = Float32Array.from({ length: 40 * 64 }, () => rng.next());
const labels = Array.from({ length: 40 }, (_, i) => i % 3);
const data = cv.ImageDataset.fromFloat32(images, shape, labels, 3);
const model = (seed = 1) =>
  Classifier.fromBlocks(be, [{ convs: [{ filters: 2, kernel: 3 }] }], [...shape], { hidden: [4], classes: 3 }, seed);
const base: FitOptions = { epochs: 2, batchSize: 10, seed: 3, optimizer: { type: 'adam', lr: 1e-3 } };

/** A real checkpoint of `model()` after one epoch. */
async function checkpointBytes(): Promise<Uint8Array> {
  const m = model();
  let bytes: Uint8Array | undefined;
  await fit(be, classifierTask(m), data, {
    ...base,
    epochs: 1,
    checkpoint: {
      save: (c) => {
        bytes = encodeCheckpoint(c);
      },
    },
  });
  m.dispose();
  return bytes!;
}
const good = await checkpointBytes();

/** `bytes` re-encoded with tensors added or metadata replaced (own properties, also for `__proto__`). */
function edit(
  bytes: Uint8Array,
  add: Record<string, Float32Array> = {},
  meta: Record<string, string> = {},
): Uint8Array {
  const f = decodeSafetensors(bytes, 'edit');
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [k, t] of [
    ...Object.entries(f.tensors),
    ...Object.entries(add).map(([k, d]) => [k, { dtype: 'F32', shape: [d.length], data: d }] as const),
  ])
    Object.defineProperty(tensors, k, { value: t, enumerable: true, configurable: true, writable: true });
  return encodeSafetensors(tensors, { ...f.metadata, ...meta });
}
const withProto = (name: string, v: Float32Array) => {
  const o: Record<string, Float32Array> = {};
  Object.defineProperty(o, name, { value: v, enumerable: true });
  return o;
};

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('nothing was thrown');
}

describe('checkpoints from untrusted bytes', () => {
  it('decodes a good checkpoint (baseline)', () => {
    const c = decodeCheckpoint(good, 'good');
    expect(c.epoch).toBe(1);
    expect(Object.keys(c.params).length).toBe(6);
  });

  it('opt/__proto__/0, opt/constructor/N, opt/toString/N: refused, Object.prototype and Array.prototype untouched', () => {
    for (const name of ['opt/__proto__/0', 'opt/constructor/1', 'opt/toString/0', 'opt/hasOwnProperty/0']) {
      const e = thrown(() => decodeCheckpoint(edit(good, withProto(name, new Float32Array(4))), 'evil'));
      expect(e, name).toBeInstanceOf(cv.FormatError);
      expect(e.message).toMatch(/unexpected tensor/);
      expect(({} as Record<number, unknown>)[0]).toBeUndefined();
      expect(([] as unknown[])[0]).toBeUndefined();
      expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('0');
    }
  });

  it('param/__proto__, best/__proto__, opt/<unknown>/N and a third optimizer buffer are refused by name', () => {
    for (const name of ['param/__proto__', 'best/__proto__', 'opt/nope/0', 'param/a/b', 'weird', 'param/constructor']) {
      const e = thrown(() => decodeCheckpoint(edit(good, withProto(name, new Float32Array(4))), 'evil'));
      expect(e, name).toBeInstanceOf(cv.FormatError);
    }
    const p = Object.keys(decodeCheckpoint(good, 'g').params)[0];
    const size = decodeCheckpoint(good, 'g').params[p].length;
    expect(thrown(() => decodeCheckpoint(edit(good, { [`opt/${p}/2`]: new Float32Array(size) }), 'x')).message).toMatch(
      /at most 2 buffers/,
    );
    expect(
      thrown(() => decodeCheckpoint(edit(good, { [`opt/${p}/0`]: new Float32Array(size + 1) }), 'x')).message,
    ).toMatch(/has \d+ values, its parameter/);
  });

  it('100 000 extra tensors are summarised, the message stays under the limit', () => {
    const add: Record<string, Float32Array> = {};
    const one = new Float32Array(0);
    for (let i = 0; i < 100_000; i++) add[`junk${i}`] = one;
    const e = thrown(() => decodeCheckpoint(edit(good, add), 'many'));
    expect(e).toBeInstanceOf(cv.FormatError);
    expect(e.message).toMatch(/and 99 995 more/);
    expect(e.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  });

  it('metadata of the wrong shape is a FormatError, not a TypeError', () => {
    const c = decodeCheckpoint(good, 'g');
    const bad: Record<string, string>[] = [
      { counters: 'null' },
      { counters: '[]' },
      { counters: '7' },
      { counters: JSON.stringify({ epoch: 1, steps: 4, rngState: -1, optimizerSteps: 4 }) },
      { counters: JSON.stringify({ epoch: 1, steps: 4, rngState: 1, optimizerSteps: 4, early: null }) },
      { history: '[null]' },
      { history: '[]' },
      { history: '{}' },
      { history: JSON.stringify([{ ...c.history[0], loss: 'x' }]) },
      { history: JSON.stringify([{ ...c.history[0], epoch: 5 }]) },
      { history: `${'['.repeat(100)}${']'.repeat(100)}` },
      { extra: 'x' },
    ];
    for (const meta of bad) {
      const e = thrown(() => decodeCheckpoint(edit(good, {}, meta), 'meta'));
      expect(e, JSON.stringify(meta).slice(0, 80)).toBeInstanceOf(cv.FormatError);
    }
  });
});

describe('tensor sizes', () => {
  it('2^30 elements or 1e10 are refused before allocation; the counters and memory do not move', () => {
    const before = { ...be.mem.live, memory: be.memoryBytes };
    for (const s of [[2 ** 30], [1e5, 1e5], [MAX_TENSOR_ELEMENTS + 1], [2 ** 16, 2 ** 16, 2 ** 16], [2 ** 53, 2]]) {
      expect(() => be.empty(s), `${s}`).toThrow(cv.ShapeError);
      expect(() => be.zeros(s), `${s}`).toThrow(/at most 268435456 elements|integers ≥ 1/);
    }
    for (const s of [[-1], [1.5], [Number.NaN], [Infinity], [0], ['3' as unknown as number]])
      expect(() => be.empty(s), `${s}`).toThrow(cv.ShapeError);
    expect(() => be.empty('x' as unknown as number[])).toThrow(cv.ShapeError);
    expect({ ...be.mem.live, memory: be.memoryBytes }).toEqual(before);
  });
});

describe('activation names', () => {
  it("'toString', 'constructor', '__proto__', 'hasOwnProperty' are not activations", () => {
    const x = be.zeros([4]);
    const y = be.zeros([4]);
    for (const k of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])
      expect(() => cv.activation(k as cv.Activation, x, y), k).toThrow(cv.ArgumentError);
    expect(() => cv.activationBackward('toString' as cv.Activation, x, x, y)).toThrow(cv.ArgumentError);
    x.dispose();
    y.dispose();
  });
});

describe('bounded messages', () => {
  it('every ConvaeError message is cut to MAX_MESSAGE_CHARS, names to MAX_QUOTED_CHARS', () => {
    const huge = 'x'.repeat(5_000_000);
    for (const e of [
      new cv.ConvaeError(huge),
      new cv.FormatError(huge, huge),
      new cv.ArgumentError('op', huge, huge),
      new cv.ShapeError('op', 'a', huge, huge),
    ]) {
      expect(e.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
      expect(e.message).toMatch(/… \(\d+ characters\)$/);
    }
    expect(cv.quote(huge).length).toBeLessThan(130);
    expect(cv.summarize(Array.from({ length: 100_000 }, (_, i) => `t${i}`))).toBe(
      '"t0", "t1", "t2", "t3", "t4" and 99 995 more',
    );
  });
});

describe('fit options are checked before the first step', () => {
  const cases: [string, (o: FitOptions) => unknown, RegExp][] = [
    ['gamma NaN', (o) => ({ ...o, schedule: { type: 'step', every: 1, gamma: Number.NaN } }), /schedule.gamma/],
    ['gamma -1', (o) => ({ ...o, schedule: { type: 'step', every: 1, gamma: -1 } }), /schedule.gamma/],
    ['every 0', (o) => ({ ...o, checkpoint: { every: 0, save: () => {} } }), /checkpoint.every/],
    ['every -1', (o) => ({ ...o, checkpoint: { every: -1, save: () => {} } }), /checkpoint.every/],
    ['every 1.5', (o) => ({ ...o, checkpoint: { every: 1.5, save: () => {} } }), /checkpoint.every/],
    ['every NaN', (o) => ({ ...o, checkpoint: { every: Number.NaN, save: () => {} } }), /checkpoint.every/],
    ['save missing', (o) => ({ ...o, checkpoint: {} }), /checkpoint.save/],
    ['patience -1', (o) => ({ ...o, validation: 0.2, earlyStopping: { patience: -1 } }), /patience/],
    ['patience NaN', (o) => ({ ...o, validation: 0.2, earlyStopping: { patience: Number.NaN } }), /patience/],
    ['patience 1.5', (o) => ({ ...o, validation: 0.2, earlyStopping: { patience: 1.5 } }), /patience/],
    ['lr Infinity', (o) => ({ ...o, optimizer: { type: 'sgd', lr: Infinity } }), /optimizer.lr/],
    ['lr NaN', (o) => ({ ...o, optimizer: { type: 'adam', lr: Number.NaN } }), /optimizer.lr/],
    ['optimizer null', (o) => ({ ...o, optimizer: null }), /optimizer must be an object/],
    ['momentum 2', (o) => ({ ...o, optimizer: { type: 'sgd', lr: 0.1, momentum: 2 } }), /momentum/],
    ['resumeFrom {}', (o) => ({ ...o, resumeFrom: {} }), /resumeFrom/],
    ['onBatch 5', (o) => ({ ...o, onBatch: 5 }), /onBatch must be a function/],
    ['onEpoch "x"', (o) => ({ ...o, onEpoch: 'x' }), /onEpoch must be a function/],
    ['validation 1.5', (o) => ({ ...o, validation: 1.5 }), /validation/],
    [
      'validation wrong shape',
      (o) => ({ ...o, validation: cv.ImageDataset.fromFloat32(new Float32Array(2 * 49), [1, 7, 7], [0, 1]) }),
      /shape \[1,7,7\]/,
    ],
    [
      'validation unlabelled',
      (o) => ({ ...o, validation: cv.ImageDataset.fromFloat32(new Float32Array(2 * 64), shape) }),
      /no labels/,
    ],
    ['options null', () => null, /options must be an object/],
    ['seed -1', (o) => ({ ...o, seed: -1 }), /seed/],
  ];
  for (const [name, make, msg] of cases)
    it(name, async () => {
      const m = model();
      const before = m.params().map((p) => p.value.toArray());
      const live = be.mem.live.tensors;
      let batches = 0;
      const opts = make({ ...base, onBatch: () => batches++ } as FitOptions) as FitOptions;
      const err = await fit(be, classifierTask(m), data, opts).then(
        () => null,
        (e) => e,
      );
      expect(err).toBeInstanceOf(cv.ConvaeError);
      expect(err.message).toMatch(msg);
      expect(batches).toBe(0);
      expect(be.mem.live.tensors).toBe(live);
      m.params().forEach((p, i) => expect(p.value.toArray()).toEqual(before[i]));
      m.dispose();
    });

  it('dataset null is an ArgumentError', async () => {
    const m = model();
    await expect(fit(be, classifierTask(m), null as unknown as cv.ImageDataset, base)).rejects.toThrow(
      cv.ArgumentError,
    );
    m.dispose();
  });

  it('a failed resume leaks no optimizer state', async () => {
    const c = decodeCheckpoint(good, 'g');
    const names = Object.keys(c.optimizer);
    // The last parameter's Adam state is of the wrong size: before the fix the first ones were already imported.
    const last = names.at(-1)!;
    c.optimizer[last] = [new Float32Array(1), new Float32Array(1)];
    const m = model();
    const live = be.mem.live;
    await expect(fit(be, classifierTask(m), data, { ...base, resumeFrom: c })).rejects.toThrow(cv.ArgumentError);
    expect(be.mem.live).toEqual(live);
    m.dispose();
  });

  it('a good resume still works (baseline)', async () => {
    const m = model(7);
    const h = await fit(be, classifierTask(m), data, { ...base, resumeFrom: decodeCheckpoint(good, 'g') });
    expect(h.epochs.length).toBe(2);
    m.dispose();
  });
});

describe('searchCAE options', () => {
  it('learningRates [Infinity], bad lists and callbacks are refused before any worker runs', () => {
    const o = { data, featureMaps: [2], filterSizes: [3] };
    expect(() => checkSearchOptions(o)).not.toThrow();
    for (const bad of [
      { learningRates: [Infinity] },
      { learningRates: [] },
      { featureMaps: [0] },
      { filterSizes: null },
      { activations: ['toString'] },
      { noise: [1] },
      { tied: ['no'] },
      { epochs: 0 },
      { strategy: { random: 0 } },
      { onCandidate: 3 },
      { data: null },
    ])
      expect(() => checkSearchOptions({ ...o, ...bad }), JSON.stringify(bad)).toThrow(cv.ArgumentError);
  });
});
