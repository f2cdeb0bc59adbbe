/** A model folder written by `convae train` / `convae pretrain`, loaded for the commands that apply it. */
import { basename, dirname, join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import type { ImageShape } from '../data/dataset.js';
import { ArgumentError, DataError, quote } from '../errors.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import type { Classifier } from '../model/classifier.js';
import type { Model } from '../model/model.js';
import { loadModel } from '../model/serialize.js';
import { MAX_MODEL_JSON_CHARS } from '../limits.js';
import { inputOf, type TrainingInput } from '../data/normalize.js';
import { DETECTOR_BASE, loadDetectorDir } from './detector-dir.js';
import { sameFile } from './outdir.js';
import { checkRegularFile, isFile, MAX_WEIGHTS_FILE_BYTES, readJsonText, readLimited } from './readfile.js';

export interface Saved {
  stack: StackedConvAutoencoder | null;
  classifier: Classifier | null;
  /** Class names from the saved training metadata, or null. */
  classes: string[] | null;
  /** How the model's input was normalised in training (`training.normalize`, `training.whitening`): spread it into a DataSpec. */
  input: TrainingInput;
  inputShape: ImageShape;
  dispose(): void;
}

/** Re-exported: the commands read a saved model's input normalisation from here. */
export { inputOf };

/**
 * Longest class name a saved model may hold: a class is a folder name, at most 255 bytes on common file systems,
 * and 1 024 UTF-16 units hold any of them (the old bound, 200, silently dropped a model's longer names).
 */
export const MAX_CLASS_NAME_CHARS = 1024;
/** Most class names a saved model may hold: as many as byte labels name. */
const MAX_CLASSES = 256;

/**
 * Class names as saved in `training.classes` of `file` (absent or null: none). Anything else that is not 1 to 256
 * distinct non-empty strings is a DataError: before, such a list was ignored without a word, and a test folder's
 * class folders were then matched to the model's classes by sorted position, not by name.
 */
export function classesOf(training: unknown, file: string): string[] | null {
  const c = (training as { classes?: unknown } | null | undefined)?.classes;
  if (c === undefined || c === null) return null;
  const fail = (why: string) => new DataError(`${file}: training.classes${why}`);
  if (!Array.isArray(c)) throw fail(` must be a list of class names, got ${quote(c)}`);
  if (c.length === 0 || c.length > MAX_CLASSES)
    throw fail(` must hold 1 to ${MAX_CLASSES} class names, holds ${c.length}`);
  const seen = new Set<string>();
  for (const [i, x] of c.entries()) {
    if (typeof x !== 'string' || x.length === 0 || x.length > MAX_CLASS_NAME_CHARS)
      throw fail(`[${i}] must be a name of 1 to ${MAX_CLASS_NAME_CHARS} characters, got ${quote(x)}`);
    if (seen.has(x)) throw fail(`: the name ${quote(x)} appears twice: a folder could not be matched to one class`);
    seen.add(x);
  }
  return c as string[];
}

async function one(be: Backend, prefix: string) {
  const json = await readJsonText(`${prefix}.json`, MAX_MODEL_JSON_CHARS);
  // The JSON is only read when `isFile` found it; its weights are checked here.
  await checkRegularFile(`${prefix}.safetensors`, `the weights of ${prefix}.json must be one`);
  const weights = await readLimited(`${prefix}.safetensors`, MAX_WEIGHTS_FILE_BYTES);
  return loadModel(be, json, weights, prefix);
}

/** The files `loadSaved` reads for `model`, whether they exist or not (a folder: its classifier.*, stack.* and detector.*). */
export function savedModelFiles(model: string): string[] {
  const bases = model.endsWith('.json')
    ? [join(dirname(model), basename(model, '.json'))]
    : ['classifier', 'stack', DETECTOR_BASE].map((n) => join(model, n));
  return bases.flatMap((b) => [`${b}.json`, `${b}.safetensors`]);
}

/**
 * A file a command writes (`flag`'s value `out`) must not be one of the model's: `predict --out run/classifier.json`
 * replaced the model with the predictions. Checked before the model is read.
 */
export async function checkOutNotModel(command: string, flag: string, out: string | undefined, model: string) {
  if (!out) return;
  for (const file of savedModelFiles(model))
    if (await sameFile(out, file))
      throw new ArgumentError(
        command,
        flag,
        `${out.slice(0, 160)} is ${basename(file)} of --model ${model.slice(0, 160)}: writing it would destroy the model; give another ${flag}`,
      );
}

/**
 * `model` is a folder (its classifier.* and stack.*, whichever exist) or one
 * model's `NAME.json`. `need` says which part the command cannot do without.
 */
export async function loadSaved(
  be: Backend,
  model: string,
  need: 'stack' | 'classifier' | 'any',
  /** The flag that named `model`, for the messages. */
  flag = '--model',
): Promise<Saved> {
  let prefixes: string[];
  if (model.endsWith('.json')) prefixes = [join(dirname(model), basename(model, '.json'))];
  else prefixes = ['classifier', 'stack'].map((n) => join(model, n));
  let stack: StackedConvAutoencoder | null = null;
  let classifier: Classifier | null = null;
  let classes: string[] | null = null;
  let inputShape: ImageShape | null = null;
  let input: Saved['input'] | null = null;
  // The model just loaded until it is kept: a file refused after loading (its metadata, its shape) must free it.
  let pending: Model | null = null;
  try {
    for (const p of prefixes) {
      if (!(await isFile(`${p}.json`))) continue;
      const { model: m, meta } = await one(be, p);
      pending = m;
      const own = classesOf(meta.training, `${p}.json`);
      // The names label the head's outputs: another count would name some classes wrongly or not at all.
      if (own && m.kind === 'classifier' && own.length !== (m as Classifier).classes)
        throw new DataError(
          `${p}.json: training.classes names ${own.length} classes, the classifier's head has ${(m as Classifier).classes}`,
        );
      classes ??= own;
      const seen = inputOf(meta.training, `${p}.json`);
      if (input !== null && input.normalize !== seen.normalize)
        throw new DataError(
          `${p}.json was trained on '${seen.normalize}' input, the other model on '${input.normalize}'`,
        );
      input ??= seen;
      const shape = meta.inputShape as unknown as ImageShape;
      if (inputShape && inputShape.join() !== shape.join())
        throw new DataError(`${p}.json takes [${shape.join(',')}] images, the other model [${inputShape.join(',')}]`);
      inputShape = shape;
      // A second model of a kind (classifier.json holding a stack) would replace the first and leak it.
      if ((m.kind === 'classifier' && classifier) || (m.kind === 'stack' && stack))
        throw new DataError(`${p}.json holds a second ${m.kind}; a model folder holds one classifier and one stack`);
      if (m.kind === 'classifier') classifier = m as Classifier;
      else if (m.kind === 'stack') stack = m as StackedConvAutoencoder;
      else
        throw new DataError(`${p}.json holds a model of kind '${m.kind}'; these commands read a classifier or a stack`);
      pending = null;
    }
    // A folder `convae detect --save` wrote holds a CAE stack too: the commands that need only a stack read it
    // (what the detector sees: `similar`, `reconstruct`, `features`, `encode`).
    if (!inputShape && !model.endsWith('.json') && (await isFile(join(model, 'detector.json')))) {
      if (need === 'classifier')
        throw new DataError(
          `${flag} ${model.slice(0, 160)} holds an anomaly detector (detector.json), not a classifier: score images with \`convae detect --detector ${model.slice(0, 160)} --data DIR\``,
        );
      const d = await loadDetectorDir(be, model, flag);
      stack = d.detector.stack;
      input = d.input;
      inputShape = stack.inputShape as ImageShape;
    }
    if (!inputShape)
      throw new DataError(`${flag} ${model.slice(0, 160)}: no classifier.json, stack.json or detector.json there`);
    if (need === 'stack' && !stack)
      throw new DataError(`${flag} ${model.slice(0, 160)}: this command needs the CAE stack (stack.json), not found`);
    if (need === 'classifier' && !classifier)
      throw new DataError(
        `${flag} ${model.slice(0, 160)}: this command needs a classifier (classifier.json), not found${
          stack
            ? `; it holds a CAE stack: fine-tune one on labelled images (class sub-folders) with \`convae train --stack ${model.slice(0, 160)} --data DIR\`, or use \`convae encode\` for its codes`
            : ''
        }`,
      );
  } catch (e) {
    pending?.dispose();
    stack?.dispose();
    classifier?.dispose();
    throw e;
  }
  const s = stack,
    c = classifier;
  return {
    stack,
    classifier,
    classes,
    input: input ?? { normalize: 'none' },
    inputShape: inputShape!,
    dispose: () => {
      s?.dispose();
      c?.dispose();
    },
  };
}
