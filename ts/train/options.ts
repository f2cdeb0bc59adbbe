/**
 * Everything `fit`, `Trainer.fit` and `searchCAE` are given, checked before the
 * first step (before any tensor is allocated or weight changed), with an
 * ArgumentError or DataError naming the option. Without this, a bad schedule
 * failed in epoch 2, a wrong validation set after epoch 1 (weights already
 * changed), `checkpoint.every: 0` never saved, and `resumeFrom: {}` was a TypeError.
 */
import { ImageDataset } from '../data/dataset.js';
import { ArgumentError, DataError, quote } from '../errors.js';
import type { Param } from '../model/layer.js';
import { batchOverflow, type Classifying, type ImageFootprint, isClassifying, type Model } from '../model/model.js';
import type { Checkpoint } from './checkpoint.js';
import { checkAugment } from './augment.js';
import { lrFactorsOf } from './optimizer.js';
import { knownFields } from '../util/options.js';
import { MAX_SEARCH_CANDIDATES } from '../limits.js';

/** What the options are checked against: the parameters trained, and whether batches need labels. */
export interface FitTarget {
  params: readonly Param[];
  needsLabels: boolean;
  /** [C, H, W] the model takes, when known (Trainer.fit: the model's input). */
  inputShape?: readonly number[];
  /** Classes of a classifier's output, when known. */
  classes?: number;
  /** What one image leaves in the layers (`Task.footprint`), when the task says: the batch must fit. */
  footprint?: ImageFootprint;
  /** Replicas a batch is split over (Trainer.fit's workers; a worker's own call reads its `sync`); default 1. */
  replicas?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const kind = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : quote(v);

/** The fields of fit's options (FitOptions in fit.ts). */
const FIT_KEYS = [
  'epochs',
  'batchSize',
  'optimizer',
  'schedule',
  'seed',
  'validation',
  'earlyStopping',
  'onBatch',
  'onEpoch',
  'signal',
  'checkpoint',
  'resumeFrom',
  'lrFactors',
  'augment',
];
/** Trainer.fit's own fields on top of fit's (TrainerFitOptions in ts/worker/trainer.ts). */
const TRAINER_KEYS = [...FIT_KEYS, 'layer', 'workers', 'data', 'onSnapshot', 'snapshotEvery', 'allReduce'];
/**
 * What a worker adds when it calls fit for Trainer.fit (ReplicaFitOptions in fit.ts, the job's
 * WireFitOptions): accepted from it, never named to a user as an option.
 */
const REPLICA_KEYS = ['sync', 'split', 'gate', 'checkpointEvery', 'snapshotEvery'];
/** The fields of searchCAE's options (SearchOptions in ts/worker/search.ts). */
const SEARCH_KEYS = [
  'featureMaps',
  'filterSizes',
  'activations',
  'learningRates',
  'noise',
  'tied',
  'data',
  'validation',
  'epochs',
  'batchSize',
  'seed',
  'strategy',
  'pool',
  'onCandidate',
  'onBatch',
  'signal',
];
const OPTIMIZER_KEYS = {
  sgd: ['type', 'lr', 'weightDecay', 'momentum', 'nesterov'],
  adam: ['type', 'lr', 'weightDecay', 'beta1', 'beta2', 'eps'],
};
const SCHEDULE_KEYS = { constant: ['type'], step: ['type', 'every', 'gamma'], cosine: ['type', 'epochs', 'minFactor'] };

/** `signal` of an options object: absent, or an AbortSignal (fit, searchCAE, the linear probe). */
export function checkSignal(op: string, v: unknown): void {
  // Both listener methods: a worker job removes its listener when it ends, and a signal-like object without
  // removeEventListener made that a TypeError which skipped releasing the worker (the pool then waited forever).
  if (
    v !== undefined &&
    !(
      isObject(v) &&
      typeof v.aborted === 'boolean' &&
      typeof v.addEventListener === 'function' &&
      typeof v.removeEventListener === 'function'
    )
  )
    throw new ArgumentError(op, 'signal', `must be an AbortSignal, got ${kind(v)}`);
}

class Checker {
  constructor(readonly op: string) {}
  fail(arg: string, msg: string): never {
    throw new ArgumentError(this.op, arg, msg);
  }
  /**
   * No field outside `known` (or `hidden`): a misspelt or misplaced option
   * would otherwise be ignored without a word, and the run would train
   * without the validation, early stopping or momentum it was meant to have.
   */
  known(arg: string, o: Record<string, unknown>, known: readonly string[], hidden: readonly string[] = []): void {
    knownFields(this.op, arg, o, known, hidden);
  }
  object(arg: string, v: unknown): Record<string, unknown> {
    if (!isObject(v)) this.fail(arg, `must be an object, got ${kind(v)}`);
    return v;
  }
  int(arg: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max)
      this.fail(arg, `must be an integer in [${min}, ${max}], got ${kind(v)}`);
    return v as number;
  }
  /** A finite number in [min, max] (open at either end when asked). */
  num(arg: string, v: unknown, min: number, max: number, open: { min?: boolean; max?: boolean } = {}): number {
    const ok =
      typeof v === 'number' && Number.isFinite(v) && (open.min ? v > min : v >= min) && (open.max ? v < max : v <= max);
    if (!ok) {
      const range =
        max === Number.MAX_VALUE
          ? `${open.min ? '>' : '≥'} ${min}`
          : `in ${open.min ? '(' : '['}${min}, ${max}${open.max ? ')' : ']'}`;
      this.fail(arg, `must be a finite number ${range}, got ${kind(v)}`);
    }
    return v as number;
  }
  optional<T>(v: T | undefined, check: (v: T) => void): void {
    if (v !== undefined) check(v);
  }
  fn(arg: string, v: unknown): void {
    if (v !== undefined && typeof v !== 'function') this.fail(arg, `must be a function, got ${kind(v)}`);
  }
  bool(arg: string, v: unknown): void {
    if (v !== undefined && typeof v !== 'boolean') this.fail(arg, `must be true or false, got ${kind(v)}`);
  }
  signal(v: unknown): void {
    checkSignal(this.op, v);
  }
  dataset(arg: string, v: unknown): ImageDataset {
    if (!(v instanceof ImageDataset)) this.fail(arg, `must be an ImageDataset, got ${kind(v)}`);
    return v;
  }
}

