/**
 * The one schema of model architectures: what a saved model's JSON may hold,
 * and what a constructor accepts. Reading is strict — every field has one
 * type and a range, unknown fields are refused, and each error names its
 * field (`blocks[1].convs[0].kernel`) — and returns the architecture with
 * every default written out, which is what `toJSON()` saves: someone
 * rebuilding the network elsewhere reads every hyper-parameter in the file.
 *
 * Fields are read with `Object.hasOwn`, so names such as `toString` or
 * `__proto__` are never taken from `Object.prototype`.
 */
import { FormatError, ModelError } from '../errors.js';
import { MAX_MODEL_LAYERS, MAX_QUOTED_CHARS, MAX_SPATIAL_SIZE, MAX_TENSOR_ELEMENTS } from '../limits.js';
import { type Activation, MAX_LEAKY_SLOPE } from '../ops/elementwise.js';
import type { Init } from './layer.js';
import type { Noise } from './noise.js';
import type { Pair } from '../shape.js';

/** Reports a bad field: throws (a ModelError from constructors, a FormatError naming the file from loadModel). */
export type Fail = (field: string, message: string) => never;

export const constructorFail: Fail = (field, message) => {
  throw new ModelError(field, message);
};

export const fileFail =
  (source: string): Fail =>
  (field, message) => {
    throw new FormatError(source, `${field}: ${message}`);
  };

export const ACTIVATIONS: readonly Activation[] = ['identity', 'relu', 'leakyRelu', 'tanh', 'sigmoid'];
const INITS: readonly Init[] = ['glorot', 'he'];

