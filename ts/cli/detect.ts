/**
 * `convae detect --normal-data DIR --data DIR`: an anomaly detector from normal
 * images alone, applied. A small CAE stack (`convae anomaly`'s, ANOMALY_BLOCKS)
 * trains on four fifths of the normal images (a seeded split; an image folder's
 * labels are ignored), the threshold is fitted so that `--fpr` of the other
 * fifth score above it, and every image of `--data` is scored: mean distance of
 * its depth-2 code to its `--k` nearest normal training codes. A CSV (or JSON)
 * of file, score and flag, in the order of `--data`; the summary on stderr.
 * `--save DIR` keeps the detector (detector.json, detector.safetensors);
 * `convae detect --detector DIR --data DIR` scores with it, nothing trained:
 * the same scores, images resized and normalised as in training.
 *
 * `convae anomaly` measures the same detector on labelled data (AUROC); this
 * command needs no labels and no anomalies to train on.
 */
import { AnomalyDetector, DEFAULT_K } from '../anomaly/detector.js';
import { checkNeighbourSizes } from '../anomaly/embed.js';
import { scoreName, stackBatchOverflow, trainStack } from '../anomaly/oneclass.js';
import { type Backend, loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { checkResultFloats, type ImageShape } from '../data/dataset.js';
import { join } from 'node:path';
import { ArgumentError } from '../errors.js';
import { writeOutput } from '../io/files.js';
import type { BlockSpec } from '../model/autoencoder.js';
import { plannedBlocks, plannedCodeSizes } from '../model/plan.js';
import type { Runner } from '../train/runner.js';
import { defaultWorkers } from '../worker/pool.js';
import { createRunner } from '../worker/runner.js';
import { ANOMALY_BLOCKS } from './anomaly.js';
import { csvField } from './apply.js';
import {
  type AllData,
  type DataSpec,
  type Normalization,
  resolveAllData,
  resolveTrainData,
  type TrainData,
} from './data.js';
import { DETECTOR_BASE, loadDetectorDir, saveDetectorDir } from './detector-dir.js';
import { checkImagesFit } from './fits.js';
import { checkOutDir, checkOutFile, sameFile } from './outdir.js';
import { onInterrupt } from './resume.js';

export interface DetectArgs extends Omit<DataSpec, 'limit' | 'whitening'> {
  /** The normal images a detector trains on: any `--data` spec (an image folder's labels are ignored). */
  normalData?: string;
  /** A folder `--save` wrote: its detector scores `data`, nothing is trained (instead of `normalData`). */
  detector?: string;
  /** Folder the trained detector is saved in (detector.json, detector.safetensors), both files or neither. */
  save?: string;
  /** Epochs per block (default: about DETECT_IMAGES images' worth, 1 to 100). */
  epochs?: number;
  batch: number;
  /** Neighbours the score averages (default: DEFAULT_K, or the normal training images when fewer, as the library's). */
  k?: number;
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

/**
 * `convae anomaly`'s stack (ANOMALY_BLOCKS) for images under `normalize`: normalised images are not in [0, 1], so the
 * first block reconstructs them linearly, not through a sigmoid (as `convae pretrain --normalize` does).
 */
export function detectBlocks(normalize: Normalization): BlockSpec[] {
  if (normalize === 'none') return ANOMALY_BLOCKS;
  const [first, ...rest] = ANOMALY_BLOCKS;
  return [{ ...first!, outputActivation: 'identity' }, ...rest];
}

/** One scored image. */
export interface DetectRow {
  file: string;
  /** The detector's score: the mean distance to the k nearest normal training codes (higher: more unusual). */
  score: number;
  /** 1 when the score is above the threshold. */
  anomalous: 0 | 1;
}

/** What a run wrote: the rows, the threshold, and when it trained, the epochs per block. */
export interface DetectResult {
  rows: DetectRow[];
  threshold: number;
  /** Epochs per block of the stack trained (absent with `detector`: nothing trained). */
  epochs?: number;
}

export async function detect(a: DetectArgs): Promise<DetectResult> {
  const log = (s: string) => a.quiet || console.error(s);
  if (a.detector !== undefined) {
    if (a.normalData !== undefined) throw detectorConflict('--normal-data');
    if (a.save !== undefined) throw detectorConflict('--save');
    return detectSaved(a, a.detector, log);
  }
  if (a.normalData === undefined)
    throw new ArgumentError(
      'convae detect',
      '--normal-data',
      'is needed: the images of what is normal (or --detector DIR: a detector saved with --save)',
    );
  const be = await loadBackend({ build: a.build });
  // The normal images: four fifths train the stack and are the reference codes, one fifth fits the threshold.
  const normal = await resolveTrainData({ ...a, data: a.normalData, seed: a.seed, flag: '--normal-data' });
  const normalize = a.normalize ?? 'none';
  const blocks = detectBlocks(normalize);
  // Everything that can be refused is refused here, before the stack trains (it used to be after).
  checkImagesFit(be, 'convae detect', blocks, normal.train.shape, { flag: '--normal-data', name: normal.name });
  // Not given: the library's default, capped at the normal training images (4 normal images train 3: k = 3).
  const k = a.k ?? Math.min(DEFAULT_K, normal.train.length);
  checkNeighbourCount(k, normal);
  // Scored as the normal images were prepared: the same normalisation, the whitening fitted on them.
  const d = await resolveAllData(
    {
      data: a.data,
      ...(a.skipBad ? { skipBad: true } : {}),
      normalize,
      ...(normal.whitening ? { whitening: normal.whitening } : {}),
    },
    normal.train.shape, // the stack's input
  );
  checkDetectSizes(be, normal, d.data.length, k);
  checkDetectBatch(be, normal, a.batch);
  if (a.out) await checkOutFile(a.out);
  if (a.save !== undefined) {
    await checkOutDir(a.save, '--save');
    await checkOutNotDetector(a.out, a.save, '--save writes');
  }
  const epochs = a.epochs ?? Math.min(100, Math.max(1, Math.round(DETECT_IMAGES / normal.train.length)));
  // Until the detector is saved, an interrupt names --save's folder: a write in flight finishes there (both files
  // renamed, never a new detector.json beside the old weights). Set before the first line of output.
  const stopInterrupt = a.save !== undefined ? onInterrupt(a.save, null) : () => {};
  log(
    `convae detect: ${normal.train.length} normal images train the stack (${epochs} epoch(s) per block), ${normal.test.length} fit the threshold (FPR ${a.fpr}); kernels: ${be.build} build`,
  );
  const note = fprNote(a.fpr, normal.test.length);
  if (note) log(note);
  let stack: Awaited<ReturnType<typeof trainStack>> | undefined;
  let runner: Runner | undefined;
  try {
    stack = await trainStack(be, normal.train, {
      blocks,
      epochs,
      batchSize: a.batch,
      optimizer: { type: 'adam', lr: 3e-3 },
      seed: a.seed,
    });
    runner = await createRunner(be, { workers: a.workers ?? (await defaultWorkers()) });
    const detector = await AnomalyDetector.fitOn(runner, stack, normal.train, normal.test, {
      score: { type: 'neighbours', depth: stack.blocks.length, k },
      threshold: { fpr: a.fpr },
    });
    if (a.save !== undefined) {
      // How `--detector` must prepare its images (`inputOf`): resized to the stack's input, then normalised.
      await saveDetectorDir(a.save, detector, {
        kind: 'convae detect',
        normalData: normal.name,
        trainImages: normal.train.length,
        heldOutImages: normal.test.length,
        epochs,
        batchSize: a.batch,
        seed: a.seed,
        fpr: a.fpr,
        normalize,
        ...(normal.whitening
          ? { whitening: { ...normal.whitening, kernel: Array.from(normal.whitening.kernel) } }
          : {}),
      });
      log(`convae detect: saved the detector in ${a.save} (detector.json, detector.safetensors)`);
    }
    stopInterrupt();
    return { ...(await scoreAndWrite(runner, detector, d, a, log)), epochs };
  } finally {
    stopInterrupt();
    await runner?.dispose();
    stack?.dispose();
  }
}

/**
 * `--out` naming a file of the detector in `dir` (`--save`'s or `--detector`'s): the scores would replace it and the
 * run end with exit 0, the detector lost. A usage error before anything is read or trained.
 */
async function checkOutNotDetector(out: string | undefined, dir: string, what: string): Promise<void> {
  if (!out) return;
  for (const ext of ['json', 'safetensors'])
    if (await sameFile(out, join(dir, `${DETECTOR_BASE}.${ext}`)))
      throw new ArgumentError(
        'convae detect',
        '--out',
        `${out.slice(0, 160)} is the ${DETECTOR_BASE}.${ext} that ${what}: the scores would replace the detector; give another --out`,
      );
}

/** `--detector` with a flag of a training run, which would silently not apply: a usage error. */
export function detectorConflict(flag: string): ArgumentError {
  const why =
    flag === '--normal-data'
      ? '--normal-data trains a new detector, --detector scores with a saved one: give one'
      : 'it only applies when a detector is trained (--normal-data); a saved one keeps its own';
  return new ArgumentError('convae detect', '--detector', `cannot be combined with ${flag}: ${why}`);
}

/** `--detector DIR`: the saved detector scores `--data`, prepared as its training images were. */
async function detectSaved(a: DetectArgs, dir: string, log: (s: string) => void): Promise<DetectResult> {
  if (a.out) await checkOutFile(a.out);
  await checkOutNotDetector(a.out, dir, '--detector reads');
  const be = await loadBackend({ build: a.build });
  const { detector, input } = await loadDetectorDir(be, dir);
  let runner: Runner | undefined;
  try {
    // An image folder is resized to the stack's input, as `--normal-data` was in training.
    const d = await resolveAllData(
      { data: a.data, ...(a.skipBad ? { skipBad: true } : {}), ...input },
      detector.stack.inputShape as ImageShape, // a stack's input is [C, H, W] (inputShapeOf checked it)
    );
    checkScoredSizes(detector, d.data.length);
    log(
      `convae detect: the detector of ${dir} (${scoreName(detector.spec)}, threshold ${detector.threshold.toPrecision(4)}) scores ${d.data.length} images; nothing is trained; kernels: ${be.build} build`,
    );
    runner = await createRunner(be, { workers: a.workers ?? (await defaultWorkers()) });
    return await scoreAndWrite(runner, detector, d, a, log);
  } finally {
    await runner?.dispose();
    detector.stack.dispose();
  }
}

/** Scores and flags every image of `d`, writes the CSV or JSON (`--out` or stdout), and says how many are flagged. */
async function scoreAndWrite(
  runner: Runner,
  detector: AnomalyDetector,
  d: AllData,
  a: Pick<DetectArgs, 'format' | 'out'>,
  log: (s: string) => void,
): Promise<DetectResult> {
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
  return { rows, threshold };
}

/**
 * A --batch of large images that cannot fit, refused from the planned stack before it is built, in `fit`'s words
 * (`batchOverflow`) said as the flag the user gave, with the value that fits every block.
 */
export function checkDetectBatch(be: Backend, normal: TrainData, batch: number): void {
  const shape = normal.train.shape;
  const images = Math.min(batch, normal.train.length);
  const over = stackBatchOverflow(plannedBlocks(be, ANOMALY_BLOCKS, shape), shape, images);
  if (over)
    throw new ArgumentError(
      'convae detect',
      '--batch',
      `${batch}: a batch of ${images} images ${over.why}; give --batch ${over.most} or less`,
    );
}

/** `--k` needs that many normal training codes to average over. */
function checkNeighbourCount(k: number, normal: TrainData): void {
  const n = normal.train.length;
  if (k > n)
    throw new ArgumentError(
      'convae detect',
      '--k',
      `${k} needs at least ${k} normal training images; --normal-data holds ${n + normal.test.length}, of which ${n} train the stack (four fifths): give --k ${n} or fewer, or more normal images`,
    );
}

/**
 * The codes and the neighbour search, sized from the planned stack: the normal images and the images to score are
 * each within the dataset limits, but together at a large --size they can outgrow one search.
 */
export function checkDetectSizes(be: Backend, normal: TrainData, scored: number, k: number): void {
  const dim = plannedCodeSizes(be, ANOMALY_BLOCKS, normal.train.shape)[ANOMALY_BLOCKS.length]!;
  const n = normal.train.length;
  checkSearchSizes(
    Math.max(n, normal.test.length, scored),
    Math.max(normal.test.length, scored),
    n,
    dim,
    k,
    '--normal-data',
    `(${n} training images, codes of ${dim} floats) is too large to search`,
    'use fewer normal images or a smaller --size',
  );
}

/** The codes of the images a saved detector scores, and their neighbour search among its reference codes. */
function checkScoredSizes(detector: AnomalyDetector, scored: number): void {
  const r = detector.reference;
  if (!r || detector.spec.type !== 'neighbours') return;
  checkSearchSizes(
    scored,
    scored,
    r.n,
    r.dim,
    detector.spec.k,
    '--data',
    `(${scored} images, codes of ${r.dim} floats, among ${r.n} normal codes) is too large to search at once`,
    'score fewer images at a time',
  );
}

/**
 * `encoded` images' codes of `dim` floats within MAX_RESULT_FLOATS, and the search of `queries` of them among
 * `references` within its sizes (`checkNeighbourSizes`), refused naming `flag`: what is too large, and what to do.
 */
function checkSearchSizes(
  encoded: number,
  queries: number,
  references: number,
  dim: number,
  k: number,
  flag: string,
  what: string,
  todo: string,
): void {
  const op = 'convae detect';
  checkResultFloats(op, '--data', encoded, dim, 'codes');
  try {
    checkNeighbourSizes(op, queries, references, dim, k);
  } catch (e) {
    if (!(e instanceof ArgumentError)) throw e;
    throw new ArgumentError(op, flag, `${what}: ${e.message.slice(op.length + 2)}; ${todo}`);
  }
}

/**
 * When the held-out images are too few for `--fpr` (⌊fpr·m⌋ = 0), the threshold is their highest score: about
 * 1/(m + 1) of new normal images score above it, not fpr. Said rather than refused: a few normal images are what some
 * users have, and the scores stay useful for ranking.
 */
export function fprNote(fpr: number, heldOut: number): string | undefined {
  if (Math.floor(fpr * heldOut + 1e-9) >= 1) return undefined;
  const need = Math.ceil(1 / fpr - 1e-9);
  return `convae detect: note: ${heldOut} held-out image(s) are too few for --fpr ${fpr}: the threshold is their highest score, and about 1 in ${heldOut + 1} new normal images will score above it; ${need} held-out images (about ${5 * need} normal images) would fit --fpr ${fpr}`;
}
