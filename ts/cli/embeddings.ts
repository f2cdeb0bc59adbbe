/**
 * `convae embeddings`: how useful are a stack's codes with few labels? k-NN
 * (k = 1) and linear-probe accuracy on the MNIST test set from `--labels`
 * labelled training images, for the raw pixels, a randomly initialised
 * stack of the same shape, and the trained stack (from `--model`, or trained
 * here without labels), at every depth.
 */
import { join } from 'node:path';
import { trainStack } from '../anomaly/oneclass.js';
import { DataError } from '../errors.js';
import { knnAccuracyOn, linearProbeAccuracyOn } from '../anomaly/probe.js';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { loadMnist } from '../data/mnist.js';
import type { ImageDataset } from '../data/dataset.js';
import { StackedConvAutoencoder, type BlockSpec } from '../model/autoencoder.js';
import { saveModel } from '../model/serialize.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { defaultWorkers } from '../worker/pool.js';
import { createRunner } from '../worker/runner.js';
import { loadStackDirInput } from './model-dir.js';
import { normalized } from './data.js';
import { writeAtomicAll, writeModelFiles, makeDirs } from '../io/files.js';

export interface EmbeddingsArgs {
  model?: string;
  labels: number;
  /** Unlabelled training images for the stack trained here (without --model). */
  unlabelled: number;
  epochs: number;
  /** Test images scored (default all 10 000). */
  testLimit?: number;
  seed: number;
  out: string;
  build: Build | 'auto';
  /** Workers that encode and search neighbours (default: the cores); 0 = this thread. The stack trains on this thread. */
  workers?: number;
  quiet: boolean;
}

/** The stack of `convae train`'s default (20 and 50 maps 5×5, tanh, 2×2 pooling, masking noise 0.3 on the first). */
export const EMBEDDING_BLOCKS: BlockSpec[] = [
  {
    convs: [{ filters: 20, kernel: 5 }],
    activation: 'tanh',
    pool: { kernel: 2 },
    noise: { type: 'mask', fraction: 0.3 },
  },
  { convs: [{ filters: 50, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
];

const MNIST_SHAPE = [1, 28, 28];

export interface EmbeddingRow {
  code: string;
  depth: number;
  dim: number;
  knn: number;
  linear: number;
}

export async function embeddings(a: EmbeddingsArgs): Promise<EmbeddingRow[]> {
  const log = (s: string) => a.quiet || console.log(s);
  const t0 = performance.now();
  const be = await loadBackend({ build: a.build });
  const loaded = a.model ? await loadStackDirInput(be, a.model) : null;
  // The measure is on MNIST: a stack of other images is refused before the data loads or --out is made (it failed
  // in the first encoding, with the runner's message).
  if (loaded && loaded.stack.inputShape.join() !== MNIST_SHAPE.join()) {
    loaded.stack.dispose();
    throw new DataError(
      `convae embeddings: --model ${a.model!.slice(0, 160)} takes [${loaded.stack.inputShape.join(',')}] images; embeddings measures on MNIST's [${MNIST_SHAPE.join(',')}]: give a stack trained on 28×28 grey images`,
    );
  }
  const train = await loadMnist({ split: 'train' });
  const test = await loadMnist({ split: 'test', limit: a.testLimit });
  const pick = Array.from(new Rng(a.seed).permutation(train.length).subarray(0, a.labels)).sort((x, y) => x - y);
  const labelled = train.subset(pick);
  const trained = loaded
    ? loaded.stack
    : await trainStack(be, train.take(a.unlabelled), {
        blocks: EMBEDDING_BLOCKS,
        epochs: a.epochs,
        batchSize: 32,
        optimizer: { type: 'adam', lr: 3e-3 },
        seed: a.seed,
      });
  await makeDirs(a.out);
  if (!a.model) {
    // Saved so that `convae features --model <out>` can look at it.
    const saved = saveModel(trained, {
      kind: 'pretrained stack',
      unlabelled: a.unlabelled,
      epochs: a.epochs,
      seed: a.seed,
    });
    // A stack already saved in --out survives a failed write whole, never a new JSON over its old weights.
    await writeModelFiles(join(a.out, 'stack'), saved);
  }
  const random = new StackedConvAutoencoder(be, trained.specs, trained.inputShape, deriveSeed(a.seed, 1));
  const runner = await createRunner(be, { workers: a.workers ?? (await defaultWorkers()) });
  log(
    `convae embeddings: ${a.labels} labelled images, ${test.length} test images; stack ${a.model ? `from ${a.model}` : `trained here on ${Math.min(a.unlabelled, train.length)} unlabelled images, ${a.epochs} epoch(s) per block`} (${((performance.now() - t0) / 1000).toFixed(0)} s); encoding on ${runner.where}`,
  );
  const rows: EmbeddingRow[] = [];
  // Both encoders see the images as the stack saw them in training (contrast-normalised or whitened when it was);
  // the pixel row stays the pixels.
  const input = (d: ImageDataset) => (loaded ? normalized(d, loaded.input.normalize, loaded.input.whitening) : d);
  const encoded = { labelled: input(labelled), test: input(test) };
  const measure = async (code: string, stack: StackedConvAutoencoder, depth: number) => {
    const from = depth === 0 ? { labelled, test } : encoded;
    const tr = await runner.encode(stack, from.labelled, { depth }),
      te = await runner.encode(stack, from.test, { depth });
    const row = {
      code,
      depth,
      dim: tr.dim,
      knn: await knnAccuracyOn(runner, tr, labelled.labels!, te, test.labels!, { k: 1 }),
      linear: await linearProbeAccuracyOn(runner, tr, labelled.labels!, te, test.labels!),
    };
    rows.push(row);
    log(
      `${code} depth ${depth} (${row.dim} features): 1-NN ${(100 * row.knn).toFixed(2)} %, linear probe ${(100 * row.linear).toFixed(2)} %`,
    );
  };
  try {
    await measure('raw pixels', trained, 0);
    for (let d = 1; d <= trained.blocks.length; d++) await measure('random encoder', random, d);
    for (let d = 1; d <= trained.blocks.length; d++) await measure('trained CAE stack', trained, d);
  } finally {
    await runner.dispose();
    random.dispose();
    trained.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const table = [
    '| code | depth | features | 1-NN accuracy (%) | linear probe (%) |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) => `| ${r.code} | ${r.depth} | ${r.dim} | ${(100 * r.knn).toFixed(2)} | ${(100 * r.linear).toFixed(2)} |`,
    ),
    '',
    `MNIST, ${a.labels} labelled training images, ${test.length} test images; ${seconds.toFixed(0)} s in all.`,
    '',
  ].join('\n');
  await writeAtomicAll([
    [join(a.out, 'embeddings.md'), table],
    [join(a.out, 'embeddings.json'), JSON.stringify({ args: a, rows, seconds }, null, 2)],
  ]);
  log(table);
  return rows;
}
