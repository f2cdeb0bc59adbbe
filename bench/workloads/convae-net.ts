/** convae's definitions of the workload networks (used by the convae runner and test/bench.test.ts). */
import type { BlockSpec, HeadSpec } from '../../ts/index.js';

/** The CAE blocks of W1 and W2: no activation on the reconstruction (the MSE on the transposed conv's output). */
export const W1_BLOCK: BlockSpec = {
  convs: [{ filters: 20, kernel: 5 }],
  activation: 'tanh',
  pool: { kernel: 2 },
  outputActivation: 'identity',
};
export const W2_BLOCK: BlockSpec = {
  convs: [{ filters: 50, kernel: 5 }],
  activation: 'tanh',
  pool: { kernel: 2 },
  outputActivation: 'identity',
};
/** The W3/W4 network. */
export const W3_BLOCKS: BlockSpec[] = [
  { convs: [{ filters: 20, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
  { convs: [{ filters: 50, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
];
export const W3_HEAD: HeadSpec = { hidden: [500], classes: 10 };
