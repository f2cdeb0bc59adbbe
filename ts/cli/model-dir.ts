/** Reads the CAE stack a `convae train` run saved in its output folder (stack.json + stack.safetensors). */
import { join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { DataError, FormatError } from '../errors.js';
import { MAX_MODEL_JSON_CHARS } from '../limits.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import { loadModel } from '../model/serialize.js';
import { MAX_WEIGHTS_FILE_BYTES, readJsonText, readLimited } from './readfile.js';
import { inputOf, type Saved } from './saved.js';

export async function loadStackDir(be: Backend, dir: string): Promise<StackedConvAutoencoder> {
  return (await loadStackDirInput(be, dir)).stack;
}

/** The stack, and how its input was normalised in training (`training.normalize`: spread it into a DataSpec). */
export async function loadStackDirInput(
  be: Backend,
  dir: string,
): Promise<{ stack: StackedConvAutoencoder; input: Saved['input'] }> {
  const read = async <T>(file: string, how: (file: string) => Promise<T>) => {
    try {
      return await how(file);
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw new DataError(
        `${file} cannot be read: --model must be a folder written by \`convae train\` (stack.json, stack.safetensors)`,
      );
    }
  };
  const json = await read(join(dir, 'stack.json'), (f) => readJsonText(f, MAX_MODEL_JSON_CHARS));
  const weights = await read(join(dir, 'stack.safetensors'), (f) => readLimited(f, MAX_WEIGHTS_FILE_BYTES));
  // The loader refuses any other kind (before allocating) and types the result.
  const { model, meta } = loadModel(be, json, weights, { source: join(dir, 'stack'), kind: 'stack' });
  try {
    return { stack: model, input: inputOf(meta.training, join(dir, 'stack.json')) };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
