/**
 * The convolutional autoencoder of the seed, and its greedy stack.
 *
 * Encoder: (conv → activation)+ → max-pool keeping switches (optional).
 * Decoder: max-unpool with those switches → (transposed conv → activation)+ in
 * mirror order; each transposed conv is tied to its conv by default (it uses
 * the conv's weight — the flipped kernels — with its own bias). Loss: MSE
 * 1/(2n) Σ (x − y)² against the clean input (denoising when noise is set).
 *
 * Unlike the seed's note, a block may hold several convolutions, any stride
 * and padding, and no pooling at all.
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/memory.js';
import { ArgumentError, MemoryError, ModelError } from '../errors.js';
import type { Activation as ActivationKind } from '../ops/elementwise.js';
import { mseLoss } from '../ops/elementwise.js';
import type { Pair } from '../shape.js';
import { autoencoderTask, stackLayerTask } from './tasks.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { type Param, type ParamInit, type PlannedParam, randomInit, type Shape } from './layer.js';
import {
  Activation,
  Conv2D,
  ConvTranspose2D,
  type Init,
  KSparse,
  MaxPool2D,
  MaxUnpool2D,
  type PoolOptions,
} from './layers.js';
import { type Architecture, checkPlanned, disposingOnThrow, type Model, type Task, type TaskSpec } from './model.js';
import { corrupt, type Noise } from './noise.js';
import { type Block, blockOf, blocksOf, constructorFail, type Fail, inputShapeOf, seedOf } from './schema.js';
import { Sequential } from './sequential.js';

/** One convolution of a block: filters, kernel size, stride and padding (`BlockSpec.tied` ties its decoder). */
export interface ConvSpec {
  /** Output channels (feature maps), an integer ≥ 1. */
  filters: number;
  /** Kernel size: kh = kw, or [kh, kw]. */
  kernel: Pair;
  /** Step between windows (one number or [sh, sw]); default 1. */
  stride?: Pair;
  /** Zeros added on each side (one number or [ph, pw]), smaller than the kernel; default 0. */
  padding?: Pair;
}

export type { Noise } from './noise.js';

/** One block of a CAE stack: its convolutions, activation, optional max-pooling and optional input noise. */
export interface BlockSpec {
  /** One or more convolutions (each followed by the activation). */
  convs: readonly ConvSpec[];
  /** Encoder activation; default 'tanh'. */
  activation?: ActivationKind;
  /** Slope of leakyRelu below 0, in [0, 0.999999]; default 0.01. */
  leakySlope?: number;
  /** Max pooling after the convolutions (default 2×2, stride 2); null for none. */
  pool?: PoolOptions | null;
  /** Decoder uses the encoder's kernels (default true). */
  tied?: boolean;
  /** Activation of the reconstruction; default 'sigmoid' for the first block (images in [0,1]), else the encoder activation. */
  outputActivation?: ActivationKind;
  /** Corrupt the input during training (denoising autoencoder); the target stays clean. */
  noise?: Noise | null;
  /**
   * k-sparse decoding: the decoder sees only the largest `keep` fraction of
   * each code map (the `KSparse` layer); null (default) for the whole code.
   * The code itself — what `encode` returns, the next block trains on and a
   * classifier computes — stays dense. `lifetime` (default 1): in training,
   * each channel also passes only the maps of that fraction of the batch's
   * images whose strongest kept value is largest (a winner-take-all
   * autoencoder's lifetime sparsity; docs/paper-results.md, section 5, measures
   * it as an initialisation).
   */
  sparsity?: { keep: number; lifetime?: number } | null;
  /** Random initialisation of the convolutions (and of untied decoder weights); default 'glorot'. */
  init?: Init;
}

