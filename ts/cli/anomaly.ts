/**
 * `convae anomaly`: the one-class protocol (Ruff et al. 2018) on any labelled
 * data — MNIST, Fashion-MNIST, CIFAR-10, an IDX folder or an image folder with
 * one sub-folder per class. For each normal class and seed: train a small CAE
 * stack on that class's training images (minus a held-out tenth), score the
 * test set (that class normal, the others anomalies), AUROC and average
 * precision; a threshold at `--fpr` fitted on the held-out normal images, and
 * its rates on the test set. Writes anomaly.md (mean ± std per class),
 * anomaly.json and, for the first run, the highest- and lowest-scored test
 * images with their reconstruction error maps.
 *
 * Training runs on this thread; encoding and scoring on `--workers` (the same
 * scores either way: ts/worker/passes.ts).
 *
 * `--evaluate validation` scores held-out training images instead of the test
 * set, under every candidate score: the data the defaults were chosen on.
 */
import { writeAtomic, makeDirs } from '../io/files.js';
import { join } from 'node:path';
import { AnomalyDetector } from '../anomaly/detector.js';
import { oneClassRun, oneClassSplit, type ScoreSpec } from '../anomaly/oneclass.js';
import { reconstructionScores } from '../anomaly/score.js';
import { flaggedFraction } from '../anomaly/threshold.js';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import type { ImageDataset } from '../data/dataset.js';
import { ArgumentError, DataError } from '../errors.js';
import type { BlockSpec } from '../model/autoencoder.js';
import type { Runner } from '../train/runner.js';
import { writePng } from '../viz/png.js';
import { imageGrid } from '../viz/raster.js';
import { defaultWorkers } from '../worker/pool.js';
import { createRunner } from '../worker/runner.js';
import { type DataSpec, limitImages, resolveTrainData } from './data.js';
import { checkImagesFit } from './fits.js';
import { checkOutsideData } from './outdir.js';

export interface AnomalyArgs extends Omit<DataSpec, 'limit' | 'seed'> {
  /** Normal classes as typed (an index or a class name); null: every class of the data. */
  normal: string[] | null;
  seeds: number;
  epochs: number;
  batch: number;
  score: 'knn' | 'reconstruction';
  k: number;
  /** Depth of the score (default: the deepest code for knn, 1 for reconstruction). */
  depth?: number;
  fpr: number;
  evaluate: 'test' | 'validation';
  /** At most this many normal training images per class (each run's seeded sample of it, `oneClassSplit`), and max(500, 10×) test images (`limitImages`). */
  limit?: number;
  out: string;
  build: Build | 'auto';
  /** Workers that encode and score (default: the cores); 0 = this thread. */
  workers?: number;
  quiet: boolean;
}

