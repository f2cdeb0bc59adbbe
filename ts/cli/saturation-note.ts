import { codeSaturation } from '../anomaly/saturation.js';
import type { ImageDataset } from '../data/dataset.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import type { Classifier } from '../model/classifier.js';
import { type RescaledConv, rescaleConvs } from '../train/rescale.js';

/** Above this share of codes in the flat tails a block counts as saturated: `train` warns, and scales it down before fine-tuning. */
export const SATURATED = 0.5;

/**
 * Codes judged after each pretrained block: enough for a share to ±1 %, cheap next to the pretraining.
 * They are the first training images, never test images: the share decides whether `train` rescales.
 */
const SAMPLE = 2000;

/**
 * The share of block k's codes in its activation's flat tails (null: none
 * such) and the words `convae train` and `pretrain` print about it — with a
 * warning when most codes are there, since fine-tuning can hardly move them
 * (docs/paper-results.md, section 6).
 */
export function saturationNote(
  stack: StackedConvAutoencoder,
  k: number,
  images: ImageDataset,
): { share: number | null; text: string; warning: string | null } {
  const share = codeSaturation(stack, images.take(SAMPLE), { depth: k + 1 });
  if (share === null) return { share, text: '', warning: null };
  const pct = `${(100 * share).toFixed(1)} %`;
  const act = stack.specs[k].activation;
  return {
    share,
    text: `; ${pct} of its codes on the training images in ${act}'s flat tails`,
    warning:
      share > SATURATED
        ? `warning: ${pct} of CAE ${k + 1}'s codes sit in ${act}'s flat tails, where fine-tuning can hardly move them (docs/paper-results.md, section 6); \`convae train\` scales such layers down before fine-tuning (--no-rescale keeps them); with tied decoders and --sparsity, --decoder untied avoids it`
        : null,
  };
}

/**
 * The rule `convae train` (by default) and `convae paper --rescale` follow: when any
 * pretrained block's share of codes in the tails (`shares`, one per block, null: no
 * tails) is over SATURATED, the classifier's conv layers are capped at a
 * pre-activation std of 1 (`rescaleConvs`) on the first images of `images`.
 * Returns the saturated blocks (1-based) and the layers scaled.
 */
export function rescaleIfSaturated(
  clf: Classifier,
  shares: (number | null)[],
  images: ImageDataset,
): { blocks: number[]; scaled: RescaledConv[] } {
  const blocks = shares.flatMap((share, k) => (share !== null && share > SATURATED ? [k + 1] : []));
  if (!blocks.length) return { blocks, scaled: [] };
  return { blocks, scaled: rescaleConvs(clf, images).filter((r) => r.scale !== 1) };
}

/** How `train` and `paper` report a rescale. */
export function rescaleText(r: { blocks: number[]; scaled: RescaledConv[] }): string {
  const which = `CAE ${r.blocks.join(' and ')} ${r.blocks.length > 1 ? 'are' : 'is'} saturated`;
  const layers = r.scaled.map((x) => `${x.layer} ×${x.scale.toPrecision(3)}`).join(', ') || 'none needed it';
  return `fine-tuning starts from the stack's conv layers scaled to a pre-activation std of at most 1, since ${which}: ${layers}`;
}
