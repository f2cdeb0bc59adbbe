/**
 * Taming a pretrained network before fine-tuning. A CAE stack can pretrain
 * into weights so large that most of its tanh units sit in their flat tails
 * (`codeSaturation`); fine-tuning from there crawls, since the gradient
 * through those units is under a tenth of its peak. Scaling each such conv
 * layer down, in order, until its outputs before the activation have a
 * standard deviation of `maxStd` (as LSUV, Mishkin & Matas 2016, does at
 * initialisation) keeps the features' directions and gives the labels back
 * their grip: on a saturated Masci et al. stack, 8.4 → 2.6 % validation error
 * at 1 000 MNIST labels; on tied Fashion-MNIST stacks, 4 of the 4.5 points
 * pretraining had cost (docs/paper-results.md, section 6). Layers already
 * below `maxStd` are left alone, so a healthy stack (or a randomly
 * initialised network) fine-tunes exactly as before.
 */
import { forEachBatch, checkBatchSize, checkImages } from '../anomaly/embed.js';
import { datasetArg, type ImageDataset } from '../data/dataset.js';
import { ArgumentError, quote } from '../errors.js';
import type { Classifier } from '../model/classifier.js';
import { Conv2D } from '../model/layers.js';
import { optionsOf } from '../util/options.js';

/** Options of `rescaleConvs`. */
export interface RescaleOptions {
  /** The largest standard deviation of a conv layer's outputs before its activation that is left alone (default 1). */
  maxStd?: number;
  /** Images the statistics are taken over: the first this many of the data (default 512). */
  images?: number;
  /** Images per forward pass (default 128). */
  batchSize?: number;
}

/** What `rescaleConvs` found and did for one conv layer. */
export interface RescaledConv {
  /** The conv layer's name, e.g. `block0.conv0`. */
  layer: string;
  /** Standard deviation of its outputs before the activation, before scaling (after the layers before it were scaled). */
  std: number;
  /** The factor its weight and bias were multiplied by (1: left alone). */
  scale: number;
}

/**
 * Scales down, layer by layer in order, each conv layer of `clf` whose
 * outputs before the activation spread wider than `maxStd` over the first
 * `images` images of `data`: weight and bias alike, to exactly `maxStd`.
 * Changes the classifier in place; returns one entry per conv layer.
 */
export function rescaleConvs(clf: Classifier, data: ImageDataset, options?: RescaleOptions): RescaledConv[] {
  const op = 'rescaleConvs';
  if ((clf as { kind?: unknown } | null)?.kind !== 'classifier')
    throw new ArgumentError(op, 'clf', 'must be a Classifier (Classifier.fromStack)');
  datasetArg(op, data);
  const opts = optionsOf(op, options);
  const maxStd = opts.maxStd ?? 1;
  if (typeof maxStd !== 'number' || !Number.isFinite(maxStd) || maxStd <= 0 || maxStd > 1e6)
    throw new ArgumentError(op, 'maxStd', `must be a number in (0, 1e6], got ${quote(maxStd)}`);
  const images = opts.images ?? 512;
  if (typeof images !== 'number' || !Number.isInteger(images) || images < 1 || images > 1e7)
    throw new ArgumentError(op, 'images', `must be an integer in [1, 1e7], got ${quote(images)}`);
  const batchSize = checkBatchSize(op, opts.batchSize ?? 128);
  checkImages(op, clf, data);
  const layers = clf.net.layers;
  const end = Math.min(images, data.length);
  const out: RescaledConv[] = [];
  for (let i = 0; i < layers.length; i++) {
    const conv = layers[i];
    if (!(conv instanceof Conv2D)) continue;
    let s1 = 0,
      s2 = 0,
      n = 0;
    forEachBatch(
      clf.be,
      data,
      batchSize,
      (x) => {
        let t = x;
        for (let j = 0; j <= i; j++) t = layers[j].forward(t, false);
        for (const v of t.data) {
          s1 += v;
          s2 += v * v;
        }
        n += t.data.length;
      },
      0,
      end,
    );
    const std = n ? Math.sqrt(Math.max(0, s2 / n - (s1 / n) ** 2)) : 0;
    const scale = std > maxStd ? maxStd / std : 1;
    if (scale !== 1)
      for (const p of conv.params()) {
        const w = p.value.data;
        for (let j = 0; j < w.length; j++) w[j] *= scale;
      }
    out.push({ layer: conv.name, std, scale });
  }
  return out;
}