/** Options of one `ConvAutoencoder` beyond its block: the decoder's output activation. */
export interface AutoencoderOptions {
  /** Prefix of layer and parameter names (`block0`): a letter, then up to 63 letters, digits or _; default 'cae'. */
  name?: string;
  /** Seed of the initialisation and of the noise, an integer in [0, 2^32); default 1. */
  seed?: number;
  /** Whether this block reads images in [0,1] (sets the default output activation); default true. */
  first?: boolean;
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** A CAE: one block trained alone. Its own model kind, `cae`; a stack's blocks are CAEs too. */
export class ConvAutoencoder implements Model {
  readonly kind = 'cae';
  /** (conv → activation)+, then max pooling if any: the layers `encode` runs. */
  readonly encoder: Sequential;
  /** [k-sparse →] [unpooling →] (transposed conv → activation)+ in mirror order: the layers `decode` runs. */
  readonly decoder: Sequential;
  /** The encoder's convolutions in order (their weights are the learnt filters). */
  readonly convs: Conv2D[] = [];
  /** The encoder's max pooling, whose switches the decoder's unpooling reads; null without pooling. */
  readonly pool: MaxPool2D | null;
  /** Prefix of its layer and parameter names (`block0.conv0.weight`). */
  readonly name: string;
  readonly inputShape: Shape;
  /** Per-image shape of the code `encode` returns: [last conv's filters, h, w] after pooling. */
  readonly codeShape: Shape;
  /** The block with every default written out. */
  readonly spec: Block;
  /** Seed of the initialisation and of the input noise. */
  readonly seed: number;
  private readonly rng: Rng;
  private readonly noiseRng: Rng;
  private input: Tensor | null = null;
  private grad: Tensor | null = null;

  /**
   * `init` fills the parameters (random by default); `null` only plans the
   * block, for a stack that checks all its blocks before allocating any (then `allocate`).
   */
  constructor(
    /** The backend that holds its tensors. */
    readonly be: Backend,
    spec: BlockSpec,
    inputShape: Shape,
    opts: AutoencoderOptions = {},
    init: ParamInit | null = randomInit,
  ) {
    const name = opts.name ?? 'cae';
    if (typeof name !== 'string' || !NAME.test(name))
      throw new ModelError('cae', 'name must be a letter then up to 63 letters, digits or _');
    this.name = name;
    const fail: Fail = (field, m) => constructorFail(`${name}.${field}`, m);
    this.spec = blockOf(spec, 'block', fail, opts.first !== false);
    this.seed = seedOf(opts.seed ?? 1, 'seed', fail);
    this.inputShape = inputShapeOf(inputShape, 'inputShape', fail);
    const b = this.spec;
    this.rng = new Rng(this.seed);
    this.noiseRng = new Rng(this.rng.nextU32());

    const enc = [];
    for (const [i, c] of b.convs.entries()) {
      const conv = new Conv2D(`${name}.conv${i}`, { ...c, init: b.init });
      this.convs.push(conv);
      enc.push(conv, new Activation(`${name}.act${i}`, b.activation, b.leakySlope));
    }
    this.pool = b.pool === null ? null : new MaxPool2D(`${name}.pool`, b.pool);
    if (this.pool) enc.push(this.pool);
    this.encoder = new Sequential(enc);
    this.codeShape = this.encoder.plan(this.inputShape);

    const dec = [];
    if (b.sparsity) dec.push(new KSparse(`${name}.sparse`, b.sparsity.keep, b.sparsity.lifetime ?? 1));
    if (this.pool) dec.push(new MaxUnpool2D(`${name}.unpool`, this.pool));
    for (let i = b.convs.length - 1; i >= 0; i--) {
      const conv = this.convs[i],
        c = b.convs[i];
      dec.push(
        new ConvTranspose2D(
          `${name}.deconv${i}`,
          { filters: conv.inputShape[0], kernel: c.kernel, stride: c.stride, padding: c.padding, init: b.init },
          b.tied ? conv : null,
          conv.inputShape,
        ),
        new Activation(`${name}.deact${i}`, i === 0 ? b.outputActivation : b.activation, b.leakySlope),
      );
    }
    this.decoder = new Sequential(dec);
    this.decoder.plan(this.codeShape);
    if (init) {
      checkPlanned(name, this.plannedParams(), init);
      this.allocate(init);
    }
  }

