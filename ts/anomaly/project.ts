/**
 * What a feature responds to: the deconvnet projection of Zeiler & Fergus
 * (2014), the seed's figure read downwards. For feature map `f` of block `b`:
 * run the images up through blocks 0..b (F, then P storing its switches),
 * keep in the code of block b only map f's strongest activation (every other
 * value set to 0), then come back down: for each block from b to 0, unpool
 * with that block's stored switches (U), rectify (R: max(0, ·)) and apply
 * the transposed convolution with the block's own conv weights (Fᵀ, no bias),
 * its convolutions in reverse order. The result lives in pixel space.
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/memory.js';
import { checkResultFloats, type ImageDataset } from '../data/dataset.js';
import { ArgumentError } from '../errors.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import { ConvTranspose2D, MaxUnpool2D } from '../model/layers.js';
import type { Layer } from '../model/layer.js';
import { Rng } from '../util/rng.js';
import { checkDepth, checkImages, forEachBatch, stackBatch } from './embed.js';

/** Options of `projectFeature`. */
export interface FeatureOptions {
  /** Block (0-based) whose feature map is projected. */
  block: number;
  /** Feature map (channel) of that block's code. */
  feature: number;
  /** Images kept: those whose strongest activation of the map is largest (default 9). */
  top?: number;
  /** Rectify before each transposed convolution (default true, as the deconvnet). */
  rectify?: boolean;
  /** Images per forward pass, in [1, 65536]; default 256, or as many as fit when fewer do. */
  batchSize?: number;
}

/** Result of `projectFeature`. */
export interface FeatureProjection {
  /** Indices into the dataset of the top images, strongest first. */
  indices: number[];
  /** Their strongest activation of the map. */
  activations: number[];
  /** Projections in pixel space, [top, C, H, W] flat. */
  projections: Float32Array;
}

/** The downward path of one block: U (when it pools), then R and Fᵀ per convolution in reverse. */
interface Down {
  unpool: MaxUnpool2D | null;
  deconvs: Layer[];
}

function downPath(be: Backend, stack: StackedConvAutoencoder, k: number): Down {
  const b = stack.blocks[k];
  const rng = new Rng(0);
  let unpool: MaxUnpool2D | null = null;
  if (b.pool) {
    unpool = new MaxUnpool2D(`${b.name}.project.unpool`, b.pool);
    unpool.build(be, b.codeShape, rng);
  }
  const deconvs: Layer[] = [];
  for (let i = b.convs.length - 1; i >= 0; i--) {
    const conv = b.convs[i],
      o = conv.opts;
    // Tied, without bias: exactly Fᵀ, with the output size of the conv's input.
    const t = new ConvTranspose2D(
      `${b.name}.project.deconv${i}`,
      { filters: conv.inputShape[0], kernel: o.kernel, stride: o.stride, padding: o.padding, bias: false },
      conv,
      conv.inputShape,
    );
    t.build(be, conv.outputShape, rng);
    deconvs.push(t);
  }
  return { unpool, deconvs };
}

function rectifyInPlace(t: Tensor): Tensor {
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (d[i] < 0) d[i] = 0;
  return t;
}

/** Projects `code` (a code of block `block`, switches of blocks 0..block stored by the last encode) down to pixels. */
function projectDown(be: Backend, paths: Down[], block: number, code: Tensor, rectify: boolean): Tensor {
  let h = code;
  const made: Tensor[] = [];
  for (let k = block; k >= 0; k--) {
    const p = paths[k];
    if (p.unpool) h = p.unpool.forward(h);
    for (const d of p.deconvs) {
      if (rectify) {
        // The layers' outputs are their own buffers: rectify a copy.
        const c = be.fromArray(h.shape, h.data);
        made.push(c);
        h = rectifyInPlace(c);
      }
      h = d.forward(h, false);
    }
  }
  const out = be.fromArray(h.shape, h.data);
  for (const t of made) t.dispose();
  return out;
}

