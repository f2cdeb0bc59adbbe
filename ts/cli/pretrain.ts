/**
 * `convae pretrain`: greedy CAE pretraining alone — no labels needed — on any
 * `--data`; writes the stack (stack.json + stack.safetensors, which
 * `reconstruct`, `encode` and `evaluate` take), its filters (in colour for an
 * RGB input) and reconstructions.
 */
import { join } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { ArgumentError } from '../errors.js';
import type { Activation } from '../ops/elementwise.js';
import { type BlockSpec, StackedConvAutoencoder } from '../model/autoencoder.js';
import type { Decoder } from './commands.js';
import { saveModel } from '../model/serialize.js';
import { evaluateTask } from '../train/evaluate.js';
import { saturationNote } from './saturation-note.js';
import { fit } from '../train/fit.js';
import { stackLayerTask } from '../model/tasks.js';
import { filterStats, summariseFilterStats } from '../viz/filterstats.js';
import { writePng } from '../viz/png.js';
import { reconstructionGrid } from '../viz/raster.js';
import { type DataSpec, heldOutNote, limitImages, resolveTrainData } from './data.js';
import { checkImagesFit } from './fits.js';
import { type FirstNoise, firstNoiseSpec } from './first-noise.js';
import { defaultArchitecture, filterPicture, RECONSTRUCTIONS_PNG, reconstructionLayout } from './pictures.js';
import { makeDirs, writeModelFiles } from '../io/files.js';
import { checkOutsideData } from './outdir.js';
import { Progress } from './progress.js';
import { onInterrupt } from './resume.js';
import { deriveSeed } from '../util/rng.js';

export interface PretrainArgs extends DataSpec {
  epochs: number;
  batch: number;
  maps?: [number, number];
  /** Only the first CAE (one block) instead of two. */
  layers: 1 | 2;
  kernel: number;
  /** Zero padding of every convolution; 'same' keeps the size ((kernel − 1)/2, odd kernels). Default 0. */
  padding?: number | 'same';
  /** Encoder activation of every block. Default tanh. */
  activation?: Activation;
  /** Max-pooling window (and stride) of every block. Default 2. */
  pool?: number;
  /**
   * Noise on the first CAE's input (a denoising CAE): a masking fraction (0: none), Gaussian noise of σ `std`, or salt
   * and pepper (pixels only: not with `normalize`).
   */
  noise: FirstNoise;
  /** k-sparse decoding of the first CAE: the fraction of each pooled map kept; 0 (default) for none. */
  sparsity?: number;
  /** The CAEs' decoders: tied to the encoder's kernels (default) or kernels of their own. */
  decoder?: Decoder;
  lr: number;
  seed: number;
  out: string;
  build: Build | 'auto';
  quiet: boolean;
}

