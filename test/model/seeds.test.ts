/**
 * Seeds derived from a user's seed (a stack's blocks, pretraining stages, the random encoder of
 * `embeddings`): every seed a flag or constructor accepts, up to 2^32 − 1, must give 32-bit children
 * and a run, and the small seeds saved runs used must keep their streams.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { deriveSeed } from '../../ts/util/rng.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const MAX = 2 ** 32 - 1;
const blocks = [
  { convs: [{ filters: 2, kernel: 3 }], activation: 'tanh' as const, pool: { kernel: 2 } },
  { convs: [{ filters: 3, kernel: 3 }], activation: 'tanh' as const, pool: null },
];

describe('derived seeds', () => {
  it('are seed · stride + k modulo 2^32, exactly (BigInt reference)', () => {
    for (const seed of [0, 1, 7, 4294967, 4294968, 2 ** 31, MAX])
      for (const stride of [1, 10, 31, 1000, 7919])
        for (const k of [0, 1, 5]) {
          const want = Number((BigInt(seed) * BigInt(stride) + BigInt(k)) % 2n ** 32n);
          expect(deriveSeed(seed, k, stride)).toBe(want);
        }
  });

  it("keep a small seed's block seeds (saved stacks rebuild the same weights)", async () => {
    const be = await backendUnderTest();
    const s = new StackedConvAutoencoder(be, blocks, [1, 12, 12], 7);
    try {
      expect(s.blocks.map((b) => b.seed)).toEqual([7000, 7001]);
    } finally {
      s.dispose();
    }
  });

  it('let a stack take the largest seed', async () => {
    const be = await backendUnderTest();
    const s = new StackedConvAutoencoder(be, blocks, [1, 12, 12], MAX);
    try {
      expect(s.seed).toBe(MAX);
      // 4294967295 · 1000 + k modulo 2^32 = 2^32 − 1000 + k
      expect(s.blocks.map((b) => b.seed)).toEqual([2 ** 32 - 1000, 2 ** 32 - 999]);
    } finally {
      s.dispose();
    }
  });
});

// The CLI picks its own build: one project is enough.
describe.runIf(BUILD === 'simd')('the CLI with --seed 4294967295', () => {
  const out = mkdtempSync(join(tmpdir(), 'convae-seed-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const cli = cliAsync(120_000);
  const small = ['--seed', String(MAX), '--limit', '128', '--maps', '4,6', '-q'];

  it('pretrains (this thread) and trains (workers) instead of failing on a derived seed', async () => {
    const [pre, train] = await Promise.all([
      cli(['pretrain', ...small, '--out', join(out, 'pre')]),
      cli([
        'train',
        ...small,
        '--epochs',
        '1',
        '--pretrain-epochs',
        '1',
        '--hidden',
        '16',
        '--out',
        join(out, 'train'),
      ]),
    ]);
    expect(pre.stderr).toBe('');
    expect(pre.status).toBe(0);
    expect(train.stderr).toBe('');
    expect(train.status).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'pre', 'stack.json'), 'utf8')).seed).toBe(MAX);
  });
});
