/** The layers: each owns its parameters and buffers, forward beside backward. */
import type { Tensor } from '../backend/memory.js';
import {
  biasBackward,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  convTranspose2d,
  convTranspose2dBackwardInput,
  convTranspose2dBackwardWeight,
} from '../ops/conv.js';
import { dense, denseBackwardInput, denseBackwardWeight } from '../ops/dense.js';
import { activation, activationBackward, type Activation as ActivationKind } from '../ops/elementwise.js';
import { maxPool2d, maxPool2dBackward, maxUnpool2d, maxUnpool2dBackward } from '../ops/pool.js';
import {
  convOut,
  convTransposeOut,
  convTransposeOutputPadding,
  pair,
  poolOut,
  poolStride,
  type Pair,
} from '../shape.js';
import { Rng } from '../util/rng.js';
import { type Init, Layer, type Param, type ParamInit, type PlannedParam, type Shape } from './layer.js';

export type { Init } from './layer.js';

/** Weight and optional bias of a layer, in the order `params()` lists them. */
function weightAndBias(layer: Layer, weight: number[] | null, bias: number[] | null): PlannedParam[] {
  const out: PlannedParam[] = [];
  if (weight) out.push({ name: `${layer.name}.weight`, shape: weight });
  if (bias) out.push({ name: `${layer.name}.bias`, shape: bias });
  return out;
}

const present = (...ps: (Param | null | undefined)[]): Param[] => ps.filter((p): p is Param => !!p);

/** Options of a `Conv2D` layer: filters, kernel size, stride, padding, bias, initialisation. */
export interface Conv2DOptions {
  /** Output channels (feature maps), an integer ≥ 1. */
  filters: number;
  /** Kernel size: kh = kw, or [kh, kw]. */
  kernel: Pair;
  /** Step between windows (one number or [sh, sw]); default 1. */
  stride?: Pair;
  /** Zeros added on each side (one number or [ph, pw]), smaller than the kernel; default 0. */
  padding?: Pair;
  /** Whether the layer has a bias [filters]; default true. */
  bias?: boolean;
  /** Random initialisation of the weight; default 'glorot' (the bias starts at 0). */
  init?: Init;
}

/** 2-D convolution, weight [filters, cIn, kh, kw] (OIHW). */
export class Conv2D extends Layer {
  readonly type = 'Conv2D';
  /** [filters, cIn, kh, kw]; created by `allocate` (or set before it, which skips creation). */
  weight!: Param;
  /** [filters], or null with `bias: false`. */
  bias: Param | null = null;
  private x: Tensor | null = null;

  /** A convolution with `opts`; its input channels come from `plan`, its weight from `allocate`. */
  constructor(
    name: string,
    /** As given; defaults are applied where they are read. */
    readonly opts: Conv2DOptions,
  ) {
    super(name);
  }

  /** Stride and padding with their defaults applied, as the conv2d ops take them. */
  get convOptions() {
    return { stride: this.opts.stride ?? 1, padding: this.opts.padding ?? 0 };
  }

  /** [filters, cIn, kh, kw], known after plan. */
  weightShape: number[] = [];

  protected infer(input: Shape): Shape {
    if (input.length !== 3) this.fail(`needs an image input [c,h,w], got [${input.join(',')}]`);
    const { filters } = this.opts;
    if (!Number.isInteger(filters) || filters < 1) this.fail(`filters must be an integer ≥ 1, got ${filters}`);
    const [kh, kw] = pair(this.opts.kernel),
      [sh, sw] = pair(this.opts.stride ?? 1),
      [ph, pw] = pair(this.opts.padding ?? 0);
    const oh = convOut(input[1], kh, sh, ph),
      ow = convOut(input[2], kw, sw, pw);
    if (typeof oh === 'string') this.fail(`height ${input[1]}: ${oh}`);
    if (typeof ow === 'string') this.fail(`width ${input[2]}: ${ow}`);
    if (this.weight && this.weight.value.shape[1] !== input[0])
      this.fail(`its weight expects ${this.weight.value.shape[1]} input channels, got ${input[0]}`);
    this.weightShape = [filters, input[0], kh, kw];
    return [filters, oh, ow];
  }

  override plannedParams(): PlannedParam[] {
    if (this.weight) return [];
    return weightAndBias(this, this.weightShape, this.opts.bias !== false ? [this.opts.filters] : null);
  }