/** The stack chosen on validation data (docs/anomaly.md): two small tanh blocks with 2×2 pooling. */
export const ANOMALY_BLOCKS: BlockSpec[] = [
  { convs: [{ filters: 8, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
  { convs: [{ filters: 16, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
];

/** The candidate scores compared under `--evaluate validation`. */
export const CANDIDATE_SCORES: ScoreSpec[] = [
  { type: 'reconstruction', depth: 1 },
  { type: 'reconstruction', depth: 2 },
  ...[0, 1, 2].flatMap((depth) => [1, 5].map((k) => ({ type: 'neighbours' as const, depth, k }))),
];

const meanStd = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const s = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : 0;
  return { m, s };
};

/**
 * A class given by index or by name (exactly, else ignoring case), among the
 * data's `classes`; an ArgumentError naming them otherwise.
 */
export function parseClass(classes: readonly string[], v: string, data: string): number {
  const n = Number(v);
  const byName = classes.indexOf(v);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(v) && Number.isInteger(n) && n < classes.length) return n;
  const folded = classes.findIndex((c) => c.toLowerCase() === v.toLowerCase());
  if (folded >= 0) return folded;
  const list = classes.join(', ');
  throw new ArgumentError(
    'convae anomaly',
    '--normal',
    `must be a class of ${data.slice(0, 80)} (an index 0–${classes.length - 1} or a name: ${list.length > 300 ? `${list.slice(0, 300)}…` : list}), got '${v.slice(0, 40)}'`,
  );
}

/** The training and test images and their class names; a typed error for data without at least two classes. */
async function loadLabelled(a: AnomalyArgs) {
  const d = await resolveTrainData({ data: a.data, size: a.size, channels: a.channels, skipBad: a.skipBad });
  const what = `--data ${a.data.slice(0, 120)}`;
  if (!d.classes || !d.train.labels)
    throw new DataError(
      `${what} has no labels${d.unlabelled ? ` (${d.unlabelled})` : ''}: the one-class protocol needs classes (an image folder: one sub-folder per class)`,
    );
  if (d.classes.length < 2)
    throw new DataError(
      `${what} has a single class (${d.classes[0]?.slice(0, 60)}): the one-class protocol needs other classes as anomalies`,
    );
  if (!d.test.labels) throw new DataError(`${what}: the test images have no labels`);
  return d;
}

export async function anomaly(a: AnomalyArgs): Promise<{ meanAuroc: number; table: string }> {
  const log = (s: string) => a.quiet || console.log(s);
  const t0 = performance.now();
  if (!(a.fpr > 0 && a.fpr < 1)) throw new ArgumentError('convae anomaly', '--fpr', `must be in (0, 1), got ${a.fpr}`);
  await checkOutsideData(
    'convae anomaly',
    [{ flag: '--out', path: a.out, folder: true }],
    [{ flag: '--data', spec: a.data }],
  );
  const be = await loadBackend({ build: a.build });
  const d = await loadLabelled(a);
  checkImagesFit(be, 'convae anomaly', ANOMALY_BLOCKS, d.train.shape, { flag: '--data', name: d.name });
  const names = d.classes!;
  const classes = a.normal === null ? names.map((_, i) => i) : a.normal.map((v) => parseClass(names, v, d.name));
  const train = d.train;
  // A folder's test images are in class order: --limit samples them (limitImages), as every command's --limit does.
  const test = a.limit ? limitImages(d.test, d.name, Math.max(500, 10 * a.limit), 1) : d.test;
  const runner = await createRunner(be, { workers: a.workers ?? (await defaultWorkers()) });
  try {
    return await runAll(a, { train, test, names, name: d.name, classes, runner, be, log, t0 });
  } finally {
    await runner.dispose();
  }
}

interface Context {
  train: ImageDataset;
  test: ImageDataset;
  names: string[];
  /** The data's name (`mnist`, `folder:/x`, …). */
  name: string;
  classes: number[];
  runner: Runner;
  be: Awaited<ReturnType<typeof loadBackend>>;
  log: (s: string) => void;
  t0: number;
}

async function runAll(a: AnomalyArgs, x: Context): Promise<{ meanAuroc: number; table: string }> {
  const { train, test, names, runner, log } = x;
  const depth = a.depth ?? (a.score === 'knn' ? ANOMALY_BLOCKS.length : 1);
  const headline: ScoreSpec =
    a.score === 'knn' ? { type: 'neighbours', depth, k: a.k } : { type: 'reconstruction', depth };
  const scores = a.evaluate === 'validation' ? [headline, ...CANDIDATE_SCORES] : [headline];
  log(
    `convae anomaly ${x.name}: normal class${x.classes.length > 1 ? 'es' : ''} ${x.classes.map((c) => names[c]).join(',')} × ${a.seeds} seed${a.seeds > 1 ? 's' : ''}, ${a.epochs} epoch(s) per block, score ${a.score === 'knn' ? `kNN k=${a.k}` : 'reconstruction'} at depth ${depth}, evaluated on ${a.evaluate === 'test' ? `${test.length} test images` : 'held-out training images'}; training on this thread, scoring on ${runner.where}`,
  );
  await makeDirs(a.out);
  const runs: Record<string, unknown>[] = [];
  const perClass = new Map<number, Record<string, number[]>>();
  let pictured = false;
  for (const c of x.classes) {
    const byScore: Record<string, number[]> = {};
    perClass.set(c, byScore);
    for (let seed = 1; seed <= a.seeds; seed++) {
      const r = await oneClassRun(x.be, train, test, c, {
        blocks: ANOMALY_BLOCKS,
        epochs: a.epochs,
        batchSize: a.batch,
        optimizer: { type: 'adam', lr: 3e-3 },
        seed,
        scores,
        evaluate: a.evaluate,
        limit: a.limit,
        runner,
      });
      try {
        r.results.forEach((res, i) => {
          const key = i === 0 ? 'headline' : res.name;
          byScore[key] = [...(byScore[key] ?? []), res.auroc];
        });
        // The threshold at --fpr, fitted on the held-out normal images of this run.
        const split = oneClassSplit(train, c, seed, 0.1, 2000, a.limit);
        const det = await AnomalyDetector.fitOn(runner, r.stack, split.train, split.normalValidation, {
          score: headline,
          threshold: { fpr: a.fpr },
        });
        const s = r.headline.scores,
          l = r.headline.labels;
        const normalScores = s.filter((_, i) => l[i] === 0),
          anomalousScores = s.filter((_, i) => l[i] === 1);
        const run = {
          normal: c,
          class: names[c],
          seed,
          auroc: r.results[0].auroc,
          averagePrecision: r.results[0].averagePrecision,
          all: r.results,
          threshold: det.threshold,
          falsePositiveRate: flaggedFraction(normalScores, det.threshold),
          truePositiveRate: flaggedFraction(anomalousScores, det.threshold),
          trainImages: r.trainImages,
          evaluated: r.evaluated,
          seconds: r.seconds,
        };
        runs.push(run);
        log(
          `class ${label(names, c)} seed ${seed}: AUROC ${(100 * run.auroc).toFixed(2)}, AP ${(100 * run.averagePrecision).toFixed(2)}; at threshold ${det.threshold.toPrecision(4)} (validation FPR ${a.fpr}): FPR ${(100 * run.falsePositiveRate).toFixed(1)} %, TPR ${(100 * run.truePositiveRate).toFixed(1)} %; ${r.seconds.toFixed(1)} s` +
            (a.evaluate === 'validation'
              ? `\n  ${r.results
                  .slice(1)
                  .map((res) => `${res.name} ${(100 * res.auroc).toFixed(1)}`)
                  .join('  ')}`
              : ''),
        );
        if (!pictured) {
          pictured = true;
          await pictures(a.out, r.stack, r.headline.data, s, l);
        }
      } finally {
        r.stack.dispose();
      }
    }
  }
  const seconds = (performance.now() - x.t0) / 1000;
  const table = markdown(a, x.name, perClass, names, seconds, headline);
  const meanAuroc = meanStd([...perClass.values()].map((v) => meanStd(v.headline).m)).m;
  await writeAtomic(join(a.out, 'anomaly.md'), table);
  await writeAtomic(
    join(a.out, 'anomaly.json'),
    JSON.stringify(
      { args: a, data: x.name, classes: names, score: headline, blocks: ANOMALY_BLOCKS, seconds, runs },
      null,
      2,
    ),
  );
  log(table);
  log(`wrote anomaly.md, anomaly.json and the pictures (highest.png, lowest.png) to ${a.out}/`);
  return { meanAuroc, table };
}

/** A class as shown: its index and name, or the name alone when it is the index (MNIST's digits). */
const label = (names: readonly string[], c: number) => (names[c] === String(c) ? names[c] : `${c} ${names[c]}`);

/** Ruff et al. 2018, Table 1: One-Class Deep SVDD AUROC (%) on MNIST, classes 0–9. */
const DEEP_SVDD_MNIST = [98.0, 99.7, 91.7, 91.9, 94.9, 88.5, 98.3, 94.6, 93.9, 96.5];

function markdown(
  a: AnomalyArgs,
  data: string,
  perClass: Map<number, Record<string, number[]>>,
  names: readonly string[],
  seconds: number,
  headline: ScoreSpec,
): string {
  const pct = (v: number[]) => {
    const { m, s } = meanStd(v);
    return `${(100 * m).toFixed(1)} ± ${(100 * s).toFixed(1)}`;
  };
  const extra =
    a.evaluate === 'validation'
      ? CANDIDATE_SCORES.map((s) => `${s.type === 'reconstruction' ? 'recon' : `knn${s.k}`}@${s.depth}`)
      : [];
  const svdd = data === 'mnist' && a.evaluate === 'test';
  const head = ['normal class', 'convae AUROC (%)', ...(svdd ? ['Deep SVDD'] : []), ...extra];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const means: number[] = [];
  for (const [c, v] of perClass) {
    means.push(meanStd(v.headline).m);
    lines.push(
      row([
        label(names, c),
        pct(v.headline),
        ...(svdd ? [DEEP_SVDD_MNIST[c].toFixed(1)] : []),
        ...extra.map((e) => pct(v[e])),
      ]),
    );
  }
  const meanOf = (key: string) => (100 * meanStd([...perClass.values()].map((v) => meanStd(v[key]).m)).m).toFixed(1);
  const svddMean = [...perClass.keys()].reduce((s, c) => s + DEEP_SVDD_MNIST[c], 0) / perClass.size;
  lines.push(
    row([
      '**mean**',
      `**${(100 * meanStd(means).m).toFixed(1)}**`,
      ...(svdd ? [`**${svddMean.toFixed(1)}**`] : []),
      ...extra.map(meanOf),
    ]),
  );
  const score =
    headline.type === 'neighbours'
      ? `mean distance to the ${headline.k} nearest normal training codes at depth ${headline.depth}`
      : `reconstruction MSE through ${headline.depth} block(s)`;
  return `${lines.join('\n')}\n\n${data}, ${a.evaluate === 'test' ? 'test set' : 'validation (held-out training images)'}; mean ± std over ${a.seeds} seed(s); score: ${score}; ${a.epochs} epoch(s) per block; ${seconds.toFixed(0)} s in all.\n`;
}

/** The 16 highest- and lowest-scored images, each beside its |x − x̂| map (first block's reconstruction), black 0, white 1. */
async function pictures(
  out: string,
  stack: Parameters<typeof reconstructionScores>[0],
  data: ImageDataset,
  scores: Float64Array,
  labels: Uint8Array,
): Promise<void> {
  const order = Array.from(scores.keys()).sort((x, y) => scores[y] - scores[x]);
  const n = Math.min(16, Math.floor(order.length / 2));
  const shape = data.shape;
  const size = data.imageSize;
  for (const [file, idx] of [
    ['highest.png', order.slice(0, n)],
    ['lowest.png', order.slice(-n).reverse()],
  ] as const) {
    const sub = data.subset(idx);
    const maps = reconstructionScores(stack, sub, { depth: 1, maps: true }).maps!;
    const tiles = new Float32Array(2 * n * size);
    for (let i = 0; i < n; i++) {
      tiles.set(sub.image(i), 2 * i * size);
      for (let t = 0; t < size; t++) tiles[(2 * i + 1) * size + t] = Math.sqrt(maps[i * size + t]);
    }
    await writePng(join(out, file), imageGrid(tiles, [2 * n, ...shape], { scale: 3, columns: 8, range: [0, 1] }));
    await writeAtomic(
      join(out, file.replace('.png', '.json')),
      JSON.stringify(
        idx.map((i) => ({ index: i, score: scores[i], anomaly: labels[i] === 1, label: data.labels?.[i] })),
        null,
        1,
      ),
    );
  }
}
