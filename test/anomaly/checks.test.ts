/**
 * The anomaly API checks what it is given before the expensive work: a
 * one-class run its score specs before it trains the stack, a detector its
 * score, threshold and datasets before it encodes the normal images; a bad
 * value is an ArgumentError naming it, never a TypeError.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AnomalyDetector } from '../../ts/anomaly/detector.js';
import { type OneClassOptions, oneClassRun, trainStack } from '../../ts/anomaly/oneclass.js';
import { fitThreshold } from '../../ts/anomaly/threshold.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { ArgumentError, DataError } from '../../ts/errors.js';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { Rng } from '../../ts/util/rng.js';
import { backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();
const rng = new Rng(4);
const images = (n: number, labels?: number[]) =>
  ImageDataset.fromFloat32(
    Float32Array.from({ length: n * 64 }, () => rng.next()),
    [1, 8, 8],
    labels,
  );
const blocks = [
  { convs: [{ filters: 2, kernel: 3 }], pool: { kernel: 2 } },
  { convs: [{ filters: 2, kernel: 3 }], pool: null },
];

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e as Error;
  }
  throw new Error('nothing was thrown');
}

describe('AnomalyDetector.fit checks before it encodes the normal images', () => {
  const stack = new StackedConvAutoencoder(be, blocks, [1, 8, 8], 1);
  afterAll(() => stack.dispose());
  const normal = images(30),
    validation = images(10);
  // Counts the encoder passes: a check that comes after the normal images were encoded shows here.
  let passes = 0;
  const encodeThrough = stack.encodeThrough.bind(stack);
  stack.encodeThrough = (...a: Parameters<typeof stack.encodeThrough>) => {
    passes++;
    return encodeThrough(...a);
  };

  const cases: [string, () => unknown, RegExp][] = [
    [
      'threshold { fpr: 5 }',
      () => AnomalyDetector.fit(stack, normal, validation, { threshold: { fpr: 5 } }),
      /threshold.fpr must be a number in \[0, 1\], got 5/,
    ],
    [
      'threshold { fpr: NaN }',
      () => AnomalyDetector.fit(stack, normal, validation, { threshold: { fpr: Number.NaN } }),
      /threshold.fpr/,
    ],
    [
      'threshold { fpr: 1n }',
      () => AnomalyDetector.fit(stack, normal, validation, { threshold: { fpr: 1n as never } }),
      /threshold.fpr must be a number in \[0, 1\], got 1n/,
    ],
    [
      'threshold "x"',
      () => AnomalyDetector.fit(stack, normal, validation, { threshold: 'x' as never }),
      /threshold must be \{ fpr \} or \{ quantile \}, got "x"/,
    ],
    [
      'threshold {}',
      () => AnomalyDetector.fit(stack, normal, validation, { threshold: {} as never }),
      /threshold must give one of fpr and quantile/,
    ],
    [
      'validation null',
      () => AnomalyDetector.fit(stack, normal, null as never),
      /validation must be an ImageDataset, got null/,
    ],
    ['options 5', () => AnomalyDetector.fit(stack, normal, validation, 5 as never), /options must be an object, got 5/],
    [
      'score "knn"',
      () => AnomalyDetector.fit(stack, normal, validation, { score: 'knn' as never }),
      /score must be \{ type, depth\[, k\] \}, got "knn"/,
    ],
    [
      'score depth 3',
      () => AnomalyDetector.fit(stack, normal, validation, { score: { type: 'neighbours', depth: 3, k: 1 } }),
      /score.depth must be an integer in \[0, 2\]/,
    ],
    [
      'score k 31',
      () => AnomalyDetector.fit(stack, normal, validation, { score: { type: 'neighbours', depth: 1, k: 31 } }),
      /score.k must be an integer in \[1, 30\]/,
    ],
  ];
  for (const [name, run, msg] of cases)
    it(`${name}: an ArgumentError, no image encoded`, async () => {
      passes = 0;
      const e = await refusal(run);
      expect(e).toBeInstanceOf(ArgumentError);
      expect(e.message).toMatch(msg);
      expect(passes).toBe(0);
    });

  it('validation images of another shape: a DataError, no image encoded', async () => {
    passes = 0;
    const other = ImageDataset.fromFloat32(new Float32Array(49), [1, 7, 7]);
    const e = await refusal(() => AnomalyDetector.fit(stack, normal, other));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(/dataset holds \[1,7,7\]/);
    expect(passes).toBe(0);
  });

  it('good options still fit (baseline)', () => {
    passes = 0;
    const det = AnomalyDetector.fit(stack, normal, validation, { threshold: { quantile: 0.9 } });
    expect(det.detect(validation).flags.reduce((a, b) => a + b, 0)).toBe(1);
    expect(passes).toBeGreaterThan(0);
  });
});

describe('fitThreshold', () => {
  it('a spec that is not an object, or gives both rates, is an ArgumentError (before: a TypeError from `in`)', async () => {
    for (const spec of ['x', 5, null, [], { fpr: 0.1, quantile: 0.9 }, { fpr: '0.1' }])
      expect(await refusal(() => fitThreshold([1, 2, 3], spec as never)), String(spec)).toBeInstanceOf(ArgumentError);
  });
});

describe('oneClassRun checks its score specs before it trains', () => {
  const labels = Array.from({ length: 60 }, (_, i) => i % 3);
  const train = images(60, labels);
  const test = images(12, labels.slice(0, 12));
  /** Options whose training reads are counted: training starts by reading the optimizer. */
  const counted = (over: Partial<OneClassOptions>) => {
    const reads = { optimizer: 0 };
    const opts = {
      blocks,
      epochs: 1,
      batchSize: 8,
      seed: 1,
      scores: [{ type: 'neighbours', depth: 2, k: 1 }],
      evaluate: 'validation',
      ...over,
      get optimizer() {
        reads.optimizer++;
        return { type: 'adam', lr: 1e-3 } as const;
      },
    } as OneClassOptions;
    return { opts, reads };
  };

  for (const [name, over, msg] of [
    [
      'neighbours at depth 99',
      { scores: [{ type: 'neighbours', depth: 99, k: 1 }] },
      /scores\[0\].depth must be an integer in \[0, 2\]/,
    ],
    [
      'reconstruction at depth 0',
      { scores: [{ type: 'reconstruction', depth: 0 }] },
      /scores\[0\].depth must be an integer in \[1, 2\]/,
    ],
    [
      'the second score with k 0',
      {
        scores: [
          { type: 'reconstruction', depth: 1 },
          { type: 'neighbours', depth: 1, k: 0 },
        ],
      },
      /scores\[1\].k/,
    ],
    [
      'k beyond the training images',
      { scores: [{ type: 'neighbours', depth: 1, k: 1000 }] },
      /scores\[0\].k must be an integer in \[1, 18\]/,
    ],
    [
      'a score type "knn"',
      { scores: [{ type: 'knn', depth: 1 }] },
      /scores\[0\].type must be 'reconstruction' or 'neighbours', got "knn"/,
    ],
    ['evaluate "tests"', { evaluate: 'tests' }, /evaluate must be 'validation' or 'test', got "tests"/],
  ] as [string, Partial<OneClassOptions>, RegExp][])
    it(`${name}: an ArgumentError, nothing trained`, async () => {
      const { opts, reads } = counted(over);
      const e = await refusal(oneClassRun(be, train, test, 0, opts));
      expect(e).toBeInstanceOf(ArgumentError);
      expect(e.message).toMatch(msg);
      expect(reads.optimizer).toBe(0);
    });

  it('good specs still run (baseline)', async () => {
    const { opts, reads } = counted({
      scores: [
        { type: 'reconstruction', depth: 2 },
        { type: 'neighbours', depth: 0, k: 2 },
      ],
    });
    const r = await oneClassRun(be, train, test, 0, opts);
    expect(r.results.map((x) => x.name)).toEqual(['recon@2', 'knn2@0']);
    expect(reads.optimizer).toBeGreaterThan(0);
    r.stack.dispose();
  });
});