function checkOptimizer(c: Checker, v: unknown): void {
  const o = c.object('optimizer', v);
  if (o.type !== 'sgd' && o.type !== 'adam') c.fail('optimizer.type', `must be 'sgd' or 'adam', got ${kind(o.type)}`);
  c.known(`optimizer (${o.type})`, o, OPTIMIZER_KEYS[o.type]);
  c.num('optimizer.lr', o.lr, 0, Number.MAX_VALUE, { min: true });
  c.optional(o.weightDecay, (w) => c.num('optimizer.weightDecay', w, 0, Number.MAX_VALUE));
  if (o.type === 'sgd') {
    c.optional(o.momentum, (m) => c.num('optimizer.momentum', m, 0, 1, { max: true }));
    c.bool('optimizer.nesterov', o.nesterov);
  } else {
    c.optional(o.beta1, (b) => c.num('optimizer.beta1', b, 0, 1, { max: true }));
    c.optional(o.beta2, (b) => c.num('optimizer.beta2', b, 0, 1, { max: true }));
    c.optional(o.eps, (e) => c.num('optimizer.eps', e, 0, 1, { min: true }));
  }
}

function checkSchedule(c: Checker, v: unknown): void {
  if (v === undefined) return;
  const s = c.object('schedule', v);
  if (s.type === 'constant' || s.type === 'step' || s.type === 'cosine')
    c.known(`schedule (${s.type})`, s, SCHEDULE_KEYS[s.type]);
  switch (s.type) {
    case 'constant':
      return;
    case 'step':
      c.int('schedule.every', s.every, 1);
      c.num('schedule.gamma', s.gamma, 0, Number.MAX_VALUE, { min: true });
      return;
    case 'cosine':
      c.int('schedule.epochs', s.epochs, 1);
      c.optional(s.minFactor, (m) => c.num('schedule.minFactor', m, 0, 1));
      return;
    default:
      c.fail('schedule.type', `must be 'constant', 'step' or 'cosine', got ${kind(s.type)}`);
  }
}

function checkData(c: Checker, arg: string, d: ImageDataset, t: FitTarget, like?: ImageDataset): void {
  const want = like?.shape ?? t.inputShape;
  if (want && (d.shape.length !== want.length || d.shape.some((x, i) => x !== want[i])))
    throw new DataError(
      `${c.op}: ${arg} has images of shape [${d.shape.join(',')}], the model takes [${want.join(',')}]`,
    );
  if (t.needsLabels && !d.labels) throw new DataError(`${c.op}: ${arg} has no labels, and a classifier needs them`);
  if (t.needsLabels && t.classes !== undefined && d.numClasses !== undefined && d.numClasses > t.classes)
    throw new DataError(`${c.op}: ${arg} has ${d.numClasses} classes, the classifier ${t.classes}`);
}

