/**
 * Fuzzing the API and the CLI: tensor shapes, activation names, fit and
 * searchCAE options (each field set to values from an independent table of
 * valid and invalid ones), and command lines (a few spawned processes).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliAsync } from '../util/cli.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { Classifier } from '../../ts/model/classifier.js';
import { activation, type Activation } from '../../ts/ops/elementwise.js';
import { fit, type FitOptions } from '../../ts/train/fit.js';
import { checkSearchOptions } from '../../ts/train/options.js';
import { classifierTask } from '../../ts/model/tasks.js';
import { backendUnderTest } from '../util/backend.js';
import { expectClean, fuzzCase, Gen, report, snapshot } from './harness.js';

const be = await backendUnderTest();
const before = snapshot(be);
afterAll(() => report('api', be, before));

describe('fuzz: tensors and activations', () => {
  it('600 shapes for empty/zeros/fromArray', async () => {
    const g = new Gen(11);
    const bad = [
      -1,
      0,
      1.5,
      Number.NaN,
      Infinity,
      -Infinity,
      2 ** 53,
      2 ** 32,
      2 ** 30,
      1e10,
      '3',
      null,
      undefined,
      [],
      {},
    ];
    for (let i = 0; i < 600; i++) {
      const rank = g.int(0, 4);
      const shape: unknown[] = Array.from({ length: rank }, () => g.int(1, 6));
      let exp: 'valid' | 'invalid' = 'valid';
      if (i % 2 === 1) {
        if (rank === 0 || g.bool(0.2)) {
          shape.push(g.pick([2 ** 15, 2 ** 16]), g.pick([2 ** 15, 2 ** 16])); // > 2^28 elements with one more
          shape.push(g.pick([2 ** 15, 2 ** 16]));
        } else shape[g.int(0, rank - 1)] = g.pick(bad);
        exp = 'invalid';
      }
      const count = exp === 'valid' ? (shape as number[]).reduce((a, b) => a * b, 1) : 0;
      const op = g.pick(['empty', 'zeros', 'fromArray'] as const);
      await fuzzCase(be, 'tensor shapes', `#${i} ${op}(${JSON.stringify(shape)})`, exp, () => {
        const s = shape as number[];
        const t =
          op === 'empty'
            ? be.empty(s)
            : op === 'zeros'
              ? be.zeros(s)
              : be.fromArray(s, new Float32Array(count).fill(2));
        return () => {
          expect(t.size).toBe(count);
          if (op === 'zeros') expect(t.data.every((v) => v === 0)).toBe(true);
          if (op === 'fromArray') expect(t.data.every((v) => v === 2)).toBe(true);
          t.dispose();
        };
      });
    }
    expectClean('tensor shapes');
  });

  it('400 activation names', async () => {
    const g = new Gen(12);
    const ref: Record<string, (x: number) => number> = {
      identity: (x) => x,
      relu: (x) => Math.max(0, x),
      leakyRelu: (x) => (x < 0 ? 0.01 * x : x),
      tanh: Math.tanh,
      sigmoid: (x) => 1 / (1 + Math.exp(-x)),
    };
    const x = be.fromArray(
      [16],
      Float32Array.from({ length: 16 }, (_, i) => (i - 8) / 3),
    );
    const y = be.zeros([16]);
    const xs = x.toArray();
    for (let i = 0; i < 400; i++) {
      const valid = i % 3 === 0;
      const name = valid
        ? g.pick(Object.keys(ref))
        : g.pick<unknown>([
            'toString',
            'constructor',
            '__proto__',
            'hasOwnProperty',
            'valueOf',
            'isPrototypeOf',
            'Tanh',
            'RELU',
            '',
            g.name(),
            null,
            7,
            {},
          ]);
      await fuzzCase(be, 'activation names', `#${i} ${String(name).slice(0, 20)}`, valid ? 'valid' : 'invalid', () => {
        activation(name as Activation, x, y);
        return () => {
          const f = ref[name as string];
          y.data.forEach((v, k) => expect(Math.abs(v - f(xs[k]))).toBeLessThan(1e-6));
        };
      });
    }
    x.dispose();
    y.dispose();
    expectClean('activation names');
  });
});

/** Values each option may take, and values it must refuse (an independent table). */
const FIELDS: Record<string, { ok: unknown[]; bad: unknown[] }> = {
  epochs: { ok: [0], bad: [-1, 1.5, Number.NaN, Infinity, '1', null, undefined] },
  batchSize: { ok: [1, 7, 1000], bad: [0, -1, 0.5, Number.NaN, '8', null] },
  optimizer: {
    ok: [
      { type: 'sgd', lr: 0.1 },
      { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true },
      { type: 'adam', lr: 1e-3, beta1: 0.8, eps: 1e-7 },
    ],
    bad: [
      null,
      {},
      { type: 'rmsprop', lr: 0.1 },
      { type: 'sgd', lr: Infinity },
      { type: 'sgd', lr: 0 },
      { type: 'sgd', lr: -1 },
      { type: 'sgd', lr: Number.NaN },
      { type: 'sgd', lr: '0.1' },
      { type: 'sgd', lr: 0.1, momentum: 1 },
      { type: 'sgd', lr: 0.1, momentum: Number.NaN },
      { type: 'sgd', lr: 0.1, nesterov: 'yes' },
      { type: 'adam', lr: 0.1, beta2: 1 },
      { type: 'adam', lr: 0.1, eps: 0 },
      { type: 'adam', lr: 0.1, weightDecay: -1 },
      { type: '__proto__', lr: 0.1 },
      'adam',
    ],
  },
  schedule: {
    ok: [undefined, { type: 'constant' }, { type: 'step', every: 2, gamma: 0.5 }, { type: 'cosine', epochs: 3 }],
    bad: [
      null,
      'step',
      { type: 'step', every: 1, gamma: Number.NaN },
      { type: 'step', every: 1, gamma: -1 },
      { type: 'step', every: 0, gamma: 0.5 },
      { type: 'step', every: 1.5, gamma: 0.5 },
      { type: 'cosine', epochs: 0 },
      { type: 'cosine', epochs: 3, minFactor: 2 },
      { type: 'toString' },
    ],
  },
  seed: { ok: [undefined, 0, 12345, 2 ** 32 - 1], bad: [-1, 1.5, Number.NaN, 2 ** 32, '1', null] },
  validation: { ok: [undefined, 0.2, 0.5], bad: [0, 1, -0.1, 1.5, Number.NaN, '0.2', null, {}, []] },
  earlyStopping: {
    ok: [undefined],
    bad: [
      null,
      { patience: -1 },
      { patience: Number.NaN },
      { patience: 1.5 },
      { patience: 0 },
      { patience: 2, minDelta: -1 },
      { patience: 2 }, // no validation in the base options
    ],
  },
  onBatch: { ok: [undefined, () => {}], bad: [null, 5, 'f', {}] },
  onEpoch: { ok: [undefined, () => {}], bad: [null, 5, 'f', []] },
  signal: { ok: [undefined, new AbortController().signal], bad: [null, true, {}, { aborted: false }] },
  checkpoint: {
    ok: [undefined, { save: () => {} }, { every: 3, save: () => {} }],
    bad: [
      null,
      {},
      { every: 0, save: () => {} },
      { every: -1, save: () => {} },
      { every: 1.5, save: () => {} },
      { every: Number.NaN, save: () => {} },
      { save: 'x' },
    ],
  },
  resumeFrom: { ok: [undefined], bad: [null, {}, [], 'ckpt', { params: {}, optimizer: {} }] },
};

