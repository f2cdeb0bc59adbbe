/** The models the export tests run: a classifier and a stacked CAE with a tied and an untied decoder, on MNIST test images. */
import * as cv from '../../ts/index.js';
import { normalized } from '../../ts/cli/data.js';
import { loadMnist } from '../../ts/node.js';

/** Random weights with non-zero biases (zero biases would leave bias paths untested). */
export function randomize(params: cv.Param[], seed: number): void {
  const rng = new cv.Rng(seed);
  for (const p of params) {
    const d = p.value.data;
    const scale = p.name.endsWith('.bias') ? 0.1 : 0;
    if (scale) for (let i = 0; i < d.length; i++) d[i] = (2 * rng.next() - 1) * scale;
  }
}

export const CLASSIFIER_BLOCKS: cv.BlockSpec[] = [
  { convs: [{ filters: 6, kernel: 5 }] },
  { convs: [{ filters: 8, kernel: 3, padding: 1 }], activation: 'relu', pool: { kernel: 2 } },
];
export const CLASSIFIER_HEAD: cv.HeadSpec = { hidden: [32], hiddenActivation: 'leakyRelu', dropout: 0.5, classes: 10 };

/** Block 0 tied (default) with 2×2 pooling; block 1 untied, two convs (one strided: output padding 1), no pooling. */
export const STACK_BLOCKS: cv.BlockSpec[] = [
  { convs: [{ filters: 4, kernel: 5 }] },
  {
    convs: [
      { filters: 6, kernel: 3, padding: 1 },
      { filters: 5, kernel: 3, stride: 2 },
    ],
    activation: 'leakyRelu',
    pool: null,
    tied: false,
  },
];

export async function mnistTest(n: number): Promise<Float32Array> {
  const ds = await loadMnist({ split: 'test', limit: n });
  return ds.images.slice(0, n * 784);
}

export function classifier(be: cv.Backend, seed = 3): cv.Classifier {
  const c = cv.Classifier.fromBlocks(be, CLASSIFIER_BLOCKS, [1, 28, 28], CLASSIFIER_HEAD, seed);
  randomize(c.params(), seed);
  return c;
}

export function stack(be: cv.Backend, seed = 5): cv.StackedConvAutoencoder {
  const s = new cv.StackedConvAutoencoder(be, STACK_BLOCKS, [1, 28, 28], seed);
  randomize(s.params(), seed);
  return s;
}

/** convae's outputs, named as torch_run.py names them. */
export function convaeOutputs(
  be: cv.Backend,
  model: cv.Classifier | cv.StackedConvAutoencoder,
  images: Float32Array,
): Record<string, Float32Array> {
  const n = images.length / 784;
  const x = be.fromArray([n, 1, 28, 28], images);
  try {
    if (model instanceof cv.Classifier) {
      const logits = model.logits(x).toArray();
      const codes = model.net.layers.filter((l) => l.name.startsWith('block'));
      let t = x;
      for (const l of codes) t = l.forward(t, false);
      return { logits, codes: t.toArray() };
    }
    const out: Record<string, Float32Array> = { codes: model.encodeThrough(model.blocks.length, x).toArray() };
    for (const [k, b] of model.blocks.entries()) out[`recon${k}`] = b.reconstruct(model.encodeThrough(k, x)).toArray();
    return out;
  } finally {
    x.dispose();
  }
}

/** max |a − b| and the largest |b|. */
export function maxDiff(a: Float32Array, b: Float32Array): { abs: number; scale: number } {
  if (a.length !== b.length) throw new Error(`lengths ${a.length} and ${b.length}`);
  let abs = 0,
    scale = 0;
  for (let i = 0; i < a.length; i++) {
    abs = Math.max(abs, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { abs, scale };
}

/** Within 1e-5 relative to the output's scale (at least 1). */
export const close = (d: { abs: number; scale: number }) => d.abs <= 1e-5 * Math.max(1, d.scale);

/** A model's `training` record of an input normalisation, and `images` as convae feeds them to that model. */
export interface Normalised {
  training: { normalize: 'contrast' | 'whiten'; whitening?: unknown };
  /** `images` through convae's own normalisation (`normalized`, as `convae predict` applies it). */
  input: Float32Array;
}

/** Contrast normalisation and a whitening (5×5, fitted on `images` as `convae train --normalize whiten` fits it). */
export function normalisations(images: Float32Array): Record<'contrast' | 'whiten', Normalised> {
  const ds = cv.ImageDataset.fromFloat32(images, [1, 28, 28]);
  const w = cv.fitWhitening(cv.contrastNormalize(ds), { window: 5, samples: 5000 });
  return {
    contrast: { training: { normalize: 'contrast' }, input: normalized(ds, 'contrast').images },
    whiten: {
      training: { normalize: 'whiten', whitening: { ...w, kernel: Array.from(w.kernel) } },
      input: normalized(ds, 'whiten', w).images,
    },
  };
}