  protected override create(rng: Rng, init: ParamInit): void {
    if (this.weight) return;
    const [f, c, kh, kw] = this.weightShape;
    this.weight = init.param(this.be, `${this.name}.weight`, this.weightShape, rng, {
      fanIn: c * kh * kw,
      fanOut: f * kh * kw,
      init: this.opts.init ?? 'glorot',
    });
    if (this.opts.bias !== false) this.bias = init.param(this.be, `${this.name}.bias`, [f], rng, null);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    this.x = x;
    return conv2d(
      x,
      this.weight.value,
      this.bias?.value ?? null,
      this.buffer('y', this.batchShape(x, this.outputShape)),
      this.convOptions,
    );
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!this.x) this.fail('backward before forward');
    if (this.weight.trainable) conv2dBackwardWeight(this.x, dy, this.weight.grad, this.convOptions);
    if (this.bias?.trainable) biasBackward(dy, this.bias.grad);
    if (!needInputGrad) return null;
    return conv2dBackwardInput(dy, this.weight.value, this.buffer('dx', this.x.shape), this.convOptions);
  }

  override params(): Param[] {
    return present(this.weight, this.bias);
  }
}

/** Options of a `ConvTranspose2D` layer: tied to a `Conv2D` (its weight, flipped) or with a weight of its own. */
export interface ConvTranspose2DOptions {
  /** Output channels, an integer ≥ 1 (tied: the Conv2D's input channels). */
  filters: number;
  /** Kernel size: kh = kw, or [kh, kw]. */
  kernel: Pair;
  /** Upsampling factor (one number or [sh, sw]); default 1. */
  stride?: Pair;
  /** Removed from each side of the output (one number or [ph, pw]), smaller than the kernel; default 0. */
  padding?: Pair;
  /**
   * Extra rows/columns at the bottom/right of the output, smaller than the stride; default 0.
   * Ignored when the layer has a `target` shape, which fixes it.
   */
  outputPadding?: Pair;
  /** Whether the layer has a bias [filters] (its own, even when tied); default true. */
  bias?: boolean;
  /** Random initialisation of an untied weight; default 'glorot' (the bias starts at 0). */
  init?: Init;
}

/**
 * Transposed convolution ("deconv"), weight [cIn, filters, kh, kw]. Tied to a
 * Conv2D (the seed's decoder), it uses that layer's weight unchanged — the
 * flipped-kernel full convolution — and adds its gradient into the same buffer;
 * only the bias is its own.
 */
export class ConvTranspose2D extends Layer {
  readonly type = 'ConvTranspose2D';
  /** [cIn, filters, kh, kw]; when tied, the Conv2D's weight itself (not listed in `params()`). */
  weight!: Param;
  /** [filters], or null with `bias: false`. */
  bias: Param | null = null;
  private x: Tensor | null = null;
  private op: [number, number] = [0, 0];

  /** Tied to `tiedTo` (its weight, shared) or with a weight of its own; `target` fixes the output size. */
  constructor(
    name: string,
    /** As given; defaults are applied where they are read. */
    readonly opts: ConvTranspose2DOptions,
    /** The encoder layer whose weight this layer uses (tied weights), or null for its own. */
    readonly tiedTo: Conv2D | null = null,
    /** Required output shape [c,h,w] (the tied encoder's input), which fixes the output padding. */
    readonly target: Shape | null = null,
  ) {
    super(name);
  }

  private get convOptions() {
    return { stride: this.opts.stride ?? 1, padding: this.opts.padding ?? 0, outputPadding: this.op };
  }

  private weightShape: number[] = [];