/** The checkpoint must hold exactly this target's parameters, with optimizer buffers that fit them. */
function checkResume(c: Checker, v: unknown, t: FitTarget, optimizerType: unknown): void {
  const r = c.object('resumeFrom', v) as unknown as Checkpoint;
  for (const k of ['epoch', 'steps', 'optimizerSteps'] as const) c.int(`resumeFrom.${k}`, r[k], 0);
  c.int('resumeFrom.rngState', r.rngState, 0, 2 ** 32 - 1);
  if (!Array.isArray(r.history)) c.fail('resumeFrom.history', `must be a list, got ${kind(r.history)}`);
  if (
    r.modelRng !== undefined &&
    !(Array.isArray(r.modelRng) && r.modelRng.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32))
  )
    c.fail('resumeFrom.modelRng', 'must be a list of 32-bit unsigned integers');
  const params = c.object('resumeFrom.params', r.params);
  const optimizer = c.object('resumeFrom.optimizer', r.optimizer);
  const sizes = new Map(t.params.map((p) => [p.name, p.value.size]));
  const fits = (arr: unknown, n: number) => arr instanceof Float32Array && arr.length === n;
  for (const [name, n] of sizes)
    if (!Object.hasOwn(params, name) || !fits(params[name], n))
      c.fail('resumeFrom', `has no parameter ${quote(name)} of ${n} values: not a checkpoint of this model`);
  for (const name of Object.keys(params))
    if (!sizes.has(name)) c.fail('resumeFrom', `has a parameter ${quote(name)} this model does not have`);
  const buffers = optimizerType === 'adam' ? 2 : 1;
  for (const [name, bufs] of Object.entries(optimizer)) {
    const n = sizes.get(name);
    if (n === undefined) c.fail('resumeFrom.optimizer', `has state for ${quote(name)}, not a parameter of this model`);
    if (!Array.isArray(bufs) || bufs.length !== buffers || !bufs.every((b) => fits(b, n)))
      c.fail(
        'resumeFrom.optimizer',
        `state for ${quote(name)} does not fit a ${String(optimizerType)} optimizer of ${n} values`,
      );
  }
  const es = r.earlyStopping;
  if (es !== undefined) {
    const e = c.object('resumeFrom.earlyStopping', es);
    if (typeof e.best !== 'number' || Number.isNaN(e.best)) c.fail('resumeFrom.earlyStopping.best', 'must be a number');
    c.int('resumeFrom.earlyStopping.sinceBest', e.sinceBest, 0);
    if (e.bestParams !== undefined) {
      const bp = c.object('resumeFrom.earlyStopping.bestParams', e.bestParams);
      for (const [name, n] of sizes)
        if (!Object.hasOwn(bp, name) || !fits(bp[name], n))
          c.fail('resumeFrom', `its best weights have no parameter ${quote(name)} of ${n} values`);
    }
  }
}

/**
 * Checks fit's options (and the dataset) against what is trained. `op` names
 * the caller in the errors ('fit', 'Trainer.fit'). Throws ArgumentError for a
 * bad option, DataError for a dataset that does not fit the model.
 */