/** The strongest activation of every map of block `block`'s code in every image: [n, channels] row-major. */
export function featureStrengths(
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  block: number,
  batchSize?: number,
): Float64Array {
  const op = 'featureStrengths';
  checkDepth(op, stack, block + 1, 1);
  checkImages(op, stack, data);
  const batch = stackBatch(op, stack, block + 1, data.length, batchSize);
  const [channels, ch, cw] = stack.blocks[block].codeShape;
  // One double (two floats' bytes) per image and map: 10⁴ images of a 65 536-map block would be 5 GB.
  checkResultFloats(op, 'block', data.length, 2 * channels, 'strengths (doubles) of every map');
  const plane = ch * cw;
  const strength = new Float64Array(data.length * channels);
  forEachBatch(stack.be, data, batch, (x, start, size) => {
    const c = stack.encodeThrough(block + 1, x).data;
    for (let i = 0; i < size; i++)
      for (let f = 0; f < channels; f++) {
        let m = -Infinity;
        const base = (i * channels + f) * plane;
        for (let p = 0; p < plane; p++) if (c[base + p] > m) m = c[base + p];
        strength[(start + i) * channels + f] = m;
      }
  });
  return strength;
}

/** Deconvnet projections into pixel space of one feature map, for the images that activate it most. */
export function projectFeature(
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  opts: FeatureOptions,
  /** From `featureStrengths` (saves encoding the set again for each feature of a block). */
  strengths?: Float64Array,
): FeatureProjection {
  const op = 'projectFeature';
  const be = stack.be;
  const block = checkDepth(op, stack, opts.block + 1, 1) - 1;
  const codeShape = stack.blocks[block].codeShape;
  const [channels, ch, cw] = codeShape;
  if (!Number.isInteger(opts.feature) || opts.feature < 0 || opts.feature >= channels)
    throw new ArgumentError(
      op,
      'feature',
      `must be an integer in [0, ${channels}) for block ${block}, got ${opts.feature}`,
    );
  const top = opts.top ?? 9;
  if (!Number.isInteger(top) || top < 1 || top > data.length)
    throw new ArgumentError(op, 'top', `must be an integer in [1, ${data.length}], got ${top}`);
  checkImages(op, stack, data);
  const all = strengths ?? featureStrengths(stack, data, block, opts.batchSize);
  if (all.length !== data.length * channels)
    throw new ArgumentError(op, 'strengths', `must hold ${data.length * channels} values, got ${all.length}`);
  const plane = ch * cw,
    f = opts.feature;
  const strength = (i: number) => all[i * channels + f];
  const order = Array.from({ length: data.length }, (_, i) => i).sort((a, b) => strength(b) - strength(a) || a - b);
  const indices = order.slice(0, top);
  const chosen = data.subset(indices);

  // In batches that fit through the blocks and back down: `top` images at once could pass the tensor limit.
  const batch = stackBatch(op, stack, block + 1, top, opts.batchSize, true);
  const size = data.imageSize;
  const projections = new Float32Array(top * size);
  const paths = stack.blocks.slice(0, block + 1).map((_, k) => downPath(be, stack, k));
  try {
    for (let s = 0; s < top; s += batch) {
      const m = Math.min(batch, top - s);
      const x = be.fromArray([m, ...data.shape], chosen.readImages(s, s + m));
      let code: Tensor | null = null,
        down: Tensor | null = null;
      try {
        const full = stack.encodeThrough(block + 1, x);
        // Only map f's strongest position (the first one on ties) keeps its value.
        const kept = new Float32Array(full.size);
        const c = full.data;
        for (let i = 0; i < m; i++) {
          const base = (i * channels + f) * plane;
          let best = base;
          for (let p = base + 1; p < base + plane; p++) if (c[p] > c[best]) best = p;
          kept[best] = c[best];
        }
        code = be.fromArray(full.shape, kept);
        down = projectDown(be, paths, block, code, opts.rectify ?? true);
        projections.set(down.data, s * size);
      } finally {
        x.dispose();
        code?.dispose();
        down?.dispose();
      }
    }
    return { indices, activations: indices.map(strength), projections };
  } finally {
    for (const p of paths) {
      // The tied deconvs share (and must not free) the conv weights; only their buffers go.
      p.unpool?.dispose();
      for (const d of p.deconvs) d.dispose();
    }
  }
}
