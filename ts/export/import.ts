/**
 * Import from PyTorch: a state dict (safetensors) plus the convae architecture
 * JSON → a convae model. Names accepted, checked in this order:
 *   1. the exported names (`block0.conv0.weight`, `dense0.bias`, `logits.weight`),
 *      also under DDP's `module.` prefix;
 *   2. the numeric names of an `nn.Sequential` (`0.weight`, `3.bias`, or
 *      `<prefix>.<i>.weight` with one common prefix), classifiers only: the
 *      Sequential's modules with parameters, in index order, are the classifier's
 *      conv and dense layers in order (`0` → block0.conv0, next → …, last → logits).
 * Every name, dtype and shape is checked before any weight is written.
 */
import type { Backend } from '../backend/backend.js';
import { FormatError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../io/safetensors.js';
import { StackedConvAutoencoder } from '../model/autoencoder.js';
import { Classifier } from '../model/classifier.js';
import { loadModel, MODEL_FORMAT, MODEL_VERSION, type ModelJson } from '../model/serialize.js';

/** What `importPyTorch` gives: the convae model (the caller disposes it), its description, and how names were mapped. */
export interface ImportResult {
  model: StackedConvAutoencoder | Classifier;
  meta: ModelJson;
  /** Which naming the file used. */
  naming: 'exported' | 'sequential';
  /** Name in the file → convae parameter name. */
  mapping: Record<string, string>;
}

const MAX_LISTED = 5;
const list = (names: string[]) =>
  names.length > MAX_LISTED
    ? `${names.slice(0, MAX_LISTED).join(', ')} and ${names.length - MAX_LISTED} more`
    : names.join(', ');
const short = (s: string) => (s.length > 120 ? `${s.slice(0, 117)}...` : s);

/**
 * A probe model from the JSON, only for the parameter names, shapes and layer
 * order the mapping needs; the model returned is built by `loadModel` (the
 * strict loader) from the mapped weights.
 */
function buildModel(be: Backend, json: string, source: string): StackedConvAutoencoder | Classifier {
  // biome-ignore lint/suspicious/noExplicitAny: checked field by field here, then again by loadModel
  let meta: any;
  try {
    meta = JSON.parse(json);
  } catch (e) {
    throw new FormatError(source, `not JSON: ${short((e as Error).message)}`);
  }
  if (!meta || typeof meta !== 'object' || meta.format !== MODEL_FORMAT)
    throw new FormatError(source, `not a convae model description (format must be '${MODEL_FORMAT}')`);
  if (meta.version !== MODEL_VERSION)
    throw new FormatError(
      source,
      `model format version ${short(String(meta.version))}; this convae reads ${MODEL_VERSION}`,
    );
  if (!Array.isArray(meta.inputShape) || !Array.isArray(meta.blocks))
    throw new FormatError(source, 'inputShape and blocks must be arrays');
  if (meta.kind === 'classifier') return Classifier.fromBlocks(be, meta.blocks, meta.inputShape, meta.head, meta.seed);
  if (meta.kind === 'stack') return new StackedConvAutoencoder(be, meta.blocks, meta.inputShape, meta.seed);
  throw new FormatError(source, `unknown model kind '${short(String(meta.kind))}'`);
}

const SEQ = /^(?:(.+)\.)?(\d+)\.(weight|bias)$/;

/** Name in the file → convae name, for the numeric names of an nn.Sequential. */
function sequentialMapping(names: string[], model: Classifier, source: string): Record<string, string> {
  const prefixes = new Set(names.map((n) => SEQ.exec(n)?.[1] ?? ''));
  if (prefixes.size !== 1)
    throw new FormatError(
      source,
      `numeric names under several prefixes (${list([...prefixes])}): one nn.Sequential expected`,
    );
  const modules = new Map<number, string[]>();
  for (const n of names) {
    const i = Number(SEQ.exec(n)![2]);
    modules.set(i, [...(modules.get(i) ?? []), n]);
  }
  const indices = [...modules.keys()].sort((a, b) => a - b);
  const layers = model.net.layers.filter((l) => l.params().length);
  if (indices.length !== layers.length)
    throw new FormatError(
      source,
      `the nn.Sequential has ${indices.length} modules with parameters (${list(indices.map(String))}); the architecture has ${layers.length} (${list(layers.map((l) => l.name))})`,
    );
  const mapping: Record<string, string> = {};
  indices.forEach((i, k) => {
    for (const n of modules.get(i)!) mapping[n] = `${layers[k].name}.${SEQ.exec(n)![3]}`;
  });
  return mapping;
}

/** A convae model from PyTorch weights (`weights`, safetensors) and its architecture (`archJson`, convae's model JSON). */
export function importPyTorch(
  be: Backend,
  archJson: string,
  weights: Uint8Array,
  source = 'model.safetensors',
  archSource = 'model.json',
): ImportResult {
  const file = decodeSafetensors(weights, source);
  const model = buildModel(be, archJson, archSource);
  try {
    const params = model.params();
    const wanted = new Map(params.map((p) => [p.name, p.value.shape]));
    let names = Object.keys(file.tensors);
    const strip = names.length > 0 && names.every((n) => n.startsWith('module.'));
    const inFile = (n: string) => (strip ? n.slice(7) : n);
    names = names.map(inFile);
    let naming: ImportResult['naming'] = 'exported';
    let mapping: Record<string, string> = Object.fromEntries(names.map((n) => [n, n]));
    if (names.length && names.every((n) => SEQ.test(n)) && !names.some((n) => wanted.has(n))) {
      if (model.kind !== 'classifier')
        throw new FormatError(source, 'numeric nn.Sequential names map onto classifiers only; use the exported names');
      naming = 'sequential';
      mapping = sequentialMapping(names, model as Classifier, source);
    }
    const tensors: Record<string, SafetensorsTensor> = {};
    const unknown: string[] = [];
    for (const [raw, t] of Object.entries(file.tensors)) {
      const n = inFile(raw);
      const target = mapping[n];
      const shape = wanted.get(target);
      const what = target === raw ? `'${short(raw)}'` : `'${short(raw)}' (${target})`;
      if (!shape) {
        unknown.push(`'${short(raw)}'`);
        continue;
      }
      if (t.dtype !== 'F32') throw new FormatError(source, `tensor ${what} has dtype ${t.dtype}, expected F32`);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
        throw new FormatError(
          source,
          `tensor ${what} has shape [${t.shape.join(',')}], the architecture needs [${shape.join(',')}]`,
        );
      tensors[target] = t;
    }
    if (unknown.length)
      throw new FormatError(
        source,
        `tensors not in the architecture: ${list(unknown)} (it has ${list([...wanted.keys()])})`,
      );
    const missing = [...wanted.keys()].filter((n) => !tensors[n]);
    if (missing.length) throw new FormatError(source, `missing tensors: ${list(missing)}`);
    const source0 = source.replace(/\.safetensors$/, '');
    const loaded = loadModel(be, archJson, encodeSafetensors(tensors), source0);
    return { model: loaded.model as StackedConvAutoencoder | Classifier, meta: loaded.meta, naming, mapping };
  } finally {
    model.dispose();
  }
}
