/**
 * The defects of issue 12, one test each: prototype pollution and extra
 * tensors from checkpoints, tensor sizes that wrap at 2^32, names from
 * Object.prototype as activations, unbounded messages, fit options checked
 * late, and a failed resume leaking its optimizer state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as cv from '../ts/index.js';
import * as node from '../ts/node.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../ts/io/safetensors.js';
import { MAX_MESSAGE_CHARS, MAX_TENSOR_ELEMENTS } from '../ts/limits.js';
import { Classifier } from '../ts/model/classifier.js';
import { decodeCheckpoint, encodeCheckpoint } from '../ts/train/checkpoint.js';
import { fit, type FitOptions } from '../ts/train/fit.js';
import { checkFit, checkSearchOptions, checkTrainerFitOptions } from '../ts/train/options.js';
import { classifierTask } from '../ts/model/tasks.js';
import { backendUnderTest } from './util/backend.js';
import { thrown } from './util/thrown.js';

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
    // Misspelt or misplaced: before, each was ignored and the run trained without it.
    [
      'validaton (misspelt)',
      (o) => ({ ...o, validaton: 0.25 }),
      /options has an unknown field "validaton" \(known: epochs, batchSize, optimizer/,
    ],
    [
      'earlyStoping (misspelt)',
      (o) => ({ ...o, validation: 0.25, earlyStoping: { patience: 1 } }),
      /unknown field "earlyStoping"/,
    ],
    [
      'adam with momentum',
      (o) => ({ ...o, optimizer: { type: 'adam', lr: 1e-3, momentum: 0.9 } }),
      /optimizer \(adam\) has an unknown field "momentum" \(known: type, lr, weightDecay, beta1, beta2, eps\)/,
    ],
    [
      'adam with nesterov "yes"',
      (o) => ({ ...o, optimizer: { type: 'adam', lr: 1e-3, nesterov: 'yes' } }),
      /optimizer \(adam\) has an unknown field "nesterov"/,
    ],
    [
      'sgd with beta1 5',
      (o) => ({ ...o, optimizer: { type: 'sgd', lr: 1e-3, beta1: 5 } }),
      /optimizer \(sgd\) has an unknown field "beta1" \(known: type, lr, weightDecay, momentum, nesterov\)/,
    ],
    [
      'step schedule with minFactor',
      (o) => ({ ...o, schedule: { type: 'step', every: 1, gamma: 0.5, minFactor: 0.1 } }),
      /schedule \(step\) has an unknown field "minFactor"/,
    ],
    [
      'earlyStopping.patiense',
      (o) => ({ ...o, validation: 0.25, earlyStopping: { patiense: 1, patience: 1 } }),
      /earlyStopping has an unknown field "patiense"/,
    ],
    [
      'checkpoint.evry',
      (o) => ({ ...o, checkpoint: { evry: 2, save: () => {} } }),
      /checkpoint has an unknown field "evry"/,
    ],
    ['Trainer.fit option "workers" given to fit', (o) => ({ ...o, workers: 2 }), /unknown field "workers"/],
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

  it('every documented option at once is accepted and trains (baseline for the unknown-field check)', async () => {
    const m = model();
    const prefix = m.params()[0].name.split('.')[0];
    let epochs = 0,
      saved = 0;
    for (const optimizer of [
      { type: 'sgd', lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4 } as const,
      { type: 'adam', lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 1e-4 } as const,
    ])
      for (const schedule of [
        { type: 'cosine', epochs: 2, minFactor: 0.1 } as const,
        { type: 'step', every: 1, gamma: 0.5 } as const,
        { type: 'constant' } as const,
      ]) {
        const h = await fit(be, classifierTask(m), data, {
          epochs: 2,
          batchSize: 10,
          seed: 3,
          optimizer,
          schedule,
          validation: 0.25,
          earlyStopping: { patience: 2, minDelta: 0 },
          onBatch: () => {},
          onEpoch: () => epochs++,
          signal: new AbortController().signal,
          checkpoint: { every: 1, save: () => void saved++ },
          lrFactors: { [prefix]: 0.5 },
          augment: { shift: 1 },
        });
        expect(h.epochs.length).toBe(2);
      }
    expect([epochs, saved]).toEqual([12, 12]);
    m.dispose();
  });

  it("Trainer.fit's own fields are accepted there, a misspelt one is not; a worker's fields only from a worker", async () => {
    const m = model();
    const all = {
      ...base,
      layer: undefined,
      workers: 1,
      data: 'copy',
      onSnapshot: () => {},
      snapshotEvery: 5,
      allReduce: 'messages',
    };
    expect(() => checkTrainerFitOptions(m, data, all)).not.toThrow();
    expect(() => checkTrainerFitOptions(m, data, { ...all, snapshotEvry: 5 })).toThrow(
      /Trainer.fit: options has an unknown field "snapshotEvry" \(known: .*onSnapshot, snapshotEvery, allReduce\)/,
    );
    // What ts/worker/worker.ts hands fitReplica: a fraction arrives as `split`, which is validation data.
    const split = { train: Uint32Array.from({ length: 30 }, (_, i) => i), validation: Uint32Array.of(30, 31) };
    const replica = { ...base, split, sync: undefined, gate: () => null, checkpointEvery: 1, snapshotEvery: 2 };
    const task = classifierTask(m);
    expect(() => checkFit(task, data, { ...replica, earlyStopping: { patience: 1 } }, { replica: true })).not.toThrow();
    // From a user, a Trainer.fit field handed to fit would do nothing: refused, not ignored.
    expect(() => checkFit(task, data, replica)).toThrow(/options has an unknown field "split"/);
    await expect(fit(be, task, data, { ...base, snapshotEvery: 2 } as cv.FitOptions)).rejects.toThrow(
      /fit: options has an unknown field "snapshotEvery"/,
    );
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

  it('unknown keys are refused, as for fit: a misspelt option would silently not apply', () => {
    const o = { data, featureMaps: [2], filterSizes: [3] };
    const cases: [object, RegExp][] = [
      [{ learningRate: [1e-3] }, /searchCAE: options has an unknown field "learningRate" \(known: featureMaps, /],
      [{ epoch: 3 }, /options has an unknown field "epoch"/],
      [{ strategy: { random: 2, seed: 1 } }, /searchCAE: strategy has an unknown field "seed" \(known: random\)/],
    ];
    for (const [bad, msg] of cases)
      expect(() => checkSearchOptions({ ...o, ...bad }), JSON.stringify(bad)).toThrow(msg);
    const all = {
      ...o,
      activations: ['tanh'],
      learningRates: [1e-3],
      noise: [0],
      tied: [true],
      validation: 0.2,
      epochs: 1,
      batchSize: 4,
      seed: 1,
      strategy: { random: 1 },
      pool: null,
      onCandidate: () => {},
      onBatch: () => {},
      signal: new AbortController().signal,
    };
    expect(() => checkSearchOptions(all)).not.toThrow();
  });
});

describe('options that are null, undefined or not objects; values holding a BigInt or a cycle', () => {
  const bytes = new Uint8Array(4 * 64).map((_, i) => i % 256);
  const ds = cv.ImageDataset.fromUint8(bytes, shape, [0, 1, 2, 0]);
  const idx = (() => {
    const b = new Uint8Array(4 + 12 + 2 * 4);
    b[2] = 8;
    b[3] = 3;
    new DataView(b.buffer).setUint32(4, 2);
    new DataView(b.buffer).setUint32(8, 2);
    new DataView(b.buffer).setUint32(12, 2);
    return b;
  })();
  const clf = model();
  const stack = new cv.StackedConvAutoencoder(
    be,
    [{ convs: [{ filters: 2, kernel: 3 }], activation: 'tanh' }],
    [...shape],
    1,
  );
  afterAll(() => {
    clf.dispose();
    stack.dispose();
  });
  const big = cv.ImageDataset.fromFloat32(
    Float32Array.from({ length: 4 * 256 }, () => rng.next()),
    [1, 16, 16],
  );
  const sameImages = (a: cv.ImageDataset, b: cv.ImageDataset) =>
    expect(Array.from(a.images)).toEqual(Array.from(b.images));

  // Optional options: null means the defaults, as undefined does (before: a TypeError reading a field of null).
  const defaults: [string, () => void][] = [
    [
      'fromUint8(…, null, null)',
      () =>
        sameImages(
          cv.ImageDataset.fromUint8(bytes, shape, null, null as never),
          cv.ImageDataset.fromUint8(bytes, shape),
        ),
    ],
    ['batches(4, null)', () => expect([...ds.batches(4, null as never)].length).toBe(1)],
    ['readIdxImages(…, null options)', () => expect(cv.readIdxImages(idx, null, 'x', null as never).length).toBe(2)],
    [
      'contrastNormalize(ds, null)',
      () => sameImages(cv.contrastNormalize(ds, null as never), cv.contrastNormalize(ds)),
    ],
    [
      'rescaleConvs(clf, ds, null)',
      // Two equal models: the first call may scale the weights it is given.
      () => {
        const [a, b] = [model(), model()];
        expect(cv.rescaleConvs(a, ds, null as never)).toEqual(cv.rescaleConvs(b, ds));
        a.dispose();
        b.dispose();
      },
    ],
    [
      'codeSaturation(stack, ds, null)',
      () => expect(cv.codeSaturation(stack, ds, null as never)).toBe(cv.codeSaturation(stack, ds)),
    ],
    ['fitWhitening(ds, null)', () => expect(cv.fitWhitening(big, null as never)).toEqual(cv.fitWhitening(big))],
  ];
  for (const [name, run] of defaults) it(`${name}: the defaults`, run);

  // Required arguments and non-object options: an ArgumentError naming them.
  const refused: [string, () => unknown, RegExp][] = [
    [
      'fromUint8(…, options 5)',
      () => cv.ImageDataset.fromUint8(bytes, shape, null, 5 as never),
      /fromUint8: options must be an object, got 5/,
    ],
    [
      'fromImageData(list, undefined)',
      () => cv.ImageDataset.fromImageData([{ data: new Uint8Array(4), width: 1, height: 1 }], undefined as never),
      /fromImageData: options must be an object/,
    ],
    ['subset(null)', () => ds.subset(null as never), /subset: indices must be a list/],
    ['batches(4, "x")', () => ds.batches(4, 'x' as never), /batches: options must be an object, got "x"/],
    [
      'readIdxImages(…, source null)',
      () => cv.readIdxImages(idx, null, null as never),
      /readIdxImages: source must be/,
    ],
    [
      'splitDataset(ds, undefined)',
      () => cv.splitDataset(ds, undefined as never),
      /splitDataset: options must be an object/,
    ],
    [
      'splitDataset(null, …)',
      () => cv.splitDataset(null as never, { seed: 1 }),
      /splitDataset: ds must be an ImageDataset/,
    ],
    [
      'rescaleConvs(clf, null)',
      () => cv.rescaleConvs(clf, null as never),
      /rescaleConvs: data must be an ImageDataset/,
    ],
    [
      'codeSaturation(stack, null)',
      () => cv.codeSaturation(stack, null as never),
      /codeSaturation: data must be an ImageDataset/,
    ],
    ['fitWhitening(null)', () => cv.fitWhitening(null as never), /fitWhitening: data must be an ImageDataset/],
    ['whiten(ds, null)', () => cv.whiten(ds, null as never), /whiten: w must be a Whitening/],
  ];
  for (const [name, run, msg] of refused)
    it(`${name}: an ArgumentError`, () => {
      const e = thrown(run);
      expect(e).toBeInstanceOf(cv.ArgumentError);
      expect(e.message).toMatch(msg);
    });

  it('loadMnist / loadFashionMnist({ dir: 42 }) and loadImageFolder(dir, null): typed errors', async () => {
    for (const load of [node.loadMnist, node.loadFashionMnist])
      await expect(load({ split: 'test', dir: 42 as never })).rejects.toThrow(/dir must be a folder path, got 42/);
    const dir = mkdtempSync(join(tmpdir(), 'convae-null-'));
    try {
      // An empty folder: past the options, the loader says what it found.
      await expect(node.loadImageFolder(dir, null as never)).rejects.toThrow(/no image files/);
      await expect(node.loadImageFolder(dir, 5 as never)).rejects.toThrow(/options must be an object, got 5/);
      await expect(node.loadImageFolder(dir, { size: [1n, 2n] as never })).rejects.toThrow(
        /size must be \[height, width\] of integers in \[1, 4096\], got \[1n,2n\]/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a BigInt or a cycle in a shape is quoted in the message, not a TypeError from JSON.stringify', () => {
    const cyclic: unknown[] = [1, 2];
    cyclic.push(cyclic);
    for (const [run, msg] of [
      [() => cv.ImageDataset.fromUint8(new Uint8Array(4), [1n, 2, 2] as never), /got \[1n,2,2\]/],
      [() => cv.ImageDataset.fromFloat32(new Float32Array(4), cyclic as never), /got \[1,2,\(circular\)\]/],
      [
        () => cv.encodeSafetensors({ a: { dtype: 'F32', shape: [1n] as never, data: new Float32Array(1) } }),
        /has shape \[1n\]/,
      ],
      [
        () => cv.encodeSafetensors({ a: { dtype: 'F32', shape: cyclic as never, data: new Float32Array(1) } }),
        /has shape \[1,2,\(circular\)\]/,
      ],
      [() => cv.whiteningOf({ channels: [1n], window: 3 }, 'x'), /channels must be 1 or 3, got \[1n\]/],
    ] as const) {
      const e = thrown(run);
      expect(e).toBeInstanceOf(cv.ConvaeError);
      expect(e.message).toMatch(msg);
    }
  });

  it('quote: BigInt, cycles, throwing proxies and 10⁸-item lists give short text', () => {
    const o: Record<string, unknown> = { a: 1n };
    o.self = o;
    expect(cv.quote(o)).toBe('{"a":1n,"self":(circular)}');
    expect(
      cv.quote(
        new Proxy(
          {},
          {
            getPrototypeOf: () => {
              throw new Error('no');
            },
          },
        ),
      ),
    ).toBe('an unreadable value');
    // Sparse, so the test does not allocate it: quote reads only what it writes.
    const long = cv.quote(new Array(1e8));
    expect(long.length).toBeLessThan(130);
    expect(long).toMatch(/^\[undefined,undefined,.*…$/);
    expect(cv.quote([1, 'a"b', null])).toBe('[1,"a\\"b",null]');
  });
});