  protected infer(input: Shape): Shape {
    if (input.length !== 3) this.fail(`needs an image input [c,h,w], got [${input.join(',')}]`);
    const [kh, kw] = pair(this.opts.kernel),
      [sh, sw] = pair(this.opts.stride ?? 1),
      [ph, pw] = pair(this.opts.padding ?? 0);
    this.op = this.target
      ? [convTransposeOutputPadding(this.target[1], kh, sh, ph), convTransposeOutputPadding(this.target[2], kw, sw, pw)]
      : pair(this.opts.outputPadding ?? 0);
    const oh = convTransposeOut(input[1], kh, sh, ph, this.op[0]),
      ow = convTransposeOut(input[2], kw, sw, pw, this.op[1]);
    if (typeof oh === 'string') this.fail(`height ${input[1]}: ${oh}`);
    if (typeof ow === 'string') this.fail(`width ${input[2]}: ${ow}`);
    const out = [this.opts.filters, oh, ow];
    if (this.target && out.some((d, i) => d !== this.target![i])) {
      this.fail(`cannot reconstruct [${this.target.join(',')}] from [${input.join(',')}]: it gives [${out.join(',')}]`);
    }
    this.weightShape = [input[0], this.opts.filters, kh, kw];
    if (this.tiedTo) {
      const w = this.tiedTo.weightShape;
      if (w.length !== 4 || w.some((d, i) => d !== this.weightShape[i])) {
        this.fail(`tied to ${this.tiedTo.name} whose weight [${w.join(',')}] is not [${this.weightShape.join(',')}]`);
      }
    }
    return out;
  }

  override plannedParams(): PlannedParam[] {
    return weightAndBias(
      this,
      this.tiedTo || this.weight ? null : this.weightShape,
      !this.bias && this.opts.bias !== false ? [this.opts.filters] : null,
    );
  }

  protected override create(rng: Rng, init: ParamInit): void {
    const [c, f, kh, kw] = this.weightShape;
    if (this.tiedTo) this.weight = this.tiedTo.weight;
    else if (!this.weight)
      this.weight = init.param(this.be, `${this.name}.weight`, this.weightShape, rng, {
        fanIn: c * kh * kw,
        fanOut: f * kh * kw,
        init: this.opts.init ?? 'glorot',
      });
    if (!this.bias && this.opts.bias !== false) this.bias = init.param(this.be, `${this.name}.bias`, [f], rng, null);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    this.x = x;
    return convTranspose2d(
      x,
      this.weight.value,
      this.bias?.value ?? null,
      this.buffer('y', this.batchShape(x, this.outputShape)),
      this.convOptions,
    );
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!this.x) this.fail('backward before forward');
    if (this.weight.trainable) convTranspose2dBackwardWeight(this.x, dy, this.weight.grad, this.convOptions);
    if (this.bias?.trainable) biasBackward(dy, this.bias.grad);
    if (!needInputGrad) return null;
    return convTranspose2dBackwardInput(dy, this.weight.value, this.buffer('dx', this.x.shape), this.convOptions);
  }

  override params(): Param[] {
    // A tied weight is listed by its owner only, so optimizers update it once.
    return present(this.tiedTo ? null : this.weight, this.bias);
  }
}

/** An element-wise activation. Its backward needs only its own output. */
export class Activation extends Layer {
  readonly type = 'Activation';
  private y: Tensor | null = null;

  /** An activation of `kind`; `alpha` is leakyRelu's slope. */
  constructor(
    name: string,
    /** 'identity', 'relu', 'leakyRelu', 'tanh' or 'sigmoid' (checked by `plan`). */
    readonly kind: ActivationKind,
    /** Slope of leakyRelu for negative inputs, in [0, 0.999999] (checked by forward); the other kinds ignore it. */
    readonly alpha = 0.01,
  ) {
    super(name);
  }

  protected infer(input: Shape): Shape {
    if (!['identity', 'relu', 'leakyRelu', 'tanh', 'sigmoid'].includes(this.kind))
      this.fail(`unknown activation '${this.kind}'`);
    return input;
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    this.y = activation(this.kind, x, this.buffer('y', x.shape), this.alpha);
    return this.y;
  }

  backward(dy: Tensor): Tensor {
    if (!this.y) this.fail('backward before forward');
    return activationBackward(this.kind, this.y, dy, this.buffer('dx', dy.shape), this.alpha);
  }
}

/** Window and stride of a `MaxPool2D` layer. */
export interface PoolOptions {
  /** Window size (one number or [kh, kw]); default 2. */
  kernel?: Pair;
  /** Step between windows; default the window (non-overlapping). */
  stride?: Pair;
}

/** Max pooling that keeps its switches (argmax positions) for MaxUnpool2D and for its backward. */
export class MaxPool2D extends Layer {
  readonly type = 'MaxPool2D';
  /** Each window's argmax as an index into its (n, c) plane: u32 [n, c, oh, ow]; set by forward, owned by the layer. */
  switches: Tensor | null = null;

