/**
 * The strict loader: files of the previous version load bit-identically;
 * architectures beyond the limits, or disagreeing with their weights file, are
 * refused with a typed error before anything is allocated; malformed fields
 * are named; non-finite weights are refused unless asked for; a constructor
 * that fails part-way leaves no tensor alive; a new model kind saves and loads
 * through the registry.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { decodeSafetensors } from '../../ts/io/safetensors.js';
import { backendUnderTest, BUILD } from '../util/backend.js';
import { expectBitEqual } from '../util/tensors.js';

const be = await backendUnderTest();
// biome-ignore lint/suspicious/noExplicitAny: the tests edit parsed JSON freely
type Json = Record<string, any>;
const fixture = (f: string) => readFileSync(new URL(`../fixtures/v1/${f}`, import.meta.url));
const expected = JSON.parse(fixture('expected.json').toString('utf8')) as {
  input: number[];
  logits: number[];
  reconstruction: number[];
  noiseState: number[];
  dropoutState: number[];
};
const disposables: { dispose(): void }[] = [];
afterAll(() => {
  for (const d of disposables) d.dispose();
});

/** Live tensors and wasm memory around `f`, which must throw `cls` matching `re`. */
function expectRefusedClean(f: () => unknown, cls: new (...a: never[]) => Error, re?: RegExp) {
  const before = { ...be.mem.live, memory: be.memoryBytes };
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(cls);
  if (re) expect((err as Error).message).toMatch(re);
  expect((err as Error).message.length).toBeLessThanOrEqual(1000);
  expect({ ...be.mem.live, memory: be.memoryBytes }).toEqual(before);
}

describe('files written by convae 0.1.0 (8e10828) still load', () => {
  for (const kind of ['stack', 'classifier'] as const) {
    it(`${kind}: every weight bit-identical to the file, generators as they were`, () => {
      const weights = fixture(`${kind}.safetensors`);
      const { model, meta } = cv.loadModel(be, fixture(`${kind}.json`).toString('utf8'), weights, {
        source: kind,
        kind,
      });
      disposables.push(model);
      expect(meta.training).toEqual({ note: 'fixture of convae 0.1.0 at 8e10828' });
      // The reference: the file's own tensors, decoded independently of the model.
      const file = decodeSafetensors(weights, kind).tensors;
      expect(
        model
          .params()
          .map((p) => p.name)
          .sort(),
      ).toEqual(Object.keys(file).sort());
      for (const p of model.params()) expectBitEqual(p.name, p.value.toArray(), file[p.name].data as Float32Array);
      const x = be.fromArray([2, 1, 12, 12], expected.input);
      disposables.push(x);
      // FMA builds (relaxed wasm, native) round differently from the scalar build that made the fixture.
      // simd and scalar ran its operations bit for bit until the wasm tanh became one expm1 branch,
      // which moved these outputs by up to 6.0e-8 (1 ulp of the largest, 0.61; logits 4.5e-8).
      const tol = BUILD === 'relaxed' || BUILD === 'native' ? 1e-5 : 1e-7;
      if (model instanceof cv.Classifier) {
        expect(model.dropoutState).toEqual(expected.dropoutState);
        const got = model.logits(x).toArray();
        got.forEach((v, i) => expect(Math.abs(v - expected.logits[i])).toBeLessThanOrEqual(tol));
        // Frozen block 0 (head.freeze) survives loading.
        expect(
          model
            .params()
            .filter((p) => !p.trainable)
            .map((p) => p.name),
        ).toEqual(['block0.conv0.weight', 'block0.conv0.bias']);
      } else {
        expect(model.blocks.map((b) => b.noiseState)).toEqual(expected.noiseState);
        const got = model.blocks[0].reconstruct(x).toArray();
        got.forEach((v, i) => expect(Math.abs(v - expected.reconstruction[i])).toBeLessThanOrEqual(tol));
      }
    });
  }

  it('saving writes every default out, and the saved file loads to the same model', () => {
    const { model } = cv.loadModel(be, fixture('classifier.json').toString('utf8'), fixture('classifier.safetensors'), {
      kind: 'classifier',
    });
    disposables.push(model);
    const saved = cv.saveModel(model);
    const j = JSON.parse(saved.json);
    expect(j.blocks[0]).toEqual({
      convs: [{ filters: 3, kernel: 3, stride: 1, padding: 0 }],
      activation: 'tanh',
      leakySlope: 0.01,
      pool: { kernel: 2, stride: 2 },
      tied: true,
      outputActivation: 'sigmoid',
      noise: { type: 'mask', fraction: 0.25, rescale: true },
      sparsity: null,
      init: 'glorot',
    });
    expect(j.blocks[1].outputActivation).toBe('relu');
    expect(j.head).toEqual({
      hidden: [7],
      hiddenActivation: 'relu',
      leakySlope: 0.01,
      dropout: 0.2,
      classes: 3,
      freeze: [0],
    });
    const back = cv.loadModel(be, saved.json, saved.weights, { kind: 'classifier' }).model;
    disposables.push(back);
    back.params().forEach((p, i) => expectBitEqual(p.name, p.value.toArray(), model.params()[i].value.toArray()));
    expect(back.dropoutState).toEqual(model.dropoutState);
  });
});

