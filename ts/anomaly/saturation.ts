/**
 * How many of a stack's codes sit in the flat tails of their activation. A
 * pretrained tanh stack whose codes are mostly there fine-tunes badly: the
 * gradient through them is under a tenth of its peak, so the labels can hardly
 * move them (docs/paper-results.md, section 6: tied k-sparse CAEs on
 * Fashion-MNIST, 96 % of the second block's codes, 4.5 points lost).
 */
import type { ImageDataset } from '../data/dataset.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import type { Activation } from '../ops/elementwise.js';
import { checkDepth, checkImages, forEachBatch, stackBatch } from './embed.js';
import { optionsOf } from '../util/options.js';

/**
 * The tails of the bounded activations: within 2.5 % of their range from
 * either bound, where the slope is under a tenth of its peak (tanh: |y| > 0.95,
 * slope 1 − y² < 0.0975; sigmoid: y(1 − y) < 0.0244). Unbounded activations
 * have no such tails.
 */
const TAILS: Partial<Record<Activation, { below: number; above: number }>> = {
  tanh: { below: -0.95, above: 0.95 },
  sigmoid: { below: 0.025, above: 0.975 },
};

/** Options of `codeSaturation`. */
export interface SaturationOptions {
  /** Blocks the images go through, 1 … the stack's length (default: all); the codes of the last are judged. */
  depth?: number;
  /** Images per forward pass, in [1, 65536]; default 256, or as many as fit when fewer do. */
  batchSize?: number;
}

/**
 * The fraction of the codes after `depth` blocks that lie in the flat tails
 * of that block's activation, over every image of `data`; null when the
 * activation has no flat tails (relu, leakyRelu, identity) or `data` holds no
 * images. Max-pooling picks activations, so a pooled code is judged like the
 * activation it came from.
 */
export function codeSaturation(
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  options?: SaturationOptions,
): number | null {
  const op = 'codeSaturation';
  const opts = optionsOf(op, options);
  const depth = checkDepth(op, stack, opts.depth ?? stack.blocks?.length, 1);
  checkImages(op, stack, data);
  const batchSize = stackBatch(op, stack, depth, data.length, opts.batchSize);
  const tail = TAILS[stack.specs[depth - 1].activation];
  if (!tail || data.length === 0) return null;
  const { below, above } = tail;
  let tails = 0,
    total = 0;
  forEachBatch(stack.be, data, batchSize, (x) => {
    const codes = stack.encodeThrough(depth, x).data;
    for (let i = 0; i < codes.length; i++) if (codes[i] < below || codes[i] > above) tails++;
    total += codes.length;
  });
  return tails / total;
}
