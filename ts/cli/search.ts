/**
 * `convae search`: the seed's tuning step on (Fashion-)MNIST — which feature
 * maps, filter size, activation, learning rate and noise give the first CAE
 * block the smallest validation reconstruction error — trained in parallel
 * on a pool of workers. Prints the ranked table and writes it as markdown and
 * JSON; `convae train --from-search <out>/search.json` trains with the best block.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { heldOutNote, resolveTrainData } from './data.js';
import { ArgumentError, ConvaeError, FormatError } from '../errors.js';
import { checkJsonDepth } from '../io/json.js';
import type { BlockSpec } from '../model/autoencoder.js';
import { plannedBlocks } from '../model/plan.js';
import { blockOf, fileFail } from '../model/schema.js';
import type { Activation } from '../ops/elementwise.js';
import { defaultWorkers } from '../worker/pool.js';
import { checkSearchSpace } from '../train/options.js';
import { blockOf as candidateBlock, searchCAE, type CandidateResult } from '../worker/search.js';
import { Trainer } from '../worker/trainer.js';
import { checkOutDir } from './outdir.js';
import { type InterruptSignal, setInterruptStop } from './interrupt.js';
import { makeDirs, writeAtomic } from '../io/files.js';
import { MAX_RUN_FILE_BYTES, readJsonText } from './readfile.js';

export interface SearchArgs {
  dataset: 'mnist' | 'fashion';
  /** `--data` (cli/data.ts): overrides `dataset`. */
  data?: string;
  size?: [number, number];
  channels?: 1 | 3;
  /** `--skip-bad`: leave out a folder's files that cannot be decoded (listed on stderr). */
  skipBad?: boolean;
  /** `--patches`: random windows of each image of a folder at its own resolution (`DataSpec.patches`). */
  patches?: number;
  /** `--patch-scale`: each image scaled by this before its patches are cut. */
  patchScale?: number;
  maps: number[];
  kernels: number[];
  activations: Activation[];
  lrs: number[];
  noise: number[];
  untied: boolean;
  epochs: number;
  batch: number;
  limit: number;
  random?: number;
  workers?: number;
  seed: number;
  out: string;
  build: Build | 'auto';
  quiet: boolean;
}

const SEARCH_FORMAT = 'convae-search';
const OP = 'convae search';
/** Share of the images every candidate is validated on (searchCAE's default, named here for the messages). */
const VALIDATION = 0.1;

const describeCandidate = (c: CandidateResult['candidate']) =>
  `maps ${c.featureMaps} filter ${c.filterSize} ${c.activation} lr ${c.lr} noise ${c.noise} ${c.tied ? 'tied' : 'untied'}`;

