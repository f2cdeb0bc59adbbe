/**
 * `features --block` counts blocks from 1: past the last one the message said "--block must be below 2" of a stack
 * of two blocks, whose --block 2 is fine. It names the value given and the last block there is.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const cli = cliAsync(60_000);
const dir = mkdtempSync(join(tmpdir(), 'convae-features-block-'));
const model = join(dir, 'stack');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const be = await backendUnderTest();
  const block: cv.BlockSpec = { convs: [{ filters: 2, kernel: 3 }], pool: { kernel: 2 } };
  const stack = new cv.StackedConvAutoencoder(be, [block, block], [1, 28, 28], 1);
  const s = cv.saveModel(stack);
  stack.dispose();
  mkdirSync(model);
  writeFileSync(join(model, 'stack.json'), s.json);
  writeFileSync(join(model, 'stack.safetensors'), s.weights);
});

describe.runIf(BUILD === 'simd')('features --block of a stack of two blocks', () => {
  const args = ['features', '--model', model, '--data', 'mnist', '--limit', '10', '--top', '2', '-q'];
  it('--block 3: says 3 is past the last block, 2', async () => {
    const r = await cli([...args, '--block', '3', '--out', join(dir, 'b3')]);
    expect(r.stderr).toBe(`convae features: --block 3 must be at most 2, the blocks of the stack in ${model}\n`);
    expect(r.status).toBe(1);
    expect(existsSync(join(dir, 'b3'))).toBe(false);
  });
  it('--block 2: the second block drawn', async () => {
    const r = await cli([...args, '--block', '2', '--out', join(dir, 'b2')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, 'b2', 'features-block2.png'))).toBe(true);
    expect(existsSync(join(dir, 'b2', 'features-block1.png'))).toBe(false);
  });
});
