/** Reads the CAE stack a `convae train` run saved in its output folder (stack.json + stack.safetensors). */
import { join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { DataError, FormatError } from '../errors.js';
import { MAX_MODEL_JSON_CHARS } from '../limits.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import { loadModel } from '../model/serialize.js';
import { MAX_WEIGHTS_FILE_BYTES, readJsonText, readLimited } from './readfile.js';

export async function loadStackDir(be: Backend, dir: string): Promise<StackedConvAutoencoder> {
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
  return loadModel(be, json, weights, { source: join(dir, 'stack'), kind: 'stack' }).model;
}