  /** A max pooling with `opts` (default: 2×2 windows, stride 2). */
  constructor(
    name: string,
    /** As given; defaults are applied by `poolOptions`. */
    readonly opts: PoolOptions = {},
  ) {
    super(name);
  }

  /** Window and stride with their defaults applied, as the pool ops take them. */
  get poolOptions() {
    const kernel = this.opts.kernel ?? 2;
    return { kernel, stride: poolStride(kernel, this.opts.stride) };
  }

  protected infer(input: Shape): Shape {
    if (input.length !== 3) this.fail(`needs an image input [c,h,w], got [${input.join(',')}]`);
    const [kh, kw] = pair(this.poolOptions.kernel),
      [sh, sw] = pair(this.poolOptions.stride);
    const oh = poolOut(input[1], kh, sh),
      ow = poolOut(input[2], kw, sw);
    if (typeof oh === 'string') this.fail(`height: ${oh}`);
    if (typeof ow === 'string') this.fail(`width: ${ow}`);
    return [input[0], oh, ow];
  }

  /** Its output and as many switches. */
  override keptElements(): number {
    return 2 * super.keptElements();
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    const shape = this.batchShape(x, this.outputShape);
    this.switches = this.buffer('switches', shape, 'u32');
    return maxPool2d(x, this.buffer('y', shape), this.switches, this.poolOptions);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!this.switches) this.fail('backward before forward');
    if (!needInputGrad) return null;
    return maxPool2dBackward(dy, this.switches, this.buffer('dx', [dy.shape[0], ...this.inputShape]), this.poolOptions);
  }
}

/** Max unpooling with the switches of its MaxPool2D: values go back where the maxima were, zeros elsewhere. */
export class MaxUnpool2D extends Layer {
  readonly type = 'MaxUnpool2D';

  /** The unpooling of `pool`, which must come before it in the forward pass. */
  constructor(
    name: string,
    /** The pooling layer whose switches it reads: its forward must have run on the same batch. */
    readonly pool: MaxPool2D,
  ) {
    super(name);
  }

  protected infer(input: Shape): Shape {
    if (input.some((d, i) => d !== this.pool.outputShape[i])) {
      this.fail(
        `input [${input.join(',')}] does not match ${this.pool.name}'s output [${this.pool.outputShape.join(',')}]`,
      );
    }
    return this.pool.inputShape;
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    const sw = this.pool.switches;
    if (!sw || sw.shape[0] !== x.shape[0])
      this.fail(`${this.pool.name} has no switches for this batch: run the encoder first`);
    return maxUnpool2d(x, sw, this.buffer('y', this.batchShape(x, this.outputShape)), this.pool.poolOptions);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    return maxUnpool2dBackward(
      dy,
      this.pool.switches!,
      this.buffer('dx', [dy.shape[0], ...this.inputShape]),
      this.pool.poolOptions,
    );
  }
}

/** Flattens [c,h,w] to [c·h·w] without copying (a reshaped view). */
export class Flatten extends Layer {
  readonly type = 'Flatten';

  /** A view of its input: nothing of its own. */
  override keptElements(): number {
    return 0;
  }

  protected infer(input: Shape): Shape {
    return [input.reduce((a, b) => a * b, 1)];
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return x.reshape([x.shape[0], this.outputShape[0]]);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    return needInputGrad ? dy.reshape([dy.shape[0], ...this.inputShape]) : null;
  }
}

/** Options of a dense (fully connected) layer. */
export interface DenseOptions {
  /** Output features, an integer ≥ 1. */
  units: number;
  /** Whether the layer has a bias [units]; default true. */
  bias?: boolean;
  /** Random initialisation of the weight; default 'glorot' (the bias starts at 0). */
  init?: Init;
}

/** Fully connected layer, weight [units, in] (PyTorch Linear). */
export class Dense extends Layer {
  readonly type = 'Dense';
  /** [units, in]; created by `allocate` (or set before it, which skips creation). */
  weight!: Param;
  /** [units], or null with `bias: false`. */
  bias: Param | null = null;
  private x: Tensor | null = null;

