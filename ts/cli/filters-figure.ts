/**
 * `convae filters-figure`: Masci et al. 2011's comparison of first-layer
 * filters, as one picture — CAEs of 20 filters of 7×7 trained alike on the
 * same images, which differ only in max-pooling, input noise and sparsity:
 * the paper's four (plain, 50 % masking — "binomial" — noise, 2×2
 * max-pooling, max-pooling + 30 % noise) and, last, convae's default first
 * block (max-pooling and a k-sparse decoder).
 */
import { join } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { type BlockSpec, ConvAutoencoder } from '../model/autoencoder.js';
import { evaluateTask } from '../train/evaluate.js';
import { fit } from '../train/fit.js';
import { autoencoderTask } from '../model/tasks.js';
import { filterPanelsFigure, loadRenderer } from '../viz/render.js';
import { resolveTrainData } from './data.js';
import { checkImagesFit } from './fits.js';
import { makeDirs, writeAtomic } from '../io/files.js';
import { checkOutsideData } from './outdir.js';
import { FIRST_BLOCK_SPARSITY } from './paper-arch.js';

/** What `convae filters-figure` takes. */
export interface FiltersFigureArgs {
  data?: string;
  epochs: number;
  limit?: number;
  maps: number;
  kernel: number;
  lr: number;
  seed: number;
  out: string;
  build: Build | 'auto';
  quiet: boolean;
}

/** The CAEs of the figure: label and block (the rest of the block is the library's default: tanh, tied, sigmoid output). */
export function figureBlocks(maps: number, kernel: number): { label: string; block: BlockSpec }[] {
  const convs = [{ filters: maps, kernel }];
  const sparse = FIRST_BLOCK_SPARSITY.keep;
  return [
    { label: 'plain', block: { convs, activation: 'tanh', pool: null } },
    {
      label: '50 % noise',
      block: { convs, activation: 'tanh', pool: null, noise: { type: 'mask', fraction: 0.5 } },
    },
    { label: 'max-pool 2×2', block: { convs, activation: 'tanh', pool: { kernel: 2 } } },
    {
      label: 'max-pool + 30 % noise',
      block: { convs, activation: 'tanh', pool: { kernel: 2 }, noise: { type: 'mask', fraction: 0.3 } },
    },
    {
      label: `max-pool + ${100 * sparse} % k-sparse (convae)`,
      block: { convs, activation: 'tanh', pool: { kernel: 2 }, sparsity: { keep: sparse } },
    },
  ];
}

export async function filtersFigure(a: FiltersFigureArgs): Promise<{ mse: number[] }> {
  const log = (s: string) => a.quiet || console.log(s);
  loadRenderer(); // the picture is the output: without a renderer, stop before training
  await checkOutsideData(
    'convae filters-figure',
    [{ flag: '--out', path: a.out, folder: true }],
    [{ flag: '--data', spec: a.data }],
  );
  const t0 = performance.now();
  const be = await loadBackend({ build: a.build });
  const { train, test, name } = await resolveTrainData({ data: a.data ?? 'mnist', limit: a.limit, seed: a.seed });
  // The pooled panels need more pixels than the plain ones: every CAE is planned before the first one trains.
  for (const { block } of figureBlocks(a.maps, a.kernel))
    checkImagesFit(be, 'convae filters-figure', [block], train.shape, { flag: '--data', name }, 'a smaller --kernel');
  const panels = [],
    mse: number[] = [];
  for (const { label, block } of figureBlocks(a.maps, a.kernel)) {
    const cae = new ConvAutoencoder(be, block, train.shape, { seed: a.seed });
    try {
      await fit(be, autoencoderTask(cae), train, {
        epochs: a.epochs,
        batchSize: 64,
        seed: a.seed,
        optimizer: { type: 'adam', lr: a.lr },
      });
      const m = evaluateTask(be, autoencoderTask(cae), test.take(Math.min(2000, test.length))).loss;
      mse.push(m);
      const w = cae.convs[0].weight.value;
      panels.push({ label, weights: w.toArray(), shape: w.shape as [number, number, number, number] });
      log(`${label}: reconstruction MSE on test images ${m.toFixed(5)}`);
    } finally {
      cae.dispose();
    }
  }
  const fig = filterPanelsFigure(panels, {
    title: `First-layer filters of five CAEs (${name}, ${a.epochs} epoch${a.epochs > 1 ? 's' : ''} of ${train.length} images each)`,
    note: 'Each CAE: tanh, tied decoder, sigmoid reconstruction, Adam; masking noise zeroes that fraction of the pixels; k-sparse: the decoder sees only that fraction of each pooled map, its largest values.',
  });
  await makeDirs(a.out);
  await writeAtomic(join(a.out, 'filters-figure.png'), fig.png);
  await writeAtomic(join(a.out, 'filters-figure.svg'), fig.svg);
  log(
    `wrote ${join(a.out, 'filters-figure.png')} (${((performance.now() - t0) / 1000).toFixed(0)} s; reconstruction MSE ${mse.map((m) => m.toFixed(4)).join(', ')})`,
  );
  return { mse };
}
