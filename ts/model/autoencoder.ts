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
import { ModelError } from '../errors.js';
import type { Activation as ActivationKind } from '../ops/elementwise.js';
import { mseLoss } from '../ops/elementwise.js';
import type { Pair } from '../shape.js';
import { Rng } from '../util/rng.js';
import type { Param, Shape } from './layer.js';
import { Activation, Conv2D, ConvTranspose2D, MaxPool2D, MaxUnpool2D, type Init, type PoolOptions } from './layers.js';
import { checkNoise, corrupt, type Noise } from './noise.js';
import { Sequential } from './sequential.js';

/** One convolution of a block: number of filters, kernel size, stride, padding, and whether its decoder is tied to it. */
export interface ConvSpec {
  filters: number;
  kernel: Pair;
  stride?: Pair;
  padding?: Pair;
}

export type { Noise } from './noise.js';

/** One block of a CAE stack: its convolutions, activation, optional max-pooling and optional input noise. */
export interface BlockSpec {
  /** One or more convolutions (each followed by the activation). */
  convs: ConvSpec[];
  /** Encoder activation; default 'tanh'. */
  activation?: ActivationKind;
  /** Max pooling after the convolutions (default 2×2, stride 2); null for none. */
  pool?: PoolOptions | null;
  /** Decoder uses the encoder's kernels (default true). */
  tied?: boolean;
  /** Activation of the reconstruction; default 'sigmoid' for the first block (images in [0,1]), else the encoder activation. */
  outputActivation?: ActivationKind;
  /** Corrupt the input during training (denoising autoencoder); the target stays clean. */
  noise?: Noise | null;
  init?: Init;
}

/** Options of one `ConvAutoencoder` beyond its block: the decoder's output activation. */
export interface AutoencoderOptions {
  /** Prefix of layer and parameter names (e.g. `block0`). */
  name?: string;
  /** Seed of the initialisation and of the noise. */
  seed?: number;
  /** Whether this block reads images in [0,1] (sets the default output activation). */
  first?: boolean;
}

/** One convolutional autoencoder (one block of a stack): encode with conv → activation → max-pool, decode with max-unpool (the same switches) → transposed conv (tied to the encoder by default) → activation; trained on the MSE. */
export class ConvAutoencoder {
  readonly encoder: Sequential;
  readonly decoder: Sequential;
  readonly convs: Conv2D[] = [];
  readonly pool: MaxPool2D | null;
  readonly name: string;
  readonly inputShape: Shape;
  readonly codeShape: Shape;
  private readonly noiseRng: Rng;
  private input: Tensor | null = null;
  private grad: Tensor | null = null;

  constructor(
    readonly be: Backend,
    readonly spec: BlockSpec,
    inputShape: Shape,
    opts: AutoencoderOptions = {},
  ) {
    const name = opts.name ?? 'cae';
    this.name = name;
    if (!spec.convs?.length) throw new ModelError(name, 'a block needs at least one convolution');
    if (spec.noise) checkNoise(spec.noise, name);
    const act = spec.activation ?? 'tanh';
    const outAct = spec.outputActivation ?? (opts.first === false ? act : 'sigmoid');
    const rng = new Rng(opts.seed ?? 1);
    this.noiseRng = new Rng(rng.nextU32());
    this.inputShape = [...inputShape];

    const enc = [];
    for (const [i, c] of spec.convs.entries()) {
      const conv = new Conv2D(`${name}.conv${i}`, {
        filters: c.filters,
        kernel: c.kernel,
        stride: c.stride,
        padding: c.padding,
        init: spec.init,
      });
      this.convs.push(conv);
      enc.push(conv, new Activation(`${name}.act${i}`, act));
    }
    this.pool = spec.pool === null ? null : new MaxPool2D(`${name}.pool`, spec.pool ?? { kernel: 2 });
    if (this.pool) enc.push(this.pool);
    this.encoder = new Sequential(enc);
    this.codeShape = this.encoder.build(be, inputShape, rng);

    const dec = [];
    if (this.pool) dec.push(new MaxUnpool2D(`${name}.unpool`, this.pool));
    for (let i = spec.convs.length - 1; i >= 0; i--) {
      const conv = this.convs[i],
        c = spec.convs[i];
      dec.push(
        new ConvTranspose2D(
          `${name}.deconv${i}`,
          { filters: conv.inputShape[0], kernel: c.kernel, stride: c.stride, padding: c.padding, init: spec.init },
          spec.tied === false ? null : conv,
          conv.inputShape,
        ),
        new Activation(`${name}.deact${i}`, i === 0 ? outAct : act),
      );
    }
    this.decoder = new Sequential(dec);
    this.decoder.build(be, this.codeShape, rng);
  }

  /** Parameters, each once (a tied decoder weight belongs to its conv). */
  params(): Param[] {
    return [...this.encoder.params(), ...this.decoder.params()];
  }

  /** The code (pooled feature maps) of a batch; the switches stay in `pool.switches` for decode. */
  encode(x: Tensor): Tensor {
    return this.encoder.forward(x, false);
  }

  /**
   * Reconstruction from a code. `switches` default to those of the last encode;
   * pass the ones returned with a code to decode that code later.
   */
  decode(h: Tensor, switches?: Tensor): Tensor {
    if (switches && this.pool) this.pool.switches = switches;
    return this.decoder.forward(h, false);
  }

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

  config() {
    return { name: this.name, inputShape: this.inputShape, spec: this.spec };
  }

  dispose(): void {
    this.decoder.dispose();
    this.encoder.dispose();
    this.input?.dispose();
    this.grad?.dispose();
  }
}

/** CAEs stacked greedily: block k is trained on the codes of blocks 0..k−1. */
export class StackedConvAutoencoder {
  readonly blocks: ConvAutoencoder[] = [];

  constructor(
    readonly be: Backend,
    readonly specs: BlockSpec[],
    readonly inputShape: Shape,
    readonly seed = 1,
  ) {
    if (!specs.length) throw new ModelError('stack', 'needs at least one block');
    let shape = inputShape;
    for (const [k, spec] of specs.entries()) {
      const cae = new ConvAutoencoder(be, spec, shape, { name: `block${k}`, seed: seed * 1000 + k, first: k === 0 });
      this.blocks.push(cae);
      shape = cae.codeShape;
    }
  }

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

  dispose(): void {
    for (const b of this.blocks) b.dispose();
  }
}
