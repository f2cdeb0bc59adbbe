/**
 * The experiment of Masci et al. 2011 (Table 1 there): a CNN trained on
 * 1 000, 10 000 and 50 000 labelled images, from random initialisation vs
 * initialised by a CAE stack pretrained without labels on the training
 * images; test error over seeds, and the paired (same seed, same labelled
 * subset) differences.
 *
 * The protocol (docs/paper-results.md says why each piece is there):
 * - per seed, one stack is pretrained (greedy, one CAE per conv block) and one
 *   labelled subset of each size is drawn; both initialisations fine-tune on
 *   that same subset;
 * - the fine-tuning hyper-parameters (learning rate × epochs × the conv
 *   blocks' learning-rate factor) are chosen for each size and each
 *   initialisation separately, by the same grid, on a validation split of the
 *   labelled subset of the first `tuneSeeds` seeds (training on the rest of
 *   it); the choice is then fixed, and every seed trains on its whole
 *   labelled subset. The test set is only scored with the chosen settings.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import type { ImageDataset } from '../data/dataset.js';
import { splitIndices } from '../data/dataset.js';
import { labelledSubset } from '../data/split.js';
import { ArgumentError, DataError, FormatError, quote } from '../errors.js';
import { parseJson } from '../io/json.js';
import { MAX_JSON_DEPTH, MAX_MODEL_JSON_CHARS } from '../limits.js';
import { StackedConvAutoencoder } from '../model/autoencoder.js';
import { rescaleIfSaturated, rescaleText, saturationNote } from './saturation-note.js';
import { Classifier } from '../model/classifier.js';
import { describe } from '../model/schema.js';
import { loadModel, saveModel } from '../model/serialize.js';
import { evaluateClassifier } from '../train/evaluate.js';
import { createRunner } from '../worker/runner.js';
import { resolveTrainData } from './data.js';
import { checkImagesFit } from './fits.js';
import type { Decoder } from './commands.js';
import { checkOutDir } from './outdir.js';
import { writeAtomic, writeModelFiles, makeDirs } from '../io/files.js';
import { onInterrupt } from './resume.js';
import { MAX_RUN_FILE_BYTES, MAX_WEIGHTS_FILE_BYTES, readJsonText, readLimited } from './readfile.js';
import {
  ARCHITECTURES,
  type ArchName,
  FIRST_BLOCK_NOISE,
  FIRST_BLOCK_SPARSITY,
  type FirstCae,
  pretrainBlocks,
  defaultEpochs,
} from './paper-arch.js';
import { deriveSeed } from '../util/rng.js';

export interface PaperArgs {
  sizes: number[];
  /** Seeds `seedOffset` … `seedOffset + seeds − 1`. */
  seeds: number;
  seedOffset: number;
  arch: ArchName;
  /** The first CAE's regulariser (default 'ksparse'). */
  firstCae?: FirstCae;
  /** The CAEs' decoders (default 'tied'). */
  decoder?: Decoder;
  /** Epochs of each CAE (default: the method's). */
  pretrainEpochs?: number;
  /** Unlabelled images for pretraining (the first n of the training set); all 60 000 in the paper. */
  unlabelled: number;
  /** Learning rates tried (SGD + momentum 0.9, cosine schedule). */
  lrs: number[];
  /** Fine-tuning epochs at each labelled-set size (sizes not listed: `defaultEpochs`). */
  epochs: Record<number, number>;
  /** Fractions of those epochs tried (e.g. [0.5, 1]). */
  epochFactors: number[];
  /** Learning-rate factors of the conv blocks tried (1: the whole network at one rate). */
  convFactors: number[];
  /** Seeds (the first ones) whose validation errors choose the settings. */
  tuneSeeds: number;
  /** Fraction of each labelled subset held out for tuning. */
  validation: number;
  /** Random translations (pixels) of the fine-tuning images, both initialisations. */
  shift: number;
  /** Cap the conv layers' pre-activation std at 1 before fine-tuning when a pretrained block is saturated (`rescaleIfSaturated`). */
  rescale: boolean;
  /** Dropout rates before the dense layers of the head tried (0: none). */
  dropouts: number[];
  out: string;
  build: Build | 'auto';
  /** Data-parallel workers; 0 trains on this thread (the default: leaves the other cores to others). */
  workers: number;
  /** Reuse the runs (and pretrained stacks) an earlier run with the same settings left in `out`. */
  resume: boolean;
  quiet: boolean;
  /** Only the first n training images (and max(1000, n/6) test images): quick runs. */
  limit?: number;
  /** `--data` (cli/data.ts); default mnist. Needs labels. */
  data?: string;
  size?: [number, number];
  channels?: 1 | 3;
  /** `--skip-bad`: leave out a folder's files that cannot be decoded (listed on stderr). */
  skipBad?: boolean;
}

