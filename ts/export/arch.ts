/**
 * A convae model as a plain list of operations with every default resolved —
 * what the PyTorch and ONNX exporters print, and what the importer checks names
 * and shapes against.
 *
 * The operations are read off the layers of the built model, so they are the
 * values convae computes with, not a second copy of its defaults. The only
 * defaults resolved here are the few the layers keep private (the stride and
 * padding of a transposed convolution); they are in `resolveArchitecture`,
 * marked, to be replaced by the model schema's resolved JSON once it writes
 * every default out.
 */
import { ArgumentError, ModelError, quote } from '../errors.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import type { Classifier } from '../model/classifier.js';
import type { Model } from '../model/model.js';
import type { Layer, Shape } from '../model/layer.js';
import {
  Activation,
  Conv2D,
  ConvTranspose2D,
  Dense,
  Dropout,
  Flatten,
  MaxPool2D,
  MaxUnpool2D,
} from '../model/layers.js';
import type { Activation as ActivationKind } from '../ops/elementwise.js';
import { convTransposeOut, pair } from '../shape.js';

/** One layer of a resolved architecture, in the order it runs, with every size worked out (what the exporters write). */
export type Op =
  | {
      op: 'conv';
      name: string;
      inChannels: number;
      filters: number;
      kernel: [number, number];
      stride: [number, number];
      padding: [number, number];
    }
  | {
      op: 'deconv';
      name: string;
      inChannels: number;
      filters: number;
      kernel: [number, number];
      stride: [number, number];
      padding: [number, number];
      outputPadding: [number, number];
      /** The conv whose weight this layer uses (tied), or null for a weight of its own. */
      tiedTo: string | null;
    }
  | { op: 'act'; name: string; kind: ActivationKind; alpha: number }
  | { op: 'pool'; name: string; kernel: [number, number]; stride: [number, number]; inputShape: Shape }
  | { op: 'unpool'; name: string; pool: string; kernel: [number, number]; stride: [number, number]; outputShape: Shape }
  | { op: 'flatten'; name: string; features: number }
  | { op: 'dropout'; name: string; rate: number }
  | { op: 'dense'; name: string; inFeatures: number; units: number };

/** One CAE block of a resolved architecture: its encoder's and decoder's layers and the shapes around them. */
export interface BlockArch {
  /** `block0`, `block1`, …: the prefix of its layers' names. */
  name: string;
  /** Per-image shape the block reads, [c, h, w]. */
  inputShape: Shape;
  /** Per-image shape of its code (after pooling), [c, h, w]. */
  codeShape: Shape;
  /** Its conv, activation and pool layers, in order. */
  encoder: Op[];
  /** Empty for a classifier (its blocks have no decoder). */
  decoder: Op[];
}

/** A model's architecture with every size resolved (`resolveArchitecture`): the contract the PyTorch and ONNX exports share. */
export interface Arch {
  /** The model kind (the kinds that can be exported). */
  kind: 'stack' | 'classifier';
  /** Per-image input shape, [c, h, w]. */
  inputShape: Shape;
  /** The conv blocks, in order. */
  blocks: BlockArch[];
  /** Flatten, dropout, dense and activation layers after the blocks (classifier only). */
  head: Op[];
  /** Output shape per image: the logits [classes] or the last block's code [c,h,w]. */
  outputShape: Shape;
  /** Every parameter in model order: name and shape (the safetensors file's tensors). */
  params: { name: string; shape: number[] }[];
}

