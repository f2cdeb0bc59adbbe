/**
 * A saved AnomalyDetector: `save` then `load` gives the scores, flags, threshold and error maps of the detector that
 * was saved, bit for bit, on this thread and in workers, and saves again to the same bytes. Hostile or damaged
 * files (cut, wrong shapes, a threshold that is not finite, huge sizes, `__proto__` keys, the wrong kind) are
 * typed errors that say what is wrong, before anything is allocated: the backend's live tensors and memory do not
 * move, and no prototype changes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AnomalyDetector } from '../../ts/anomaly/detector.js';
import { encode } from '../../ts/anomaly/embed.js';
import type { ScoreSpec } from '../../ts/anomaly/oneclass.js';
import { neighbourScores } from '../../ts/anomaly/score.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { ArgumentError, ConvaeError, FormatError } from '../../ts/errors.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../../ts/io/safetensors.js';
import { MAX_MESSAGE_CHARS } from '../../ts/limits.js';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { Classifier } from '../../ts/model/classifier.js';
import { saveModel } from '../../ts/model/serialize.js';
import { stackLayerTask } from '../../ts/model/tasks.js';
import { fit } from '../../ts/train/fit.js';
import { threadRunner } from '../../ts/train/runner.js';
import { Rng } from '../../ts/util/rng.js';
import { createRunner } from '../../ts/worker/runner.js';
import { backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();
const rng = new Rng(5);
const images = (n: number) =>
  ImageDataset.fromFloat32(
    Float32Array.from({ length: n * 144 }, () => rng.next()),
    [1, 12, 12],
  );
const normal = images(40),
  validation = images(30),
  test = images(50);
const stack = new StackedConvAutoencoder(
  be,
  [
    { convs: [{ filters: 3, kernel: 3 }], pool: { kernel: 2 } },
    { convs: [{ filters: 4, kernel: 3 }], pool: null },
  ],
  [1, 12, 12],
  7,
);
// Trained a little, so that the weights are not the seed's (a loader that re-initialised would be caught).
for (const k of [0, 1])
  await fit(be, stackLayerTask(stack, k), normal, { epochs: 1, batchSize: 8, optimizer: { type: 'adam', lr: 1e-2 } });
afterAll(() => stack.dispose());

const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

const neighbours = AnomalyDetector.fit(stack, normal, validation, { threshold: { fpr: 0.1 } });
const reconstruction = AnomalyDetector.fit(stack, normal, validation, {
  score: { type: 'reconstruction', depth: 2 },
  threshold: { quantile: 0.8 },
});
const saved = neighbours.save({ normalize: 'none', note: 'test' });
const reconstructionSaved = reconstruction.save();

describe('AnomalyDetector.save and load', () => {
  for (const [name, det] of [
    ['knn5 at depth 2 (the default)', neighbours],
    ['reconstruction through 2 blocks', reconstruction],
  ] as const)
    it(`${name}: the loaded detector gives the same threshold, scores, flags and maps, bit for bit`, () => {
      const s = det.save();
      const { detector, meta } = AnomalyDetector.load(be, s.json, s.weights);
      try {
        expect(detector.spec).toEqual(det.spec);
        expect(meta.score).toEqual(det.spec);
        expect(Object.is(detector.threshold, det.threshold)).toBe(true);
        const a = det.detect(test),
          b = detector.detect(test);
        expect(same(b.scores, a.scores)).toBe(true);
        expect(same(b.flags, a.flags)).toBe(true);
        expect(b.flags.some((f) => f === 1) && b.flags.some((f) => f === 0)).toBe(true);
        expect(same(detector.errorMaps(test), det.errorMaps(test))).toBe(true);
        // Saved again, the same bytes.
        const again = detector.save();
        expect(again.json).toBe(s.json);
        expect(Buffer.from(again.weights).equals(Buffer.from(s.weights))).toBe(true);
      } finally {
        detector.stack.dispose();
      }
    });

  it('the neighbour scores are those of the saved reference codes (independent: encode + neighbourScores)', () => {
    const { detector } = AnomalyDetector.load(be, saved.json, saved.weights);
    try {
      expect(same(detector.reference!.vectors, encode(stack, normal, { depth: 2 }).vectors)).toBe(true);
      const want = neighbourScores(be, encode(stack, normal, { depth: 2 }), encode(stack, test, { depth: 2 }), {
        k: 5,
      });
      expect(same(detector.score(test), want)).toBe(true);
    } finally {
      detector.stack.dispose();
    }
  });

  it('on a runner (2 workers, and this thread) the loaded detector flags as the saved one did here', async () => {
    const { detector } = AnomalyDetector.load(be, saved.json, saved.weights);
    const workers = await createRunner(be, { workers: 2 });
    try {
      const want = neighbours.detect(test);
      for (const runner of [workers, threadRunner(be)]) {
        const got = await detector.detectOn(runner, test);
        expect(same(got.scores, want.scores)).toBe(true);
        expect(same(got.flags, want.flags)).toBe(true);
        expect(Object.is(got.threshold, want.threshold)).toBe(true);
      }
    } finally {
      await workers.dispose();
      detector.stack.dispose();
    }
  });

  it('training metadata comes back as saved; the files name the format', () => {
    const { detector, meta } = AnomalyDetector.load(be, saved.json, saved.weights);
    detector.stack.dispose();
    expect(meta.training).toEqual({ normalize: 'none', note: 'test' });
    expect(meta.format).toBe('convae-detector');
    expect(meta.stack.kind).toBe('stack');
    expect(decodeSafetensors(saved.weights, 'w').metadata).toEqual({ format: 'convae-detector' });
    const t = decodeSafetensors(saved.weights, 'w').tensors.reference;
    expect([t.dtype, ...t.shape]).toEqual(['F32', 40, 4 * 3 * 3]); // 12 → conv 3 → 10 → pool → 5 → conv 3 → 3
  });

  it('a score given with a field it does not use is kept (and saved) as the fields it uses: it loads', () => {
    const given = { type: 'reconstruction', depth: 1, k: 3 } as unknown as ScoreSpec;
    const det = AnomalyDetector.fit(stack, normal, validation, { score: given });
    (given as { depth: number }).depth = 2; // the caller's object changing later changes nothing
    expect(det.spec).toEqual({ type: 'reconstruction', depth: 1 });
    const s = det.save();
    const { detector } = AnomalyDetector.load(be, s.json, s.weights);
    detector.stack.dispose();
    expect(detector.spec).toEqual({ type: 'reconstruction', depth: 1 });
  });

  it('a threshold that is not finite is not saved (an fpr of 1 fits −∞): ArgumentError', () => {
    const all = AnomalyDetector.fit(stack, normal, validation, { threshold: { fpr: 1 } });
    expect(all.threshold).toBe(-Infinity);
    expect(() => all.save()).toThrow(ArgumentError);
    expect(() => all.save()).toThrow(/AnomalyDetector\.save: threshold is -Infinity: only a finite threshold is saved/);
  });

  it('training metadata JSON cannot hold, or that makes a file load refuses, is an ArgumentError naming training', () => {
    const det = AnomalyDetector.fit(stack, normal, validation);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    const cases: [unknown, RegExp][] = [
      // JSON.stringify's TypeError, untyped
      [cyclic, /^AnomalyDetector\.save: training cannot be written as JSON: Converting circular structure/],
      [{ n: 1n }, /^AnomalyDetector\.save: training cannot be written as JSON: .*BigInt/],
      // saved, then refused by load: a detector that could never be read back
      [deep, /^AnomalyDetector\.save: training nests too deep: the detector description may nest 64 levels$/],
      [
        'x'.repeat(17 * 2 ** 20),
        /^AnomalyDetector\.save: training makes the detector description \d+ characters, more than the 16777216 it may have$/,
      ],
    ];
    for (const [training, re] of cases) {
      const e = (() => {
        try {
          det.save(training);
        } catch (x) {
          return x;
        }
      })();
      expect(e).toBeInstanceOf(ArgumentError);
      expect((e as Error).message).toMatch(re);
    }
    // Within the loader's bounds, it saves and loads.
    let ok: unknown = 1;
    for (let i = 0; i < 50; i++) ok = [ok];
    const s = det.save(ok);
    const { detector, meta } = AnomalyDetector.load(be, s.json, s.weights);
    detector.stack.dispose();
    expect(meta.training).toEqual(ok);
  });
});

/** The saved JSON as an object, changed by `edit`, back as text. */
const editJson = (edit: (j: Record<string, unknown>) => void, json = saved.json) => {
  const j = JSON.parse(json);
  edit(j);
  return JSON.stringify(j);
};

