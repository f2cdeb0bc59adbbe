/**
 * The CNN classifier: the conv blocks of a (pretrained) CAE stack, then dense
 * layers and a softmax head. `fromStack` copies the pretrained encoder weights
 * (the stack stays usable); `fromBlocks` builds the same network from random
 * initialisation, for comparison.
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/memory.js';
import { ArgumentError, MemoryError, ModelError } from '../errors.js';
import type { Activation as ActivationKind } from '../ops/elementwise.js';
import { activation, softmaxCrossEntropy } from '../ops/elementwise.js';
import { argmaxRows } from '../train/evaluate.js';
import { classifierTask } from './tasks.js';
import { Rng } from '../util/rng.js';
import type { BlockSpec, StackedConvAutoencoder } from './autoencoder.js';
import { type Layer, type Param, type ParamInit, randomInit, type Shape } from './layer.js';
import { Activation, Conv2D, Dense, Dropout, Flatten, MaxPool2D } from './layers.js';
import { type Architecture, checkPlanned, disposingOnThrow, type Model, type Task, type TaskSpec } from './model.js';
import { type Block, blocksOf, constructorFail, type Fail, type Head, headOf, inputShapeOf, seedOf } from './schema.js';
import { Sequential } from './sequential.js';

export { argmaxRows } from '../train/evaluate.js';

/** The dense part of a classifier: hidden layer sizes, number of classes, dropout, and which conv blocks to freeze. */
export interface HeadSpec {
  /** Hidden dense layer sizes; default [500]. */
  hidden?: readonly number[];
  /** Activation after each hidden layer; default 'relu' (which also gives them He initialisation, others Glorot). */
  hiddenActivation?: ActivationKind;
  /** Slope of leakyRelu below 0, in [0, 0.999999]; default 0.01. */
  leakySlope?: number;
  /** Dropout rate before each dense layer, in [0, 1) (0 = none, the default). */
  dropout?: number;
  /** Number of classes: the logits' width; labels are 0 … classes−1. */
  classes: number;
  /** Indices of conv blocks whose parameters stay frozen during fine-tuning. */
  freeze?: readonly number[];
}

/** The CNN: conv blocks, dense layers, softmax head. Model kind `classifier`. */
export class Classifier implements Model {
  readonly kind = 'classifier';
  /** Every layer: conv blocks (`block0.conv0`, …), `flatten`, hidden dense layers (`dense0`, …), `logits`. */
  readonly net: Sequential;
  /** The blocks and head with every default written out. */
  readonly blocks: Block[];
  /** The head with every default written out. */
  readonly head: Head;
  readonly inputShape: Shape;
  /** Seed of the random initialisation and of the dropout masks. */
  readonly seed: number;
  private grad: Tensor | null = null;

  private constructor(
    /** The backend that holds its tensors. */
    readonly be: Backend,
    blockSpecs: readonly BlockSpec[],
    headSpec: HeadSpec,
    inputShape: Shape,
    seed: number,
    init: ParamInit,
    fail: Fail = constructorFail,
  ) {
    this.blocks = blocksOf(blockSpecs, 'blocks', fail);
    this.head = headOf(headSpec, 'head', fail, this.blocks.length);
    this.inputShape = inputShapeOf(inputShape, 'inputShape', fail);
    this.seed = seedOf(seed, 'seed', fail);
    const head = this.head;
    const layers: Layer[] = [];
    for (const [k, b] of this.blocks.entries()) {
      for (const [i, c] of b.convs.entries()) {
        layers.push(new Conv2D(`block${k}.conv${i}`, { ...c, init: b.init }));
        layers.push(new Activation(`block${k}.act${i}`, b.activation, b.leakySlope));
      }
      if (b.pool !== null) layers.push(new MaxPool2D(`block${k}.pool`, b.pool));
    }
    layers.push(new Flatten('flatten'));
    const act = head.hiddenActivation;
    for (const [j, units] of head.hidden.entries()) {
      if (head.dropout) layers.push(new Dropout(`dropout${j}`, head.dropout));
      layers.push(
        new Dense(`dense${j}`, { units, init: act === 'relu' ? 'he' : 'glorot' }),
        new Activation(`dense${j}.act`, act, head.leakySlope),
      );
    }
    if (head.dropout) layers.push(new Dropout('dropout.out', head.dropout));
    layers.push(new Dense('logits', { units: head.classes }));
    this.net = new Sequential(layers);
    const out = this.net.plan(this.inputShape);
    if (out.length !== 1 || out[0] !== head.classes)
      throw new ModelError('classifier', `head gives [${out.join(',')}], expected [${head.classes}]`);
    checkPlanned('classifier', this.net.plannedParams(), init);
    disposingOnThrow(
      () => this.net.allocate(be, new Rng(this.seed), init),
      () => this.net.dispose(),
    );
    for (const k of head.freeze) for (const p of this.blockParams(k)) p.trainable = false;
  }

  /** Number of classes (`head.classes`). */
  get classes(): number {
    return this.head.classes;
  }

  /** @internal Builds from the kind-specific fields of saved JSON (`get` reads own fields). */
  static fromJSON(be: Backend, get: (k: string) => unknown, fail: Fail, init: ParamInit): Classifier {
    const blocks = blocksOf(get('blocks'), 'blocks', fail);
    if (get('head') === undefined) fail('head', 'is required for a classifier');
    return new Classifier(
      be,
      blocks,
      headOf(get('head'), 'head', fail, blocks.length),
      inputShapeOf(get('inputShape'), 'inputShape', fail),
      seedOf(get('seed'), 'seed', fail),
      init,
      fail,
    );
  }