/**
 * Pretraining of every block: Adam, batch 64; the first CAE decodes from a
 * k-sparse code (FIRST_BLOCK_SPARSITY), the others from their whole code
 * (docs/paper-results.md says why).
 */
export const PRETRAIN = { epochs: 3, lr: 3e-3, batch: 64 } as const;
/** Fine-tuning, fixed for both initialisations (only the grid is searched). */
export const FINETUNE = { batch: 64, momentum: 0.9, weightDecay: 1e-4, minFactor: 0.02 } as const;

type Arm = 'random' | 'pretrained';
const ARMS: Arm[] = ['random', 'pretrained'];

/** One point of the grid. */
interface Setting {
  lr: number;
  epochs: number;
  dropout: number;
  convFactor: number;
}

interface RunRecord {
  key: string;
  error: number;
  seconds: number;
}

const meanStd = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const s = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : 0;
  return { m, s };
};
const pct = (x: number) => (100 * x).toFixed(2);

/** The grid for one labelled-set size, in a fixed order (ties go to the first). */
export function settingsFor(
  a: Pick<PaperArgs, 'lrs' | 'epochs' | 'epochFactors' | 'dropouts' | 'convFactors'>,
  size: number,
): Setting[] {
  const base = a.epochs[size] ?? defaultEpochs(size);
  const epochs = [...new Set(a.epochFactors.map((f) => Math.max(1, Math.round(f * base))))];
  const out: Setting[] = [];
  for (const e of epochs)
    for (const lr of a.lrs)
      for (const dropout of a.dropouts)
        for (const convFactor of a.convFactors) out.push({ lr, epochs: e, dropout, convFactor });
  return out;
}

/** The text of a JSON file an earlier run left in --out, parsed; FormatError naming the file unless it holds an object. */
function objectOf(text: string, file: string): Record<string, unknown> {
  const j = parseJson(text, file, MAX_JSON_DEPTH, 'the file');
  if (j === null || typeof j !== 'object' || Array.isArray(j))
    throw new FormatError(file, `the file must hold a JSON object, got ${describe(j)}`);
  return j as Record<string, unknown>;
}

const own = (o: object, k: string): unknown => (Object.hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined);

const isRun = (r: unknown): r is RunRecord => {
  if (r === null || typeof r !== 'object') return false;
  const error = own(r, 'error'),
    seconds = own(r, 'seconds');
  return (
    typeof own(r, 'key') === 'string' &&
    typeof error === 'number' &&
    error >= 0 &&
    error <= 1 &&
    typeof seconds === 'number' &&
    Number.isFinite(seconds)
  );
};

/** paper-runs.json: every record is checked, as a damaged one would otherwise put NaN or a crash into the table. */
async function readSavedRuns(file: string): Promise<{ settingsKey: unknown; runs: Record<string, RunRecord> }> {
  const j = objectOf(await readJsonText(file, MAX_RUN_FILE_BYTES), file);
  const runs = own(j, 'runs');
  if (runs === null || typeof runs !== 'object' || Array.isArray(runs))
    throw new FormatError(file, `runs: must be an object, got ${describe(runs)}`);
  for (const [k, r] of Object.entries(runs))
    if (!isRun(r))
      throw new FormatError(
        file,
        `runs[${quote(k)}]: must be {key, error, seconds} with an error in [0, 1], got ${quote(r)}`,
      );
  return { settingsKey: own(j, 'settingsKey'), runs: runs as Record<string, RunRecord> };
}