  /** @internal The parameters this block will create (after planning). */
  plannedParams(): PlannedParam[] {
    return [...this.encoder.plannedParams(), ...this.decoder.plannedParams()];
  }

  /** @internal Creates the parameters of a block constructed with `init: null`; disposes them if one fails. */
  allocate(init: ParamInit): void {
    disposingOnThrow(
      () => {
        this.encoder.allocate(this.be, this.rng, init);
        this.decoder.allocate(this.be, this.rng, init);
      },
      () => this.dispose(),
    );
  }

  /** Parameters, each once (a tied decoder weight belongs to its conv). */
  params(): Param[] {
    return [...this.encoder.params(), ...this.decoder.params()];
  }

  toJSON(): Architecture {
    return { kind: this.kind, inputShape: [...this.inputShape], name: this.name, block: this.spec, seed: this.seed };
  }

  /** Training this block on raw inputs (the spec takes no layer). */
  task(spec: TaskSpec = {}): Task {
    if (spec.layer !== undefined && spec.layer !== 0)
      throw new ArgumentError('task', 'layer', `must be 0 or absent for a single CAE, got ${spec.layer}`);
    return autoencoderTask(this);
  }
  /** The code (pooled feature maps) of a batch; the switches stay in `pool.switches` for decode. */
  encode(x: Tensor): Tensor {
    this.live();
    return this.encoder.forward(x, false);
  }

  /**
   * Reconstruction from a code. `switches` default to those of the last encode;
   * pass the ones returned with a code to decode that code later.
   */
  decode(h: Tensor, switches?: Tensor): Tensor {
    this.live();
    if (switches && this.pool) this.pool.switches = switches;
    return this.decoder.forward(h, false);
  }

  /** decode(encode(x)), without noise: [n, ...inputShape], owned by the model and reused by the next decode. */
  reconstruct(x: Tensor): Tensor {
    return this.decode(this.encode(x));
  }

  /** Mean reconstruction loss of a batch without training. */
  loss(x: Tensor): number {
    return mseLoss(this.reconstruct(x), x);
  }

  /**
   * One forward and backward pass on a batch: parameter gradients are added
   * (+=) into `Param.grad`. Returns the batch's MSE.
   */
  trainStep(x: Tensor): number {
    this.live();
    const input = this.corrupt(x);
    const y = this.decoder.forward(this.encoder.forward(input, true), true);
    if (!this.grad || this.grad.shape[0] !== x.shape[0]) {
      this.grad?.dispose();
      this.grad = this.be.empty(x.shape);
    }
    const loss = mseLoss(y, x, this.grad);
    const dh = this.decoder.backward(this.grad, true)!;
    this.encoder.backward(dh, false);
    return loss;
  }

  private corrupt(x: Tensor): Tensor {
    const noise = this.spec.noise;
    if (!noise) return x;
    if (!this.input || this.input.shape[0] !== x.shape[0]) {
      this.input?.dispose();
      this.input = this.be.empty(x.shape);
    }
    corrupt(noise, x.data, this.input.data, this.noiseRng);
    return this.input;
  }

  /** Draws input noise from a stream of its own for `salt` (each data-parallel replica its own). */
  reseedNoise(salt: number): void {
    this.noiseRng.reseed(salt);
  }

  /** The noise generator's state (saved in checkpoints). */
  get noiseState(): number {
    return this.noiseRng.state;
  }

  set noiseState(v: number) {
    this.noiseRng.state = v;
  }

  private disposed = false;

  /** Refuses work after dispose() before any layer allocates its buffers (nothing to leak). */
  private live(): void {
    if (this.disposed) throw new MemoryError(`convae: ${this.name} used after dispose()`);
  }