const small = () =>
  cv.Classifier.fromBlocks(be, [{ convs: [{ filters: 2, kernel: 3 }] }], [1, 8, 8], { hidden: [4], classes: 3 });

describe('saveModel refuses training metadata its loader could not read back', () => {
  it('a cycle, a BigInt, 70 levels, 17 MiB: an ArgumentError naming training; 50 levels saves and loads', () => {
    const clf = small();
    disposables.push(clf);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    const cases: [unknown, RegExp][] = [
      [cyclic, /^saveModel: training cannot be written as JSON: Converting circular structure/],
      [{ n: 1n }, /^saveModel: training cannot be written as JSON: .*BigInt/],
      // Before, saved without a word; then loadModel refused the file: the model was lost.
      [deep, /^saveModel: training nests too deep: the model description may nest 64 levels$/],
      [
        'x'.repeat(17 * 2 ** 20),
        /^saveModel: training makes the model description \d+ characters, more than the 16777216/,
      ],
    ];
    for (const [training, re] of cases) expect(() => cv.saveModel(clf, training)).toThrow(re);
    for (const [training] of cases.slice(2)) {
      // What the loader says of the file the old save wrote: the reason the save must refuse it.
      const json = JSON.stringify(cv.modelJson(clf, training), null, 2);
      expect(() => cv.loadModel(be, json, cv.saveModel(clf).weights)).toThrow(cv.FormatError);
    }
    let ok: unknown = 1;
    for (let i = 0; i < 50; i++) ok = [ok];
    const { json, weights } = cv.saveModel(clf, ok);
    const back = cv.loadModel(be, json, weights);
    expect(JSON.stringify(back.meta.training)).toBe(JSON.stringify(ok));
    back.model.dispose();
  });
});