export async function pretrain(a: PretrainArgs): Promise<{ reconstructionMse: number[]; seconds: number }> {
  const log = (s: string) => a.quiet || console.log(s);
  if (typeof a.noise !== 'number' && a.noise.type === 'salt-pepper' && (a.normalize ?? 'none') !== 'none')
    throw new ArgumentError(
      'convae pretrain',
      '--noise',
      `salt-pepper sets values to 0 or 1, the pixel range; --normalize ${a.normalize} stacks are trained on values that are not pixels`,
    );
  await checkOutsideData(
    'convae pretrain',
    [{ flag: '--out', path: a.out, folder: true }],
    [{ flag: '--data', spec: a.data }],
  );
  const t0 = performance.now();
  const be = await loadBackend({ build: a.build });
  const { train, test, classes, name, whitening, patches, testFiles } = await resolveTrainData(a);
  const maps = a.maps ?? defaultArchitecture(train.shape).maps;
  const padding = a.padding === 'same' ? (a.kernel - 1) / 2 : (a.padding ?? 0);
  if (!Number.isInteger(padding))
    throw new ArgumentError('convae pretrain', '--padding', `'same' needs an odd --kernel, got ${a.kernel}`);
  const normalize = a.normalize ?? 'none';
  const common = {
    activation: a.activation ?? 'tanh',
    pool: { kernel: a.pool ?? 2 },
    tied: a.decoder !== 'untied',
  } as const;
  const blocks: BlockSpec[] = [
    {
      ...common,
      convs: [{ filters: maps[0], kernel: a.kernel, padding }],
      noise: firstNoiseSpec(a.noise, normalize === 'none'),
      sparsity: a.sparsity ? { keep: a.sparsity } : null,
      // Normalised images are not in [0, 1]: a linear reconstruction, not a sigmoid.
      ...(normalize !== 'none' ? { outputActivation: 'identity' as const } : {}),
    },
    { ...common, convs: [{ filters: maps[1], kernel: a.kernel, padding }] },
  ].slice(0, a.layers);
  checkImagesFit(
    be,
    'convae pretrain',
    blocks,
    train.shape,
    { flag: '--data', name },
    'a smaller --kernel or --pool, or --padding same',
  );
  // Before the first line of output, so a Ctrl-C prompted by it always finds the handler.
  const stopInterrupt = onInterrupt(a.out, null);
  log(
    `convae pretrain on ${name}: ${train.length} training and ${test.length} test ${patches ? `patches (${patches.perImage} per image${patches.scale !== 1 ? ` scaled by ${patches.scale}` : ''})` : 'images'} of [${train.shape.join(',')}]; ${be.build} build, this thread`,
  );
  let stack: StackedConvAutoencoder | undefined;
  try {
    stack = new StackedConvAutoencoder(be, blocks, train.shape, a.seed);
    const mse: number[] = [];
    const saturated: (number | null)[] = [];
    for (let k = 0; k < stack.blocks.length; k++) {
      const bar = new Progress(`pretrain CAE ${k + 1}/${stack.blocks.length}`, a.epochs, a.quiet);
      await fit(be, stackLayerTask(stack, k), train, {
        epochs: a.epochs,
        batchSize: a.batch,
        seed: deriveSeed(a.seed, k),
        optimizer: { type: 'adam', lr: a.lr },
        onBatch: (b) => bar.batch(b),
        onEpoch: (e) => bar.epoch(e),
      });
      bar.stop();
      mse.push(evaluateTask(be, stackLayerTask(stack, k), test).loss);
      const note = saturationNote(stack, k, train);
      saturated.push(note.share);
      log(
        `CAE ${k + 1}: reconstruction MSE on the ${test.length} held-out ${patches ? `patches (of ${heldOutNote(testFiles!)}, not trained on)` : 'images'} ${mse[k].toFixed(5)}${note.text}`,
      );
      if (note.warning && !a.quiet) console.error(note.warning);
    }
    const seconds = (performance.now() - t0) / 1000;
    await makeDirs(a.out);
    // What the first layer's filters look like, as numbers (ts/viz/filterstats.ts): points, edges, blobs, the rest.
    const w0 = stack.blocks[0].convs[0].weight.value;
    const { moved: _, ...filters } = summariseFilterStats(
      filterStats(w0.data, w0.shape as [number, number, number, number]),
    );
    log(
      `first-layer filters: ${filters.edges} edges, ${filters.blobs} blobs, ${filters.points} single pixels, ${filters.other} other (of ${filters.filters}; ${filters.colour} edges or blobs in colour)`,
    );
    const saved = saveModel(stack, {
      kind: 'pretrained stack',
      dataset: name,
      classes,
      seed: a.seed,
      pretrainEpochs: a.epochs,
      normalize,
      ...(patches ? { patches } : {}),
      ...(whitening ? { whitening: { ...whitening, kernel: Array.from(whitening.kernel) } } : {}),
      reconstructionMse: mse,
      saturatedCodes: saturated,
      filters,
      seconds,
    });
    // A stack already saved in --out survives a failed write whole, never a new JSON over its old weights.
    await writeModelFiles(join(a.out, 'stack'), saved);
    for (const [k, b] of stack.blocks.entries()) {
      const w = b.convs[0].weight.value;
      await writePng(
        join(a.out, `filters-block${k + 1}.png`),
        filterPicture(w.data, w.shape as [number, number, number, number], 12),
      );
    }
    const [, h, w] = test.shape;
    const layout = reconstructionLayout(test.length, h, w, 4);
    if (layout) {
      // Of a folder, whose test images are in class order, a sample of its classes as --limit takes it.
      const sample = limitImages(test, name, layout.count, a.seed);
      const originals = sample.readImages(0, sample.length);
      const x = be.fromArray([sample.length, ...sample.shape], originals);
      const y = stack.blocks[0].reconstruct(x).toArray();
      x.dispose();
      await writePng(
        join(a.out, RECONSTRUCTIONS_PNG),
        reconstructionGrid(originals, y, [sample.length, ...sample.shape] as [number, number, number, number], {
          scale: layout.scale,
          columns: layout.columns,
          range: normalize !== 'none' ? [-3, 3] : [0, 1],
        }),
      );
    } else log(`${RECONSTRUCTIONS_PNG} left out: images of ${h}×${w} are too large to draw with their reconstructions`);
    log(`wrote stack.json + stack.safetensors, filters and reconstructions to ${a.out}/ (${seconds.toFixed(0)} s)`);
    return { reconstructionMse: mse, seconds };
  } finally {
    stopInterrupt();
    stack?.dispose();
  }
}
