/**
 * Import from PyTorch: a state dict (safetensors) plus the convae architecture
 * JSON → a convae model. Names accepted, checked in this order:
 *   1. the exported names (`block0.conv0.weight`, `dense0.bias`, `logits.weight`),
 *      also under DDP's `module.` prefix;
 *   2. the numeric names of an `nn.Sequential` (`0.weight`, `3.bias`, or
 *      `<prefix>.<i>.weight` with one common prefix), classifiers only: the
 *      Sequential's modules with parameters, in index order, are the classifier's
 *      conv and dense layers in order (`0` → block0.conv0, next → …, last → logits).
 * Every name, dtype and shape is checked against the plan of the architecture
 * before anything is allocated (the loader of ts/model/serialize.ts). The
 * export's whitening buffer (`normalize.kernel`) is skipped when the
 * architecture whitens (`training.normalize`): its `training.whitening` holds
 * that kernel, which training never changes.
 */
import type { Backend } from '../backend/backend.js';
import { FormatError } from '../errors.js';
import { decodeSafetensors, type SafetensorsTensor } from '../io/safetensors.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import type { Classifier } from '../model/classifier.js';
import type { PlannedParam } from '../model/layer.js';
import { fromFile, type ModelJson, readModelJson } from '../model/serialize.js';
import { NORMALIZE_KERNEL } from './input.js';

/** What `importPyTorch` gives: the convae model (the caller disposes it), its description, and how names were mapped. */
export interface ImportResult {
  /** The model of the description's kind, holding the file's weights; the caller disposes it. */
  model: StackedConvAutoencoder | Classifier;
  /** The model description (convae's JSON) the model was built from. */
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

const SEQ = /^(?:(.+)\.)?(\d+)\.(weight|bias)$/;

/** Name in the file → convae name, for the numeric names of an nn.Sequential onto `layers` (those with parameters, in order). */
function sequentialMapping(names: string[], layers: string[], source: string): Record<string, string> {
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
  if (indices.length !== layers.length)
    throw new FormatError(
      source,
      `the nn.Sequential has ${indices.length} modules with parameters (${list(indices.map(String))}); the architecture has ${layers.length} (${list(layers)})`,
    );
  const mapping: Record<string, string> = {};
  indices.forEach((i, k) => {
    for (const n of modules.get(i)!) mapping[n] = `${layers[k]}.${SEQ.exec(n)![3]}`;
  });
  return mapping;
}

/**
 * The file's tensors under the planned names, with messages in the file's own
 * names; loadModel's check (values included) follows on the result.
 */
function mapTensors(
  file: Record<string, SafetensorsTensor>,
  planned: readonly PlannedParam[],
  kind: string,
  source: string,
  whitens: boolean,
): { tensors: Record<string, SafetensorsTensor>; naming: ImportResult['naming']; mapping: Record<string, string> } {
  const wanted = new Map(planned.map((p) => [p.name, p.shape]));
  let names = Object.keys(file);
  const strip = names.length > 0 && names.every((n) => n.startsWith('module.'));
  const inFile = (n: string) => (strip ? n.slice(7) : n);
  names = names.map(inFile);
  if (names.includes(NORMALIZE_KERNEL)) {
    // Imported without its whitening, the model would be fed other input than these weights were trained on.
    if (!whitens)
      throw new FormatError(
        source,
        `'${NORMALIZE_KERNEL}' is an export's whitening, but the architecture's training.normalize is not 'whiten': give the model.json exported with these weights`,
      );
    names = names.filter((n) => n !== NORMALIZE_KERNEL);
  }
  let naming: ImportResult['naming'] = 'exported';
  let mapping: Record<string, string> = Object.fromEntries(names.map((n) => [n, n]));
  if (names.length && names.every((n) => SEQ.test(n)) && !names.some((n) => wanted.has(n))) {
    if (kind !== 'classifier')
      throw new FormatError(source, 'numeric nn.Sequential names map onto classifiers only; use the exported names');
    naming = 'sequential';
    // Parameters are planned layer by layer, in layer order: their layers are the Sequential's modules.
    const layers = [...new Set(planned.map((p) => p.name.slice(0, p.name.lastIndexOf('.'))))];
    mapping = sequentialMapping(names, layers, source);
  }
  const tensors: Record<string, SafetensorsTensor> = {};
  const unknown: string[] = [];
  for (const [raw, t] of Object.entries(file)) {
    const n = inFile(raw);
    if (n === NORMALIZE_KERNEL) continue;
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
  return { tensors, naming, mapping };
}

const whitens = (training: unknown) => (training as { normalize?: unknown } | null | undefined)?.normalize === 'whiten';

/** A convae model from PyTorch weights (`weights`, safetensors) and its architecture (`archJson`, convae's model JSON). */
export function importPyTorch(
  be: Backend,
  archJson: string,
  weights: Uint8Array,
  source = 'model.safetensors',
  archSource = 'model.json',
): ImportResult {
  // Views of `weights`: each tensor is copied once, into its parameter.
  const file = decodeSafetensors(weights, source, { copy: false });
  const description = readModelJson(archJson, archSource);
  const kind = description.meta.kind;
  if (kind !== 'classifier' && kind !== 'stack')
    throw new FormatError(archSource, `kind: '${kind}' cannot be imported (only 'classifier' and 'stack')`);
  let mapped: ReturnType<typeof mapTensors> | undefined;
  // The file is checked against the plan of the architecture inside the loader, before any parameter is allocated.
  const model = description.build(
    be,
    fromFile(
      (planned) => {
        mapped = mapTensors(file.tensors, planned, kind, source, whitens(description.meta.training));
        return mapped.tensors;
      },
      source,
      {},
    ),
  ) as StackedConvAutoencoder | Classifier;
  return { model, meta: description.meta, naming: mapped!.naming, mapping: mapped!.mapping };
}