  /** Random initialisation (no pretraining). */
  static fromBlocks(
    be: Backend,
    blocks: readonly BlockSpec[],
    inputShape: Shape,
    head: HeadSpec,
    seed = 1,
  ): Classifier {
    return new Classifier(be, blocks, head, inputShape, seed, randomInit);
  }

  /** Conv layers initialised from a trained stack's encoders (weights copied). */
  static fromStack(stack: StackedConvAutoencoder, head: HeadSpec, seed = 1): Classifier {
    const c = new Classifier(stack.be, stack.specs, head, stack.inputShape, seed, randomInit);
    for (const [k, block] of stack.blocks.entries()) {
      const src = block.encoder.params();
      const dst = c.blockParams(k);
      if (src.length !== dst.length)
        throw new ModelError('classifier', `block ${k}: ${src.length} pretrained tensors for ${dst.length} parameters`);
      src.forEach((p, i) => dst[i].value.set(p.value.data));
    }
    return c;
  }

  private blockParams(k: number): Param[] {
    return this.net.layers.filter((l) => l.name.startsWith(`block${k}.`)).flatMap((l) => l.params());
  }

  /** Dropout masks from streams of their own for `salt` (each data-parallel replica its own). */
  reseedDropout(salt: number): void {
    for (const l of this.net.layers) if (l instanceof Dropout) l.reseed(salt);
  }

  /** States of the dropout generators, in layer order (saved in checkpoints). */
  get dropoutState(): number[] {
    return this.net.layers.flatMap((l) => (l instanceof Dropout ? [l.rngState] : []));
  }

  set dropoutState(v: number[]) {
    const d = this.net.layers.filter((l): l is Dropout => l instanceof Dropout);
    if (v.length !== d.length)
      throw new ModelError('classifier', `${v.length} dropout states for ${d.length} dropout layers`);
    d.forEach((l, i) => (l.rngState = v[i]));
  }

  params(): Param[] {
    return this.net.params();
  }

  toJSON(): Architecture {
    return { kind: this.kind, inputShape: [...this.inputShape], blocks: this.blocks, head: this.head, seed: this.seed };
  }

  /** Training the whole network (the spec takes no layer). */
  task(spec: TaskSpec = {}): Task {
    if (spec.layer !== undefined && spec.layer !== 0)
      throw new ArgumentError('task', 'layer', `must be 0 or absent for a classifier, got ${spec.layer}`);
    return classifierTask(this);
  }

  /**
   * Logits of a batch (eval mode); the tensor is owned by the model.
   *
   * Inference reorders conv → activation → max-pool into conv → max-pool →
   * activation (in place on the pooled maps) where the activation is monotone
   * non-decreasing (identity, relu, leaky relu, tanh, sigmoid):
   * max commutes with such a function, so the values are those of the
   * training-mode order (exactly for identity/relu/leaky relu; for tanh/sigmoid up to the
   * rounding of their float approximations: ≤ 1 ulp, 2 for tanh, whose rounding
   * can step down by 2 ulp as x grows), while the activation runs
   * on 4× fewer elements (2×2 pooling) and needs no buffer of its own. W4 of
   * `npm run bench` spent 17 % of its time in tanh before this.
   */
  logits(x: Tensor): Tensor {
    this.live();
    const layers = this.net.layers;
    let t = x;
    for (let i = 0; i < layers.length; i++) {
      const conv = layers[i],
        act = layers[i + 1],
        pool = layers[i + 2];
      if (conv instanceof Conv2D && act instanceof Activation && pool instanceof MaxPool2D && isMonotone(act)) {
        t = pool.forward(conv.forward(t));
        activation(act.kind, t, t, act.alpha);
        i += 2;
      } else {
        t = layers[i].forward(t, false);
      }
    }
    return t;
  }

  /** Predicted class of each image of the batch. */
  predict(x: Tensor): Uint32Array {
    return argmaxRows(this.logits(x));
  }

  /** Forward and backward with softmax cross-entropy; gradients added into the parameters. */
  trainStep(x: Tensor, labels: Tensor): number {
    this.live();
    const logits = this.net.forward(x, true);
    if (!this.grad || this.grad.shape[0] !== logits.shape[0]) {
      this.grad?.dispose();
      this.grad = this.be.empty(logits.shape);
    }
    const loss = softmaxCrossEntropy(logits, labels, this.grad);
    this.net.backward(this.grad);
    return loss;
  }

  /** Mean cross-entropy, number of correct predictions and the predicted classes of a labelled batch (eval mode). */
  evaluate(x: Tensor, labels: Tensor): { loss: number; correct: number; predictions: Uint32Array } {
    const logits = this.logits(x);
    const loss = softmaxCrossEntropy(logits, labels);
    const predictions = argmaxRows(logits);
    const l = labels.u32;
    let correct = 0;
    for (let i = 0; i < predictions.length; i++) if (predictions[i] === l[i]) correct++;
    return { loss, correct, predictions };
  }

  private disposed = false;

  /** Refuses work after dispose() before any layer allocates its buffers (nothing to leak). */
  private live(): void {
    if (this.disposed) throw new MemoryError('convae: classifier used after dispose()');
  }

  dispose(): void {
    this.disposed = true;
    this.net.dispose();
    this.grad?.dispose();
  }
}

/** Whether max-pooling commutes with the activation (a non-decreasing function). */
function isMonotone(a: Activation): boolean {
  return (
    a.kind === 'identity' ||
    a.kind === 'relu' ||
    a.kind === 'tanh' ||
    a.kind === 'sigmoid' ||
    (a.kind === 'leakyRelu' && a.alpha >= 0)
  ); // the kernel takes alpha ≥ 0 only
}