/** A short, bounded description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string')
    return v.length > MAX_QUOTED_CHARS ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

const quoteKey = (k: string) => (k.length > MAX_QUOTED_CHARS ? `${JSON.stringify(k.slice(0, MAX_QUOTED_CHARS))}…` : k);

/** A plain object whose keys are all in `allowed`; returns a reader of its own fields. */
export function record(v: unknown, path: string, fail: Fail, allowed: readonly string[]): (k: string) => unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, `must be an object, got ${describe(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) fail(`${path}.${quoteKey(k)}`, `unknown field (known: ${allowed.join(', ')})`);
  return (k) => (Object.hasOwn(o, k) ? o[k] : undefined);
}

export function int(v: unknown, path: string, fail: Fail, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    fail(path, `must be an integer in [${min}, ${max}], got ${describe(v)}`);
  return v as number;
}

/** A finite number in [min, max) (or [min, max] with `closed`). */
export function num(v: unknown, path: string, fail: Fail, min: number, max: number, closed = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (closed ? v > max : v >= max))
    fail(
      path,
      `must be ${max === Number.MAX_VALUE ? `a finite number ≥ ${min}` : `a number in [${min}, ${max}${closed ? ']' : ')'}`}, got ${describe(v)}`,
    );
  return v as number;
}

export function bool(v: unknown, path: string, fail: Fail): boolean {
  if (typeof v !== 'boolean') fail(path, `must be true or false, got ${describe(v)}`);
  return v as boolean;
}

export function oneOf<T extends string>(v: unknown, path: string, fail: Fail, options: readonly T[]): T {
  if (typeof v !== 'string' || !options.includes(v as T))
    fail(path, `must be one of ${options.map((o) => `'${o}'`).join(', ')}, got ${describe(v)}`);
  return v as T;
}

export function list(v: unknown, path: string, fail: Fail, min: number, max: number): unknown[] {
  if (!Array.isArray(v)) fail(path, `must be an array, got ${describe(v)}`);
  const a = v as unknown[];
  if (a.length < min || a.length > max) fail(path, `must hold ${min} to ${max} entries, got ${a.length}`);
  return a;
}

export function pairOf(v: unknown, path: string, fail: Fail, min: number, max: number): Pair {
  if (typeof v === 'number') return int(v, path, fail, min, max);
  if (!Array.isArray(v) || v.length !== 2) fail(path, `must be an integer or [height, width], got ${describe(v)}`);
  const a = v as unknown[];
  return [int(a[0], `${path}[0]`, fail, min, max), int(a[1], `${path}[1]`, fail, min, max)];
}

const optional = <T>(v: unknown, dflt: T, read: (v: unknown) => T): T => (v === undefined ? dflt : read(v));

/** The image shape [c, h, w] a model reads. */
export function inputShapeOf(v: unknown, path: string, fail: Fail): [number, number, number] {
  const a = list(v, path, fail, 3, 3);
  const s = a.map((d, i) => int(d, `${path}[${i}]`, fail, 1, MAX_SPATIAL_SIZE)) as [number, number, number];
  if (s[0] * s[1] * s[2] > MAX_TENSOR_ELEMENTS)
    fail(path, `[${s.join(',')}] holds more than ${MAX_TENSOR_ELEMENTS} values per image`);
  return s;
}

export function seedOf(v: unknown, path: string, fail: Fail): number {
  // The generators take 32-bit seeds: a larger one would silently alias a smaller.
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= 2 ** 32)
    fail(path, `must be an integer in [0, 2^32), got ${describe(v)}`);
  return v as number;
}

/** One convolution of a block as its spec holds it after checking: every size given, defaults filled in. */
export interface Conv {
  /** Output channels, ≥ 1. */
  filters: number;
  /** Kernel size: kh = kw, or [kh, kw]. */
  kernel: Pair;
  /** Stride; 1 when the spec gave none. */
  stride: Pair;
  /** Zero padding on each side; 0 when the spec gave none. */
  padding: Pair;
}

/** A block's max-pooling as its spec holds it after checking: window and stride. */
export type Pool = { kernel: Pair; stride: Pair };

/** A CAE block with every field present (see BlockSpec in autoencoder.ts for their meaning). */
export interface Block {
  /** The convolutions, each followed by the activation. */
  convs: Conv[];
  /** Activation after each convolution, and after each transposed convolution but the last (`outputActivation`). */
  activation: Activation;
  /** Slope of leakyRelu for x < 0 (encoder and reconstruction). */
  leakySlope: number;
  /** Max pooling after the convolutions, or null for none. */
  pool: Pool | null;
  /** Whether the decoder uses the encoder's kernels. */
  tied: boolean;
  /** Activation of the reconstruction. */
  outputActivation: Activation;
  /** Input corruption in training (denoising), or null. */
  noise: Noise | null;
  /** k-sparse decoding: the fraction of each code map the decoder sees (its largest values), and in training of each channel's maps over the batch (`lifetime`); null for all. */
  sparsity: { keep: number; lifetime?: number } | null;
  /** Random initialisation of the convolutions. */
  init: Init;
}

/** Defaults of a block: tanh, 2×2 max pooling, tied decoder, sigmoid reconstruction for images in [0,1]. */
export const BLOCK_DEFAULTS = {
  activation: 'tanh',
  leakySlope: 0.01,
  poolKernel: 2,
  tied: true,
  firstOutputActivation: 'sigmoid',
  init: 'glorot',
} as const;

function convOf(v: unknown, path: string, fail: Fail): Conv {
  const f = record(v, path, fail, ['filters', 'kernel', 'stride', 'padding']);
  if (f('kernel') === undefined) fail(`${path}.kernel`, 'is required');
  return {
    filters: int(f('filters'), `${path}.filters`, fail, 1, MAX_TENSOR_ELEMENTS),
    kernel: pairOf(f('kernel'), `${path}.kernel`, fail, 1, MAX_SPATIAL_SIZE),
    stride: optional(f('stride'), 1, (x) => pairOf(x, `${path}.stride`, fail, 1, MAX_SPATIAL_SIZE)),
    padding: optional(f('padding'), 0, (x) => pairOf(x, `${path}.padding`, fail, 0, MAX_SPATIAL_SIZE)),
  };
}

function poolOf(v: unknown, path: string, fail: Fail): Pool | null {
  if (v === null) return null;
  const f = record(v, path, fail, ['kernel', 'stride']);
  const kernel = optional(f('kernel'), BLOCK_DEFAULTS.poolKernel as Pair, (x) =>
    pairOf(x, `${path}.kernel`, fail, 1, MAX_SPATIAL_SIZE),
  );
  return {
    kernel,
    stride: optional(f('stride'), kernel, (x) => pairOf(x, `${path}.stride`, fail, 1, MAX_SPATIAL_SIZE)),
  };
}

export function noiseOf(v: unknown, path: string, fail: Fail): Noise | null {
  if (v === null) return null;
  const type = record(v, path, fail, ['type', 'std', 'fraction', 'rescale', 'clip'])('type');
  if (type === 'gaussian') {
    const f = record(v, path, fail, ['type', 'std', 'clip']);
    return {
      type,
      std: num(f('std'), `${path}.std`, fail, 0, Number.MAX_VALUE, true),
      clip: optional(f('clip'), false, (x) => bool(x, `${path}.clip`, fail)),
    };
  }
  if (type === 'mask') {
    const f = record(v, path, fail, ['type', 'fraction', 'rescale']);
    return {
      type,
      fraction: num(f('fraction'), `${path}.fraction`, fail, 0, 1),
      rescale: optional(f('rescale'), true, (x) => bool(x, `${path}.rescale`, fail)),
    };
  }
  if (type === 'salt-pepper') {
    const f = record(v, path, fail, ['type', 'fraction']);
    return { type, fraction: num(f('fraction'), `${path}.fraction`, fail, 0, 1) };
  }
  return fail(`${path}.type`, `must be 'gaussian', 'mask' or 'salt-pepper', got ${describe(type)}`);
}

function sparsityOf(v: unknown, path: string, fail: Fail): { keep: number; lifetime?: number } | null {
  if (v === null) return null;
  const f = record(v, path, fail, ['keep', 'lifetime']);
  const keep = num(f('keep'), `${path}.keep`, fail, 0, 1, true);
  if (keep === 0) fail(`${path}.keep`, 'must be > 0 (the decoder would see nothing)');
  if (f('lifetime') === undefined) return { keep };
  const lifetime = num(f('lifetime'), `${path}.lifetime`, fail, 0, 1, true);
  if (lifetime === 0) fail(`${path}.lifetime`, 'must be > 0 (the decoder would see nothing)');
  return { keep, lifetime };
}

/** A block with defaults written out; `first`: the block reads images in [0,1] (sigmoid reconstruction by default). */
export function blockOf(v: unknown, path: string, fail: Fail, first: boolean): Block {
  const f = record(v, path, fail, [
    'convs',
    'activation',
    'leakySlope',
    'pool',
    'tied',
    'outputActivation',
    'noise',
    'sparsity',
    'init',
  ]);
  const convs = list(f('convs'), `${path}.convs`, fail, 1, MAX_MODEL_LAYERS).map((c, i) =>
    convOf(c, `${path}.convs[${i}]`, fail),
  );
  const activation = optional(f('activation'), BLOCK_DEFAULTS.activation as Activation, (x) =>
    oneOf(x, `${path}.activation`, fail, ACTIVATIONS),
  );
  return {
    convs,
    activation,
    leakySlope: optional(f('leakySlope'), BLOCK_DEFAULTS.leakySlope, (x) =>
      num(x, `${path}.leakySlope`, fail, 0, MAX_LEAKY_SLOPE, true),
    ),
    pool:
      f('pool') === undefined
        ? { kernel: BLOCK_DEFAULTS.poolKernel, stride: BLOCK_DEFAULTS.poolKernel }
        : poolOf(f('pool'), `${path}.pool`, fail),
    tied: optional(f('tied'), BLOCK_DEFAULTS.tied as boolean, (x) => bool(x, `${path}.tied`, fail)),
    outputActivation: optional(f('outputActivation'), first ? BLOCK_DEFAULTS.firstOutputActivation : activation, (x) =>
      oneOf(x, `${path}.outputActivation`, fail, ACTIVATIONS),
    ),
    noise: optional(f('noise'), null, (x) => noiseOf(x, `${path}.noise`, fail)),
    sparsity: optional(f('sparsity'), null, (x) => sparsityOf(x, `${path}.sparsity`, fail)),
    init: optional(f('init'), BLOCK_DEFAULTS.init as Init, (x) => oneOf(x, `${path}.init`, fail, INITS)),
  };
}

export function blocksOf(v: unknown, path: string, fail: Fail): Block[] {
  return list(v, path, fail, 1, MAX_MODEL_LAYERS).map((b, k) => blockOf(b, `${path}[${k}]`, fail, k === 0));
}

/** A classifier head with every field present (see HeadSpec in classifier.ts). */
export interface Head {
  /** Hidden dense layer sizes, in order (may be empty). */
  hidden: number[];
  /** Activation after each hidden layer. */
  hiddenActivation: Activation;
  /** Slope of leakyRelu for x < 0. */
  leakySlope: number;
  /** Dropout rate before each dense layer, in [0, 1); 0 for none. */
  dropout: number;
  /** Number of classes: the logits' width. */
  classes: number;
  /** Indices of the conv blocks whose parameters stay frozen. */
  freeze: number[];
}

export const HEAD_DEFAULTS = { hidden: [500], hiddenActivation: 'relu', leakySlope: 0.01, dropout: 0 } as const;

/** `blocks`: how many conv blocks precede the head (freeze indices must name one). */
export function headOf(v: unknown, path: string, fail: Fail, blocks: number): Head {
  const f = record(v, path, fail, ['hidden', 'hiddenActivation', 'leakySlope', 'dropout', 'classes', 'freeze']);
  if (f('classes') === undefined) fail(`${path}.classes`, 'is required');
  const freeze = optional(f('freeze'), [] as number[], (x) =>
    list(x, `${path}.freeze`, fail, 0, MAX_MODEL_LAYERS).map((k, i) =>
      int(k, `${path}.freeze[${i}]`, fail, 0, blocks - 1),
    ),
  );
  return {
    hidden: optional(f('hidden'), [...HEAD_DEFAULTS.hidden], (x) =>
      list(x, `${path}.hidden`, fail, 0, MAX_MODEL_LAYERS).map((u, i) =>
        int(u, `${path}.hidden[${i}]`, fail, 1, MAX_TENSOR_ELEMENTS),
      ),
    ),
    hiddenActivation: optional(f('hiddenActivation'), HEAD_DEFAULTS.hiddenActivation as Activation, (x) =>
      oneOf(x, `${path}.hiddenActivation`, fail, ACTIVATIONS),
    ),
    leakySlope: optional(f('leakySlope'), HEAD_DEFAULTS.leakySlope as number, (x) =>
      num(x, `${path}.leakySlope`, fail, 0, MAX_LEAKY_SLOPE, true),
    ),
    dropout: optional(f('dropout'), HEAD_DEFAULTS.dropout as number, (x) => num(x, `${path}.dropout`, fail, 0, 1)),
    classes: int(f('classes'), `${path}.classes`, fail, 1, MAX_TENSOR_ELEMENTS),
    freeze,
  };
}
