/** Reads the CAE stack a `convae train` run saved in its output folder (stack.json + stack.safetensors). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { DataError } from '../errors.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
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
  // The loader refuses any other kind (before allocating) and types the result.
  return loadModel(be, json, weights, { source: join(dir, 'stack'), kind: 'stack' }).model;
}