/**
 * The saved weights with the header's entries changed by `edit` and the data buffer kept: a file that declares
 * what its bytes do not hold.
 */
const editHeader = (edit: (h: Record<string, { shape: number[] }>) => void, weights = saved.weights) => {
  const n = Number(new DataView(weights.buffer, weights.byteOffset).getBigUint64(0, true));
  const h = JSON.parse(Buffer.from(weights.subarray(8, 8 + n)).toString('utf8'));
  edit(h);
  const text = Buffer.from(JSON.stringify(h));
  const out = new Uint8Array(8 + text.length + weights.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(weights.subarray(8 + n), 8 + text.length);
  return out;
};

/** The saved weights with tensors changed by `edit` (then re-encoded, so the file is well-formed safetensors). */
const editWeights = (edit: (t: Record<string, SafetensorsTensor>) => void, weights = saved.weights) => {
  const t = decodeSafetensors(weights, 'w').tensors;
  edit(t);
  return encodeSafetensors(t);
};

const protoKeys = () => JSON.stringify([Reflect.ownKeys(Object.prototype), Reflect.ownKeys(Array.prototype)]);

describe('AnomalyDetector.load refuses hostile and damaged files before allocating', () => {
  const reference = decodeSafetensors(saved.weights, 'w').tensors.reference;
  const dim = reference.shape[1];
  const classifier = Classifier.fromBlocks(be, [{ convs: [{ filters: 2, kernel: 3 }] }], [1, 12, 12], {
    hidden: [4],
    classes: 2,
  });
  afterAll(() => classifier.dispose());
  const cases: [string, string, Uint8Array, (new (...a: never[]) => ConvaeError) | null, RegExp][] = [
    [
      'a truncated JSON',
      saved.json.slice(0, 200),
      saved.weights,
      FormatError,
      /detector\.json: detector description is not valid JSON/,
    ],
    [
      'truncated weights (half)',
      saved.json,
      saved.weights.subarray(0, saved.weights.length >> 1),
      FormatError,
      /detector\.safetensors: /,
    ],
    [
      'weights cut by 4 bytes',
      saved.json,
      saved.weights.subarray(0, saved.weights.length - 4),
      FormatError,
      /detector\.safetensors: .*data_offsets .* run past/,
    ],
    ['empty weights', saved.json, new Uint8Array(0), FormatError, /detector\.safetensors: not a safetensors file/],
    [
      'a NaN threshold (null in JSON)',
      editJson((j) => (j.threshold = null)),
      saved.weights,
      FormatError,
      /threshold: must be a finite number, got null/,
    ],
    [
      'an infinite threshold (1e999)',
      saved.json.replace(/"threshold": [^,]+,/, '"threshold": 1e999,'),
      saved.weights,
      FormatError,
      /threshold: must be a finite number, got Infinity/,
    ],
    [
      'a threshold as a string',
      editJson((j) => (j.threshold = '0.5')),
      saved.weights,
      FormatError,
      /threshold: must be a finite number, got "0\.5"/,
    ],
    [
      'no threshold',
      editJson((j) => delete j.threshold),
      saved.weights,
      FormatError,
      /threshold: must be a finite number, got undefined/,
    ],
    [
      'k above the reference codes',
      editJson((j) => ((j.score as { k: number }).k = 41)),
      saved.weights,
      FormatError,
      /tensor 'reference' holds 40 codes, fewer than the score's k = 41/,
    ],
    [
      'k 0',
      editJson((j) => ((j.score as { k: number }).k = 0)),
      saved.weights,
      FormatError,
      /score\.k: must be an integer in \[1, 1000\]/,
    ],
    [
      'a score deeper than the stack',
      editJson((j) => ((j.score as { depth: number }).depth = 3)),
      saved.weights,
      FormatError,
      /score\.depth: must be an integer in \[0, 2\]/,
    ],
    [
      'a score type "knn"',
      editJson((j) => ((j.score as { type: string }).type = 'knn')),
      saved.weights,
      FormatError,
      /score\.type: must be 'reconstruction' or 'neighbours'/,
    ],
    [
      'a score with an unknown field',
      editJson((j) => ((j.score as Record<string, unknown>).extra = 1)),
      saved.weights,
      FormatError,
      /score\.extra: unknown field/,
    ],
    [
      'reference codes one value too wide',
      saved.json,
      editWeights(
        (t) => (t.reference = { dtype: 'F32', shape: [40, dim + 1], data: new Float32Array(40 * (dim + 1)) }),
      ),
      FormatError,
      new RegExp(
        `tensor 'reference' has shape \\[40,${dim + 1}\\], the stack's codes at depth 2 need \\[normal images, ${dim}\\]`,
      ),
    ],
    [
      'reference codes flat',
      saved.json,
      editWeights((t) => (t.reference = { dtype: 'F32', shape: [40 * dim], data: reference.data as Float32Array })),
      FormatError,
      /tensor 'reference' has shape \[1440\]/,
    ],
    [
      'reference codes of I32',
      saved.json,
      editWeights((t) => (t.reference = { dtype: 'I32', shape: [40, dim], data: new Int32Array(40 * dim) })),
      FormatError,
      /tensor 'reference' has dtype I32, expected F32/,
    ],
    [
      'a NaN reference code',
      saved.json,
      editWeights((t) => ((t.reference.data as Float32Array)[70] = Number.NaN)),
      FormatError,
      /tensor 'reference' holds NaN at code 1, value 34/,
    ],
    [
      'no reference codes for a neighbours score',
      saved.json,
      editWeights((t) => delete (t as Record<string, unknown>).reference),
      FormatError,
      /tensor 'reference' \(the normal training codes a neighbours score needs\) is missing/,
    ],
    [
      'reference codes for a reconstruction score',
      editJson((j) => (j.score = { type: 'reconstruction', depth: 1 })),
      saved.weights,
      FormatError,
      /tensor 'reference' is not used by a reconstruction score/,
    ],
    [
      'a NaN weight',
      saved.json,
      editWeights((t) => ((t['block1.conv0.weight'].data as Float32Array)[0] = Number.NaN)),
      FormatError,
      /tensor 'block1\.conv0\.weight' holds NaN at flat index 0/,
    ],
    [
      'a weight of another shape',
      saved.json,
      editWeights((t) => (t['block0.conv0.bias'] = { dtype: 'F32', shape: [4], data: new Float32Array(4) })),
      FormatError,
      /tensor 'block0\.conv0\.bias' has shape \[4\], the architecture needs \[3\]/,
    ],
    [
      'an extra tensor "__proto__"',
      saved.json,
      editWeights((t) =>
        Object.defineProperty(t, '__proto__', {
          value: { dtype: 'F32', shape: [1], data: new Float32Array(1) },
          enumerable: true,
        }),
      ),
      FormatError,
      /not in the architecture: "__proto__"/,
    ],
    [
      'huge declared reference codes (2^40 of them)',
      saved.json,
      editHeader((h) => (h.reference.shape = [2 ** 40, dim])),
      FormatError,
      /detector\.safetensors: tensor "reference": shape \[1099511627776,36\] of F32 needs more than 5760 bytes/,
    ],
    [
      'a huge input (65 536 × 65 536 images)',
      editJson((j) => ((j.stack as { inputShape: number[] }).inputShape = [1, 65536, 65536])),
      saved.weights,
      FormatError,
      /stack\.inputShape: \[1,65536,65536\] holds more than 268435456 values per image/,
    ],
    [
      '2^28 filters',
      editJson(
        (j) => ((j.stack as { blocks: { convs: { filters: number }[] }[] }).blocks[1].convs[0].filters = 2 ** 28),
      ),
      saved.weights,
      FormatError,
      /^detector\.json: stack: block1\.conv0 \(Conv2D\): its output for one image, \[268435456,3,3\], has more than 268435456 elements/,
    ],
    [
      '2^23 filters, untied: 1.8 GB of parameters (a reconstruction score, no reference codes)',
      editJson((j) => {
        const b = (j.stack as { blocks: { convs: { filters: number }[]; tied: boolean }[] }).blocks[1];
        b.convs[0].filters = 2 ** 23;
        b.tied = false;
        j.score = { type: 'reconstruction', depth: 1 };
      }),
      reconstructionSaved.weights,
      FormatError,
      /^detector\.json: stack: the parameters need more than 1073741824 bytes \(the limit\)$/,
    ],
    [
      'a top-level "__proto__" key',
      saved.json.replace('{', '{"__proto__": {"polluted": 1},'),
      saved.weights,
      FormatError,
      /detector\.__proto__: unknown field/,
    ],
    [
      'a "__proto__" key in the score',
      saved.json.replace('"score": {', '"score": {"__proto__": {"polluted": 1},'),
      saved.weights,
      FormatError,
      /score\.__proto__: unknown field/,
    ],
    [
      'a "__proto__" key in the stack',
      saved.json.replace('"stack": {', '"stack": {"__proto__": {"polluted": 1},'),
      saved.weights,
      FormatError,
      /stack\.__proto__: unknown field/,
    ],
    [
      'a saved model (convae-model), not a detector',
      saveModel(stack).json,
      saved.weights,
      FormatError,
      /not a convae detector description \(format must be 'convae-detector'\)/,
    ],
    [
      'detector format version 2',
      editJson((j) => (j.version = 2)),
      saved.weights,
      FormatError,
      /detector format version 2; this convae reads 1/,
    ],
    [
      'a stack of model format version 9',
      editJson((j) => ((j.stack as { version: number }).version = 9)),
      saved.weights,
      FormatError,
      /stack: model format version 9/,
    ],
    [
      'a classifier as the stack',
      editJson((j) => (j.stack = JSON.parse(saveModel(classifier).json))),
      saved.weights,
      FormatError,
      /stack\.kind: is 'classifier', expected 'stack'/,
    ],
    ['no stack', editJson((j) => delete j.stack), saved.weights, FormatError, /stack: not a convae model description/],
    [
      'JSON nested 10 000 deep',
      editJson((j) => (j.training = 0)).replace('"training":0', `"training":${'['.repeat(10000)}${']'.repeat(10000)}`),
      saved.weights,
      FormatError,
      /nests deeper than 64 levels/,
    ],
    ['a JSON array', '[]', saved.weights, FormatError, /not a convae detector description/],
    ['JSON that is not a string', 42 as unknown as string, saved.weights, FormatError, /must be a string of JSON/],
    [
      'weights that are not bytes',
      saved.json,
      [1, 2, 3] as unknown as Uint8Array,
      FormatError,
      /safetensors input must be a Uint8Array/,
    ],
  ];

  for (const [name, json, weights, type, message] of cases)
    it(`${name}: ${type?.name ?? 'a typed error'} saying so, nothing allocated`, () => {
      const before = { live: be.mem.live.tensors, memory: be.memoryBytes, proto: protoKeys() };
      let e: unknown;
      try {
        AnomalyDetector.load(be, json, weights).detector.stack.dispose();
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(type ?? ConvaeError);
      expect((e as Error).message).toMatch(message);
      expect((e as Error).message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
      expect({ live: be.mem.live.tensors, memory: be.memoryBytes, proto: protoKeys() }).toEqual(before);
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    });

  it('training metadata with "__proto__" keys comes back as data, no prototype written', () => {
    const json = saved.json.replace('"training": {', '"training": {"__proto__": {"polluted": 1},');
    const before = protoKeys();
    const { detector, meta } = AnomalyDetector.load(be, json, saved.weights);
    detector.stack.dispose();
    expect(Object.hasOwn(meta.training as object, '__proto__')).toBe(true);
    expect(protoKeys()).toBe(before);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('options that are not an object, or a source that is not a string: ArgumentError', () => {
    expect(() => AnomalyDetector.load(be, saved.json, saved.weights, 5 as never)).toThrow(ArgumentError);
    expect(() => AnomalyDetector.load(be, saved.json, saved.weights, { source: 5 as never })).toThrow(
      /source must be a string/,
    );
    expect(() => AnomalyDetector.load(be, '', saved.weights, { source: 'my/det' })).toThrow(/^my\/det\.json: /);
  });
});