export function table(ranked: CandidateResult[]): string {
  const rows = ranked.map((r, i) => {
    const c = r.candidate;
    return `| ${i + 1} | ${c.featureMaps} | ${c.filterSize}×${c.filterSize} | ${c.activation} | ${c.lr} | ${c.noise} | ${c.tied ? 'tied' : 'untied'} | ${r.valLoss.toFixed(5)} | ${r.trainLoss.toFixed(5)} | ${r.parameters} | ${r.seconds.toFixed(1)} |`;
  });
  return [
    '| rank | maps | filter | activation | lr | noise | decoder | val MSE | train MSE | parameters | s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

export async function search(a: SearchArgs): Promise<CandidateResult | undefined> {
  const log = (s: string) => a.quiet || console.log(s);
  const space = {
    featureMaps: a.maps,
    filterSizes: a.kernels,
    activations: a.activations,
    learningRates: a.lrs,
    noise: a.noise,
    tied: a.untied ? [true, false] : [true],
    seed: a.seed,
    strategy: a.random ? { random: a.random } : ('grid' as const),
  };
  // Before any data loads or worker starts: long lists multiply to more candidates than memory holds.
  checkSearchSpace(space);
  // Before the data loads when --out exists (then the check creates nothing); a new folder is made only after the
  // data's refusals below, which left an empty one behind.
  if (await stat(a.out).catch(() => null)) await checkOutDir(a.out);
  const be = await loadBackend({ build: a.build });
  const workers = a.workers ?? (await defaultWorkers());
  const read = await resolveTrainData({
    data: a.data ?? a.dataset,
    size: a.size,
    channels: a.channels,
    patches: a.patches,
    patchScale: a.patchScale,
    skipBad: a.skipBad,
    limit: a.limit,
    seed: a.seed,
  });
  const data = read.train;
  const name = a.data ?? a.dataset;
  // A tenth of the training patches would be windows of the photographs the candidates train on: with patches they
  // are ranked on the held-out fifth instead, whole images none of whose windows they saw.
  const validation = read.patches ? read.test : undefined;
  checkSearchData(
    a,
    data.length,
    data.shape,
    be,
    read.name.startsWith('folder:') ? read.test.length : null,
    validation !== undefined,
  );
  await checkOutDir(a.out);
  const trainer = await Trainer.create(be, { size: workers });
  // Ctrl-C or SIGTERM (timeout, a job scheduler) stops after the current batch; the finished candidates are
  // still ranked and written, and the exit status says the run was interrupted, as a shell reports it.
  const ctl = new AbortController();
  let stoppedBy: InterruptSignal | null = null;
  const stopInterrupt = setInterruptStop((signal) => {
    stoppedBy = signal;
    ctl.abort();
  });
  try {
    const t0 = performance.now();
    log(
      `convae search on ${data.length} ${name.slice(0, 120)} ${validation ? `patches (validated on the ${validation.length} patches of ${heldOutNote(read.testFiles!)}, held out)` : 'images (10 % held out for validation)'}, ${workers} workers, ${be.build} build`,
    );
    const res = await searchCAE(trainer, {
      ...space,
      data,
      ...(validation ? { validation } : {}),
      epochs: a.epochs,
      batchSize: a.batch,
      signal: ctl.signal,
      onCandidate: (r, done, total) => {
        log(
          `[${done}/${total}] ${describeCandidate(r.candidate)}: val MSE ${r.valLoss.toFixed(5)} (${r.seconds.toFixed(1)} s)`,
        );
      },
    });
    for (const f of res.failed) log(`skipped ${describeCandidate(f.candidate)}: ${f.error.message.slice(0, 300)}`);
    const md = table(res.ranked);
    log(`\n${md}\n`);
    await makeDirs(a.out);
    const header =
      `# convae search — ${name.slice(0, 120)}, ${data.length} ${read.patches ? `patches (${read.patches.perImage} per image${read.patches.scale !== 1 ? ` scaled by ${read.patches.scale}` : ''})` : 'images'}, ${a.epochs} epoch(s) per candidate, batch ${a.batch}, Adam\n\n` +
      `Ranked by validation reconstruction MSE 1/(2n) Σ (x − y)², then by parameter count. ${((performance.now() - t0) / 1000).toFixed(0)} s on ${workers} workers.${res.aborted ? ' **Interrupted**: only the finished candidates are listed.' : ''}\n\n`;
    const write = writeAtomic;
    const failedMd = res.failed.length
      ? `\nNot ranked (their training failed):\n\n${res.failed.map((f) => `- ${describeCandidate(f.candidate)}: ${f.error.message.slice(0, 300)}`).join('\n')}\n`
      : '';
    await write(join(a.out, 'search.md'), `${header}${md}\n${failedMd}`);
    await write(
      join(a.out, 'search.json'),
      JSON.stringify(
        {
          format: SEARCH_FORMAT,
          dataset: name,
          images: data.length,
          epochs: a.epochs,
          batch: a.batch,
          seed: a.seed,
          best: res.best?.block ?? null,
          ranked: res.ranked.map((r) => ({
            ...r.candidate,
            block: r.block,
            valLoss: r.valLoss,
            trainLoss: r.trainLoss,
            parameters: r.parameters,
            seconds: r.seconds,
          })),
          failed: res.failed.map((f) => ({ ...f.candidate, error: f.error.message })),
        },
        null,
        2,
      ),
    );
    if (res.best)
      log(
        `best block: ${JSON.stringify(res.best.block)}\nwrote ${a.out}/search.md and ${a.out}/search.json; train with it: convae train --from-search ${join(a.out, 'search.json')}`,
      );
    // Every candidate failing in training (a worker that died, a loss that diverged) is a failed search, though
    // search.md lists why; an interrupt before the first one finished is reported as an interrupt below.
    if (!res.best && !stoppedBy) {
      console.error(`${OP}: no candidate finished; search.md and search.json say why each failed`);
      process.exitCode = 1;
    }
    if (stoppedBy) {
      console.error(
        `convae: interrupted (${stoppedBy}); ${res.ranked.length} finished candidate(s) ranked in ${join(a.out, 'search.md')}`,
      );
      process.exitCode = stoppedBy === 'SIGTERM' ? 143 : 130;
    }
    return res.best;
  } finally {
    stopInterrupt();
    await trainer.dispose();
  }
}

/**
 * Refuses, before a worker starts, data too few to hold out validation images (unless `validated`: given apart, as
 * --patches' held-out fifth of a folder's images), and a space whose every filter size
 * is too large for the images (each candidate would fail in turn after the workers started); filter sizes some of
 * which fit are tried, and the others listed as skipped.
 */
function checkSearchData(
  a: SearchArgs,
  n: number,
  shape: readonly number[],
  be: Awaited<ReturnType<typeof loadBackend>>,
  folderTest: number | null,
  validated: boolean,
) {
  const nVal = Math.round(n * VALIDATION);
  const least = Math.ceil(0.5 / VALIDATION);
  if (!validated && (nVal < 1 || nVal >= n)) {
    const held = `a search holds out ${Math.round(100 * VALIDATION)} % of them for validation and needs at least ${least}`;
    if (n < a.limit && folderTest !== null) {
      // A folder's test fifth is held out before the search sees it: "gives 4, needs at least 5" read as a
      // contradiction for a folder of 5 images.
      let folder = n + folderTest;
      while (folder - Math.round(folder * 0.2) < least) folder++;
      throw new ArgumentError(
        OP,
        '--data',
        `holds ${n + folderTest} image(s), ${n} to train on once its test fifth is held out; ${held}: give a folder of at least ${folder}`,
      );
    }
    throw new ArgumentError(OP, n < a.limit ? '--data' : '--limit', `gives ${n} image(s); ${held}`);
  }
  const fits = (k: number, side?: number) => {
    try {
      plannedBlocks(
        be,
        [candidateBlock({ featureMaps: 1, filterSize: k, activation: 'tanh', lr: 1e-3, noise: 0, tied: true })],
        side === undefined ? shape : [shape[0]!, side, side],
      );
      return true;
    } catch (e) {
      if (e instanceof ConvaeError) return false;
      throw e;
    }
  };
  if (!a.kernels.some((k) => fits(k))) {
    let largest = 0;
    for (let k = 1; k <= Math.min(shape[1]!, shape[2]!) && fits(k); k++) largest = k;
    if (largest === 0 && folderTest !== null) {
      // Not even a 1×1 filter fits: no --kernels helps, only a larger --size (a folder's images take it).
      const k = Math.min(...a.kernels);
      let side = Math.min(shape[1]!, shape[2]!);
      while (side < 4096 && !fits(k, side)) side++;
      throw new ArgumentError(
        OP,
        '--size',
        `${shape[1]}x${shape[2]}: no filter size fits images this small with the block's 2×2 pooling: give --size ${side}x${side} or larger (for filter size ${k})`,
      );
    }
    throw new ArgumentError(
      OP,
      '--kernels',
      `${a.kernels.join(',').slice(0, 80)}: no filter size fits ${shape[1]}×${shape[2]} images with the block's 2×2 pooling; ${largest > 0 ? `the largest that does is ${largest}` : 'none does'}`,
    );
  }
}

/**
 * The best block of a search.json written by `convae search`, checked against the model schema
 * here, so a damaged or hand-edited file is refused naming its field before any of it is used.
 */
export async function readSearchBest(file: string): Promise<BlockSpec> {
  const text = await readJsonText(file, MAX_RUN_FILE_BYTES);
  checkJsonDepth(text, file);
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new FormatError(file, `not JSON: ${(e as Error).message}`);
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j) || (j as { format?: unknown }).format !== SEARCH_FORMAT)
    throw new FormatError(file, `not a convae search result (format must be '${SEARCH_FORMAT}')`);
  const best = Object.hasOwn(j, 'best') ? (j as { best: unknown }).best : undefined;
  if (best === null || best === undefined)
    throw new FormatError(file, 'holds no usable best block (did every candidate fail?)');
  blockOf(best, 'best', fileFail(file), true);
  return best as BlockSpec;
}