  /** A dense layer with `opts`; its input features come from `plan` (put a Flatten before it). */
  constructor(
    name: string,
    /** As given; defaults are applied where they are read. */
    readonly opts: DenseOptions,
  ) {
    super(name);
  }

  protected infer(input: Shape): Shape {
    if (input.length !== 1)
      this.fail(`needs a flat input [features] (put a Flatten before it), got [${input.join(',')}]`);
    const { units } = this.opts;
    if (!Number.isInteger(units) || units < 1) this.fail(`units must be an integer ≥ 1, got ${units}`);
    return [units];
  }

  override plannedParams(): PlannedParam[] {
    if (this.weight) return [];
    const { units } = this.opts;
    return weightAndBias(this, [units, this.inputShape[0]], this.opts.bias !== false ? [units] : null);
  }

  protected override create(rng: Rng, init: ParamInit): void {
    if (this.weight) return;
    const { units } = this.opts,
      fanIn = this.inputShape[0];
    this.weight = init.param(this.be, `${this.name}.weight`, [units, fanIn], rng, {
      fanIn,
      fanOut: units,
      init: this.opts.init ?? 'glorot',
    });
    if (this.opts.bias !== false) this.bias = init.param(this.be, `${this.name}.bias`, [units], rng, null);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    this.x = x;
    return dense(x, this.weight.value, this.bias?.value ?? null, this.buffer('y', [x.shape[0], this.opts.units]));
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!this.x) this.fail('backward before forward');
    if (this.weight.trainable) denseBackwardWeight(this.x, dy, this.weight.grad);
    if (this.bias?.trainable) biasBackward(dy, this.bias.grad);
    if (!needInputGrad) return null;
    return denseBackwardInput(dy, this.weight.value, this.buffer('dx', this.x.shape));
  }

  override params(): Param[] {
    return present(this.weight, this.bias);
  }
}

/** Inverted dropout: in training, zeroes each unit with probability `rate` and scales the rest by 1/(1 − rate). */
export class Dropout extends Layer {
  readonly type = 'Dropout';
  private mask: Float32Array | null = null;
  private rng!: Rng;

  /** Dropout with probability `rate` in [0, 1). */
  constructor(
    name: string,
    /** Probability of zeroing a unit in training, in [0, 1) (checked by `plan`); 0 passes everything. */
    readonly rate: number,
  ) {
    super(name);
  }

  protected infer(input: Shape): Shape {
    if (!(this.rate >= 0 && this.rate < 1)) this.fail(`rate must be in [0, 1), got ${this.rate}`);
    return input;
  }

  /** Outside training its input passes through (counted as nothing: the footprint is a lower bound). */
  override keptElements(): number {
    return 0;
  }

  protected override create(rng: Rng): void {
    this.rng = new Rng(rng.nextU32());
  }

  /** Draws masks from a stream of its own for `salt` (each data-parallel replica its own). */
  reseed(salt: number): void {
    this.rng.reseed(salt);
  }

  /** The mask generator's state (saved in checkpoints). */
  get rngState(): number {
    return this.rng.state;
  }

  set rngState(v: number) {
    this.rng.state = v;
  }

  forward(x: Tensor, training: boolean): Tensor {
    this.checkInput(x);
    if (!training || this.rate === 0) {
      this.mask = null;
      return x;
    }
    const y = this.buffer('y', x.shape);
    if (!this.mask || this.mask.length !== x.size) this.mask = new Float32Array(x.size);
    const keep = 1 / (1 - this.rate),
      m = this.mask,
      xd = x.data,
      yd = y.data;
    for (let i = 0; i < m.length; i++) {
      m[i] = this.rng.next() < this.rate ? 0 : keep;
      yd[i] = xd[i] * m[i];
    }
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    if (!this.mask) return dy;
    const dx = this.buffer('dx', dy.shape),
      m = this.mask,
      g = dy.data,
      d = dx.data;
    for (let i = 0; i < m.length; i++) d[i] = g[i] * m[i];
    return dx;
  }
}

/**
 * k-sparse code (Makhzani & Frey 2013, per feature map as in their
 * convolutional winner-take-all autoencoders): of each [h, w] map of each
 * image, only the k = max(1, round(keep·h·w)) largest values pass, the rest
 * become 0; ties at the k-th value go to the first positions. A CAE's decoder
 * that reads its code through this layer can use only a few strong responses
 * per map, so the encoder learns filters that answer strongly to one kind of
 * local pattern (a stroke, an edge) instead of spreading the image over every
 * filter. The gradient passes where the value passed.
 */