const settingKey = (s: Setting) => `${s.lr}/${s.epochs}/${s.dropout}/${s.convFactor}`;

/** Checks what the CLI parser cannot: relations between the arguments. */
export function checkPaperArgs(a: PaperArgs): void {
  const fail = (arg: string, m: string) => {
    throw new ArgumentError('convae paper', arg, m);
  };
  if (!(a.validation > 0 && a.validation < 1))
    fail('--validation', `must be a fraction in (0, 1), got ${a.validation}`);
  if (a.tuneSeeds > a.seeds) fail('--tune-seeds', `is ${a.tuneSeeds}, more than --seeds ${a.seeds}`);
  for (const s of a.sizes)
    if (Math.round(s * a.validation) < 10 || s - Math.round(s * a.validation) < 10)
      fail(
        '--validation',
        `${a.validation} of ${s} labelled images leaves fewer than 10 to train on or to validate on`,
      );
  if (a.seedOffset + a.seeds - 1 >= 2 ** 31) fail('--seed-offset', 'puts the last seed at or above 2^31');
}

export async function paper(a: PaperArgs): Promise<string> {
  checkPaperArgs(a);
  await checkOutDir(a.out);
  const log = (s: string) => a.quiet || console.log(s);
  const seeds = Array.from({ length: a.seeds }, (_, i) => a.seedOffset + i);
  // What an earlier run left is checked before anything is loaded or trained: a damaged file
  // would otherwise stop the run only when it is first needed, perhaps hours of tuning later.
  const runsFile = join(a.out, 'paper-runs.json');
  const savedRuns = a.resume && existsSync(runsFile) ? await readSavedRuns(runsFile) : null;
  const savedStacks = new Map<number, { json: string; settingsKey: unknown }>();
  if (a.resume)
    for (const seed of seeds) {
      const file = join(a.out, `stack-seed${seed}.json`);
      if (!existsSync(file)) continue;
      const json = await readJsonText(file, MAX_MODEL_JSON_CHARS);
      const training = own(objectOf(json, file), 'training');
      const settingsKey = training !== null && typeof training === 'object' ? own(training, 'settingsKey') : undefined;
      savedStacks.set(seed, { json, settingsKey });
    }
  const t0 = performance.now(),
    load0 = loadavg();
  const be = await loadBackend({ build: a.build });
  const source = await resolveTrainData({
    data: a.data ?? 'mnist',
    size: a.size,
    channels: a.channels,
    skipBad: a.skipBad,
    limit: a.limit,
  });
  const { train, test } = source;
  if (!train.labels || !test.labels) throw new DataError(`${source.name} has no labels: \`convae paper\` needs them`);
  for (const s of a.sizes)
    if (s > train.length) throw new DataError(`--sizes ${s}: ${source.name} has only ${train.length} training images`);
  const arch = ARCHITECTURES[a.arch];
  const pretrainEpochs = a.pretrainEpochs ?? PRETRAIN.epochs;
  const firstCae = a.firstCae ?? 'ksparse';
  const decoder = a.decoder ?? 'tied';
  const blocks = pretrainBlocks(arch, firstCae, decoder);
  checkImagesFit(be, 'convae paper', blocks, train.shape, { flag: '--data', name: source.name }, 'another --arch');
  const classes = train.numClasses ?? 10;

  // Everything that changes a stack, and with --rescale everything that changes a run's result;
  // a resumed run reuses only stacks and runs made with the same.
  const stackSettings = {
    data: source.name,
    arch: a.arch,
    // Absent for the default, so runs saved before the option existed still resume.
    ...(firstCae === 'ksparse' ? {} : { firstCae }),
    ...(decoder === 'tied' ? {} : { decoder }),
    pretrainEpochs,
    unlabelled: a.unlabelled,
    validation: a.validation,
    limit: a.limit ?? null,
    shift: a.shift,
    PRETRAIN,
    FINETUNE,
    build: be.build,
  };
  const stackKey = JSON.stringify(stackSettings);
  // The stacks do not depend on --rescale, so a run with it reuses the stacks of one without.
  const settingsKey = a.rescale ? JSON.stringify({ ...stackSettings, rescale: true }) : stackKey;
  let runs: Record<string, RunRecord> = {};
  if (savedRuns) {
    if (savedRuns.settingsKey === settingsKey) runs = savedRuns.runs;
    else log(`${runsFile} was made with other settings: starting afresh`);
  }
  const saveRuns = () => writeAtomic(runsFile, JSON.stringify({ settingsKey, runs }, null, 1));

  const runner = await createRunner(be, { workers: a.workers });
  const stacks = new Map<number, StackedConvAutoencoder>();
  const saturations = new Map<number, (number | null)[]>();
  const rescaleLogged = new Set<number>();
  /** Each block's share of codes in the flat tails, on the first training images (the test set stays unseen). */
  const saturationOf = (seed: number, stack: StackedConvAutoencoder) => {
    let s = saturations.get(seed);
    if (!s) {
      s = stack.blocks.map((_, k) => saturationNote(stack, k, train).share);
      saturations.set(seed, s);
    }
    return s;
  };
  let pretrainSeconds = 0;
  const stopInterrupt = onInterrupt(a.out, 'The pretrained stacks and the finished runs are saved');
  try {
    /** The stack of a seed: loaded from `out` if an earlier run saved it with these settings, else pretrained and saved. */
    const stackOf = async (seed: number): Promise<StackedConvAutoencoder> => {
      const have = stacks.get(seed);
      if (have) return have;
      const base = join(a.out, `stack-seed${seed}`);
      const prior = savedStacks.get(seed);
      if (prior?.settingsKey === stackKey) {
        const s = loadModel(be, prior.json, await readLimited(`${base}.safetensors`, MAX_WEIGHTS_FILE_BYTES), {
          source: base,
          kind: 'stack',
        }).model;
        stacks.set(seed, s);
        return s;
      }
      const tp = performance.now();
      const stack = new StackedConvAutoencoder(be, blocks, train.shape, seed);
      const unlabelled = train.take(Math.min(a.unlabelled, train.length));
      for (let k = 0; k < stack.blocks.length; k++)
        await runner.fit(stack, unlabelled, {
          layer: k,
          epochs: pretrainEpochs,
          batchSize: PRETRAIN.batch,
          seed: deriveSeed(seed, k, 10),
          optimizer: { type: 'adam', lr: PRETRAIN.lr },
        });
      const seconds = (performance.now() - tp) / 1000;
      pretrainSeconds += seconds;
      log(
        `seed ${seed}: pretrained ${stack.blocks.length} CAEs (${pretrainEpochs} epochs each) in ${seconds.toFixed(0)} s`,
      );
      const saved = saveModel(stack, { settingsKey: stackKey, seconds });
      await writeModelFiles(base, saved);
      stacks.set(seed, stack);
      return stack;
    };

    /** One fine-tuning run: trains on `fitSet`, scores `scoreSet`; cached under `key`. */
    const run = async (
      key: string,
      seed: number,
      arm: Arm,
      s: Setting,
      fitSet: ImageDataset,
      scoreSet: ImageDataset,
    ) => {
      if (runs[key]) return runs[key].error;
      const tr = performance.now();
      const head = { ...arch.head, dropout: s.dropout, classes };
      const stack = arm === 'random' ? null : await stackOf(seed);
      const clf = stack
        ? Classifier.fromStack(stack, head, seed)
        : Classifier.fromBlocks(be, arch.blocks, train.shape, head, seed);
      try {
        if (stack && a.rescale) {
          const r = rescaleIfSaturated(clf, saturationOf(seed, stack), train);
          if (r.blocks.length && !rescaleLogged.has(seed)) {
            rescaleLogged.add(seed);
            log(`seed ${seed}: ${rescaleText(r)}`);
          }
        }
        await runner.fit(clf, fitSet, {
          epochs: s.epochs,
          batchSize: FINETUNE.batch,
          seed,
          optimizer: { type: 'sgd', lr: s.lr, momentum: FINETUNE.momentum, weightDecay: FINETUNE.weightDecay },
          schedule: { type: 'cosine', epochs: s.epochs, minFactor: FINETUNE.minFactor },
          lrFactors:
            s.convFactor === 1 ? undefined : Object.fromEntries(arch.blocks.map((_, k) => [`block${k}`, s.convFactor])),
          augment: a.shift ? { shift: a.shift } : undefined,
        });
        const error = evaluateClassifier(be, clf, scoreSet).error;
        runs[key] = { key, error, seconds: (performance.now() - tr) / 1000 };
        await saveRuns();
        return error;
      } finally {
        clf.dispose();
      }
    };

    const subsetOf = (seed: number, size: number) => labelledSubset(train, size, seed);

    // 1. Tuning: every setting of the grid, each initialisation, on the validation split of the first seeds' subsets.
    const chosen: Record<number, Record<Arm, Setting>> = {};
    const tuning: Record<number, Record<Arm, { setting: Setting; validationError: number }[]>> = {};
    const tt = performance.now();
    for (const size of a.sizes) {
      const grid = settingsFor(a, size);
      tuning[size] = { random: [], pretrained: [] };
      chosen[size] = {} as Record<Arm, Setting>;
      for (const arm of ARMS) {
        for (const s of grid) {
          const errs: number[] = [];
          for (const seed of seeds.slice(0, a.tuneSeeds)) {
            const labelled = subsetOf(seed, size);
            const split = splitIndices(size, a.validation, seed + 104729);
            const e = await run(
              `tune/${seed}/${size}/${arm}/${settingKey(s)}`,
              seed,
              arm,
              s,
              labelled.subset(split.train),
              labelled.subset(split.validation),
            );
            errs.push(e);
          }
          const v = meanStd(errs).m;
          tuning[size][arm].push({ setting: s, validationError: v });
          log(
            `tune ${size} labelled, ${arm} init, lr ${s.lr}, ${s.epochs} epochs, dropout ${s.dropout}, conv factor ${s.convFactor}: validation error ${pct(v)} %`,
          );
        }
        const best = tuning[size][arm].reduce((b, r) => (r.validationError < b.validationError ? r : b));
        chosen[size][arm] = best.setting;
        log(`chosen for ${size} labelled, ${arm} init: ${JSON.stringify(best.setting)}`);
      }
    }
    const tuneSeconds = (performance.now() - tt) / 1000;

    // 2. The table: every seed, both initialisations, the chosen settings, the whole labelled subset, the test set.
    const errors: Record<number, Record<Arm, number[]>> = {};
    const tf = performance.now();
    for (const seed of seeds)
      for (const size of a.sizes) {
        errors[size] ??= { random: [], pretrained: [] };
        const labelled = subsetOf(seed, size);
        for (const arm of ARMS) {
          const s = chosen[size][arm];
          const e = await run(`test/${seed}/${size}/${arm}/${settingKey(s)}`, seed, arm, s, labelled, test);
          errors[size][arm].push(e);
          log(`seed ${seed}, ${size} labelled, ${arm} init: test error ${pct(e)} %`);
        }
      }
    const testSeconds = (performance.now() - tf) / 1000;

    const rows = a.sizes.map((size) => {
      const r = meanStd(errors[size].random),
        p = meanStd(errors[size].pretrained);
      const diffs = errors[size].random.map((x, i) => x - errors[size].pretrained[i]);
      const d = meanStd(diffs);
      const verdict =
        d.m > 2 * d.s && d.m > 0 ? 'yes (> 2 std)' : d.m > 0 ? 'within 2 std' : d.m === 0 ? 'no difference' : 'worse';
      return `| ${size} | ${pct(r.m)} ± ${pct(r.s)} | ${pct(p.m)} ± ${pct(p.s)} | ${pct(d.m)} ± ${pct(d.s)} | ${diffs.filter((x) => x > 0).length} of ${diffs.length} | ${verdict} |`;
    });
    const choiceRows = a.sizes.flatMap((size) =>
      ARMS.map((arm) => {
        const s = chosen[size][arm];
        const v = tuning[size][arm].find((t) => t.setting === s)!.validationError;
        return `| ${size} | ${arm} | ${s.lr} | ${s.epochs} | ${s.dropout} | ${s.convFactor} | ${pct(v)} |`;
      }),
    );
    const minutes = (performance.now() - t0) / 60000,
      load1 = loadavg();
    const seedList = a.seeds > 1 ? `${seeds[0]}…${seeds[seeds.length - 1]}` : `${seeds[0]}`;
    const md = [
      `# CAE pretraining vs random initialisation (Masci et al. 2011, ${source.name})`,
      '',
      `Test error (%) on the ${test.length} test images, mean ± std over ${a.seeds} seeds (${seedList}); difference = random − CAE per seed (same labelled subset), mean ± std. Network: ${arch.description}.`,
      '',
      '| labelled images | random init | CAE-pretrained init | difference (paired) | seeds where CAE is better | CAE better? |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      `Protocol. Per seed: one labelled subset of each size drawn from the ${train.length} training images (the same for both initialisations); one stack pretrained greedily without labels on the first ${Math.min(a.unlabelled, train.length)} training images (${pretrainEpochs} epochs per CAE, Adam ${PRETRAIN.lr}, batch ${PRETRAIN.batch}; ${firstCae === 'ksparse' ? `the first CAE's decoder sees the largest ${100 * FIRST_BLOCK_SPARSITY.keep} % of each code map` : `the first CAE trains with ${100 * FIRST_BLOCK_NOISE.fraction} % masking noise`}; ${decoder === 'tied' ? "each decoder uses its encoder's flipped kernels (tied)" : 'each decoder has kernels of its own (untied)'}). Fine-tuning: SGD + momentum ${FINETUNE.momentum}, weight decay ${FINETUNE.weightDecay}, cosine schedule to ${FINETUNE.minFactor}× the rate, batch ${FINETUNE.batch}${a.shift ? `, random translations of up to ${a.shift} px` : ''}. Grid searched for each size and each initialisation alike: learning rate ${a.lrs.join(', ')} × epochs ${a.epochFactors.join(', ')} × (${a.sizes.map((z) => `${a.epochs[z] ?? defaultEpochs(z)} at ${z}`).join(', ')}) × head dropout ${a.dropouts.join(', ')} × conv-block learning-rate factor ${a.convFactors.join(', ')}; chosen by the mean validation error over seed${a.tuneSeeds > 1 ? 's' : ''} ${seeds.slice(0, a.tuneSeeds).join(', ')} (training on ${pct(1 - a.validation)} % of the labelled subset, validating on the other ${pct(a.validation)} %), then fixed; the tables train on the whole labelled subset. The test set was scored only with the chosen settings.`,
      '',
      '| labelled images | init | learning rate | epochs | dropout | conv factor | validation error (%) |',
      '|---|---|---|---|---|---|---|',
      ...choiceRows,
      '',
      `${be.build} build, ${a.workers ? `${a.workers} worker${a.workers > 1 ? 's' : ''}` : 'one thread'}; ${minutes.toFixed(1)} min in all (pretraining ${(pretrainSeconds / 60).toFixed(1)} min, tuning ${(tuneSeconds / 60).toFixed(1)} min, table ${(testSeconds / 60).toFixed(1)} min${a.resume ? '; a resumed run counts only what it ran itself' : ''}); load average ${load0.map((x) => x.toFixed(1)).join(' ')} at the start, ${load1.map((x) => x.toFixed(1)).join(' ')} at the end.`,
      '',
    ].join('\n');
    await makeDirs(a.out);
    await writeAtomic(join(a.out, 'paper.md'), md);
    await writeAtomic(
      join(a.out, 'paper.json'),
      JSON.stringify({ args: a, seeds, chosen, tuning, errors, minutes, loadAverage: [load0, load1] }, null, 2),
    );
    console.log(a.quiet ? md : `\n${md}`);
    return md;
  } finally {
    stopInterrupt();
    for (const s of stacks.values()) s.dispose();
    await runner.dispose();
  }
}
