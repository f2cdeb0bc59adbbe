/** Base class of every error convae throws on purpose. */
export class ConvaeError extends Error {
  override name = 'ConvaeError';
}

/** A tensor argument has the wrong shape, rank or dtype. */
export class ShapeError extends ConvaeError {
  override name = 'ShapeError';
  constructor(
    readonly op: string,
    readonly arg: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${op}: ${arg} must be ${expected}, got ${got}`);
  }
}

/** A non-tensor argument is invalid (a stride of 0, an unknown activation, ...). */
export class ArgumentError extends ConvaeError {
  override name = 'ArgumentError';
  constructor(
    readonly op: string,
    readonly arg: string,
    message: string,
  ) {
    super(`${op}: ${arg} ${message}`);
  }
}

/** A tensor holds NaN or ±Infinity where finite values are required. */
export class NonFiniteError extends ConvaeError {
  override name = 'NonFiniteError';
  constructor(
    readonly op: string,
    readonly arg: string,
    readonly index: number,
    readonly value: number,
  ) {
    super(`${op}: ${arg} holds ${value} at flat index ${index}`);
  }
}

/** The wasm module could not be loaded, or a build was asked for that this runtime cannot run. */
export class BackendError extends ConvaeError {
  override name = 'BackendError';
}

/** A tensor was used after dispose(), or memory ran out. */
export class MemoryError extends ConvaeError {
  override name = 'MemoryError';
}

/**
 * The wasm layer refused a call (its own checks, behind the TypeScript ones).
 * Seeing this means the TypeScript validation missed a case: please report it.
 */
export class KernelError extends ConvaeError {
  override name = 'KernelError';
  constructor(
    readonly op: string,
    readonly code: number,
  ) {
    super(`${op}: the kernel refused the call: ${describeStatus(code)} (status ${code})`);
  }
}

const SHAPE_ERRORS = [
  'a size is 0',
  'kernel larger than the padded input',
  'padding not smaller than the kernel',
  'output padding not smaller than the stride',
  'tensor too large',
];

export function describeStatus(code: number): string {
  switch (code) {
    case 2:
      return 'a buffer lies outside wasm memory';
    case 3:
      return 'a buffer is not 4-byte aligned';
    case 4:
      return 'an output overlaps an input';
    case 5:
      return 'a max-pool switch points outside its plane';
    case 6:
      return 'a class label is not below the number of classes';
    case 7:
      return 'an argument is invalid';
    default:
      if (code >= 16 && code < 16 + SHAPE_ERRORS.length) return `invalid shape: ${SHAPE_ERRORS[code - 16]}`;
      return 'unknown status';
  }
}

/** A file is not what it claims to be: wrong magic number, truncated, sizes that disagree, hostile offsets. */
export class FormatError extends ConvaeError {
  override name = 'FormatError';
  constructor(
    /** What was being read (a path or a description). */
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
  }
}

/** A dataset is unusable: labels missing or out of range, images of the wrong size, a required package absent. */
export class DataError extends ConvaeError {
  override name = 'DataError';
}

/** A model cannot be built as described: shapes that do not chain, a tied layer without its partner, bad hyper-parameters. */
export class ModelError extends ConvaeError {
  override name = 'ModelError';
  constructor(
    /** The layer (or model part) at fault. */
    readonly layer: string,
    message: string,
  ) {
    super(`${layer}: ${message}`);
  }
}

/** Training was stopped through its AbortSignal; the model holds the weights of the last completed step. */
export class AbortError extends ConvaeError {
  override name = 'AbortError';
}

/** Why a worker stopped serving a call. */
export type WorkerFailure = 'crashed' | 'out-of-memory' | 'exited' | 'terminated' | 'peer-failed' | 'unavailable';

/**
 * A training worker died or could not start: it threw outside a call, ran out
 * of memory, exited or was terminated. The caller's model is left as it was
 * before the call; the pool replaces the worker.
 */
export class WorkerError extends ConvaeError {
  override name = 'WorkerError';
  constructor(
    readonly failure: WorkerFailure,
    message: string,
    /** Exit code, when the worker exited. */
    readonly exitCode?: number,
  ) {
    super(`worker ${failure}: ${message}`);
  }
}
