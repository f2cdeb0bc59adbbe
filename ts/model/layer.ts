/**
 * The layer contract (convnetjs's forward / backward / params, with shapes
 * inferred at build time):
 * - `plan` checks the per-sample input shape and returns the output shape
 *   without allocating anything (errors name the layer); `plannedParams` then
 *   lists the parameters the layer will create, so a model can check its size
 *   against the limits before any memory is taken.
 * - `allocate` creates the parameters through a `ParamInit` (random
 *   initialisation, or a checked weights file); `build` is plan + allocate.
 * - `forward(x)` returns an output tensor the layer owns (reused from batch to
 *   batch; reallocated when the batch size changes). It keeps what its backward needs.
 * - `backward(dy)` adds parameter gradients into `Param.grad` (+=) and returns
 *   the input gradient (owned by the layer), or null when not asked for.
 */
import type { Backend } from '../backend/backend.js';
import type { DType, Tensor } from '../backend/memory.js';
import { ModelError } from '../errors.js';
import { MAX_TENSOR_ELEMENTS } from '../limits.js';
import { boundedNumel, numel } from '../shape.js';
import type { Rng } from '../util/rng.js';

/** Per-sample shape (no batch axis): [c, h, w] for images, [features] after Flatten. */
export type Shape = readonly number[];

/** Weight initialisation: Glorot (tanh, sigmoid) or He (relu) uniform limits. */
export type Init = 'glorot' | 'he';

/** How random initialisation fills a weight: uniform within the Glorot (tanh, sigmoid) or He (relu) limit. */
export interface RandomFill {
  /** Inputs feeding each output unit (cIn·kh·kw for a convolution, `in` for a dense layer). */
  fanIn: number;
  /** Outputs each input unit feeds (filters·kh·kw for a convolution, `units` for a dense layer). */
  fanOut: number;
  /** 'he': limit √(6 / fanIn); 'glorot': √(6 / (fanIn + fanOut)). */
  init: Init;
}

/** A parameter a layer will create: its full name and shape. */
export interface PlannedParam {
  /** The name it will have in saved weights, e.g. `block0.conv0.weight`. */
  name: string;
  /** Its full shape, e.g. [cOut, cIn, kh, kw] for a convolution's weight. */
  shape: number[];
}

/**
 * Where new parameters get their values. `param` creates one; `fill` says how
 * random initialisation draws it from `rng` (null: zeros, no draws). An
 * initialiser that does not draw (loading weights) advances `rng` by as many
 * draws instead, so generators seeded later from the same stream (dropout)
 * are the same either way.
 */
export interface ParamInit {
  /** Called with every parameter of the model before the first is allocated: may refuse them. */
  expect?(planned: readonly PlannedParam[]): void;
  /** A new parameter `name` of `shape` on `be`, its value drawn as `fill` says (or loaded); its gradient zeroed. */
  param(be: Backend, name: string, shape: number[], rng: Rng, fill: RandomFill | null): Param;
}

/** Random initialisation (the default of every constructor). */
export const randomInit: ParamInit = {
  param(be, name, shape, rng, fill) {
    const p = new Param(name, be.zeros(shape), be.zeros(shape));
    if (fill) {
      const limit = fill.init === 'he' ? Math.sqrt(6 / fill.fanIn) : Math.sqrt(6 / (fill.fanIn + fill.fanOut));
      const d = p.value.data;
      for (let i = 0; i < d.length; i++) d[i] = (2 * rng.next() - 1) * limit;
    }
    return p;
  },
};

/** A trainable tensor of a layer with its gradient buffer and its name in saved weights (e.g. `block0.conv0.weight`). */
export class Param {
  /** Wraps `value` and `grad` (same shape), which it then owns; `dispose` frees both. */
  constructor(
    /** Unique within a model, e.g. `block0.conv0.weight`; the name in saved files. */
    public name: string,
    /** The values, owned by the parameter (freed by `dispose`). */
    readonly value: Tensor,
    /** Same shape as `value`; backward passes add into it (+=), optimizers read and zero it. */
    readonly grad: Tensor,
  ) {}
  /** Frozen parameters keep their value: no gradient is accumulated and optimizers skip them. */
  trainable = true;
  /** Frees `value` and `grad`. */
  dispose(): void {
    this.value.dispose();
    this.grad.dispose();
  }
}

