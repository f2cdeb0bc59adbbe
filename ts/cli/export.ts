/** `convae export` and `convae import`: move a model to PyTorch / ONNX and back (ts/export). */
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import { ArgumentError } from '../errors.js';
import { exportOnnx } from '../export/onnx.js';
import { importPyTorch } from '../export/import.js';
import { exportPyTorch } from '../export/pytorch.js';
import { MAX_MODEL_JSON_CHARS } from '../limits.js';
import { exportWeights, loadModel } from '../model/serialize.js';
import { writeAtomicAll } from '../io/files.js';
import { MAX_WEIGHTS_FILE_BYTES, readJsonText, readLimited } from './readfile.js';

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
  const { model } = loadModel(be, json, weights, prefix);
  try {
    const files = o.format === 'pytorch' ? exportPyTorch(model, json).files : await exportOnnx(model);
    await mkdir(o.out, { recursive: true });
    // model.py and model.json describe the weights written beside them: all replaced, or none.
    await writeAtomicAll(Object.entries(files).map(([name, data]) => [join(o.out, name), data] as const));
    if (!o.quiet) console.log(`wrote ${Object.keys(files).join(', ')} to ${o.out}/`);
  } finally {
    model.dispose();
  }
}

export async function importCommand(o: { from: string; arch: string; out: string; quiet?: boolean }) {
  // The small file first: an --arch refused by its size costs no read of the weights.
  const json = await readJsonText(o.arch, MAX_MODEL_JSON_CHARS);
  const weights = await readLimited(o.from, MAX_WEIGHTS_FILE_BYTES);
  const be = await loadBackend();
  const { model, meta, naming } = importPyTorch(be, json, weights, o.from, o.arch);
  try {
    await mkdir(o.out, { recursive: true });
    const { training: _, ...rest } = meta;
    // A model already saved in --out survives a failed write whole, never a new JSON over its old weights.
    await writeAtomicAll([
      [join(o.out, `${meta.kind}.json`), JSON.stringify(rest, null, 2)],
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
