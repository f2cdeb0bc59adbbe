/**
 * The training jobs the page runs in workers through convae's Trainer: one
 * CAE block, or the paper's recipe in small (two CAE blocks pretrained
 * greedily, then the CNN classifier fine-tuned, its accuracy measured on the
 * held-out test images after each epoch). The Trainer writes the trained
 * parameters into the page's models when a job ends (or is cancelled: then
 * they are those of the last completed step).
 */
import { Classifier, type StackedConvAutoencoder, type BatchInfo, type EpochInfo, type Trainer } from 'convae';
import { headSpec, type Settings } from './architecture.js';
import type { DemoData } from './data.js';

export type Stage = { kind: 'cae'; layer: number; label: string } | { kind: 'classifier'; label: string };

export interface Hooks {
  /** A stage starts (its model is the one snapshots apply to). */
  stage(s: Stage, index: number, count: number): void;
  batch(info: BatchInfo): void;
  epoch(info: EpochInfo): void;
  /** A copy of the parameters being trained, every few batches. */
  snapshot(params: Record<string, Float32Array>, info: BatchInfo): void;
  /** The classifier exists (built from the pretrained stack) and is about to be fine-tuned. */
  classifier(clf: Classifier): void;
}

/** Batches between two snapshots: a few per second at the usual speeds, each one small forward pass on the page. */
const SNAPSHOT_EVERY = 5;

export interface RunOptions {
  trainer: Trainer;
  stack: StackedConvAutoencoder;
  data: DemoData;
  settings: Settings;
  /** 1: train block 0; 2: blocks 0 and 1, then the classifier. */
  depth: 1 | 2;
  seed: number;
  signal: AbortSignal;
  hooks: Hooks;
}

/** Lets the page draw and take input between two pieces of main-thread work. */
const nextTask = () => new Promise((ok) => setTimeout(ok, 0));

/** Runs the stages in turn; resolves `aborted: true` when cancelled. */
export async function run(o: RunOptions): Promise<{ aborted: boolean }> {
  const { trainer, stack, data, settings: s, hooks, signal } = o;
  const stages: Stage[] =
    o.depth === 1
      ? [{ kind: 'cae', layer: 0, label: 'CAE block 0' }]
      : [
          { kind: 'cae', layer: 0, label: 'CAE block 0' },
          { kind: 'cae', layer: 1, label: 'CAE block 1' },
          { kind: 'classifier', label: 'classifier' },
        ];
  const common = {
    epochs: s.epochs,
    batchSize: s.batchSize,
    workers: s.workers,
    signal,
    snapshotEvery: SNAPSHOT_EVERY,
    onBatch: hooks.batch,
    onEpoch: hooks.epoch,
    onSnapshot: hooks.snapshot,
  };
  for (const [i, st] of stages.entries()) {
    hooks.stage(st, i, stages.length);
    await nextTask();
    let r: Awaited<ReturnType<typeof trainer.fit>>;
    if (st.kind === 'cae') {
      r = await trainer.fit(stack, data.train, {
        ...common,
        layer: st.layer,
        seed: o.seed + st.layer,
        optimizer: { type: 'adam', lr: s.lr },
      });
    } else {
      await nextTask();
      const clf = Classifier.fromStack(stack, headSpec(data.train.numClasses ?? 1), o.seed);
      hooks.classifier(clf);
      await nextTask();
      r = await trainer.fit(clf, data.train, {
        ...common,
        seed: o.seed,
        optimizer: { type: 'adam', lr: s.lr / 3 },
        validation: data.test,
      });
    }
    if (r.history.aborted) return { aborted: true };
  }
  return { aborted: false };
}
