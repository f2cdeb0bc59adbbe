/**
 * The seed's tuning step: search the number of feature maps, the filter size
 * (and activation, learning rate, input noise, tied or untied decoder) of a
 * CAE block for the smallest validation reconstruction error. Each candidate
 * trains as a one-block stack on one worker of the trainer's pool, so as many
 * candidates train at once as there are workers.
 */
import { checkSearchOptions, checkSearchSpace } from '../train/options.js';
import type { ImageDataset } from '../data/dataset.js';
import { StackedConvAutoencoder, type BlockSpec } from '../model/autoencoder.js';
import type { Activation } from '../ops/elementwise.js';
import type { PoolOptions } from '../model/layers.js';
import type { BatchInfo, History } from '../train/fit.js';
import { Rng } from '../util/rng.js';
import type { Trainer } from './trainer.js';

/** The values a search tries for each hyper-parameter of the first CAE block. */
export interface SearchSpace {
  /** Numbers of filters of the block's one convolution (integers ≥ 1). */
  featureMaps: readonly number[];
  /** Square kernel sizes (integers ≥ 1; stride 1, no padding). */
  filterSizes: readonly number[];
  /** Encoder activations; default ['tanh']. */
  activations?: readonly Activation[];
  /** Adam learning rates (> 0); default [3e-3]. */
  learningRates?: readonly number[];
  /** Masking-noise fractions of the input, in [0, 1) (0: a plain autoencoder); default [0]. */
  noise?: readonly number[];
  /** Tied (true) or untied decoder weights; default [true]. */
  tied?: readonly boolean[];
}

/** Options of `searchCAE`: the space, the data and the training of each candidate. */
export interface SearchOptions extends SearchSpace {
  /** The training images (labels are not used). */
  data: ImageDataset;
  /** Validation images, or the fraction of `data` held out (default 0.1). The same for every candidate. */
  validation?: ImageDataset | number;
  /** Epochs each candidate trains; default 1. */
  epochs?: number;
  /** Images per step; default 64. */
  batchSize?: number;
  /** Seed of the validation split, the random sample, and each candidate's initialisation and data order; default 1. */
  seed?: number;
  /** Every combination (default), or this many drawn at random from them. */
  strategy?: 'grid' | { random: number };
  /** Pooling of the block (default 2×2); null for none. */
  pool?: PoolOptions | null;
  /** After each candidate, with how many are done. */
  onCandidate?: (result: CandidateResult, done: number, total: number) => void;
  /** After each training step of a candidate (candidates train in parallel, so calls interleave). */
  onBatch?: (candidate: Candidate, info: BatchInfo) => void;
  /** Aborting it stops the candidates in training at their next step and starts no more. */
  signal?: AbortSignal;
}

/** One point of the search space: filters, kernel size, activation, learning rate, noise, tied decoder. */
export interface Candidate {
  /** Filters of the convolution. */
  featureMaps: number;
  /** Kernel size (square). */
  filterSize: number;
  /** Encoder activation. */
  activation: Activation;
  /** Adam learning rate. */
  lr: number;
  /** Masking-noise fraction (0: none). */
  noise: number;
  /** Whether the decoder uses the encoder's kernels. */
  tied: boolean;
}

/** A trained candidate: its validation reconstruction error, parameter count and time. */
export interface CandidateResult {
  /** The point of the space that was trained. */
  candidate: Candidate;
  /** The block to hand to a stack (StackedConvAutoencoder, `convae train --from-search`). */
  block: BlockSpec;
  /** Validation reconstruction MSE, 1/(2n) Σ (x − y)², after the last epoch. */
  valLoss: number;
  /** Mean training loss of the last epoch. */
  trainLoss: number;
  /** Trained values of the block (a tied weight counted once). */
  parameters: number;
  /** Wall-clock seconds of its training, validation included. */
  seconds: number;
  /** Its training run, epoch by epoch. */
  history: History;
}