function op(l: Layer): Op {
  if (l instanceof Conv2D) {
    const o = l.convOptions;
    return {
      op: 'conv',
      name: l.name,
      inChannels: l.inputShape[0],
      filters: l.opts.filters,
      kernel: pair(l.opts.kernel),
      stride: pair(o.stride),
      padding: pair(o.padding),
    };
  }
  if (l instanceof ConvTranspose2D) {
    // ── Defaults resolved here (ConvTranspose2D keeps its resolved options private);
    // ── to be replaced by the model schema's written-out values.
    const stride = pair(l.opts.stride ?? 1),
      padding = pair(l.opts.padding ?? 0),
      kernel = pair(l.opts.kernel);
    // The output padding the layer chose: what its output has beyond a padding-free transposed conv.
    const outputPadding = [0, 1].map((a) => {
      const base = convTransposeOut(l.inputShape[a + 1], kernel[a], stride[a], padding[a], 0);
      if (typeof base === 'string') throw new ModelError(l.name, base);
      return l.outputShape[a + 1] - base;
    }) as [number, number];
    return {
      op: 'deconv',
      name: l.name,
      inChannels: l.inputShape[0],
      filters: l.opts.filters,
      kernel,
      stride,
      padding,
      outputPadding,
      tiedTo: l.tiedTo?.name ?? null,
    };
  }
  if (l instanceof Activation) return { op: 'act', name: l.name, kind: l.kind, alpha: l.alpha };
  if (l instanceof MaxPool2D) {
    const o = l.poolOptions;
    return { op: 'pool', name: l.name, kernel: pair(o.kernel), stride: pair(o.stride), inputShape: [...l.inputShape] };
  }
  if (l instanceof MaxUnpool2D) {
    const o = l.pool.poolOptions;
    return {
      op: 'unpool',
      name: l.name,
      pool: l.pool.name,
      kernel: pair(o.kernel),
      stride: pair(o.stride),
      outputShape: [...l.outputShape],
    };
  }
  if (l instanceof Flatten) return { op: 'flatten', name: l.name, features: l.outputShape[0] };
  if (l instanceof Dropout) return { op: 'dropout', name: l.name, rate: l.rate };
  if (l instanceof Dense) return { op: 'dense', name: l.name, inFeatures: l.inputShape[0], units: l.opts.units };
  throw new ModelError(l.name, `layer type ${l.type} cannot be exported`);
}

function checkBias(l: Layer): void {
  if ((l instanceof Conv2D || l instanceof ConvTranspose2D || l instanceof Dense) && !l.bias)
    throw new ModelError(l.name, 'layers without a bias cannot be exported yet');
}

/**
 * `m` must be a built model: from JavaScript, `exportOnnx(null)` or `exportPyTorch(undefined, …)` were TypeErrors
 * from deep inside ("cannot read properties of null").
 */
export function checkExportable(op: string, m: unknown): asserts m is Model {
  const k = (m as Partial<Model> | null)?.kind;
  if (typeof (m as Partial<Model> | null)?.params !== 'function' || typeof k !== 'string')
    throw new ArgumentError(
      op,
      'model',
      `must be a convae model (a Classifier or a StackedConvAutoencoder), got ${quote(m)}`,
    );
}

/** The operations of a built model, every default resolved (see the file comment). */
export function resolveArchitecture(m: Model): Arch {
  checkExportable('resolveArchitecture', m);
  const params = m.params().map((p) => ({ name: p.name, shape: [...p.value.shape] }));
  if (m.kind !== 'classifier' && m.kind !== 'stack')
    throw new ModelError('export', `kind '${m.kind}' cannot be exported yet (classifier and stack can)`);
  if (m.kind === 'classifier') {
    const model = m as Classifier;
    const blocks: BlockArch[] = [];
    const head: Op[] = [];
    for (const l of model.net.layers) {
      checkBias(l);
      const m = /^(block\d+)\./.exec(l.name);
      if (!m) {
        head.push(op(l));
        continue;
      }
      let b = blocks[blocks.length - 1];
      if (!b || b.name !== m[1]) {
        b = { name: m[1], inputShape: [...l.inputShape], codeShape: [], encoder: [], decoder: [] };
        blocks.push(b);
      }
      b.encoder.push(op(l));
      b.codeShape = [...l.outputShape];
    }
    const last = model.net.layers[model.net.layers.length - 1];
    return {
      kind: 'classifier',
      inputShape: [...model.inputShape],
      blocks,
      head,
      outputShape: [...last.outputShape],
      params,
    };
  }
  const model = m as StackedConvAutoencoder;
  const blocks = model.blocks.map((b) => {
    for (const l of [...b.encoder.layers, ...b.decoder.layers]) checkBias(l);
    return {
      name: b.name,
      inputShape: [...b.inputShape],
      codeShape: [...b.codeShape],
      encoder: b.encoder.layers.map(op),
      decoder: b.decoder.layers.map(op),
    };
  });
  return {
    kind: 'stack',
    inputShape: [...model.inputShape],
    blocks,
    head: [],
    outputShape: [...model.codeShape],
    params,
  };
}
