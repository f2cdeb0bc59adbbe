/**
 * `convae embeddings --model` measures a stack on MNIST: a stack of other images (16×16 colour) loaded MNIST, made
 * --out, and failed at its first encoding with the runner's message. It is refused first, saying why.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const cli = cliAsync(60_000);
const dir = mkdtempSync(join(tmpdir(), 'convae-embeddings-shape-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(BUILD === 'simd')('embeddings --model of a stack that takes other images than MNIST', () => {
  it('is refused before MNIST loads or --out is made', async () => {
    const be = await backendUnderTest();
    const stack = new cv.StackedConvAutoencoder(be, [{ convs: [{ filters: 2, kernel: 3 }] }], [3, 16, 16], 1);
    const s = cv.saveModel(stack);
    stack.dispose();
    const model = join(dir, 'colour');
    mkdirSync(model);
    writeFileSync(join(model, 'stack.json'), s.json);
    writeFileSync(join(model, 'stack.safetensors'), s.weights);
    const out = join(dir, 'emb');
    const r = await cli([
      'embeddings',
      '--model',
      model,
      '--labels',
      '10',
      '--test-limit',
      '5',
      '--workers',
      '0',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe(
      `convae embeddings: --model ${model} takes [3,16,16] images; embeddings measures on MNIST's [1,28,28]: give a stack trained on 28×28 grey images\n`,
    );
    expect(r.status).toBe(1);
    expect(existsSync(out)).toBe(false);
  });
});