export function checkFitOptions(
  op: string,
  opts: unknown,
  target: FitTarget,
  data: unknown,
  keys: { known: readonly string[]; hidden?: readonly string[] } = { known: FIT_KEYS },
): void {
  const c = new Checker(op);
  const o = c.object('options', opts);
  c.known('options', o, keys.known, keys.hidden);
  const train = c.dataset('data', data);
  c.int('epochs', o.epochs, 0);
  c.int('batchSize', o.batchSize, 1);
  checkOptimizer(c, o.optimizer);
  checkSchedule(c, o.schedule);
  c.optional(o.seed, (s) => c.int('seed', s, 0, 2 ** 32 - 1));
  checkData(c, 'data', train, target);
  const v = o.validation;
  if (typeof v === 'number') {
    c.num('validation', v, 0, 1, { min: true, max: true });
    const nVal = Math.round(train.length * v); // as ImageDataset.split counts
    if (nVal < 1 || nVal >= train.length)
      c.fail(
        'validation',
        `${v} of ${train.length} images leaves ${nVal} for validation and ${train.length - nVal} for training`,
      );
  } else if (v !== undefined) checkData(c, 'validation', c.dataset('validation', v), target, train);
  if (target.footprint) checkBatchFits(c, o, train.length, target.footprint, target.replicas ?? 1);
  if (o.earlyStopping !== undefined) {
    const e = c.object('earlyStopping', o.earlyStopping);
    c.known('earlyStopping', e, ['patience', 'minDelta']);
    c.int('earlyStopping.patience', e.patience, 1);
    c.optional(e.minDelta, (d) => c.num('earlyStopping.minDelta', d, 0, Number.MAX_VALUE));
    // A worker gets a validation fraction as the caller's `split` of the images, not as `validation`.
    if (v === undefined && o.split === undefined) c.fail('earlyStopping', 'needs validation data');
  }
  c.fn('onBatch', o.onBatch);
  c.fn('onEpoch', o.onEpoch);
  c.signal(o.signal);
  if (o.checkpoint !== undefined) {
    const k = c.object('checkpoint', o.checkpoint);
    c.known('checkpoint', k, ['every', 'save']);
    c.optional(k.every, (n) => c.int('checkpoint.every', n, 1));
    if (typeof k.save !== 'function') c.fail('checkpoint.save', `must be a function, got ${kind(k.save)}`);
  }
  if (o.resumeFrom !== undefined) checkResume(c, o.resumeFrom, target, (o.optimizer as { type: unknown }).type);
  if (o.lrFactors !== undefined) lrFactorsOf(target.params, o.lrFactors, op);
  if (o.augment !== undefined) checkAugment(op, o.augment);
}

/**
 * The largest batch a step runs (on one replica: its share) must fit: its largest layer output within
 * MAX_TENSOR_ELEMENTS, all its layer outputs within the memory a backend addresses. Before, the first forward threw
 * a ShapeError naming no option, or memory grew to 4 GiB and a MemoryError came after seconds.
 */
function checkBatchFits(c: Checker, o: Record<string, unknown>, length: number, f: ImageFootprint, workers: number) {
  const v = o.validation;
  const split = o.split as { train?: ArrayLike<number> } | undefined;
  const trainLength = split?.train
    ? split.train.length
    : typeof v === 'number'
      ? length - Math.round(length * v)
      : length;
  const sync = o.sync as { count?: unknown } | undefined;
  const replicas = typeof sync?.count === 'number' ? sync.count : workers;
  const batch = Math.min(o.batchSize as number, trainLength);
  const share = Math.ceil(batch / replicas);
  const over = batchOverflow(share, f);
  if (!over) return;
  const per = replicas > 1 ? ` per worker (${batch} over ${replicas})` : '';
  c.fail('batchSize', `of ${share} images${per} ${over.why}`);
}

/** What `Trainer.fit` trains in `model`: the parameters and labels of `model.task({ layer })`. */
export function fitTarget(model: unknown, layer: unknown): FitTarget {
  const m = model as Partial<Model>;
  if (!isObject(model) || typeof m.task !== 'function' || typeof m.params !== 'function')
    throw new ArgumentError(
      'Trainer.fit',
      'model',
      `must be a convae model (see ts/model/model.ts), got ${kind(model)}`,
    );
  if (layer !== undefined && !Number.isInteger(layer))
    throw new ArgumentError('Trainer.fit', 'layer', `must be a block index, got ${kind(layer)}`);
  // The model's own task says what is trained (and refuses a layer it does not have).
  const t = m.task({ layer: layer as number | undefined });
  const classes = isClassifying(model as unknown as Model)
    ? (model as unknown as Model & Classifying).classes
    : undefined;
  return {
    params: t.params(),
    needsLabels: t.needsLabels,
    inputShape: m.inputShape,
    classes,
    footprint: t.footprint?.(),
  };
}

/** Trainer.fit's options: fit's, checked against the model it is given; `workers` by default (its pool's size). */
export function checkTrainerFitOptions(model: unknown, data: unknown, opts: unknown, workers = 1): void {
  const o = isObject(opts) ? opts : {};
  const target = fitTarget(model, o.layer);
  target.replicas = Number.isInteger(o.workers) && (o.workers as number) >= 1 ? (o.workers as number) : workers;
  checkFitOptions('Trainer.fit', opts, target, data, { known: TRAINER_KEYS });
}

const ACTIVATIONS = new Set(['identity', 'relu', 'leakyRelu', 'tanh', 'sigmoid']);

