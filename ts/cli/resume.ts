/**
 * `convae train --resume`: which flags a run was started with (kept in
 * `run.json` in --out), refusing a resume whose flags differ (they would
 * silently not apply, and report.json would record flags that did not run),
 * and what Ctrl-C says (train, paper, pretrain and detect --save).
 */
import type { FirstNoise } from './first-noise.js';
import { join } from 'node:path';
import { DataError, quote } from '../errors.js';
import { parseJson } from '../io/json.js';
import { MAX_JSON_DEPTH } from '../limits.js';
import { writeAtomic } from '../io/files.js';
import { setInterruptLine } from './interrupt.js';
import { MAX_RUN_FILE_BYTES, readJsonText } from './readfile.js';

/** The flags that decide what a run computes (not --workers, --build, --quiet: those change how, not what). */
export interface RunFlags {
  dataset: string;
  preset: string;
  pretrainEpochs: number;
  epochs: number;
  batch: number;
  maps: number[];
  kernel: number;
  hidden: number;
  noise: FirstNoise;
  /** null: no k-sparse decoder (also what a run.json from before the flag means). */
  sparsity: number | null;
  /** null: tied (also what a run.json from before the flag means). */
  decoder: 'untied' | null;
  /** null: the preset's translations (also what a run.json from before the flag means). */
  shift: number | null;
  seed: number;
  limit: number | null;
  /** null: every training image is labelled (also what a run.json from before the flag means); the same for the three below. */
  labels: number | null;
  stack: string | null;
  lr: number | null;
  dropout: number | null;
  pretrain: boolean;
  /** null: saturated blocks are scaled down before fine-tuning (the default; also what a run.json from before the flag means). */
  rescale: false | null;
  fromSearch: string | null;
}

const FLAG_NAMES: Record<Exclude<keyof RunFlags, 'epochs'>, string> = {
  dataset: '--dataset',
  preset: '--preset',
  pretrainEpochs: '--pretrain-epochs',
  batch: '--batch',
  maps: '--maps',
  kernel: '--kernel',
  hidden: '--hidden',
  noise: '--noise',
  sparsity: '--sparsity',
  decoder: '--decoder',
  shift: '--shift',
  seed: '--seed',
  limit: '--limit',
  labels: '--labels',
  stack: '--stack',
  lr: '--lr',
  dropout: '--dropout',
  pretrain: '--no-pretrain',
  rescale: '--no-rescale',
  fromSearch: '--from-search',
};

export const RUN_FILE = 'run.json';

export async function writeRunFlags(out: string, flags: RunFlags): Promise<void> {
  await writeAtomic(join(out, RUN_FILE), `${JSON.stringify({ format: 'convae-run', flags }, null, 2)}\n`);
}

/** Differences between the flags `out` was started with and these, as "--limit 600 → 1000"; null when it has no run.json. */
export async function changedFlags(out: string, flags: RunFlags): Promise<string[] | null> {
  let text: string;
  try {
    text = await readJsonText(join(out, RUN_FILE), MAX_RUN_FILE_BYTES);
  } catch (e) {
    // No run.json: a run from before the record. One that is there but cannot be read must not let a resume go ahead unchecked.
    if ((e as { cause?: { code?: unknown } }).cause?.code === 'ENOENT') return null;
    throw e;
  }
  let saved: Partial<RunFlags> = {};
  // The depth check matters here: each saved value is JSON.stringify'd below, which overflows the stack on deep nesting.
  const j = parseJson(text, quote(join(out, RUN_FILE)), MAX_JSON_DEPTH, 'the file');
  if (j && typeof j === 'object' && Object.hasOwn(j, 'flags')) {
    const flags = (j as { flags: unknown }).flags;
    if (flags && typeof flags === 'object') saved = flags;
  }
  const diffs: string[] = [];
  // --epochs may change: fine-tuning continues to the new count (report.json records it).
  for (const k of Object.keys(FLAG_NAMES) as (keyof typeof FLAG_NAMES)[]) {
    const was = JSON.stringify(saved[k] ?? null);
    const now = JSON.stringify(flags[k] ?? null);
    if (was !== now)
      diffs.push(
        `${FLAG_NAMES[k]} ${was.slice(0, 40)} → ${now.slice(0, 40)}${k === 'noise' ? maskingNote(saved.noise, flags.noise) : ''}`,
      );
  }
  return diffs;
}

/**
 * Why `--noise masking:f` differs from a run.json's f: before `masking:f` left the kept pixels as they are, it was
 * read as f (rescaled), and a run started with it recorded f. The same command line was refused as other flags.
 */
function maskingNote(was: unknown, now: FirstNoise): string {
  if (typeof was !== 'number' || typeof now !== 'object' || now.type !== 'masking' || now.fraction !== was) return '';
  return ` (the run's masking rescaled the kept pixels, as --noise ${was} does and --noise masking:${was} did before it left them as they are: resume with --noise ${was})`;
}

/** Refuses a resume with other flags than the run's (naming them). */
export async function checkResumeFlags(out: string, flags: RunFlags): Promise<void> {
  const diffs = await changedFlags(out, flags);
  if (diffs?.length)
    throw new DataError(
      `--resume with flags that differ from the run in ${quote(out)}: ${diffs.join(', ')}; give the original flags, or start again without --resume`,
    );
}

/**
 * Until the returned function is called, what an interrupt says (the CLI's one handler, interrupt.ts, removes the
 * half-written `.tmp` files and exits 130 or 143): what is kept in `out` (`kept`, e.g. "The pretrained stack and
 * the last fine-tuning epoch are saved") and how to continue (the same command with `--resume`); without `kept` (a
 * command that cannot resume), that the files already written to `out` are whole.
 */
export function onInterrupt(out: string, kept: string | null, argv = process.argv): () => void {
  const args = argv.slice(2).filter((a) => a !== '--resume');
  return setInterruptLine((signal) =>
    kept === null
      ? `\nconvae: interrupted (${signal}). The files already written to ${out} are whole; half-written ones were removed.`
      : `\nconvae: interrupted (${signal}). ${kept} in ${out}; continue with:\n  convae ${args.join(' ')} --resume`,
  );
}

/** The flags of `convae train` that decide what it computes, with the preset's defaults filled in. */
export function runFlags(
  a: {
    dataset: string;
    preset: string;
    batch: number;
    maps: number[];
    kernel: number;
    hidden: number;
    noise: FirstNoise;
    sparsity: number;
    decoder: 'tied' | 'untied';
    /** Only when it differs from the preset's. */
    shift?: number;
    seed: number;
    limit?: number;
    labels?: number;
    stack?: string;
    lr?: number;
    dropout?: number;
    pretrain: boolean;
    rescale: boolean;
    fromSearch?: string;
  },
  pretrainEpochs: number,
  epochs: number,
): RunFlags {
  return {
    dataset: a.dataset,
    preset: a.preset,
    pretrainEpochs,
    epochs,
    batch: a.batch,
    maps: [...a.maps],
    kernel: a.kernel,
    hidden: a.hidden,
    noise: a.noise,
    sparsity: a.sparsity > 0 ? a.sparsity : null,
    decoder: a.decoder === 'untied' ? 'untied' : null,
    shift: a.shift ?? null,
    seed: a.seed,
    limit: a.limit ?? null,
    labels: a.labels ?? null,
    stack: a.stack ?? null,
    lr: a.lr ?? null,
    dropout: a.dropout ?? null,
    pretrain: a.pretrain,
    rescale: a.rescale ? null : false,
    fromSearch: a.fromSearch ?? null,
  };
}
