/** A chain of layers: forward in order, backward in reverse. */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/memory.js';
import { ModelError } from '../errors.js';
import type { Rng } from '../util/rng.js';
import { type Layer, type Param, type ParamInit, type PlannedParam, randomInit, type Shape } from './layer.js';

/** Layers applied in order; shapes are inferred when it is built, and a mismatch throws a `ModelError` naming the layer. */
export class Sequential {
  /** In forward order; `dispose` frees them. */
  readonly layers: Layer[] = [];
  /** Per-sample input shape, set by `plan`; [] before. */
  inputShape: Shape = [];
  /** Per-sample output shape (the last layer's), set by `plan`; [] before. */
  outputShape: Shape = [];

  /** Takes the layers in forward order (their names must be unique); nothing is planned or allocated yet. */
  constructor(layers: readonly Layer[] = []) {
    this.layers.push(...layers);
  }

  /** Infers every layer's shapes in order, allocating nothing; the first mismatch throws a ModelError naming its layer. */
  plan(input: Shape): Shape {
    const names = new Set<string>();
    for (const l of this.layers) {
      if (names.has(l.name)) throw new ModelError(l.name, 'two layers have this name; names must be unique');
      names.add(l.name);
    }
    this.inputShape = [...input];
    let s = input;
    for (const l of this.layers) s = l.plan(s);
    this.outputShape = s;
    return s;
  }

  /** Every layer's planned parameters, in order (after `plan`). */
  plannedParams(): PlannedParam[] {
    return this.layers.flatMap((l) => l.plannedParams());
  }

  /** Creates every layer's parameters in order (after plan), drawing from `rng` in that order. */
  allocate(be: Backend, rng: Rng, init: ParamInit = randomInit): void {
    for (const l of this.layers) l.allocate(be, rng, init);
  }

  /** plan + allocate; returns the output shape. */
  build(be: Backend, input: Shape, rng: Rng, init: ParamInit = randomInit): Shape {
    const out = this.plan(input);
    this.allocate(be, rng, init);
    return out;
  }

  /** Runs `x` [n, ...inputShape] through every layer; the output belongs to the last layer (see `Layer.forward`). */
  forward(x: Tensor, training: boolean): Tensor {
    let t = x;
    for (const l of this.layers) t = l.forward(t, training);
    return t;
  }

  /** Backpropagates `dy`; returns the gradient of the model's input only when asked. */
  backward(dy: Tensor, needInputGrad = false): Tensor | null {
    let g: Tensor | null = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      g = this.layers[i].backward(g!, i > 0 || needInputGrad);
    }
    return g;
  }

  /** Every layer's parameters, in layer order. */
  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  /** Frees every layer's buffers and parameters. */
  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}
