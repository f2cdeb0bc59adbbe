/** Reads the CAE stack a `convae train` run saved in its output folder (stack.json + stack.safetensors). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { DataError } from '../errors.js';
import { StackedConvAutoencoder } from '../model/autoencoder.js';
import { loadModel } from '../model/serialize.js';

export async function loadStackDir(be: Backend, dir: string): Promise<StackedConvAutoencoder> {
  const read = async (file: string) => {
    try {
      return await readFile(file);
    } catch {
      throw new DataError(
        `${file} cannot be read: --model must be a folder written by \`convae train\` (stack.json, stack.safetensors)`,
      );
    }
  };
  const json = (await read(join(dir, 'stack.json'))).toString('utf8');
  const weights = await read(join(dir, 'stack.safetensors'));
  const { model } = loadModel(be, json, weights, join(dir, 'stack'));
  if (!(model instanceof StackedConvAutoencoder)) {
    model.dispose();
    throw new DataError(`${dir}/stack.json is not a CAE stack`);
  }
  return model;
}