describe('limits and the weights file are checked before anything is allocated', () => {
  const clf = small();
  disposables.push(clf);
  const { json, weights } = cv.saveModel(clf);
  const edit = (f: (j: Json) => void) => {
    const j = JSON.parse(json);
    f(j);
    return JSON.stringify(j);
  };
  it('2 000 000 filters beside a small weights file', () => {
    expectRefusedClean(
      () =>
        cv.loadModel(
          be,
          edit((j) => (j.blocks[0].convs[0].filters = 2_000_000)),
          weights,
        ),
      cv.FormatError,
      /block0\.conv0\.weight' has shape \[2,1,3,3\], the architecture needs \[2000000,1,3,3\]/,
    );
  });
  it('hidden [2000000] beside a small weights file', () => {
    expectRefusedClean(
      () =>
        cv.loadModel(
          be,
          edit((j) => (j.head.hidden = [2_000_000])),
          weights,
        ),
      cv.FormatError,
      /dense0\.weight' has shape \[4,18\], the architecture needs \[2000000,18\]/,
    );
  });
  it('hidden [2000000, 2000000]: more parameter bytes than the limit, refused before the weights are read', () => {
    expectRefusedClean(
      () =>
        cv.loadModel(
          be,
          edit((j) => (j.head.hidden = [2_000_000, 2_000_000])),
          weights,
        ),
      cv.ModelError,
      /more than (268435456 elements|1073741824 bytes)/,
    );
  });
  it('classes 2 000 000 beside a small weights file', () => {
    expectRefusedClean(
      () =>
        cv.loadModel(
          be,
          edit((j) => (j.head.classes = 2_000_000)),
          weights,
        ),
      cv.FormatError,
      /logits\.weight/,
    );
  });
  it('filters 1e9 and 2^32 through the constructor: refused by the limits, nothing allocated', () => {
    for (const filters of [1e9, 2 ** 32])
      expectRefusedClean(
        () => new cv.StackedConvAutoencoder(be, [{ convs: [{ filters, kernel: 3 }] }], [1, 8, 8]),
        cv.ModelError,
        /filters/,
      );
    expectRefusedClean(
      () => new cv.StackedConvAutoencoder(be, [{ convs: [{ filters: 300_000, kernel: 31 }] }], [1, 32, 32]),
      cv.ModelError,
      /more than 268435456 elements/,
    );
  });
  it('a leakyRelu slope the kernels refuse (1, and 0.9999999, which rounds to 1 in f32): refused at construction', () => {
    for (const leakySlope of [1, 0.9999999]) {
      const block = { convs: [{ filters: 2, kernel: 3 }], activation: 'leakyRelu' as const, leakySlope };
      expectRefusedClean(
        () => new cv.StackedConvAutoencoder(be, [block], [1, 8, 8]),
        cv.ModelError,
        /blocks\[0\]\.leakySlope: must be a number in \[0, 0\.999999\]/,
      );
      expectRefusedClean(
        () =>
          cv.Classifier.fromBlocks(be, [{ convs: [{ filters: 2, kernel: 3 }] }], [1, 8, 8], {
            hidden: [4],
            hiddenActivation: 'leakyRelu',
            leakySlope,
            classes: 2,
          }),
        cv.ModelError,
        /head\.leakySlope: must be a number in/,
      );
    }
  });
  it('NaN / Infinity weights are refused naming the tensor and index, unless allowed', () => {
    const bad = cv.Classifier.fromBlocks(be, [{ convs: [{ filters: 2, kernel: 3 }] }], [1, 8, 8], {
      hidden: [4],
      classes: 3,
    });
    disposables.push(bad);
    bad.params()[2].value.data[5] = Number.NaN; // dense0.weight
    bad.params()[4].value.data[1] = Number.POSITIVE_INFINITY;
    const s = cv.saveModel(bad);
    expectRefusedClean(
      () => cv.loadModel(be, s.json, s.weights),
      cv.FormatError,
      /tensor 'dense0.weight' holds NaN at flat index 5: the weights are not all finite \(a training run that diverged\?\); loadModel's allowNonFinite option loads them anyway/,
    );
    const { model } = cv.loadModel(be, s.json, s.weights, { allowNonFinite: true, kind: 'classifier' });
    disposables.push(model);
    expect(model.params()[2].value.data[5]).toBeNaN();
    expect(model.params()[4].value.data[1]).toBe(Number.POSITIVE_INFINITY);
  });
  it('a wrong kind asked for is refused', () => {
    expectRefusedClean(() => cv.loadModel(be, json, weights, { kind: 'stack' }), cv.FormatError, /expected 'stack'/);
  });
});

