/**
 * Training behaviour on real MNIST images (a 2 000-image subset): loss falls
 * by a stated factor, same seed → same weights, cancellation leaves a
 * consistent model, early stopping restores the best weights, save → load
 * gives identical outputs bit for bit, and bad files or shapes are refused.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { loadMnist } from '../../ts/data/mnist.js';
import { StackedConvAutoencoder, type BlockSpec } from '../../ts/model/autoencoder.js';
import { Classifier } from '../../ts/model/classifier.js';
import { exportWeights, loadModel, saveModel } from '../../ts/model/serialize.js';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../ts/train/checkpoint.js';
import { evaluateTask } from '../../ts/train/evaluate.js';
import { fit } from '../../ts/train/fit.js';
import { classifierTask, stackLayerTask } from '../../ts/model/tasks.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { expectBitEqual } from '../util/tensors.js';

const be = await backendUnderTest();
const data = await loadMnist({ split: 'train', limit: 2000 });
const blocks: BlockSpec[] = [{ convs: [{ filters: 6, kernel: 5 }] }, { convs: [{ filters: 8, kernel: 3 }] }];
const disposables: { dispose(): void }[] = [];
afterAll(() => disposables.forEach((d) => d.dispose()));
const weightsOf = (m: { params(): cv.Tensor[] } | { params(): { value: cv.Tensor }[] }) =>
  (m.params() as { value: cv.Tensor }[]).map((p) => p.value.toArray());

async function pretrainAndTune(seed: number, epochs = 1) {
  const stack = new StackedConvAutoencoder(be, blocks, data.shape, seed);
  const caeHist = [];
  for (let k = 0; k < 2; k++)
    caeHist.push(
      await fit(be, stackLayerTask(stack, k), data, {
        epochs,
        batchSize: 50,
        seed,
        optimizer: { type: 'adam', lr: 2e-3 },
      }),
    );
  const clf = Classifier.fromStack(stack, { hidden: [32], classes: 10 }, seed);
  const clfHist = await fit(be, classifierTask(clf), data, {
    epochs,
    batchSize: 50,
    seed,
    optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 },
  });
  disposables.push(stack, clf);
  return { stack, clf, caeHist, clfHist };
}

describe(`training (${BUILD})`, () => {
  it('losses fall: CAE 1 reconstruction MSE by ≥ 5× from the first batches to the third epoch (measured 9.7× at seed 9); the classifier beats chance by far', async () => {
    const stack = new StackedConvAutoencoder(be, blocks, data.shape, 9);
    disposables.push(stack);
    const first: number[] = [];
    const h = await fit(be, stackLayerTask(stack, 0), data, {
      epochs: 3,
      batchSize: 50,
      seed: 9,
      optimizer: { type: 'adam', lr: 1e-2 },
      onBatch: (b) => {
        if (b.epoch === 0 && b.batch <= 3) first.push(b.loss);
      },
    });
    const start = first.reduce((a, b) => a + b) / first.length;
    expect(h.epochs[2].loss).toBeLessThan(start / 5);
    expect(h.epochs[2].loss).toBeLessThan(h.epochs[0].loss);
    const clf = Classifier.fromStack(stack, { hidden: [32], classes: 10 }, 9);
    disposables.push(clf);
    const c = await fit(be, classifierTask(clf), data, {
      epochs: 2,
      batchSize: 50,
      seed: 9,
      optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 },
    });
    expect(c.epochs[1].loss).toBeLessThan(0.6); // ln 10 = 2.30 at chance
    const test = await loadMnist({ split: 'test', limit: 1000 });
    expect(evaluateTask(be, classifierTask(clf), test).accuracy!).toBeGreaterThan(0.85);
  }, 120_000);

  it('same seed → same weights, bit for bit; another seed → different weights', async () => {
    const a = await pretrainAndTune(3),
      b = await pretrainAndTune(3),
      c = await pretrainAndTune(4);
    const wa = weightsOf(a.clf),
      wb = weightsOf(b.clf),
      wc = weightsOf(c.clf);
    wa.forEach((w, i) => expectBitEqual(`param ${i}`, w, wb[i]));
    expect(wa.some((w, i) => w.some((v, j) => v !== wc[i][j]))).toBe(true);
  }, 120_000);

  it('an AbortSignal stops between steps; the model holds the weights of the last completed step', async () => {
    const stack = new StackedConvAutoencoder(be, blocks, data.shape, 5);
    disposables.push(stack);
    const ctrl = new AbortController();
    let snapshot: Float32Array[] = [];
    const h = await fit(be, stackLayerTask(stack, 0), data, {
      epochs: 5,
      batchSize: 50,
      seed: 5,
      optimizer: { type: 'adam', lr: 1e-3 },
      signal: ctrl.signal,
      onBatch: (b) => {
        if (b.batch === 7) {
          snapshot = weightsOf(stack.blocks[0]);
          ctrl.abort();
        }
      },
    });
    expect(h.aborted).toBe(true);
    expect(h.steps).toBe(7);
    expect(h.epochs.length).toBe(0);
    weightsOf(stack.blocks[0]).forEach((w, i) => expectBitEqual(`param ${i}`, w, snapshot[i]));
  });

  it('early stopping ends on a plateau and restores the best validation weights', async () => {
    const stack = new StackedConvAutoencoder(be, blocks, data.shape, 6);
    disposables.push(stack);
    const val = data.take(300);
    const h = await fit(be, stackLayerTask(stack, 0), data.subset(Array.from({ length: 200 }, (_, i) => 300 + i)), {
      epochs: 40,
      batchSize: 50,
      seed: 6,
      optimizer: { type: 'adam', lr: 0.05 },
      validation: val,
      earlyStopping: { patience: 2, minDelta: 1e-3 },
    });
    expect(h.stoppedEarly).toBe(true);
    // The rule (as Keras's restore_best_weights): an epoch is the new best only if it improves by more than minDelta.
    let best = Infinity;
    for (const e of h.epochs) if (e.valLoss! < best - 1e-3) best = e.valLoss!;
    expect(evaluateTask(be, stackLayerTask(stack, 0), val).loss).toBeCloseTo(best, 6);
  });

  it('save → load gives a model with identical outputs, bit for bit', async () => {
    const { stack, clf } = await pretrainAndTune(7);
    const x = be.fromArray([16, ...data.shape], data.images.subarray(0, 16 * 784));
    disposables.push(x);
    for (const model of [clf, stack] as const) {
      const saved = saveModel(model, { note: 'test' });
      const { model: back, meta } = loadModel(be, saved.json, saved.weights, 'round-trip');
      disposables.push(back);
      expect(meta.training).toEqual({ note: 'test' });
      expect(back.kind).toBe(model.kind);
      if (back instanceof Classifier) expectBitEqual('logits', clf.logits(x).toArray(), back.logits(x).toArray());
      else if (back instanceof StackedConvAutoencoder)
        expectBitEqual(
          'reconstruction',
          stack.blocks[0].reconstruct(x).toArray(),
          back.blocks[0].reconstruct(x).toArray(),
        );
      else throw new Error(`loaded a '${back.kind}'`);
    }
  }, 60_000);

  it('a file that disagrees with the architecture is refused and leaves the model untouched', async () => {
    const clf = Classifier.fromBlocks(be, blocks, data.shape, { hidden: [32], classes: 10 }, 1);
    const other = Classifier.fromBlocks(be, blocks, data.shape, { hidden: [33], classes: 10 }, 1);
    disposables.push(clf, other);
    const before = weightsOf(clf);
    const { json } = saveModel(clf);
    expect(() => loadModel(be, json, exportWeights(other.params()), 'wrong')).toThrow(
      /tensor 'dense0.weight' has shape \[33,200\], the architecture needs \[32,200\]/,
    );
    const fewer = exportWeights(clf.params().slice(1));
    expect(() => loadModel(be, json, fewer, 'missing')).toThrow(/missing tensor 'block0.conv0.weight'/);
    expect(() => loadModel(be, json, new Uint8Array([1, 2, 3]), 'garbage')).toThrow(cv.FormatError);
    expect(() => loadModel(be, '{"format":"nope"}', exportWeights(clf.params()), 'bad-json')).toThrow(
      /not a convae model description/,
    );
    weightsOf(clf).forEach((w, i) => expectBitEqual(`param ${i}`, w, before[i]));
  });

  it('a checkpoint resumes training exactly: 2 + 2 epochs through saved bytes = 4 epochs straight, bit for bit', async () => {
    const opts = { epochs: 4, batchSize: 100, seed: 11, optimizer: { type: 'adam' as const, lr: 1e-3 } };
    const subset = data.take(600);
    const straight = Classifier.fromBlocks(be, blocks, data.shape, { hidden: [16], classes: 10 }, 11);
    disposables.push(straight);
    const saved: Uint8Array[] = [];
    const h1 = await fit(be, classifierTask(straight), subset, {
      ...opts,
      checkpoint: {
        every: 2,
        save: (c) => {
          saved.push(encodeCheckpoint(c));
        },
      },
    });
    expect(saved.length).toBe(2);
    // A fresh model (another seed, so its initial weights differ) resumes from the epoch-2 checkpoint.
    const resumed = Classifier.fromBlocks(be, blocks, data.shape, { hidden: [16], classes: 10 }, 99);
    disposables.push(resumed);
    const ckpt: Checkpoint = decodeCheckpoint(saved[0], 'epoch-2');
    expect(ckpt.epoch).toBe(2);
    const h2 = await fit(be, classifierTask(resumed), subset, { ...opts, resumeFrom: ckpt });
    weightsOf(resumed).forEach((w, i) => expectBitEqual(`param ${i}`, w, weightsOf(straight)[i]));
    expect(h2.steps).toBe(h1.steps);
    expect(h2.epochs.map((e) => e.loss)).toEqual(h1.epochs.map((e) => e.loss));
    expect(() => decodeCheckpoint(saved[0].subarray(0, 100), 'cut')).toThrow(cv.FormatError);
    const other = Classifier.fromBlocks(be, blocks, data.shape, { hidden: [17], classes: 10 }, 1);
    disposables.push(other);
    await expect(fit(be, classifierTask(other), subset, { ...opts, resumeFrom: ckpt })).rejects.toThrow(
      /not a checkpoint of this model/,
    );
  });

  it('a resumed run stops early at the same epoch with the same best weights: the early-stopping state is in the checkpoint', async () => {
    // minDelta so large that only the first validation counts as an improvement: a straight run stops
    // after epoch 1 + patience and restores epoch 1's weights. A resume that forgot this state would
    // take its first epoch as the best and stop later, with other weights.
    const subset = data.take(500);
    const opts = {
      epochs: 10,
      batchSize: 100,
      seed: 12,
      optimizer: { type: 'adam' as const, lr: 1e-3 },
      validation: 0.2,
      earlyStopping: { patience: 3, minDelta: 1e9 },
    };
    const straight = Classifier.fromBlocks(be, blocks, data.shape, { hidden: [16], classes: 10 }, 12);
    disposables.push(straight);
    const saved: Uint8Array[] = [];
    const h1 = await fit(be, classifierTask(straight), subset, {
      ...opts,
      checkpoint: { every: 1, save: (c) => void saved.push(encodeCheckpoint(c)) },
    });
    expect(h1.stoppedEarly).toBe(true);
    expect(h1.epochs.length).toBe(4);
    const ckpt = decodeCheckpoint(saved[1], 'epoch-2');
    expect(ckpt.earlyStopping).toMatchObject({ best: h1.epochs[0].valLoss, sinceBest: 1 });
    expect(Object.keys(ckpt.earlyStopping!.bestParams!).sort()).toEqual(
      straight
        .params()
        .map((p) => p.name)
        .sort(),
    );
    const resumed = Classifier.fromBlocks(be, blocks, data.shape, { hidden: [16], classes: 10 }, 98);
    disposables.push(resumed);
    const h2 = await fit(be, classifierTask(resumed), subset, { ...opts, resumeFrom: ckpt });
    expect(h2.stoppedEarly).toBe(true);
    expect(h2.epochs.map((e) => e.valLoss)).toEqual(h1.epochs.map((e) => e.valLoss));
    weightsOf(resumed).forEach((w, i) => expectBitEqual(`param ${i}`, w, weightsOf(straight)[i]));
    // The state before any validation (best = Infinity) survives the JSON of the metadata.
    const fresh = decodeCheckpoint(
      encodeCheckpoint({ ...ckpt, earlyStopping: { best: Infinity, sinceBest: 0 } }),
      'fresh',
    );
    expect(fresh.earlyStopping).toEqual({ best: Infinity, sinceBest: 0 });
  });

  it('resume is exact with dropout and input noise too: their generators are in the checkpoint', async () => {
    const subset = data.take(400);
    const opts = { epochs: 4, batchSize: 100, seed: 12, optimizer: { type: 'adam' as const, lr: 1e-3 } };
    const clf = (seed: number) => {
      const c = Classifier.fromBlocks(be, blocks, data.shape, { hidden: [16], classes: 10, dropout: 0.4 }, seed);
      disposables.push(c);
      return c;
    };
    const straight = clf(12),
      saved: Uint8Array[] = [];
    await fit(be, classifierTask(straight), subset, {
      ...opts,
      checkpoint: { every: 2, save: (c) => void saved.push(encodeCheckpoint(c)) },
    });
    const ckpt = decodeCheckpoint(saved[0], 'dropout');
    expect(ckpt.modelRng!.length).toBeGreaterThanOrEqual(1);
    const resumed = clf(13);
    await fit(be, classifierTask(resumed), subset, { ...opts, resumeFrom: ckpt });
    weightsOf(resumed).forEach((w, i) => expectBitEqual(`dropout param ${i}`, w, weightsOf(straight)[i]));

    const noisy: BlockSpec[] = [{ convs: [{ filters: 4, kernel: 5 }], noise: { type: 'mask', fraction: 0.3 } }];
    const a = new StackedConvAutoencoder(be, noisy, data.shape, 3),
      b = new StackedConvAutoencoder(be, noisy, data.shape, 4);
    disposables.push(a, b);
    const cs: Uint8Array[] = [];
    await fit(be, stackLayerTask(a, 0), subset, {
      ...opts,
      checkpoint: { every: 2, save: (c) => void cs.push(encodeCheckpoint(c)) },
    });
    await fit(be, stackLayerTask(b, 0), subset, { ...opts, resumeFrom: decodeCheckpoint(cs[0], 'noise') });
    weightsOf(b).forEach((w, i) => expectBitEqual(`noise param ${i}`, w, weightsOf(a)[i]));
  });

  it('shape errors name the layer when a model is built', () => {
    expect(
      () =>
        new StackedConvAutoencoder(
          be,
          [{ convs: [{ filters: 4, kernel: 5 }] }, { convs: [{ filters: 4, kernel: 13 }] }],
          [1, 28, 28],
        ),
    ).toThrow(/block1.conv0 \(Conv2D\): height 12: kernel 13 is larger than the padded input/);
    expect(() => new StackedConvAutoencoder(be, [{ convs: [] }], [1, 28, 28])).toThrow(cv.ModelError);
    expect(
      () =>
        new StackedConvAutoencoder(
          be,
          [{ convs: [{ filters: 4, kernel: 3, stride: 2 }], pool: { kernel: 8 } }],
          [1, 8, 8],
        ),
    ).toThrow(/block0.pool \(MaxPool2D\): height: window 8 is larger than the input 3/);
  });

  it('reseedNoise / reseedDropout give a replica its own noise and dropout streams; without them two copies draw the same', () => {
    const noisy: BlockSpec[] = [{ convs: [{ filters: 4, kernel: 5 }], noise: { type: 'mask', fraction: 0.5 } }];
    const x = be.fromArray([8, ...data.shape], data.images.subarray(0, 8 * 784));
    const loss = (salt: number | null) => {
      const s = new StackedConvAutoencoder(be, noisy, data.shape, 5);
      if (salt !== null) s.blocks[0].reseedNoise(salt);
      const l = s.blocks[0].trainStep(x);
      s.dispose();
      return l;
    };
    expect(loss(null)).toBe(loss(null));
    expect(loss(1)).not.toBe(loss(null));
    expect(loss(1)).not.toBe(loss(2));
    const logits = (salt: number | null) => {
      const c = Classifier.fromBlocks(be, blocks, data.shape, { hidden: [16], classes: 10, dropout: 0.5 }, 5);
      if (salt !== null) c.reseedDropout(salt);
      const y = be.fromArray([8], data.labels!.subarray(0, 8), 'u32');
      const l = c.trainStep(x, y);
      y.dispose();
      c.dispose();
      return l;
    };
    expect(logits(null)).toBe(logits(null));
    expect(logits(3)).not.toBe(logits(null));
    x.dispose();
  });
});
