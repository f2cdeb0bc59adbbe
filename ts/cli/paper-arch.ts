/**
 * The networks of `convae paper`: the small default (LeNet-like, what
 * `convae train` builds for grey images) and the one Masci et al. 2011 used
 * on MNIST, as a public reproduction quotes it: conv 100 maps 5×5 → max-pool
 * 2×2 → conv 150 maps 5×5 → max-pool 2×2 → conv 200 maps 3×3 → fully
 * connected 300 → softmax, tanh units. Each conv block is one CAE of the
 * greedy stack; the head is added for fine-tuning.
 */
import type { BlockSpec } from '../model/autoencoder.js';
import type { HeadSpec } from '../model/classifier.js';
import type { Decoder } from './commands.js';

/**
 * k-sparse decoding of the first CAE of convae's default pretraining: its
 * decoder sees only the largest 5 % of each pooled code map (docs/paper-results.md).
 */
export const FIRST_BLOCK_SPARSITY = { keep: 0.05 } as const;

/**
 * The first CAE's regulariser in `convae paper` (`--first-cae`): a k-sparse
 * decoder (the default: stroke-like filters, the better linear-probe codes),
 * or 30 % masking noise, what `convae train` pretrains with.
 */
export type FirstCae = 'ksparse' | 'noise';

/** Fine-tuning epochs for a labelled-set size (paper's sizes not in `--epochs`, train's `--labels`): about 150 000 images, at least 10 epochs. */
export const defaultEpochs = (size: number) => Math.max(10, Math.round(150000 / size));

/** The masking noise of `--first-cae noise` (the main job's default). */
export const FIRST_BLOCK_NOISE = { type: 'mask', fraction: 0.3 } as const;

/** The names `--arch` takes. */
export type ArchName = 'small' | 'small-relu' | 'masci';

/** One network of the experiment: its conv blocks (the CAEs) and its dense head (without `classes`). */
export interface PaperArch {
  blocks: BlockSpec[];
  head: Omit<HeadSpec, 'classes'>;
  /** What the report prints. */
  description: string;
}

export const ARCHITECTURES: Record<ArchName, PaperArch> = {
  small: {
    blocks: [
      { convs: [{ filters: 20, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
      { convs: [{ filters: 50, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
    ],
    head: { hidden: [500], hiddenActivation: 'relu' },
    description: 'conv 20×5×5 tanh, pool 2, conv 50×5×5 tanh, pool 2, dense 500 relu, dense 10',
  },
  'small-relu': {
    blocks: [
      { convs: [{ filters: 20, kernel: 5 }], activation: 'relu', pool: { kernel: 2 } },
      { convs: [{ filters: 50, kernel: 5 }], activation: 'relu', pool: { kernel: 2 } },
    ],
    head: { hidden: [500], hiddenActivation: 'relu' },
    description: 'conv 20×5×5 relu, pool 2, conv 50×5×5 relu, pool 2, dense 500 relu, dense 10',
  },
  masci: {
    blocks: [
      { convs: [{ filters: 100, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
      { convs: [{ filters: 150, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
      { convs: [{ filters: 200, kernel: 3 }], activation: 'tanh', pool: null },
    ],
    head: { hidden: [300], hiddenActivation: 'tanh' },
    description:
      'Masci et al. 2011: conv 100×5×5 tanh, pool 2, conv 150×5×5 tanh, pool 2, conv 200×3×3 tanh, dense 300 tanh, dense 10',
  },
};

/**
 * The blocks as the stack pretrains them: the first with k-sparse decoding or
 * masking noise, the rest as they are; every decoder untied with 'untied'.
 */
export function pretrainBlocks(arch: PaperArch, first: FirstCae = 'ksparse', decoder: Decoder = 'tied'): BlockSpec[] {
  const reg = first === 'ksparse' ? { sparsity: FIRST_BLOCK_SPARSITY } : { noise: FIRST_BLOCK_NOISE };
  const dec = decoder === 'untied' ? { tied: false } : {};
  return arch.blocks.map((b, k) => (k === 0 ? { ...b, ...reg, ...dec } : { ...b, ...dec }));
}