describe('fuzz: fit options', () => {
  it('600 option sets (valid ones run 0 epochs and must leave the weights as they were)', async () => {
    const g = new Gen(13);
    const images = Float32Array.from({ length: 20 * 64 }, () => g.rng.next());
    const data = ImageDataset.fromFloat32(
      images,
      [1, 8, 8],
      Array.from({ length: 20 }, (_, i) => i % 3),
      3,
    );
    const model = Classifier.fromBlocks(
      be,
      [{ convs: [{ filters: 2, kernel: 3 }] }],
      [1, 8, 8],
      { hidden: [4], classes: 3 },
      1,
    );
    const w0 = model.params().map((p) => p.value.toArray());
    const fields = Object.keys(FIELDS);
    for (let i = 0; i < 600; i++) {
      const opts: Record<string, unknown> = { epochs: 0, batchSize: 5, optimizer: { type: 'adam', lr: 1e-3 } };
      let exp: 'valid' | 'invalid' = 'valid';
      const labels: string[] = [];
      for (let k = g.int(1, 3); k > 0; k--) {
        const f = g.pick(fields);
        const invalid = i % 4 !== 0 && exp === 'valid';
        const v = invalid ? g.pick(FIELDS[f].bad) : g.pick(FIELDS[f].ok);
        if (invalid) exp = 'invalid';
        opts[f] = v;
        labels.push(`${f}=${typeof v === 'function' ? 'fn' : JSON.stringify(v)}`);
        if (invalid) break;
      }
      const target = g.bool(0.05) ? null : data;
      if (!target) exp = 'invalid';
      await fuzzCase(be, 'fit options', `#${i} ${labels.join(' ')}`, exp, async () => {
        const h = await fit(be, classifierTask(model), target as ImageDataset, opts as unknown as FitOptions);
        return () => {
          expect(h.epochs).toEqual([]);
          model.params().forEach((p, k) => expect(p.value.toArray()).toEqual(w0[k]));
        };
      });
    }
    model.dispose();
    expectClean('fit options');
  });

  it('300 searchCAE option sets', async () => {
    const g = new Gen(14);
    const data = ImageDataset.fromFloat32(new Float32Array(10 * 64), [1, 8, 8]);
    const LISTS: Record<string, { ok: unknown[]; bad: unknown[] }> = {
      featureMaps: { ok: [[2], [1, 4]], bad: [[], [0], [1.5], [Infinity], null, '4', [2 ** 40]] },
      filterSizes: { ok: [[3], [3, 5]], bad: [[], [0], [-3], [Number.NaN], null] },
      activations: {
        ok: [undefined, ['tanh'], ['relu', 'sigmoid']],
        bad: [[], ['toString'], ['__proto__'], ['swish'], [null], 'tanh'],
      },
      learningRates: { ok: [undefined, [1e-3]], bad: [[Infinity], [0], [-1], [Number.NaN], ['0.1'], []] },
      noise: { ok: [undefined, [0, 0.3]], bad: [[1], [-0.1], [Number.NaN], ['0.3']] },
      tied: { ok: [undefined, [true, false]], bad: [['no'], [0], [null]] },
      epochs: { ok: [undefined, 1], bad: [0, -1, 1.5, Number.NaN] },
      strategy: { ok: [undefined, 'grid', { random: 2 }], bad: [{ random: 0 }, { random: 1.5 }, null, 'random'] },
      onCandidate: { ok: [undefined, () => {}], bad: [1, 'x'] },
    };
    const fields = Object.keys(LISTS);
    for (let i = 0; i < 300; i++) {
      const o: Record<string, unknown> = { data, featureMaps: [2], filterSizes: [3] };
      const f = g.pick(fields);
      const valid = i % 3 === 0;
      o[f] = valid ? g.pick(LISTS[f].ok) : g.pick(LISTS[f].bad);
      await fuzzCase(null, 'search options', `#${i} ${f}=${JSON.stringify(o[f])}`, valid ? 'valid' : 'invalid', () =>
        checkSearchOptions(o),
      );
    }
    expectClean('search options');
  });
});

