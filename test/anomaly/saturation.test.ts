/**
 * codeSaturation counts the codes in an activation's flat tails: for a tanh
 * block, against a plain f64 forward (conv, tanh, 2×2 max-pool) with the
 * block's weights scaled from barely to fully saturated; for a sigmoid block
 * behind it, against the codes `encode` gives, in any batch size.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { encode } from '../../ts/anomaly/embed.js';
import { codeSaturation } from '../../ts/anomaly/saturation.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { ArgumentError, DataError } from '../../ts/errors.js';
import { type BlockSpec, StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { Rng } from '../../ts/util/rng.js';
import { backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();
const F = 3,
  K = 3,
  S = 10;
const blocks: BlockSpec[] = [
  { convs: [{ filters: F, kernel: K }], activation: 'tanh', pool: { kernel: 2 } },
  { convs: [{ filters: 2, kernel: 2 }], activation: 'sigmoid', pool: null },
];
const stack = new StackedConvAutoencoder(be, blocks, [1, S, S], 3);
const relu = new StackedConvAutoencoder(
  be,
  [{ convs: [{ filters: 2, kernel: 3 }], activation: 'relu', pool: { kernel: 2 } }],
  [1, S, S],
  3,
);
afterAll(() => {
  stack.dispose();
  relu.dispose();
});
const rng = new Rng(17);
const n = 11;
const images = Float32Array.from({ length: n * S * S }, () => rng.next());
const data = ImageDataset.fromFloat32(images, [1, S, S]);

/** Block 1's pooled tanh codes in f64, straight from the definition. */
function referenceCodes(w: Float32Array, b: Float32Array): number[] {
  const O = S - K + 1,
    P = O / 2;
  const out: number[] = [];
  for (let i = 0; i < n; i++)
    for (let f = 0; f < F; f++)
      for (let py = 0; py < P; py++)
        for (let px = 0; px < P; px++) {
          let best = -Infinity;
          for (let dy = 0; dy < 2; dy++)
            for (let dx = 0; dx < 2; dx++) {
              const y = 2 * py + dy,
                x = 2 * px + dx;
              let s = b[f];
              for (let ky = 0; ky < K; ky++)
                for (let kx = 0; kx < K; kx++)
                  s += w[f * K * K + ky * K + kx] * images[i * S * S + (y + ky) * S + x + kx];
              best = Math.max(best, Math.tanh(s));
            }
          out.push(best);
        }
  return out;
}

describe('codeSaturation', () => {
  const conv = stack.blocks[0].convs[0];
  const w0 = Float32Array.from(conv.weight.value.data),
    b0 = Float32Array.from(conv.bias!.value.data);
  for (const scale of [1, 8, 30, 200]) {
    it(`tanh block, weights ×${scale}: the f64 reference's share of |code| > 0.95`, () => {
      conv.weight.value.set(w0.map((v) => v * scale));
      conv.bias!.value.set(b0.map((v) => v * scale));
      try {
        const ref = referenceCodes(conv.weight.value.data, conv.bias!.value.data);
        const tails = ref.filter((v) => Math.abs(v) > 0.95).length;
        // f32 against f64 may disagree only on codes within a hair of the bound.
        const close = ref.filter((v) => Math.abs(Math.abs(v) - 0.95) < 1e-5).length;
        const got = codeSaturation(stack, data, { depth: 1, batchSize: 4 })!;
        expect(Math.abs(got * ref.length - tails)).toBeLessThanOrEqual(close);
        if (scale === 1) expect(tails).toBe(0);
        if (scale === 200) expect(tails / ref.length).toBeGreaterThan(0.9);
      } finally {
        conv.weight.value.set(w0);
        conv.bias!.value.set(b0);
      }
    });
  }

  it('sigmoid block (the default depth): the share of encode’s codes below 0.025 or above 0.975, in any batch size', () => {
    const last = stack.blocks[1].convs[0];
    const w1 = Float32Array.from(last.weight.value.data);
    last.weight.value.set(w1.map((v) => v * 40));
    try {
      const codes = encode(stack, data).vectors;
      const want = codes.filter((v) => v < 0.025 || v > 0.975).length / codes.length;
      expect(want).toBeGreaterThan(0);
      expect(want).toBeLessThan(1);
      for (const batchSize of [1, 5, 256]) expect(codeSaturation(stack, data, { batchSize })).toBe(want);
    } finally {
      last.weight.value.set(w1);
    }
  });

  it('is null for an activation without flat tails', () => {
    expect(codeSaturation(relu, data)).toBeNull();
  });

  it('rejects a depth outside 1 … the stack, a bad batch size and images of another shape', () => {
    for (const depth of [0, 3, 1.5, '1'])
      expect(() => codeSaturation(stack, data, { depth: depth as number })).toThrow(ArgumentError);
    expect(() => codeSaturation(stack, data, { batchSize: 0 })).toThrow(ArgumentError);
    expect(() => codeSaturation({} as StackedConvAutoencoder, data)).toThrow(ArgumentError);
    const other = ImageDataset.fromFloat32(new Float32Array(2 * 64), [1, 8, 8]);
    expect(() => codeSaturation(stack, other)).toThrow(DataError);
  });
});