describe('malformed architecture JSON: a typed error naming the field, nothing allocated', () => {
  const clf = small();
  disposables.push(clf);
  const { json, weights } = cv.saveModel(clf);
  const stackSaved = cv.saveModel(
    (() => {
      const s = new cv.StackedConvAutoencoder(be, [{ convs: [{ filters: 2, kernel: 3 }] }], [1, 8, 8]);
      disposables.push(s);
      return s;
    })(),
  );
  const cases: [string, (j: Json) => void, RegExp][] = [
    ['blocks: [null]', (j) => (j.blocks = [null]), /blocks\[0\]: must be an object, got null/],
    ['convs missing', (j) => delete j.blocks[0].convs, /blocks\[0\]\.convs: must be an array/],
    ['convs null', (j) => (j.blocks[0].convs = null), /blocks\[0\]\.convs: must be an array, got null/],
    ['convs "x"', (j) => (j.blocks[0].convs = 'x'), /blocks\[0\]\.convs: must be an array, got "x"/],
    ['convs [null]', (j) => (j.blocks[0].convs = [null]), /blocks\[0\]\.convs\[0\]: must be an object/],
    ['kernel missing', (j) => delete j.blocks[0].convs[0].kernel, /blocks\[0\]\.convs\[0\]\.kernel: is required/],
    ['kernel null', (j) => (j.blocks[0].convs[0].kernel = null), /blocks\[0\]\.convs\[0\]\.kernel: must be/],
    ['head missing', (j) => delete j.head, /head: is required/],
    ['head null', (j) => (j.head = null), /head: must be an object, got null/],
    ['hidden: 5', (j) => (j.head.hidden = 5), /head\.hidden: must be an array, got 5/],
    ['freeze: 5', (j) => (j.head.freeze = 5), /head\.freeze: must be an array, got 5/],
    ['freeze: "0"', (j) => (j.head.freeze = '0'), /head\.freeze: must be an array/],
    ['freeze: [0.5]', (j) => (j.head.freeze = [0.5]), /head\.freeze\[0\]: must be an integer in \[0, 0\]/],
    [
      '3-element kernel',
      (j) => (j.blocks[0].convs[0].kernel = [3, 3, 3]),
      /kernel: must be an integer or \[height, width\]/,
    ],
    ['3-element stride', (j) => (j.blocks[0].convs[0].stride = [1, 1, 1]), /stride: must be an integer or/],
    ['3-element padding', (j) => (j.blocks[0].convs[0].padding = [0, 0, 0]), /padding: must be an integer or/],
    ['pool "x"', (j) => (j.blocks[0].pool = 'x'), /blocks\[0\]\.pool: must be an object, got "x"/],
    ['pool 5', (j) => (j.blocks[0].pool = 5), /blocks\[0\]\.pool: must be an object, got 5/],
    ['pool []', (j) => (j.blocks[0].pool = []), /blocks\[0\]\.pool: must be an object, got an array/],
    ['pool true', (j) => (j.blocks[0].pool = true), /blocks\[0\]\.pool: must be an object, got true/],
    ['tied "no"', (j) => (j.blocks[0].tied = 'no'), /blocks\[0\]\.tied: must be true or false/],
    ['tied 0', (j) => (j.blocks[0].tied = 0), /blocks\[0\]\.tied: must be true or false/],
    ['tied "false"', (j) => (j.blocks[0].tied = 'false'), /blocks\[0\]\.tied: must be true or false/],
    [
      'noise fraction "0.3"',
      (j) => (j.blocks[0].noise = { type: 'mask', fraction: '0.3' }),
      /noise\.fraction: must be a number/,
    ],
    ['noise fraction [0.3]', (j) => (j.blocks[0].noise = { type: 'mask', fraction: [0.3] }), /noise\.fraction/],
    ['noise fraction null', (j) => (j.blocks[0].noise = { type: 'mask', fraction: null }), /noise\.fraction/],
    ['init "foo"', (j) => (j.blocks[0].init = 'foo'), /blocks\[0\]\.init: must be one of 'glorot', 'he'/],
    ['seed 1.5', (j) => (j.seed = 1.5), /seed: must be an integer.*got 1.5/],
    ['seed null', (j) => (j.seed = null), /seed: must be an integer.*got null/],
    ['seed []', (j) => (j.seed = []), /seed: must be an integer/],
    ['dropout "0.2"', (j) => (j.head.dropout = '0.2'), /head\.dropout: must be a number/],
    // The kernels take the slope as f32 below 1: a file saying 1 would load and fail at the first forward pass.
    [
      'block leakySlope 1',
      (j) => (j.blocks[0].leakySlope = 1),
      /blocks\[0\]\.leakySlope: must be a number in \[0, 0\.999999\]/,
    ],
    ['head leakySlope 0.9999999', (j) => (j.head.leakySlope = 0.9999999), /head\.leakySlope: must be a number in/],
    ['activation "foo"', (j) => (j.blocks[0].activation = 'foo'), /blocks\[0\]\.activation: must be one of/],
    ['activation "toString"', (j) => (j.blocks[0].activation = 'toString'), /activation: must be one of/],
    [
      'an unknown field',
      (j) => (j.blocks[0].convs[0].dilation = 2),
      /blocks\[0\]\.convs\[0\]\.dilation: unknown field/,
    ],
    ['a top-level unknown field', (j) => (j.extra = { deep: 1 }), /model\.extra: unknown field/],
    [
      '__proto__ as a field',
      (j) => Object.defineProperty(j.head, '__proto__', { value: { x: 1 }, enumerable: true }),
      /head\.__proto__: unknown field/,
    ],
    ['inputShape [1,8]', (j) => (j.inputShape = [1, 8]), /inputShape: must hold 3 to 3 entries/],
    ['classes 0', (j) => (j.head.classes = 0), /head\.classes: must be an integer in \[1,/],
    ['kind unknown', (j) => (j.kind = 'gan'), /unknown model kind "gan"/],
    ['kind "__proto__"', (j) => (j.kind = '__proto__'), /unknown model kind/],
    ['version 2', (j) => (j.version = 2), /version 2/],
  ];
  for (const [what, f, re] of cases)
    it(what, () => {
      const j = JSON.parse(json);
      f(j);
      expectRefusedClean(() => cv.loadModel(be, JSON.stringify(j), weights), cv.FormatError, re);
    });
  it('a classifier JSON without a head under kind "classifier" (a stack file relabelled)', () => {
    const j = JSON.parse(stackSaved.json);
    j.kind = 'classifier';
    expectRefusedClean(
      () => cv.loadModel(be, JSON.stringify(j), stackSaved.weights),
      cv.FormatError,
      /head: is required/,
    );
  });
  it('nesting deeper than the limit, and a huge unknown key, are refused with short messages', () => {
    const deep = json.replace(/}\s*$/, `, "training": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    expectRefusedClean(() => cv.loadModel(be, deep, weights), cv.FormatError, /nests deeper than 64/);
    const k = JSON.parse(json);
    k.head[`x${'y'.repeat(100_000)}`] = 1;
    expectRefusedClean(() => cv.loadModel(be, JSON.stringify(k), weights), cv.FormatError, /unknown field/);
  });
});

describe('a constructor that fails part-way leaves no tensor alive', () => {
  it('a block whose second conv does not fit, an activation that does not exist, a head that does not chain', () => {
    expectRefusedClean(
      () =>
        new cv.StackedConvAutoencoder(
          be,
          [{ convs: [{ filters: 4, kernel: 3 }] }, { convs: [{ filters: 4, kernel: 9 }] }],
          [1, 8, 8],
        ),
      cv.ModelError,
      /block1\.conv0/,
    );
    expectRefusedClean(
      () =>
        new cv.StackedConvAutoencoder(
          be,
          [{ convs: [{ filters: 4, kernel: 3 }], activation: 'foo' as 'tanh' }],
          [1, 8, 8],
        ),
      cv.ModelError,
      /activation/,
    );
    expectRefusedClean(
      () =>
        cv.Classifier.fromBlocks(be, [{ convs: [{ filters: 2, kernel: 3 }] }], [1, 8, 8], {
          hidden: [4],
          classes: 3,
          freeze: [1],
        }),
      cv.ModelError,
      /freeze\[0\]/,
    );
  });
  it('an allocation that fails half-way (the init throws on the third parameter) frees the first two', () => {
    let n = 0;
    const init: cv.ParamInit = {
      param(b, name, shape) {
        if (++n === 3) throw new cv.MemoryError('test: no memory for the third parameter');
        return new cv.Param(name, b.zeros(shape), b.zeros(shape));
      },
    };
    expectRefusedClean(
      () =>
        new cv.StackedConvAutoencoder(
          be,
          [{ convs: [{ filters: 4, kernel: 3 }] }, { convs: [{ filters: 4, kernel: 3 }] }],
          [1, 12, 12],
          1,
          init,
        ),
      cv.MemoryError,
    );
    expect(n).toBe(3);
  });
});

describe('the model kind `cae` (a standalone ConvAutoencoder) saves and loads through the registry', () => {
  it('round trip: same kind, same weights, same reconstruction', () => {
    const cae = new cv.ConvAutoencoder(
      be,
      { convs: [{ filters: 3, kernel: 3 }], noise: { type: 'gaussian', std: 0.1 } },
      [1, 10, 10],
      { seed: 4 },
    );
    disposables.push(cae);
    const s = cv.saveModel(cae);
    expect(JSON.parse(s.json).kind).toBe('cae');
    const { model } = cv.loadModel(be, s.json, s.weights, { kind: 'cae' });
    disposables.push(model);
    expect(model).toBeInstanceOf(cv.ConvAutoencoder);
    expect(model.noiseState).toBe(cae.noiseState);
    const x = be.fromArray(
      [2, 1, 10, 10],
      Float32Array.from({ length: 200 }, (_, i) => (i % 7) / 7),
    );
    disposables.push(x);
    expectBitEqual('reconstruction', cae.reconstruct(x).toArray(), model.reconstruct(x).toArray());
    expect(cv.modelKindNames()).toEqual(expect.arrayContaining(['stack', 'classifier', 'cae']));
  });
});

describe('a disposed model refuses work without allocating', () => {
  it('logits / reconstruct / trainStep after dispose(): MemoryError, live tensors unchanged', () => {
    const clf = small();
    const cae = new cv.ConvAutoencoder(be, { convs: [{ filters: 2, kernel: 3 }] }, [1, 8, 8]);
    const x = be.fromArray([2, 1, 8, 8], new Float32Array(128).fill(0.5));
    const y = be.fromArray([2], [0, 1], 'u32');
    disposables.push(x, y);
    clf.dispose();
    cae.dispose();
    expectRefusedClean(() => clf.logits(x), cv.MemoryError, /after dispose/);
    expectRefusedClean(() => clf.predict(x), cv.MemoryError);
    expectRefusedClean(() => clf.trainStep(x, y), cv.MemoryError);
    expectRefusedClean(() => cae.reconstruct(x), cv.MemoryError);
    expectRefusedClean(() => cae.trainStep(x), cv.MemoryError);
  });
});

describe('fit refusing a checkpoint of another model frees what it made', () => {
  it('resumeFrom whose optimizer state fits the first parameter but not the second: ArgumentError, live tensors unchanged', async () => {
    const clf = small();
    disposables.push(clf);
    const data = cv.ImageDataset.fromFloat32(new Float32Array(4 * 64).fill(0.5), [1, 8, 8], [0, 1, 2, 0], 3);
    const before = { ...be.mem.live, memory: be.memoryBytes };
    const ps = clf.params();
    const params = Object.fromEntries(ps.map((p) => [p.name, p.value.toArray()]));
    const n0 = ps[0].value.size;
    const optimizer = {
      [ps[0].name]: [new Float32Array(n0), new Float32Array(n0)],
      [ps[1].name]: [new Float32Array(1)],
    };
    const ckpt = { epoch: 1, steps: 1, rngState: 1, optimizerSteps: 1, params, optimizer, history: [] };
    await expect(
      cv.fit(be, clf.task(), data, {
        epochs: 2,
        batchSize: 2,
        optimizer: { type: 'adam', lr: 1e-3 },
        resumeFrom: ckpt as unknown as cv.Checkpoint,
      }),
    ).rejects.toBeInstanceOf(cv.ArgumentError);
    expect({ ...be.mem.live, memory: be.memoryBytes }).toEqual(before);
  });
});
