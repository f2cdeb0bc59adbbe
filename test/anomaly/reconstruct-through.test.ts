/**
 * `reconstructThrough` (and `Runner.reconstructThrough`, on this thread and in workers): each image up through the
 * first d blocks (conv → activation → max-pool with switches) and back down (max-unpool at those switches →
 * transposed conv with the tied or own weights → activation), against the float64 reference layers of
 * test/reference (through test/util/f64model.ts) on a tiny two-block stack; workers equal this thread bit for bit.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { reconstructThrough } from '../../ts/anomaly/score.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { ArgumentError } from '../../ts/errors.js';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { threadRunner } from '../../ts/train/runner.js';
import { Trainer } from '../../ts/worker/trainer.js';
import { backendUnderTest, BUILD } from '../util/backend.js';
import { forwardF64, type ParamValues } from '../util/f64model.js';
import { Rng } from '../../ts/util/rng.js';

const be = await backendUnderTest();
const trainer = await Trainer.create(be, { size: 2 });

/** Two blocks on 1×12×12 images: 12 → conv 3×3 → 10 → pool 2 → 5 → conv 2×2 → 4 → pool 2 → 2. */
const stackOf = (tied: boolean, seed: number) =>
  new StackedConvAutoencoder(
    be,
    [
      { convs: [{ filters: 3, kernel: 3 }], activation: 'tanh', pool: { kernel: 2 }, tied },
      { convs: [{ filters: 4, kernel: 2 }], activation: 'tanh', pool: { kernel: 2 }, tied },
    ],
    [1, 12, 12],
    seed,
  );

const rng = new Rng(7);
const n = 37;
const data = ImageDataset.fromFloat32(
  Float32Array.from({ length: n * 144 }, () => rng.next()),
  [1, 12, 12],
);
const stacks = [stackOf(true, 3), stackOf(false, 4)];
afterAll(async () => {
  for (const s of stacks) s.dispose();
  await trainer.dispose();
});

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/** The reference: encoders 1..d, then decoders d..1, layer by layer in float64. */
function reference(stack: StackedConvAutoencoder, depth: number): Float64Array {
  const values: ParamValues = new Map(stack.params().map((p) => [p.name, Float64Array.from(p.value.data)]));
  const blocks = stack.blocks.slice(0, depth);
  const layers = [...blocks.flatMap((b) => b.encoder.layers), ...blocks.reverse().flatMap((b) => b.decoder.layers)];
  return forwardF64(layers, Float64Array.from(data.images), n, values);
}

describe(`reconstructThrough (${BUILD})`, () => {
  for (const [k, tied] of [
    [0, true],
    [1, false],
  ] as const)
    it(`equals the float64 reference through depth 1 and 2 (${tied ? 'tied' : 'untied'} decoders)`, () => {
      const stack = stacks[k]!;
      for (const depth of [1, 2]) {
        const got = reconstructThrough(stack, data, depth, 8);
        const want = reference(stack, depth);
        expect(got.length).toBe(want.length);
        let worst = 0;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        expect(worst).toBeLessThan(1e-5);
        // Not the identity: the reconstruction differs from the image.
        expect(same(got, data.images)).toBe(false);
      }
    });

  it('workers give this thread’s reconstructions bit for bit (uneven shards, every depth)', async () => {
    for (const stack of stacks)
      for (const depth of [1, 2]) {
        const want = reconstructThrough(stack, data, depth, 8);
        expect(same(await threadRunner(be).reconstructThrough(stack, data, { depth, batchSize: 8 }), want)).toBe(true);
        for (const workers of [1, 2])
          expect(same(await trainer.reconstructThrough(stack, data, { depth, batchSize: 8, workers }), want)).toBe(
            true,
          );
      }
    // Defaults: depth 1, the default batch.
    const want = reconstructThrough(stacks[0]!, data, 1);
    expect(same(await trainer.reconstructThrough(stacks[0]!, data), want)).toBe(true);
    expect(same(await threadRunner(be).reconstructThrough(stacks[0]!, data, null as never), want)).toBe(true);
  });

  it('bad arguments are typed errors naming the method', async () => {
    for (const runner of [trainer, threadRunner(be)]) {
      const name = runner === trainer ? 'Trainer' : 'Runner';
      await expect(runner.reconstructThrough(stacks[0]!, data, { depth: 0 })).rejects.toThrow(ArgumentError);
      await expect(runner.reconstructThrough(stacks[0]!, data, { depth: 3 })).rejects.toThrow(ArgumentError);
      await expect(runner.reconstructThrough(stacks[0]!, data, { batchSize: 0 })).rejects.toThrow(ArgumentError);
      await expect(runner.reconstructThrough(stacks[0]!, data, 'deep' as never)).rejects.toThrow(
        new RegExp(`^${name}\\.reconstructThrough: options must be an object`),
      );
    }
    expect(() => reconstructThrough(stacks[0]!, data, 3)).toThrow(/reconstructThrough: depth/);
  });
});