  dispose(): void {
    this.disposed = true;
    this.decoder.dispose();
    this.encoder.dispose();
    this.input?.dispose();
    this.grad?.dispose();
  }
}

/** CAEs stacked greedily: block k is trained on the codes of blocks 0..k−1. Model kind `stack`. */
export class StackedConvAutoencoder implements Model {
  readonly kind = 'stack';
  /** The CAEs `block0`, `block1`, …: block k reads the code of block k−1. */
  readonly blocks: ConvAutoencoder[] = [];
  /** The blocks with every default written out. */
  readonly specs: Block[];
  readonly inputShape: Shape;
  /** Seed of the stack, an integer in [0, 2^32); each block's own seed is derived from it and the block's index. */
  readonly seed: number;

  /**
   * A stack of `specs` on images of `inputShape`. Every block is planned and the whole model checked
   * (limits, and whether `init` can fill it) before the first parameter is allocated.
   */
  constructor(
    /** The backend that holds its tensors. */
    readonly be: Backend,
    specs: readonly BlockSpec[],
    inputShape: Shape,
    seed = 1,
    init: ParamInit = randomInit,
  ) {
    this.specs = blocksOf(specs, 'blocks', constructorFail);
    this.inputShape = inputShapeOf(inputShape, 'inputShape', constructorFail);
    this.seed = seedOf(seed, 'seed', constructorFail);
    // Every block planned and the whole model checked before the first parameter is allocated.
    let shape = this.inputShape;
    for (const [k, spec] of this.specs.entries()) {
      const cae = new ConvAutoencoder(
        be,
        spec,
        shape,
        { name: `block${k}`, seed: deriveSeed(this.seed, k, 1000), first: k === 0 },
        null,
      );
      this.blocks.push(cae);
      shape = cae.codeShape;
    }
    checkPlanned(
      'stack',
      this.blocks.flatMap((b) => b.plannedParams()),
      init,
    );
    disposingOnThrow(
      () => {
        for (const b of this.blocks) b.allocate(init);
      },
      () => this.dispose(),
    );
  }

  /** Per-image shape of the last block's code. */
  get codeShape(): Shape {
    return this.blocks[this.blocks.length - 1].codeShape;
  }

  /** Codes of a batch after the first `k` blocks (k = 0: the input itself). */
  encodeThrough(k: number, x: Tensor): Tensor {
    let t = x;
    for (let i = 0; i < k; i++) t = this.blocks[i].encode(t);
    return t;
  }

  params(): Param[] {
    return this.blocks.flatMap((b) => b.params());
  }

  toJSON(): Architecture {
    return { kind: this.kind, inputShape: [...this.inputShape], blocks: this.specs, seed: this.seed };
  }

  /** Greedy pretraining of block `spec.layer` (default 0) on the codes of the blocks below it. */
  task(spec: TaskSpec = {}): Task {
    const k = spec.layer ?? 0;
    if (!Number.isInteger(k) || k < 0 || k >= this.blocks.length)
      throw new ArgumentError('task', 'layer', `must be a block index in [0, ${this.blocks.length}), got ${k}`);
    return stackLayerTask(this, k);
  }

  dispose(): void {
    for (const b of this.blocks) b.dispose();
  }
}

/** Reads the kind-specific fields of saved JSON (`get` reads own fields) and builds the model. */
export function stackFromJSON(be: Backend, get: (k: string) => unknown, fail: Fail, init: ParamInit) {
  return new StackedConvAutoencoder(
    be,
    blocksOf(get('blocks'), 'blocks', fail),
    inputShapeOf(get('inputShape'), 'inputShape', fail),
    seedOf(get('seed'), 'seed', fail),
    init,
  );
}

export function caeFromJSON(be: Backend, get: (k: string) => unknown, fail: Fail, init: ParamInit) {
  const name = get('name');
  if (typeof name !== 'string' || !NAME.test(name)) fail('name', 'must be a letter then up to 63 letters, digits or _');
  // Every field written out: the block needs no context (first) to be read.
  return new ConvAutoencoder(
    be,
    blockOf(get('block'), 'block', fail, true),
    inputShapeOf(get('inputShape'), 'inputShape', fail),
    { name: name as string, seed: seedOf(get('seed'), 'seed', fail) },
    init,
  );
}
