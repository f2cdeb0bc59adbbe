/** `convae export` and `convae import`: move a model to PyTorch / ONNX and back (ts/export). */
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import { ArgumentError, DataError } from '../errors.js';
import { exportOnnx } from '../export/onnx.js';
import { importPyTorch } from '../export/import.js';
import { normalizationStep } from '../export/input.js';
import { exportPyTorch } from '../export/pytorch.js';
import { MAX_MODEL_JSON_CHARS } from '../limits.js';
import type { Classifier } from '../model/classifier.js';
import type { Model } from '../model/model.js';
import { exportWeights, loadModel } from '../model/serialize.js';
import { writeAtomicAll } from '../io/files.js';
import { MAX_WEIGHTS_FILE_BYTES, readJsonText, readLimited } from './readfile.js';
import { checkOutDir } from './outdir.js';
import { classesOf, inputOf } from './saved.js';

/** A model's JSON path: the file itself, or classifier.json (else stack.json) in a folder. */
async function modelJsonPath(path: string): Promise<string> {
  const s = await stat(path).catch(() => null);
  if (!s) throw new ArgumentError('convae export', '--model', `'${path}' does not exist`);
  if (!s.isDirectory()) return path;
  for (const name of ['classifier.json', 'stack.json', 'model.json']) {
    const p = join(path, name);
    if (await stat(p).catch(() => null)) return p;
  }
  throw new ArgumentError('convae export', '--model', `'${path}' holds no classifier.json, stack.json or model.json`);
}

export async function exportCommand(o: { model: string; format: 'pytorch' | 'onnx'; out: string; quiet?: boolean }) {
  const jsonPath = await modelJsonPath(o.model);
  const prefix = join(dirname(jsonPath), basename(jsonPath, '.json'));
  const json = await readJsonText(jsonPath, MAX_MODEL_JSON_CHARS);
  const weights = await readLimited(`${prefix}.safetensors`, MAX_WEIGHTS_FILE_BYTES);
  const be = await loadBackend();
  const { model, meta } = loadModel(be, json, weights, prefix);
  try {
    // Read here first: a bad record is refused naming the model's file, not the API's argument; and, as import
    // and predict would, class names that do not fit the classifier's head (an export copied them into model.json).
    inputContract(meta.training, jsonPath, model);
    const step = normalizationStep(inputOf(meta.training, jsonPath));
    const files = o.format === 'pytorch' ? exportPyTorch(model, json).files : await exportOnnx(model, json);
    // A file or an unwritable place as --out is named as the flag (it was a bare failed mkdir), once the model is known good.
    await checkOutDir(o.out);
    // model.py and model.json describe the weights written beside them: all replaced, or none.
    await writeAtomicAll(Object.entries(files).map(([name, data]) => [join(o.out, name), data] as const));
    if (!o.quiet) console.log(`wrote ${Object.keys(files).join(', ')} to ${o.out}/`);
    // Whoever fed the export normalised images, as it used to want, would now normalise them twice.
    if (step && !o.quiet)
      console.log(`it takes raw pixels in [0, 1], as convae predict does: its first step is the model's ${step}`);
  } finally {
    model.dispose();
  }
}

/**
 * What of the architecture's `training` record the imported model keeps: the rest describes a convae run its new
 * weights no longer come from, but the input normalisation and the class names hold for weights trained further
 * elsewhere. Without them the model was fed raw pixels where it was trained on normalised ones, and its classes were
 * matched to a folder's by sorted position: other predictions from the same weights. Checked as `loadSaved` will
 * check them, so an import never writes a model the commands then refuse. Null when there is nothing to keep.
 */
function inputContract(training: unknown, arch: string, model: Model): Record<string, unknown> | null {
  const classes = classesOf(training, arch);
  if (classes && model.kind === 'classifier' && classes.length !== (model as Classifier).classes)
    throw new DataError(
      `${arch}: training.classes names ${classes.length} classes, the classifier's head has ${(model as Classifier).classes}`,
    );
  const input = inputOf(training, arch);
  const kept: Record<string, unknown> = {};
  if (input.normalize !== 'none') kept.normalize = input.normalize;
  if (input.normalize === 'whiten') kept.whitening = (training as { whitening: unknown }).whitening;
  if (classes) kept.classes = classes;
  return Object.keys(kept).length ? kept : null;
}

export async function importCommand(o: { from: string; arch: string; out: string; quiet?: boolean }) {
  // The small file first: an --arch refused by its size costs no read of the weights.
  const json = await readJsonText(o.arch, MAX_MODEL_JSON_CHARS);
  const weights = await readLimited(o.from, MAX_WEIGHTS_FILE_BYTES);
  const be = await loadBackend();
  const { model, meta, naming } = importPyTorch(be, json, weights, o.from, o.arch);
  try {
    const training = inputContract(meta.training, o.arch, model);
    // A file or an unwritable place as --out is named as the flag (it was a bare failed mkdir), once the model is known good.
    await checkOutDir(o.out);
    const { training: _, ...rest } = meta;
    // A model already saved in --out survives a failed write whole, never a new JSON over its old weights.
    await writeAtomicAll([
      [join(o.out, `${meta.kind}.json`), JSON.stringify(training ? { ...rest, training } : rest, null, 2)],
      [join(o.out, `${meta.kind}.safetensors`), exportWeights(model.params())],
    ]);
    if (!o.quiet)
      console.log(
        `imported ${model.params().length} tensors (${naming} names) into a convae ${meta.kind}: wrote ${meta.kind}.json + ${meta.kind}.safetensors to ${o.out}/`,
      );
  } finally {
    model.dispose();
  }
}
