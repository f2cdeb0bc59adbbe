/**
 * Reads the CAE stack a `convae train` or `pretrain` run saved in its output folder (stack.json + stack.safetensors),
 * or the stack of a detector `convae detect --save` wrote (detector.json + detector.safetensors).
 */
import { join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import { loadModel } from '../model/serialize.js';
import { loadDetectorDir } from './detector-dir.js';
import { isFile, MAX_WEIGHTS_FILE_BYTES, readSavedPair } from './readfile.js';
import { inputOf, type Saved } from './saved.js';

export async function loadStackDir(be: Backend, dir: string): Promise<StackedConvAutoencoder> {
  return (await loadStackDirInput(be, dir)).stack;
}

/** The stack, and how its input was normalised in training (`training.normalize`: spread it into a DataSpec). */
export async function loadStackDirInput(
  be: Backend,
  dir: string,
): Promise<{ stack: StackedConvAutoencoder; input: Saved['input'] }> {
  if (!(await isFile(join(dir, 'stack.json'))) && (await isFile(join(dir, 'detector.json')))) {
    const d = await loadDetectorDir(be, dir, '--model');
    return { stack: d.detector.stack, input: d.input };
  }
  const { json, weights } = await readSavedPair(
    join(dir, 'stack'),
    MAX_WEIGHTS_FILE_BYTES,
    '--model must be a folder written by `convae train` or `pretrain` (stack.json, stack.safetensors), or by `convae detect --save`',
  );
  // The loader refuses any other kind (before allocating) and types the result.
  const { model, meta } = loadModel(be, json, weights, { source: join(dir, 'stack'), kind: 'stack' });
  try {
    return { stack: model, input: inputOf(meta.training, join(dir, 'stack.json')) };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