export class KSparse extends Layer {
  readonly type = 'KSparse';
  private mask: Uint8Array | null = null;
  private sorted = new Float32Array(0);
  /** Lifetime sparsity's scratch: each image's winner of one channel, then the same sorted. */
  private winners = new Float32Array(0);

  constructor(
    name: string,
    readonly keep: number,
    /**
     * Lifetime sparsity (Makhzani & Frey 2015): of each channel, only the maps of the `lifetime`
     * fraction of the batch's images whose strongest kept value is largest pass; 1 for all.
     */
    readonly lifetime = 1,
  ) {
    super(name);
  }

  protected infer(input: Shape): Shape {
    if (!(this.keep > 0 && this.keep <= 1)) this.fail(`keep must be a fraction in (0, 1], got ${this.keep}`);
    if (!(this.lifetime > 0 && this.lifetime <= 1))
      this.fail(`lifetime must be a fraction in (0, 1], got ${this.lifetime}`);
    if (input.length !== 3) this.fail(`input must be [c,h,w] maps, got [${input.join(',')}]`);
    return input;
  }

  /** Values kept per map. */
  get k(): number {
    return Math.max(1, Math.round(this.keep * this.inputShape[1] * this.inputShape[2]));
  }

  forward(x: Tensor, training = false): Tensor {
    this.checkInput(x);
    const y = this.buffer('y', x.shape);
    const plane = this.inputShape[1] * this.inputShape[2],
      k = this.k,
      xd = x.data,
      yd = y.data;
    if (!this.mask || this.mask.length !== x.size) this.mask = new Uint8Array(x.size);
    if (this.sorted.length !== plane) this.sorted = new Float32Array(plane);
    const m = this.mask,
      s = this.sorted;
    for (let p = 0; p < x.size; p += plane) {
      s.set(xd.subarray(p, p + plane));
      s.sort(); // ascending, NaN last: a NaN is kept and reaches the loss, which reports it
      const threshold = s[plane - k];
      let above = 0;
      for (let i = p; i < p + plane; i++) if (xd[i] > threshold) above++;
      let ties = k - above;
      for (let i = p; i < p + plane; i++) {
        const v = xd[i];
        const pass = v > threshold || (v === threshold && ties-- > 0) || Number.isNaN(v);
        m[i] = pass ? 1 : 0;
        yd[i] = pass ? v : 0;
      }
    }
    // Batch-dependent, so training only: a reconstruction must not depend on the other images.
    if (training && this.lifetime < 1) this.lifetimeMask(yd, m, x.shape[0]);
    return y;
  }

  private lifetimeMask(yd: Float32Array, m: Uint8Array, n: number): void {
    const [c, h, w] = this.inputShape,
      plane = h * w,
      keepImages = Math.max(1, Math.round(this.lifetime * n));
    if (this.winners.length < 2 * n) this.winners = new Float32Array(2 * n);
    const win = this.winners.subarray(0, n),
      sorted = this.winners.subarray(n, 2 * n);
    for (let ch = 0; ch < c; ch++) {
      for (let b = 0; b < n; b++) {
        const p = (b * c + ch) * plane;
        let best = -Infinity;
        for (let i = p; i < p + plane; i++) if (m[i] && yd[i] > best) best = yd[i];
        win[b] = best;
      }
      sorted.set(win);
      sorted.sort();
      const threshold = sorted[n - keepImages];
      let ties = keepImages;
      for (let b = 0; b < n; b++) if (win[b] > threshold) ties--;
      for (let b = 0; b < n; b++) {
        if (win[b] > threshold || (win[b] === threshold && ties-- > 0)) continue;
        const p = (b * c + ch) * plane;
        m.fill(0, p, p + plane);
        yd.fill(0, p, p + plane);
      }
    }
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    if (!this.mask) this.fail('backward before forward');
    const dx = this.buffer('dx', dy.shape),
      m = this.mask,
      g = dy.data,
      d = dx.data;
    for (let i = 0; i < m.length; i++) d[i] = m[i] ? g[i] : 0;
    return dx;
  }
}
