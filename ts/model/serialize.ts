/**
 * Saving and loading: weights as safetensors (F32, PyTorch layouts: conv OIHW,
 * transposed conv IOHW, dense [out,in]; names like `block0.conv0.weight`,
 * `dense0.bias`, `logits.weight`), architecture and training metadata as JSON
 * beside them (every hyper-parameter written out).
 *
 * Loading reads the JSON through the strict schema of its kind (ts/model/kinds.ts),
 * plans the model and checks it against the limits and against the weights
 * file — names, shapes, dtypes, finite values — before the first tensor is
 * allocated; the parameters are then filled from the file (no random
 * initialisation). A refused file leaves nothing allocated.
 */
import type { Backend } from '../backend/backend.js';
import { FormatError, ModelError } from '../errors.js';
import { parseJson, savedJson } from '../io/json.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../io/safetensors.js';
import { MAX_JSON_DEPTH, MAX_MODEL_JSON_CHARS } from '../limits.js';
import { type ModelKinds, modelKind, modelKindNames } from './kinds.js';
import { Param, type ParamInit, type PlannedParam } from './layer.js';
import type { Architecture, Model } from './model.js';
import { describe, type Fail, fileFail, record } from './schema.js';

/** The `format` field of every saved model's JSON. */
export const MODEL_FORMAT = 'convae-model';
export const MODEL_VERSION = 1;

/** A saved model's JSON: format, version, the architecture, and free-form training metadata. */
export type ModelJson = Architecture & { format: typeof MODEL_FORMAT; version: number; training?: unknown };

/** The safetensors file of parameters, under their PyTorch-style names. */
export function exportWeights(params: readonly Param[], metadata: Record<string, string> = {}): Uint8Array {
  return encodeSafetensors(paramTensors(params), { format: MODEL_FORMAT, ...metadata });
}

/** @internal The parameters as safetensors tensors under their names (copies of their values). */
export function paramTensors(params: readonly Param[]): Record<string, SafetensorsTensor> {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const p of params) {
    if (Object.hasOwn(tensors, p.name)) throw new ModelError(p.name, 'two parameters share this name');
    tensors[p.name] = { dtype: 'F32', shape: [...p.value.shape], data: p.value.toArray() };
  }
  return tensors;
}

/** Options for reading a weights file. */
export interface WeightsOptions {
  /** Accept NaN and ±Infinity in the weights (refused by default). */
  allowNonFinite?: boolean;
}

/** Index of the first NaN/±Infinity, or −1. */
function firstNonFinite(d: Float32Array): number {
  for (let i = 0; i < d.length; i++) if (d[i] - d[i] !== 0) return i;
  return -1;
}

/**
 * @internal A ParamInit that fills parameters from a decoded safetensors file.
 * Its `expect` gets the planned parameters before anything is allocated:
 * `resolve` hands back the file's tensors under the planned names (the
 * PyTorch import renames them there), which must be exactly those parameters.
 */
export function fromFile(
  resolve: (planned: readonly PlannedParam[]) => Record<string, SafetensorsTensor>,
  source: string,
  opts: WeightsOptions,
): ParamInit {
  let tensors: Record<string, SafetensorsTensor> | undefined;
  return {
    expect(planned: readonly PlannedParam[]) {
      const t = resolve(planned);
      checkTensors(t, planned, source, opts);
      tensors = t;
    },
    param(be, name, shape, rng, fill) {
      // A model kind that skipped checkPlanned would otherwise read unchecked (or absent) tensors.
      if (!tensors) throw new ModelError(name, 'allocated before the model was checked against the weights file');
      const data = tensors[name].data as Float32Array;
      const value = be.empty(shape);
      try {
        value.set(data);
        // Random initialisation would have drawn these: later generators (dropout) start where they would have.
        if (fill) rng.skip(data.length);
        return new Param(name, value, be.zeros(shape));
      } catch (e) {
        value.dispose();
        throw e;
      }
    },
  };
}

function checkTensors(
  tensors: Record<string, SafetensorsTensor>,
  planned: readonly PlannedParam[],
  source: string,
  opts: WeightsOptions,
): void {
  const names = new Set(Object.keys(tensors));
  for (const p of planned) {
    if (!Object.hasOwn(tensors, p.name))
      throw new FormatError(source, `missing tensor '${p.name}' [${p.shape.join(',')}]`);
    const t = tensors[p.name];
    if (t.dtype !== 'F32') throw new FormatError(source, `tensor '${p.name}' has dtype ${t.dtype}, expected F32`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new FormatError(
        source,
        `tensor '${p.name}' has shape [${t.shape.join(',')}], the architecture needs [${p.shape.join(',')}]`,
      );
    }
    if (!opts.allowNonFinite) {
      const i = firstNonFinite(t.data);
      if (i >= 0)
        throw new FormatError(
          source,
          `tensor '${p.name}' holds ${t.data[i]} at flat index ${i}: the weights are not all finite (a training run that diverged?); loadModel's allowNonFinite option loads them anyway, for a look`,
        );
    }
    names.delete(p.name);
  }
  if (names.size) {
    const list = [...names];
    throw new FormatError(
      source,
      `${list.length} tensor${list.length > 1 ? 's' : ''} not in the architecture: ${list
        .slice(0, 5)
        .map((n) => describe(n))
        .join(', ')}${list.length > 5 ? ', …' : ''}`,
    );
  }
}