const cli = cliAsync(30_000);

describe.runIf(process.env.CONVAE_BUILD === 'simd' || !process.env.CONVAE_BUILD)('fuzz: command lines', () => {
  it('32 hostile command lines: a non-zero exit, no stack trace, bounded output', async () => {
    const g = new Gen(15);
    // What `Number` reads as 0 or as a number although nobody writes one so: every numeric flag must refuse these.
    const blank = ['', ' ', '\t', '0x10', '0b11', '0o7', ' 5'];
    const numeric = (values: string[]) => () => (g.bool(0.4) ? g.pick(blank) : g.pick(values));
    const flags = [
      ['--maps', () => g.pick(['1000000000,2', '0,5', '-1,2', 'x,y', '5000,5000', '', ',', '0x4,6'])],
      ['--batch', numeric(['0', '-5', '1.5', 'NaN', '1e99', 'x', '1e300'])],
      ['--kernel', numeric(['0', '29', '2.5', '-1'])],
      ['--hidden', numeric(['0', '2000000', 'Infinity'])],
      ['--noise', numeric(['1', '-0.1', 'NaN', 'x'])],
      // The typed noises: salt and pepper takes (0, 1), Gaussian (0, 10].
      [
        '--noise',
        () => g.pick(['salt-pepper:1', 'salt-pepper:0', 'salt-pepper:', 'salt-pepper:0x1', 'gaussian:0', 'pepper:0.1']),
      ],
      // Of search (train does not take them): a count in [1, 2^24], a scale in (0, 1].
      ['--patches', numeric(['0', '-1', '2.5', '16777217', 'x'])],
      ['--patch-scale', numeric(['0', '1.5', 'NaN', '-0.5'])],
      ['--seed', numeric(['-1', '4294967296', '0.5', '1e300'])],
      ['--workers', numeric(['-1', '100000', 'all'])],
      ['--limit', numeric(['0', '-1', '1e12', 'x'])],
      ['--epochs', numeric(['-1', '1.5', '1e10'])],
      ['--shift', numeric(['9', '-1', '0.5'])],
      ['--dropout', numeric(['1', '-0.5'])],
      ['--sparsity', numeric(['1.5', '-0.1'])],
      ['--out', () => g.pick(['/proc/self/x', '/proc', '/dev/null', '/etc/hostname'])],
      ['--dataset', () => g.pick(['cifar', '__proto__', ''])],
    ] as const;
    const out = mkdtempSync(join(tmpdir(), 'convae-fuzz-'));
    const cases: string[][] = [];
    for (let i = 0; i < 32; i++) {
      const [flag, value] = g.pick(flags);
      // A writable --out first (so no case creates convae-out/ here); the hostile flag after it wins.
      cases.push([i % 6 === 5 ? 'search' : 'train', '--out', out, '--limit', '100', flag, value(), '-q']);
    }
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4);
      const results = await Promise.all(batch.map((a) => cli(a)));
      results.forEach((r, k) => {
        const label = batch[k].join(' ');
        // null: killed at the 30 s limit, which only a machine loaded many times over reaches (seed 35 and 36 at load 12).
        expect(r.status, `${label}: timed out`).not.toBeNull();
        expect(r.status, `${label}\n${r.stderr}`).not.toBe(0);
        expect(r.stderr, label).not.toMatch(/\n\s+at /);
        expect(r.stderr.length, label).toBeLessThan(4000);
        // The line that says what is wrong (usage errors add the usage text after it).
        const first = r.stderr.split('\n')[0];
        expect(first, label).toMatch(/^(convae(?: [a-z-]+)?: |error: )/);
        expect(first.length, label).toBeLessThanOrEqual(1000);
      });
    }
  }, 120_000);
});
