import { codeSaturation } from '../anomaly/saturation.js';
import type { ImageDataset } from '../data/dataset.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';

/** Codes judged after each pretrained block: enough for a share to ±1 %, cheap next to the pretraining. */
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
    text: `; ${pct} of its codes in ${act}'s flat tails`,
    warning:
      share > 0.5
        ? `warning: ${pct} of CAE ${k + 1}'s codes sit in ${act}'s flat tails, where fine-tuning can hardly move them; with tied decoders and --sparsity this costs accuracy (docs/paper-results.md, section 6): try --decoder untied`
        : null,
  };
}