describe('encode and Runner.encode: a non-stack is an ArgumentError', () => {
  it('null, undefined or a plain object as the stack (it was a TypeError reading blocks)', async () => {
    const { encode } = await import('../../ts/anomaly/embed.js');
    const { threadRunner } = await import('../../ts/train/runner.js');
    const data = images(2);
    for (const stack of [null, undefined, {}, { blocks: 'x' }] as unknown as StackedConvAutoencoder[]) {
      for (const call of [() => encode(stack, data), () => threadRunner(be).encode(stack, data)]) {
        const e = await refusal(call);
        expect(e).toBeInstanceOf(ArgumentError);
        expect(e.message).toMatch(/stack must be a CAE stack/);
      }
    }
  });
});

describe("trainStack checks every block's batch before the first block trains", () => {
  // Block 1's 4 096 maps of 64×64 are 2^24 values an image: 16 fit in MAX_TENSOR_ELEMENTS, block 0's 1 map 65 536.
  const wide = [
    { convs: [{ filters: 1, kernel: 1 }], pool: null },
    { convs: [{ filters: 4096, kernel: 1 }], pool: null },
  ];
  const big = ImageDataset.fromFloat32(new Float32Array(20 * 64 * 64), [1, 64, 64]);

  it("a batch block 0 takes but block 1 does not: trainStack's ArgumentError, nothing trained, nothing left", async () => {
    const reads = { optimizer: 0 };
    const opts = {
      blocks: wide,
      epochs: 1,
      batchSize: 20,
      seed: 1,
      get optimizer() {
        reads.optimizer++;
        return { type: 'sgd', lr: 1e-3 } as const;
      },
    };
    const live = be.mem.live.tensors;
    const e = await refusal(trainStack(be, big, opts));
    expect(e).toBeInstanceOf(ArgumentError);
    expect(e.message).toMatch(
      /^trainStack: batchSize of 20 images does not fit: at most 16, since one image leaves \d+ values in the layers \(the largest, "block1\.conv0", 16777216\)/,
    );
    expect(reads.optimizer).toBe(0);
    expect(be.mem.live.tensors).toBe(live);
  });
});
