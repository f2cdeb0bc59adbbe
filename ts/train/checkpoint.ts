/**
 * Training checkpoints: parameters, optimizer buffers, the shuffling RNG and
 * the history and the model's own generators (input noise, dropout), after a
 * completed epoch, and the early-stopping state (best validation loss, epochs
 * since, the best weights). `fit({ resumeFrom })` continues as if never
 * stopped: same data order, same noise, same updates, the same epoch to stop
 * at, bit for bit. Stored as safetensors (`param/<name>`, `opt/<name>/<i>`,
 * `best/<name>`) with the counters as metadata.
 */
import { FormatError, quote, summarize } from '../errors.js';
import { parseJson } from '../io/json.js';
import { MAX_JSON_DEPTH } from '../limits.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../io/safetensors.js';
import type { EpochInfo } from './fit.js';

/** Everything a training run needs to resume exactly: weights, optimizer buffers, generator states, epoch and early-stopping state. */
export interface Checkpoint {
  /** Completed epochs. */
  epoch: number;
  /** Training steps taken (`History.steps`). */
  steps: number;
  /** The shuffling generator's state, which fixes the data order of the epochs to come. */
  rngState: number;
  /** Steps the optimizer has taken (Adam's bias correction counts them). */
  optimizerSteps: number;
  /** The model's generators (Task.randomState); absent in checkpoints of older versions. */
  modelRng?: number[];
  /** The trained parameters' values by name (`Param.name`), flat in the parameter's layout. */
  params: Record<string, Float32Array>;
  /** The optimizer's buffers by parameter name: [momentum] for SGD, [m, v] for Adam. */
  optimizer: Record<string, Float32Array[]>;
  /** The completed epochs (`History.epochs`). */
  history: EpochInfo[];
  /** Early stopping's state; absent when the run has no early stopping (or from older versions). */
  earlyStopping?: EarlyStoppingState;
}

/** The early-stopping part of a checkpoint: the best loss so far, epochs since, and the best weights. */
export interface EarlyStoppingState {
  /** Best validation loss so far (Infinity before the first validation). */
  best: number;
  /** Epochs since it improved. */
  sinceBest: number;
  /** The weights at the best epoch, by parameter name (absent before the first improvement). */
  bestParams?: Record<string, Float32Array>;
}

/** A checkpoint as one safetensors file (weights, optimizer state, generators, early-stopping state). */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, v] of Object.entries(c.params))
    tensors[`param/${name}`] = { dtype: 'F32', shape: [v.length], data: v };
  for (const [name, bufs] of Object.entries(c.optimizer))
    bufs.forEach((v, i) => (tensors[`opt/${name}/${i}`] = { dtype: 'F32', shape: [v.length], data: v }));
  const es = c.earlyStopping;
  for (const [name, v] of Object.entries(es?.bestParams ?? {}))
    tensors[`best/${name}`] = { dtype: 'F32', shape: [v.length], data: v };
  // JSON has no Infinity: a best loss not yet set is null.
  const early = es ? { best: Number.isFinite(es.best) ? es.best : null, sinceBest: es.sinceBest } : undefined;
  return encodeSafetensors(tensors, {
    format: 'convae-checkpoint',
    counters: JSON.stringify({
      epoch: c.epoch,
      steps: c.steps,
      rngState: c.rngState,
      optimizerSteps: c.optimizerSteps,
      modelRng: c.modelRng,
      early,
    }),
    history: JSON.stringify(c.history),
  });
}

/** Parameter names convae writes: dot-separated identifiers (`block0.conv0.weight`), none a name of Object.prototype. */
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;
const MAX_PARAM_NAME = 200;
/** Optimizer buffers per parameter: SGD has 1 (momentum), Adam 2 (m, v). */
const MAX_OPT_BUFFERS = 2;
const TENSOR_NAME = /^(param|best)\/([^/]+)$|^opt\/([^/]+)\/(0|[1-9][0-9]?)$/;
const METADATA_KEYS = new Set(['format', 'counters', 'history']);

export const isParamName = (name: string): boolean =>
  name.length <= MAX_PARAM_NAME && PARAM_NAME.test(name) && !name.split('.').some((seg) => seg in Object.prototype);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isNumberOrNull = (v: unknown) => v === null || typeof v === 'number';

/** A map with no prototype: no name in it can reach Object.prototype. */
const bare = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

function checkHistory(source: string, history: unknown, epochs: number): EpochInfo[] {
  if (!Array.isArray(history)) throw new FormatError(source, 'checkpoint history is not a list');
  if (history.length !== epochs)
    throw new FormatError(source, `checkpoint history has ${history.length} entries for ${epochs} completed epochs`);
  history.forEach((e, i) => {
    const bad = (what: string) => new FormatError(source, `checkpoint history[${i}] ${what}`);
    if (!isObject(e)) throw bad('is not an object');
    if (e.epoch !== i) throw bad(`has epoch ${quote(e.epoch)}, expected ${i}`);
    if (typeof e.loss !== 'number' || !Number.isFinite(e.loss)) throw bad('has no finite loss');
    for (const k of ['lr', 'seconds', 'imagesPerSecond'])
      if (!isNumberOrNull(e[k])) throw bad(`has ${k} that is not a number`);
    for (const k of ['valLoss', 'valAccuracy'])
      if (e[k] !== undefined && !isNumberOrNull(e[k])) throw bad(`has ${k} that is not a number`);
  });
  return history as EpochInfo[];
}

/**
 * Parses a checkpoint written by encodeCheckpoint, treating it as hostile:
 * FormatError for a file that is not a convae checkpoint, metadata of the
 * wrong shape or nesting, a tensor whose name is not `param/<name>`,
 * `best/<name>` or `opt/<name>/<i>` for a parameter of the checkpoint (names
 * such as `__proto__` or `toString` are refused), optimizer buffers that do not
 * match their parameter, or best weights that do not match the parameters.
 * Names never become properties of ordinary objects (the maps it returns have
 * no prototype).
 */