const spaced = (n: number) => n.toLocaleString('en-US').replace(/,/g, ' ');

/**
 * A search space and its strategy (what `candidates` reads), every value of every list, and the
 * grid's size before any candidate is built: lists of 1 000 values each multiply to more
 * candidates than memory holds.
 */
export function checkSearchSpace(opts: unknown): void {
  const c = new Checker('searchCAE');
  const o = c.object('options', opts);
  let size = 1;
  const lengths: string[] = [];
  const list = (arg: string, v: unknown, required: boolean, each: (x: unknown, at: string) => void) => {
    if (v === undefined && !required) return;
    if (!Array.isArray(v) || v.length === 0) c.fail(arg, `must be a non-empty list, got ${kind(v)}`);
    const a = v as unknown[];
    if (a.length > 1000) c.fail(arg, `has ${a.length} values, at most 1000`);
    a.forEach((x, i) => each(x, `${arg}[${i}]`));
    size *= a.length;
    lengths.push(`${arg} ${a.length}`);
  };
  list('featureMaps', o.featureMaps, true, (x, at) => c.int(at, x, 1, 65536));
  list('filterSizes', o.filterSizes, true, (x, at) => c.int(at, x, 1, 65536));
  list('activations', o.activations, false, (x, at) => {
    if (typeof x !== 'string' || !ACTIVATIONS.has(x))
      c.fail(at, `must be one of ${[...ACTIVATIONS].join(', ')}, got ${kind(x)}`);
  });
  list('learningRates', o.learningRates, false, (x, at) => c.num(at, x, 0, Number.MAX_VALUE, { min: true }));
  list('noise', o.noise, false, (x, at) => c.num(at, x, 0, 1, { max: true }));
  list('tied', o.tied, false, (x, at) => {
    if (typeof x !== 'boolean') c.fail(at, `must be true or false, got ${kind(x)}`);
  });
  if (size > MAX_SEARCH_CANDIDATES)
    c.fail(
      'options',
      `spans ${spaced(size)} candidates (${lengths.join(' × ')}), at most ${spaced(MAX_SEARCH_CANDIDATES)}: shorten a list`,
    );
  c.optional(o.seed, (s) => c.int('seed', s, 0, 2 ** 32 - 1));
  const s = o.strategy;
  if (s !== undefined && s !== 'grid') {
    const r = c.object('strategy', s);
    c.known('strategy', r, ['random']);
    c.int('strategy.random', r.random, 1);
  }
}

/** searchCAE's options: the space (`checkSearchSpace`) and the rest, before any candidate is built. */
export function checkSearchOptions(opts: unknown): void {
  const c = new Checker('searchCAE');
  const o = c.object('options', opts);
  c.known('options', o, SEARCH_KEYS);
  const data = c.dataset('data', o.data);
  checkSearchSpace(o);
  c.optional(o.epochs, (n) => c.int('epochs', n, 1));
  c.optional(o.batchSize, (n) => c.int('batchSize', n, 1));
  const v = o.validation;
  if (typeof v === 'number') c.num('validation', v, 0, 1, { min: true, max: true });
  else if (v !== undefined)
    checkData(c, 'validation', c.dataset('validation', v), { params: [], needsLabels: false }, data);
  if (o.pool !== undefined && o.pool !== null) c.object('pool', o.pool);
  c.fn('onCandidate', o.onCandidate);
  c.fn('onBatch', o.onBatch);
  c.signal(o.signal);
}

/**
 * fit's options, checked against its task (anything with params() and needsLabels). `replica`: the
 * call of a worker for Trainer.fit, whose extra fields are accepted; from a user they are unknown.
 */
export function checkFit(task: unknown, data: unknown, opts: unknown, { replica = false } = {}): void {
  const t = task as { params?: () => Param[]; needsLabels?: unknown; footprint?: unknown };
  if (!isObject(task) || typeof t.params !== 'function' || typeof t.needsLabels !== 'boolean')
    throw new ArgumentError(
      'fit',
      'task',
      `must be a Task (params(), step(), evaluate(), needsLabels), got ${kind(task)}`,
    );
  const footprint = typeof t.footprint === 'function' ? (t.footprint() as ImageFootprint) : undefined;
  checkFitOptions('fit', opts, { params: t.params(), needsLabels: t.needsLabels, footprint }, data, {
    known: FIT_KEYS,
    hidden: replica ? REPLICA_KEYS : [],
  });
}
