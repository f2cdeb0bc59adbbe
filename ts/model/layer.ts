/**
 * The layer contract (convnetjs's forward / backward / params / config, with
 * shapes inferred at build time):
 * - `build` checks the per-sample input shape, creates parameters and returns
 *   the output shape; errors name the layer.
 * - `forward(x)` returns an output tensor the layer owns (reused from batch to
 *   batch; reallocated when the batch size changes). It keeps what its backward needs.
 * - `backward(dy)` adds parameter gradients into `Param.grad` (+=) and returns
 *   the input gradient (owned by the layer), or null when not asked for.
 */
import type { Backend } from '../backend/backend.js';
import type { DType, Tensor } from '../backend/memory.js';
import { ModelError } from '../errors.js';
import type { Rng } from '../util/rng.js';

/** Per-sample shape (no batch axis): [c, h, w] for images, [features] after Flatten. */
export type Shape = readonly number[];

/** A trainable tensor of a layer with its gradient buffer and its name in saved weights (e.g. `block0.conv0.weight`). */
export class Param {
  constructor(
    /** Unique within a model, e.g. `block0.conv0.weight`; the name in saved files. */
    public name: string,
    readonly value: Tensor,
    readonly grad: Tensor,
  ) {}
  /** Frozen parameters keep their value: no gradient is accumulated and optimizers skip them. */
  trainable = true;
  dispose(): void {
    this.value.dispose();
    this.grad.dispose();
  }
}

/** A layer of a model: forward and backward passes over batches, its parameters, and its saved form. */
export abstract class Layer {
  abstract readonly type: string;
  inputShape: Shape = [];
  outputShape: Shape = [];
  protected be!: Backend;
  private buffers = new Map<string, Tensor>();

  constructor(public name: string) {}

  /** Infers the output shape from the input shape and creates parameters. */
  build(be: Backend, input: Shape, rng: Rng): Shape {
    this.be = be;
    this.inputShape = [...input];
    this.outputShape = this.infer(input, rng);
    return this.outputShape;
  }

  protected abstract infer(input: Shape, rng: Rng): Shape;
  abstract forward(x: Tensor, training: boolean): Tensor;
  abstract backward(dy: Tensor, needInputGrad: boolean): Tensor | null;

  params(): Param[] {
    return [];
  }

  /** The hyper-parameters that rebuild this layer (saved as JSON beside the weights). */
  abstract config(): Record<string, unknown>;

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