export function decodeCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  const f = decodeSafetensors(bytes, source);
  if (f.metadata.format !== 'convae-checkpoint') throw new FormatError(source, 'not a convae checkpoint');
  const extraMeta = Object.keys(f.metadata).filter((k) => !METADATA_KEYS.has(k));
  if (extraMeta.length) throw new FormatError(source, `unexpected checkpoint metadata ${summarize(extraMeta)}`);
  if (typeof f.metadata.counters !== 'string' || typeof f.metadata.history !== 'string')
    throw new FormatError(source, 'checkpoint metadata needs counters and history');
  const counters = parseJson(f.metadata.counters, source, MAX_JSON_DEPTH, 'checkpoint counters');
  const history = parseJson(f.metadata.history, source, MAX_JSON_DEPTH, 'checkpoint history');
  if (!isObject(counters)) throw new FormatError(source, 'checkpoint counters are not an object');
  for (const k of ['epoch', 'steps', 'optimizerSteps'] as const) {
    if (!isCount(counters[k])) throw new FormatError(source, `checkpoint counter ${k} is not a non-negative integer`);
  }
  const { rngState } = counters;
  if (!(Number.isInteger(rngState) && (rngState as number) >= 0 && (rngState as number) < 2 ** 32))
    throw new FormatError(source, 'checkpoint counter rngState is not a 32-bit unsigned integer');
  const epoch = counters.epoch as number;
  const mr = counters.modelRng;
  if (
    mr !== undefined &&
    !(Array.isArray(mr) && mr.length <= 64 && mr.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32))
  ) {
    throw new FormatError(source, 'checkpoint modelRng is not a list of 32-bit unsigned integers');
  }
  const early = counters.early;
  if (
    early !== undefined &&
    !(
      isObject(early) &&
      (early.best === null || (typeof early.best === 'number' && Number.isFinite(early.best))) &&
      isCount(early.sinceBest)
    )
  ) {
    throw new FormatError(
      source,
      'checkpoint early-stopping state is not { best: number | null, sinceBest: integer ≥ 0 }',
    );
  }
  const epochs = checkHistory(source, history, epoch);

  const params = bare<Float32Array>(),
    optimizer = bare<Float32Array[]>(),
    bestParams = bare<Float32Array>();
  const unexpected: string[] = [];
  const opt: [string, number, Float32Array][] = [];
  for (const [key, t] of Object.entries(f.tensors)) {
    const m = TENSOR_NAME.exec(key);
    const name = m?.[2] ?? m?.[3];
    if (!m || name === undefined || !isParamName(name)) {
      unexpected.push(key);
      continue;
    }
    if (t.dtype !== 'F32') throw new FormatError(source, `tensor ${quote(key)} is ${t.dtype}, expected F32`);
    const data = t.data as Float32Array;
    if (m[1] === 'param') params[name] = data;
    else if (m[1] === 'best') bestParams[name] = data;
    else opt.push([name, Number(m[4]), data]);
  }
  for (const [name] of opt) if (!Object.hasOwn(params, name)) unexpected.push(`opt/${name}/…`);
  for (const name of Object.keys(bestParams)) if (!Object.hasOwn(params, name)) unexpected.push(`best/${name}`);
  if (unexpected.length)
    throw new FormatError(
      source,
      `unexpected tensor${unexpected.length > 1 ? 's' : ''} ${summarize(unexpected)} (a checkpoint holds param/<name>, opt/<name>/<i>, best/<name> for its parameters)`,
    );
  for (const [name, i, data] of opt) {
    if (i >= MAX_OPT_BUFFERS)
      throw new FormatError(
        source,
        `tensor ${quote(`opt/${name}/${i}`)}: an optimizer keeps at most ${MAX_OPT_BUFFERS} buffers`,
      );
    if (data.length !== params[name].length)
      throw new FormatError(
        source,
        `tensor ${quote(`opt/${name}/${i}`)} has ${data.length} values, its parameter ${params[name].length}`,
      );
    if (!optimizer[name]) optimizer[name] = [];
    optimizer[name][i] = data;
  }
  for (const [name, bufs] of Object.entries(optimizer)) {
    for (let i = 0; i < bufs.length; i++)
      if (!bufs[i]) throw new FormatError(source, `tensor ${quote(`opt/${name}/${i}`)} is missing`);
  }
  for (const [name, v] of Object.entries(bestParams))
    if (v.length !== params[name].length)
      throw new FormatError(
        source,
        `tensor ${quote(`best/${name}`)} has ${v.length} values, its parameter ${params[name].length}`,
      );
  const nBest = Object.keys(bestParams).length;
  if (nBest && !early) throw new FormatError(source, 'checkpoint has best weights but no early-stopping state');
  if (nBest && nBest !== Object.keys(params).length)
    throw new FormatError(
      source,
      `checkpoint has best weights for ${nBest} of its ${Object.keys(params).length} parameters`,
    );
  const earlyStopping = isObject(early)
    ? {
        best: (early.best as number | null) ?? Infinity,
        sinceBest: early.sinceBest as number,
        ...(nBest ? { bestParams } : {}),
      }
    : undefined;
  return {
    epoch,
    steps: counters.steps as number,
    rngState: rngState as number,
    optimizerSteps: counters.optimizerSteps as number,
    ...(mr !== undefined ? { modelRng: mr as number[] } : {}),
    params,
    optimizer,
    history: epochs,
    ...(earlyStopping ? { earlyStopping } : {}),
  };
}
