/**
 * Saving and loading: weights as safetensors (F32, PyTorch layouts: conv OIHW,
 * transposed conv IOHW, dense [out,in]; names like `block0.conv0.weight`,
 * `dense0.bias`, `logits.weight`), architecture and training metadata as JSON
 * beside them. Loading rebuilds the model from the JSON and then requires the
 * file to hold exactly its parameters with exactly their shapes.
 */
import type { Backend } from '../backend/backend.js';
import { FormatError, ModelError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../io/safetensors.js';
import { StackedConvAutoencoder, type BlockSpec } from './autoencoder.js';
import { Classifier, type HeadSpec } from './classifier.js';
import type { Param, Shape } from './layer.js';

/** The `format` field of every saved model's JSON. */
export const MODEL_FORMAT = 'convae-model';
export const MODEL_VERSION = 1;

/** The JSON form of a saved model (a CAE stack or a classifier). */
export type ModelJson =
  | {
      format: typeof MODEL_FORMAT;
      version: number;
      kind: 'stack';
      inputShape: number[];
      blocks: BlockSpec[];
      seed: number;
      training?: unknown;
    }
  | {
      format: typeof MODEL_FORMAT;
      version: number;
      kind: 'classifier';
      inputShape: number[];
      blocks: BlockSpec[];
      head: HeadSpec;
      seed: number;
      training?: unknown;
    };

/** The safetensors file of parameters, under their PyTorch-style names. */
export function exportWeights(params: Param[], metadata: Record<string, string> = {}): Uint8Array {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const p of params) {
    if (tensors[p.name]) throw new ModelError(p.name, 'two parameters share this name');
    tensors[p.name] = { dtype: 'F32', shape: [...p.value.shape], data: p.value.toArray() };
  }
  return encodeSafetensors(tensors, { format: MODEL_FORMAT, ...metadata });
}

/** Loads weights into existing parameters; every name and shape must match, nothing more, nothing less. */
export function importWeights(params: Param[], bytes: Uint8Array, source: string): void {
  const file = decodeSafetensors(bytes, source);
  const names = new Set(Object.keys(file.tensors));
  for (const p of params) {
    const t = file.tensors[p.name];
    if (!t) throw new FormatError(source, `missing tensor '${p.name}' [${p.value.shape.join(',')}]`);
    if (t.dtype !== 'F32') throw new FormatError(source, `tensor '${p.name}' has dtype ${t.dtype}, expected F32`);
    if (t.shape.length !== p.value.shape.length || t.shape.some((d, i) => d !== p.value.shape[i])) {
      throw new FormatError(
        source,
        `tensor '${p.name}' has shape [${t.shape.join(',')}], the architecture needs [${p.value.shape.join(',')}]`,
      );
    }
    names.delete(p.name);
  }
  if (names.size) throw new FormatError(source, `tensors not in the architecture: ${[...names].join(', ')}`);
  // Only after everything checked out: a bad file leaves the model untouched.
  for (const p of params) p.value.set(file.tensors[p.name].data as Float32Array);
}

/** The JSON description (architecture, optional training metadata) of a model, as `saveModel` writes it. */
export function modelJson(model: StackedConvAutoencoder | Classifier, training?: unknown): ModelJson {
  const base = { format: MODEL_FORMAT, version: MODEL_VERSION, inputShape: [...model.inputShape] as number[] } as const;
  if (model instanceof Classifier) {
    return { ...base, kind: 'classifier', blocks: model.blocks, head: model.head, seed: model.seed, training };
  }
  return { ...base, kind: 'stack', blocks: model.specs, seed: model.seed, training };
}

/** A model as JSON (architecture, `training` metadata) and safetensors (weights); `loadModel` reads them back. */
export function saveModel(
  model: StackedConvAutoencoder | Classifier,
  training?: unknown,
): { json: string; weights: Uint8Array } {
  return { json: JSON.stringify(modelJson(model, training), null, 2), weights: exportWeights(model.params()) };
}

function parseJson(text: string, source: string): ModelJson {
  let j: ModelJson;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new FormatError(source, `not JSON: ${(e as Error).message}`);
  }
  if (!j || j.format !== MODEL_FORMAT)
    throw new FormatError(source, `not a convae model description (format must be '${MODEL_FORMAT}')`);
  if (j.version !== MODEL_VERSION)
    throw new FormatError(source, `model format version ${j.version}; this convae reads ${MODEL_VERSION}`);
  if (j.kind !== 'stack' && j.kind !== 'classifier')
    throw new FormatError(source, `unknown model kind '${(j as { kind: string }).kind}'`);
  if (!Array.isArray(j.inputShape) || !Array.isArray(j.blocks))
    throw new FormatError(source, 'inputShape and blocks must be arrays');
  return j;
}

/** Rebuilds a model from its JSON and loads its weights. */
export function loadModel(
  be: Backend,
  json: string,
  weights: Uint8Array,
  source = 'model',
): { model: StackedConvAutoencoder | Classifier; meta: ModelJson } {
  const meta = parseJson(json, `${source}.json`);
  const shape: Shape = meta.inputShape;
  const model =
    meta.kind === 'classifier'
      ? Classifier.fromBlocks(be, meta.blocks, shape, meta.head, meta.seed)
      : new StackedConvAutoencoder(be, meta.blocks, shape, meta.seed);
  try {
    importWeights(model.params(), weights, `${source}.safetensors`);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, meta };
}
