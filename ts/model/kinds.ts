/**
 * The registry of model kinds, keyed by the `kind` field of saved JSON. The
 * built-in kinds are listed here (an explicit list, not registration by
 * import side effect, which bundlers may drop); `registerModelKind` adds
 * others. Loading, the workers and the Trainer find kinds only through here.
 */
import type { Backend } from '../backend/backend.js';
import { ArgumentError } from '../errors.js';
import { type ConvAutoencoder, caeFromJSON, type StackedConvAutoencoder, stackFromJSON } from './autoencoder.js';
import { Classifier } from './classifier.js';
import type { ParamInit } from './layer.js';
import type { Model } from './model.js';
import type { Fail } from './schema.js';

/**
 * How to rebuild one kind of model from its saved JSON (see `registerModelKind`).
 * @template M - The model class `fromJSON` returns.
 */
export interface ModelKind<M extends Model = Model> {
  /** The name in the saved JSON's `kind` field: lower-case letters, digits or -, up to 32, starting with a letter. */
  readonly kind: string;
  /** Fields of the saved JSON besides format, version, kind and training. */
  readonly fields: readonly string[];
  /**
   * Builds the model from those fields (`get` reads own fields only; `fail`
   * reports a bad one). Must refuse bad fields and check its parameters
   * (checkPlanned) before allocating, and fill them through `init`.
   */
  fromJSON(be: Backend, get: (field: string) => unknown, fail: Fail, init: ParamInit): M;
}

/** The type each kind loads as (extend it with `declare module` for a kind of your own). */
export interface ModelKinds {
  /** A greedy stack of CAEs. */
  stack: StackedConvAutoencoder;
  /** Conv blocks with a dense softmax head. */
  classifier: Classifier;
  /** A single CAE block. */
  cae: ConvAutoencoder;
}

const registry = new Map<string, ModelKind>();

/** Adds a model kind for loading; throws ArgumentError for a malformed or already registered name. */
export function registerModelKind(k: ModelKind): void {
  if (typeof k?.kind !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(k.kind))
    throw new ArgumentError('registerModelKind', 'kind', 'must be lower-case letters, digits or -, up to 32');
  if (registry.has(k.kind)) throw new ArgumentError('registerModelKind', 'kind', `'${k.kind}' is registered already`);
  registry.set(k.kind, k);
}

/** The registered kind of that name, if any. */
export function modelKind(kind: string): ModelKind | undefined {
  return registry.get(kind);
}

/** Names of the registered model kinds, in registration order. */
export const modelKindNames = (): string[] => [...registry.keys()];

const BUILTIN: ModelKind[] = [
  { kind: 'stack', fields: ['inputShape', 'blocks', 'seed'], fromJSON: stackFromJSON },
  { kind: 'classifier', fields: ['inputShape', 'blocks', 'head', 'seed'], fromJSON: Classifier.fromJSON },
  { kind: 'cae', fields: ['inputShape', 'name', 'block', 'seed'], fromJSON: caeFromJSON },
];
for (const k of BUILTIN) registerModelKind(k);