/** A layer of a model: forward and backward passes over batches, its parameters, and its saved form. */
export abstract class Layer {
  /** The layer's class ('Conv2D', 'Dense', …), named with `name` in its errors. */
  abstract readonly type: string;
  /** Per-sample input shape (no batch axis), set by `plan`; [] before. */
  inputShape: Shape = [];
  /** Per-sample output shape, set by `plan`; [] before. */
  outputShape: Shape = [];
  protected be!: Backend;
  private buffers = new Map<string, Tensor>();

  /** Only names the layer: shapes come from `plan`, parameters from `allocate`. */
  constructor(
    /** Unique within a model (e.g. `block0.conv0`): the prefix of its parameters' names and the name in its errors. */
    public name: string,
  ) {}

  /**
   * Infers the output shape from the input shape, allocating nothing. An output of one image over
   * MAX_TENSOR_ELEMENTS is refused here: its parameters may be small (65 536 filters of 1×1 on a
   * 1024×1024 image), but not even a batch of one image could run through it.
   */
  plan(input: Shape): Shape {
    this.inputShape = [...input];
    const out = this.infer(input);
    if (boundedNumel(out, MAX_TENSOR_ELEMENTS) > MAX_TENSOR_ELEMENTS)
      this.fail(
        `its output for one image, [${out.join(',')}], has more than ${MAX_TENSOR_ELEMENTS} elements (MAX_TENSOR_ELEMENTS)`,
      );
    this.outputShape = out;
    return this.outputShape;
  }

  /**
   * Elements that one image's forward pass leaves in buffers of this layer (after `plan`): its output, which it
   * keeps from batch to batch. A layer that returns a view of its input (Flatten, Dropout outside training) says 0.
   */
  keptElements(): number {
    return numel(this.outputShape);
  }

  /** The parameters `allocate` will create (after `plan`). */
  plannedParams(): PlannedParam[] {
    return [];
  }

  /** Creates the parameters (after `plan`). */
  allocate(be: Backend, rng: Rng, init: ParamInit = randomInit): void {
    this.be = be;
    this.create(rng, init);
  }

  /** plan + allocate. */
  build(be: Backend, input: Shape, rng: Rng, init: ParamInit = randomInit): Shape {
    const out = this.plan(input);
    this.allocate(be, rng, init);
    return out;
  }

  protected abstract infer(input: Shape): Shape;
  protected create(_rng: Rng, _init: ParamInit): void {}
  /**
   * Output [n, ...outputShape] of the batch `x` [n, ...inputShape]. The layer keeps what its backward
   * needs (often `x` itself: leave it unchanged until then). The output belongs to the layer (or is a
   * view of `x`): do not dispose it; the next forward reuses it. `training` turns dropout on.
   */
  abstract forward(x: Tensor, training: boolean): Tensor;
  /**
   * Given `dy`, the loss gradient of the last forward's output, adds the parameter gradients into
   * `Param.grad` (+=) and returns the input gradient (the layer's, or a view of `dy`), or null when
   * `needInputGrad` is false (a model's first layer).
   */
  abstract backward(dy: Tensor, needInputGrad: boolean): Tensor | null;

  /** Its parameters, weight before bias (a tied layer leaves out the weight it shares). */
  params(): Param[] {
    return [];
  }

  protected fail(message: string): never {
    throw new ModelError(`${this.name} (${this.type})`, message);
  }

  /** A tensor owned by this layer under `key`, of `shape`; reallocated only when the shape changes. */
  protected buffer(key: string, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const t = this.buffers.get(key);
    if (
      t &&
      !t.disposed &&
      t.dtype === dtype &&
      t.shape.length === shape.length &&
      t.shape.every((d, i) => d === shape[i])
    )
      return t;
    t?.dispose();
    const fresh = this.be.empty(shape, dtype);
    this.buffers.set(key, fresh);
    return fresh;
  }

  protected batchShape(x: Tensor, per: Shape): number[] {
    return [x.shape[0], ...per];
  }

  /** The input of a forward must have this layer's per-sample shape. */
  protected checkInput(x: Tensor): void {
    const per = x.shape.slice(1);
    if (per.length !== this.inputShape.length || per.some((d, i) => d !== this.inputShape[i])) {
      this.fail(`input must be [n,${this.inputShape.join(',')}], got [${x.shape.join(',')}]`);
    }
  }

  /** Frees the layer's buffers and parameters. */
  dispose(): void {
    for (const t of this.buffers.values()) t.dispose();
    this.buffers.clear();
    for (const p of this.ownParams()) p.dispose();
  }

  /** Parameters this layer created (a tied layer shares, but does not own, its partner's weight). */
  protected ownParams(): Param[] {
    return this.params();
  }
}
