/**
 * What `convae train` and `pretrain` say about saturated codes: the share
 * codeSaturation counts, and a warning pointing at untied decoders only when
 * most codes sit in the flat tails.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { codeSaturation } from '../../ts/anomaly/saturation.js';
import { saturationNote } from '../../ts/cli/saturation-note.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { Rng } from '../../ts/util/rng.js';
import { backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();
const block = (activation: 'tanh' | 'relu') => [
  { convs: [{ filters: 4, kernel: 3 }], activation, pool: { kernel: 2 } },
];
const tanh = new StackedConvAutoencoder(be, block('tanh'), [1, 8, 8], 5);
const relu = new StackedConvAutoencoder(be, block('relu'), [1, 8, 8], 5);
afterAll(() => {
  tanh.dispose();
  relu.dispose();
});
const rng = new Rng(3);
const data = ImageDataset.fromFloat32(
  Float32Array.from({ length: 20 * 64 }, () => rng.next()),
  [1, 8, 8],
);

describe('saturationNote', () => {
  it('at initialisation: the share, no warning', () => {
    const note = saturationNote(tanh, 0, data);
    expect(note.share).toBe(codeSaturation(tanh, data));
    expect(note.share).toBeLessThan(0.5);
    expect(note.text).toBe(
      `; ${(100 * note.share!).toFixed(1)} % of its codes on the training images in tanh's flat tails`,
    );
    expect(note.warning).toBeNull();
  });

  it('weights ×100: most codes saturated, and a warning that names the cure', () => {
    const w = tanh.blocks[0].convs[0].weight.value;
    const w0 = Float32Array.from(w.data);
    w.set(w0.map((v) => v * 100));
    try {
      const note = saturationNote(tanh, 0, data);
      expect(note.share).toBeGreaterThan(0.5);
      expect(note.warning).toContain("of CAE 1's codes sit in tanh's flat tails");
      expect(note.warning).toContain('--decoder untied');
    } finally {
      w.set(w0);
    }
  });

  it('relu: nothing to say', () => {
    expect(saturationNote(relu, 0, data)).toEqual({ share: null, text: '', warning: null });
  });
});
