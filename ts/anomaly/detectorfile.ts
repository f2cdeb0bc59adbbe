/**
 * An AnomalyDetector as two files, as a model is saved (ts/model/serialize.ts):
 *
 * - JSON: `format: 'convae-detector'`, `version`, the score spec, the threshold, the stack's own saved JSON
 *   (`stack`: what `saveModel` writes for it) and free-form `training` metadata (the CLI's input normalisation);
 * - safetensors: the stack's parameters under their names, and for a neighbour score the reference codes as one
 *   F32 tensor `reference` of [normal images, code size].
 *
 * Reading treats both as hostile: the JSON through the strict model schema, the score through `checkScoreSpec`,
 * the threshold finite, the reference codes against the planned stack's code size and the score's k, every value
 * finite — all before the stack's first tensor is allocated. A refused file leaves nothing allocated.
 */
import type { Backend } from '../backend/backend.js';
import { ArgumentError, FormatError, ModelError } from '../errors.js';
import { parseJson, savedJson } from '../io/json.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../io/safetensors.js';
import { MAX_JSON_DEPTH, MAX_MODEL_JSON_CHARS, MAX_TENSOR_ELEMENTS } from '../limits.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import { blocksOf, describe, type Fail, fileFail, inputShapeOf, record } from '../model/schema.js';
import {
  describeModel,
  fromFile,
  type ModelJson,
  modelJson,
  paramTensors,
  type WeightsOptions,
} from '../model/serialize.js';
import { optionsOf } from '../util/options.js';
import type { Embeddings } from './embed.js';
import { plannedCodeSizes } from '../model/plan.js';
import { checkScoreSpec, type ScoreSpec } from './oneclass.js';

/** The `format` field of a saved detector's JSON. */
export const DETECTOR_FORMAT = 'convae-detector';
/** The detector file version this convae writes and reads. */
export const DETECTOR_VERSION = 1;
/** The reference codes' tensor in a saved detector's weights (parameter names all start with their block's). */
const REFERENCE = 'reference';

/** A saved detector's JSON: format, version, score, threshold, the stack's saved JSON and free-form metadata. */
export interface DetectorJson {
  /** Always `'convae-detector'`. */
  format: typeof DETECTOR_FORMAT;
  /** The file version (DETECTOR_VERSION). */
  version: number;
  /** How the detector scores images. */
  score: ScoreSpec;
  /** Images scoring strictly above it are flagged; a finite number. */
  threshold: number;
  /** The stack as `saveModel` saves it (its weights are in the detector's safetensors). */
  stack: ModelJson;
  /** What `save(training)` was given: how the images were prepared, where they came from; read back as saved. */
  training?: unknown;
}

/**
 * Options of `AnomalyDetector.load`. `allowNonFinite` applies to the stack's weights only: the reference codes must
 * be finite, since the neighbour search refuses any other.
 */
export interface DetectorLoadOptions extends WeightsOptions {
  /** Names the files in errors: `<source>.json`, `<source>.safetensors` (default 'detector'). */
  source?: string;
}

/** @internal What a detector is made of (the class's fields). */
export interface DetectorParts {
  stack: StackedConvAutoencoder;
  spec: ScoreSpec;
  reference: Embeddings | null;
  threshold: number;
}

/**
 * @internal The detector's two files; an ArgumentError for a threshold JSON cannot hold (an fpr of 1 gives −∞), and
 * for `training` that JSON cannot hold or that makes a file `load` refuses (too deep, too long).
 */
export function detectorFiles(op: string, d: DetectorParts, training?: unknown): { json: string; weights: Uint8Array } {
  if (!Number.isFinite(d.threshold))
    throw new ArgumentError(
      op,
      'threshold',
      `is ${d.threshold}: only a finite threshold is saved (a rate of 1 flags every image; fit at a rate below 1)`,
    );
  const j: DetectorJson = {
    format: DETECTOR_FORMAT,
    version: DETECTOR_VERSION,
    score: d.spec,
    threshold: d.threshold,
    stack: modelJson(d.stack),
    training,
  };
  // What `load` would refuse is refused here, naming `training` (the only part the caller shapes).
  const json = savedJson(op, 'training', j, MAX_MODEL_JSON_CHARS, 'detector description');
  const tensors = paramTensors(d.stack.params());
  if (d.reference) {
    const { vectors, n, dim } = d.reference;
    tensors[REFERENCE] = { dtype: 'F32', shape: [n, dim], data: vectors };
  }
  return { json, weights: encodeSafetensors(tensors, { format: DETECTOR_FORMAT }) };
}

/** The JSON text as an object of the detector format and version; FormatError otherwise. */
function parseDetectorJson(text: string, source: string): Record<string, unknown> {
  if (typeof text !== 'string') throw new FormatError(source, 'the detector description must be a string of JSON');
  if (text.length > MAX_MODEL_JSON_CHARS)
    throw new FormatError(
      source,
      `${text.length} characters, more than the ${MAX_MODEL_JSON_CHARS} a detector description may have`,
    );
  const j = parseJson(text, source, MAX_JSON_DEPTH, 'detector description');
  if (j === null || typeof j !== 'object' || Array.isArray(j) || (j as { format?: unknown }).format !== DETECTOR_FORMAT)
    throw new FormatError(source, `not a convae detector description (format must be '${DETECTOR_FORMAT}')`);
  const o = j as Record<string, unknown>;
  if (o.version !== DETECTOR_VERSION)
    throw new FormatError(
      source,
      `detector format version ${describe(o.version)}; this convae reads ${DETECTOR_VERSION}`,
    );
  return o;
}

