/**
 * `convae detect --normal-data DIR --data DIR`: an anomaly detector from normal
 * images alone, applied. A small CAE stack (`convae anomaly`'s, ANOMALY_BLOCKS)
 * trains on four fifths of the normal images (a seeded split; an image folder's
 * labels are ignored), the threshold is fitted so that `--fpr` of the other
 * fifth score above it, and every image of `--data` is scored: mean distance of
 * its depth-2 code to its `--k` nearest normal training codes. A CSV (or JSON)
 * of file, score and flag, in the order of `--data`; the summary on stderr.
 *
 * `convae anomaly` measures the same detector on labelled data (AUROC); this
 * command needs no labels and no anomalies to train on.
 */
import { AnomalyDetector } from '../anomaly/detector.js';
import { trainStack } from '../anomaly/oneclass.js';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import type { ImageShape } from '../data/dataset.js';
import { writeOutput } from '../io/files.js';
import { defaultWorkers } from '../worker/pool.js';
import { createRunner } from '../worker/runner.js';
import { ANOMALY_BLOCKS } from './anomaly.js';
import { csvField } from './apply.js';
import { type DataSpec, resolveAllData, resolveTrainData } from './data.js';

export interface DetectArgs extends Omit<DataSpec, 'limit'> {
  /** The normal images: any `--data` spec (an image folder's labels are ignored). */
  normalData: string;
  /** Epochs per block (default: about DETECT_IMAGES images' worth, 1 to 100). */
  epochs?: number;
  batch: number;
  k: number;
  fpr: number;
  seed: number;
  format: 'csv' | 'json';
  /** File written; stdout when absent. */
  out?: string;
  build: Build | 'auto';
  /** Workers that encode and score (default: the cores); 0 = this thread. */
  workers?: number;
  quiet: boolean;
}

/**
 * Training images each block sees by default, about what `convae anomaly`'s one epoch of an MNIST class (5 400
 * images) gave on validation data (docs/anomaly.md): a small folder trains more epochs than a large one.
 */
export const DETECT_IMAGES = 5_000;

/** One scored image. */
export interface DetectRow {
  file: string;
  /** Mean distance to the k nearest normal training codes (higher: more unusual). */
  score: number;
  /** 1 when the score is above the threshold. */
  anomalous: 0 | 1;
}

export async function detect(a: DetectArgs): Promise<{ rows: DetectRow[]; threshold: number; epochs: number }> {
  const log = (s: string) => a.quiet || console.error(s);
  const be = await loadBackend({ build: a.build });
  // The normal images: four fifths train the stack and are the reference codes, one fifth fits the threshold.
  const normal = await resolveTrainData({ ...a, data: a.normalData, seed: a.seed });
  const epochs = a.epochs ?? Math.min(100, Math.max(1, Math.round(DETECT_IMAGES / normal.train.length)));
  log(
    `convae detect: ${normal.train.length} normal images train the stack (${epochs} epoch(s) per block), ${normal.test.length} fit the threshold (FPR ${a.fpr}); kernels: ${be.build} build`,
  );
  const stack = await trainStack(be, normal.train, {
    blocks: ANOMALY_BLOCKS,
    epochs,
    batchSize: a.batch,
    optimizer: { type: 'adam', lr: 3e-3 },
    seed: a.seed,
  });
  const runner = await createRunner(be, { workers: a.workers ?? (await defaultWorkers()) });
  try {
    const detector = await AnomalyDetector.fitOn(runner, stack, normal.train, normal.test, {
      score: { type: 'neighbours', depth: stack.blocks.length, k: a.k },
      threshold: { fpr: a.fpr },
    });
    const d = await resolveAllData(
      { data: a.data, ...(a.skipBad ? { skipBad: true } : {}) },
      stack.inputShape as ImageShape, // a stack's input is [C, H, W]
    );
    const { scores, flags, threshold } = await detector.detectOn(runner, d.data);
    const rows: DetectRow[] = d.names.map((file, i) => ({ file, score: scores[i], anomalous: flags[i] ? 1 : 0 }));
    const text =
      a.format === 'json'
        ? `${JSON.stringify({ threshold, rows }, null, 1)}\n`
        : `${['file,score,anomalous', ...rows.map((r) => `${csvField(r.file)},${r.score.toPrecision(6)},${r.anomalous}`)].join('\n')}\n`;
    if (a.out) await writeOutput(a.out, text);
    else process.stdout.write(text);
    const flagged = rows.filter((r) => r.anomalous).length;
    log(
      `convae detect: ${flagged} of ${rows.length} images of ${d.name} score above the threshold ${threshold.toPrecision(4)}${a.out ? `; wrote ${a.out}` : ''}`,
    );
    return { rows, threshold, epochs };
  } finally {
    await runner.dispose();
    stack.dispose();
  }
}