/** The ranked candidates of a search, best first. */
export interface SearchResult {
  /** Best first: smallest validation error, then fewest parameters. */
  ranked: CandidateResult[];
  /** `ranked[0]`; undefined when no candidate finished. */
  best: CandidateResult | undefined;
  /** True when the signal stopped the search (ranked holds the candidates that finished). */
  aborted: boolean;
  /** Candidates that could not be trained (e.g. a filter larger than the image), with the reason. */
  failed: { candidate: Candidate; error: Error }[];
}

/** The candidates a search tries: the whole grid of its space, or a seeded random sample of it (`strategy`, `seed`); needs no data. */
export function candidates(o: SearchSpace & Partial<SearchOptions>): Candidate[] {
  checkSearchSpace(o);
  const grid: Candidate[] = [];
  for (const featureMaps of o.featureMaps)
    for (const filterSize of o.filterSizes)
      for (const activation of o.activations ?? ['tanh'])
        for (const lr of o.learningRates ?? [3e-3])
          for (const noise of o.noise ?? [0])
            for (const tied of o.tied ?? [true]) grid.push({ featureMaps, filterSize, activation, lr, noise, tied });
  const s = o.strategy ?? 'grid';
  if (s === 'grid') return grid;
  const perm = new Rng(o.seed ?? 1).permutation(grid.length);
  return Array.from(perm.slice(0, Math.min(s.random, grid.length)), (i) => grid[i]);
}

/** The CAE block of a search candidate, with the pooling of the search. */
export function blockOf(c: Candidate, pool: PoolOptions | null = { kernel: 2 }): BlockSpec {
  return {
    convs: [{ filters: c.featureMaps, kernel: c.filterSize }],
    activation: c.activation,
    pool,
    tied: c.tied,
    noise: c.noise > 0 ? { type: 'mask', fraction: c.noise } : null,
  };
}

/** Trains every candidate (as many at once as the trainer has workers) and ranks them. */
export async function searchCAE(trainer: Trainer, o: SearchOptions): Promise<SearchResult> {
  checkSearchOptions(o);
  const list = candidates(o);
  let train = o.data,
    validation: ImageDataset;
  if (o.validation === undefined || typeof o.validation === 'number')
    ({ train, validation } = o.data.split(o.validation ?? 0.1, (o.seed ?? 1) + 104729));
  else validation = o.validation;
  const results: CandidateResult[] = [];
  const failed: SearchResult['failed'] = [];
  let next = 0,
    aborted = false;
  const one = async () => {
    while (next < list.length && !o.signal?.aborted) {
      const c = list[next++];
      let stack: StackedConvAutoencoder;
      try {
        stack = new StackedConvAutoencoder(
          trainer.be,
          [blockOf(c, o.pool === undefined ? { kernel: 2 } : o.pool)],
          train.shape,
          o.seed ?? 1,
        );
      } catch (e) {
        failed.push({ candidate: c, error: e as Error });
        continue;
      }
      try {
        const t0 = performance.now();
        const { history } = await trainer.fit(stack, train, {
          workers: 1,
          layer: 0,
          epochs: o.epochs ?? 1,
          batchSize: o.batchSize ?? 64,
          seed: o.seed ?? 1,
          optimizer: { type: 'adam', lr: c.lr },
          validation,
          signal: o.signal,
          onBatch: o.onBatch ? (i) => o.onBatch!(c, i) : undefined,
        });
        if (history.aborted) {
          aborted = true;
          return;
        }
        const last = history.epochs.at(-1)!;
        const r: CandidateResult = {
          candidate: c,
          block: stack.specs[0],
          valLoss: last.valLoss!,
          trainLoss: last.loss,
          parameters: stack.params().reduce((s, p) => s + p.value.size, 0),
          seconds: (performance.now() - t0) / 1000,
          history,
        };
        results.push(r);
        o.onCandidate?.(r, results.length + failed.length, list.length);
      } catch (e) {
        // One candidate failing (a worker that died, a diverging run) does not end the search.
        failed.push({ candidate: c, error: e as Error });
      } finally {
        stack.dispose();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(trainer.workers, list.length) }, one));
  const ranked = [...results].sort((a, b) => a.valLoss - b.valLoss || a.parameters - b.parameters);
  return { ranked, best: ranked[0], aborted: aborted || !!o.signal?.aborted, failed };
}