/** The score spec of the file: known fields only, then `checkScoreSpec`'s rules said as a FormatError. */
function scoreOf(v: unknown, blocks: number, fail: Fail): ScoreSpec {
  const get = record(v, 'score', fail, ['type', 'depth', 'k']);
  const s = { type: get('type'), depth: get('depth'), ...(get('k') === undefined ? {} : { k: get('k') }) };
  try {
    checkScoreSpec('load', 'score', s, blocks);
  } catch (e) {
    if (!(e instanceof ArgumentError)) throw e;
    fail(e.arg, e.message.slice(`${e.op}: ${e.arg} `.length));
  }
  if (s.type === 'reconstruction' && s.k !== undefined) fail('score.k', 'is only for a neighbours score');
  return s as ScoreSpec;
}

/**
 * The reference codes a neighbour score needs: one F32 tensor of [n, dim] with dim the planned code size at the
 * score's depth, k ≤ n, at most MAX_TENSOR_ELEMENTS values, all finite. Nothing copied yet.
 */
function checkReference(t: SafetensorsTensor | undefined, spec: ScoreSpec, dim: number, source: string): void {
  const fail = (m: string) => {
    throw new FormatError(source, `tensor '${REFERENCE}' ${m}`);
  };
  if (spec.type !== 'neighbours') {
    if (t) fail(`is not used by a ${spec.type} score: not a file this convae wrote`);
    return;
  }
  if (!t) fail(`(the normal training codes a neighbours score needs) is missing`);
  const r = t!;
  if (r.dtype !== 'F32') fail(`has dtype ${r.dtype}, expected F32`);
  if (r.shape.length !== 2 || r.shape[1] !== dim)
    fail(`has shape [${r.shape.join(',')}], the stack's codes at depth ${spec.depth} need [normal images, ${dim}]`);
  const n = r.shape[0];
  if (n < spec.k) fail(`holds ${n} codes, fewer than the score's k = ${spec.k}`);
  if (n * dim > MAX_TENSOR_ELEMENTS)
    fail(`holds ${n} × ${dim} values, more than ${MAX_TENSOR_ELEMENTS} (MAX_TENSOR_ELEMENTS)`);
  const v = r.data as Float32Array;
  for (let i = 0; i < v.length; i++)
    if (!Number.isFinite(v[i])) fail(`holds ${v[i]} at code ${Math.floor(i / dim)}, value ${i % dim}`);
}

/** A stack the file describes that cannot be built (layers that do not chain, limits) is the file's fault: named. */
function inFile<T>(source: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof ModelError) throw new FormatError(source, e.layer === 'stack' ? e.message : `stack: ${e.message}`);
    throw e;
  }
}

/** @internal Reads and checks a saved detector; the stack is the caller's to dispose. */
export function readDetectorFiles(
  be: Backend,
  json: string,
  weights: Uint8Array,
  options?: DetectorLoadOptions,
): DetectorParts & { meta: DetectorJson } {
  const opts = optionsOf('AnomalyDetector.load', options);
  const source = opts.source ?? 'detector';
  if (typeof source !== 'string')
    throw new ArgumentError('AnomalyDetector.load', 'source', 'must be a string naming the files');
  const jsonSource = `${source}.json`,
    weightsSource = `${source}.safetensors`;
  const j = parseDetectorJson(json, jsonSource);
  const fail = fileFail(jsonSource);
  const get = record(j, 'detector', fail, ['format', 'version', 'score', 'threshold', 'stack', 'training']);
  const threshold = get('threshold');
  if (typeof threshold !== 'number' || !Number.isFinite(threshold))
    fail('threshold', `must be a finite number, got ${describe(threshold)}`);
  const stackJson = get('stack');
  const description = describeModel(stackJson, jsonSource, 'stack', 'stack');
  // The stack planned (nothing allocated): the code size the reference codes must have.
  const own = (k: string) =>
    Object.hasOwn(stackJson as object, k) ? (stackJson as Record<string, unknown>)[k] : undefined;
  const blocks = blocksOf(own('blocks'), 'stack.blocks', fail);
  const shape = inputShapeOf(own('inputShape'), 'stack.inputShape', fail);
  const sizes = inFile(jsonSource, () => plannedCodeSizes(be, blocks, shape));
  const spec = scoreOf(get('score'), blocks.length, fail);

  // Views of `weights`: the stack's tensors are copied once into its parameters, the reference codes once below.
  const file = decodeSafetensors(weights, weightsSource, { copy: false });
  const ref = Object.hasOwn(file.tensors, REFERENCE) ? file.tensors[REFERENCE] : undefined;
  // fromEntries defines each name as an own property, `__proto__` too.
  const rest = Object.fromEntries(Object.entries(file.tensors).filter(([name]) => name !== REFERENCE));
  checkReference(ref, spec, sizes[spec.depth], weightsSource);
  const stack = inFile(jsonSource, () =>
    description.build(
      be,
      fromFile(() => rest, weightsSource, opts),
    ),
  ) as StackedConvAutoencoder;
  try {
    const reference = ref ? { vectors: (ref.data as Float32Array).slice(), n: ref.shape[0], dim: ref.shape[1] } : null;
    const meta: DetectorJson = {
      format: DETECTOR_FORMAT,
      version: DETECTOR_VERSION,
      score: spec,
      threshold: threshold as number,
      stack: description.meta,
      training: get('training'),
    };
    return { stack, spec, reference, threshold: threshold as number, meta };
  } catch (e) {
    stack.dispose();
    throw e;
  }
}