/** Loads weights into existing parameters; every name and shape must match, nothing more, nothing less. */
export function importWeights(
  params: readonly Param[],
  bytes: Uint8Array,
  source: string,
  opts: WeightsOptions = {},
): void {
  // Views of `bytes` (checked, then copied once into the parameters), not a second copy.
  const file = decodeSafetensors(bytes, source, { copy: false });
  checkTensors(
    file.tensors,
    params.map((p) => ({ name: p.name, shape: [...p.value.shape] })),
    source,
    opts,
  );
  // Only after everything checked out: a bad file leaves the model untouched.
  for (const p of params) p.value.set(file.tensors[p.name].data as Float32Array);
}

/** The model's saved JSON: format, version, its architecture and an optional `training` record. */
export function modelJson(model: Model, training?: unknown): ModelJson {
  return { format: MODEL_FORMAT, version: MODEL_VERSION, ...model.toJSON(), training };
}

/**
 * The model as two files: pretty-printed JSON (architecture) and safetensors bytes (weights). `training` that JSON
 * cannot hold (a cycle, a BigInt) or that would make a description `loadModel` refuses (longer than
 * MAX_MODEL_JSON_CHARS, deeper than MAX_JSON_DEPTH) is an ArgumentError.
 */
export function saveModel(model: Model, training?: unknown): { json: string; weights: Uint8Array } {
  const json = savedJson(
    'saveModel',
    'training',
    modelJson(model, training),
    MAX_MODEL_JSON_CHARS,
    'model description',
  );
  return { json, weights: exportWeights(model.params()) };
}

/**
 * Options of `loadModel` (exported as `LoadModelOptions`).
 * @template K - The kind asked for; a built-in kind types the result as its class (`ModelKinds`).
 */
export interface LoadOptions<K extends string = string> extends WeightsOptions {
  /** Names the files in errors (default 'model'). */
  source?: string;
  /** Refuse any other kind (and type the result as that kind's model). */
  kind?: K;
}

function parseModelJson(text: string, source: string): unknown {
  if (typeof text !== 'string') throw new FormatError(source, 'the model description must be a string of JSON');
  if (text.length > MAX_MODEL_JSON_CHARS)
    throw new FormatError(
      source,
      `${text.length} characters, more than the ${MAX_MODEL_JSON_CHARS} a model description may have`,
    );
  return parseJson(text, source, MAX_JSON_DEPTH, 'model description');
}

/** @internal A model description read and checked up to its kind's fields; `build` plans, checks and allocates. */
export interface ModelDescription {
  meta: ModelJson;
  build(be: Backend, init: ParamInit): Model;
}

/**
 * @internal The first step of `loadModel`: the JSON text checked (length,
 * nesting, format, version, kind, known fields), nothing allocated.
 */
export function readModelJson(json: string, source: string, wanted?: string): ModelDescription {
  return describeModel(parseModelJson(json, source), source, wanted);
}

/**
 * @internal `readModelJson` on a value already parsed: a saved model's JSON inside another file's (a detector's
 * stack), whose messages name its field `at` (`stack.blocks[0].…`).
 */
export function describeModel(j: unknown, source: string, wanted?: string, at?: string): ModelDescription {
  const say = (m: string) => new FormatError(source, at ? `${at}: ${m}` : m);
  if (j === null || typeof j !== 'object' || Array.isArray(j) || (j as { format?: unknown }).format !== MODEL_FORMAT)
    throw say(`not a convae model description (format must be '${MODEL_FORMAT}')`);
  const o = j as Record<string, unknown>;
  const fail: Fail = at ? (field, m) => fileFail(source)(`${at}.${field}`, m) : fileFail(source);
  if (o.version !== MODEL_VERSION)
    throw say(`model format version ${describe(o.version)}; this convae reads ${MODEL_VERSION}`);
  const kindName = o.kind;
  const kind = typeof kindName === 'string' ? modelKind(kindName) : undefined;
  if (!kind) fail('kind', `unknown model kind ${describe(kindName)} (known: ${modelKindNames().join(', ')})`);
  if (wanted !== undefined && kindName !== wanted) fail('kind', `is '${kindName}', expected '${wanted}'`);
  const get = record(o, at ?? 'model', fail, ['format', 'version', 'kind', 'training', ...kind!.fields]);
  return { meta: o as ModelJson, build: (be, init) => kind!.fromJSON(be, get, fail, init) };
}

/** The model type `loadModel` returns for kind `K` (the registered kind's class, else `Model`). */
export type Loaded<K extends string> = K extends keyof ModelKinds ? ModelKinds[K] : Model;

/**
 * Rebuilds a model from its JSON and weights. `kind` (or a kind name as the
 * last argument) refuses other kinds and types the result.
 */
export function loadModel<K extends string = string>(
  be: Backend,
  json: string,
  weights: Uint8Array,
  opts: LoadOptions<K> | string = {},
): { model: Loaded<K>; meta: ModelJson } {
  const o: LoadOptions<K> = typeof opts === 'string' ? { source: opts } : (opts ?? {});
  const source = o.source ?? 'model';
  const description = readModelJson(json, `${source}.json`, o.kind);
  // Views of `weights`: each tensor is copied once, straight into its parameter's wasm memory.
  const file = decodeSafetensors(weights, `${source}.safetensors`, { copy: false });
  const model = description.build(
    be,
    fromFile(() => file.tensors, `${source}.safetensors`, o),
  );
  return { model: model as Loaded<K>, meta: description.meta };
}
