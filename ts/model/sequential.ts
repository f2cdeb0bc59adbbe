/** A chain of layers: forward in order, backward in reverse. */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/memory.js';
import { ModelError } from '../errors.js';
import type { Rng } from '../util/rng.js';
import type { Layer, Param, Shape } from './layer.js';

/** Layers applied in order; shapes are inferred when it is built, and a mismatch throws a `ModelError` naming the layer. */
export class Sequential {
  readonly layers: Layer[] = [];
  inputShape: Shape = [];
  outputShape: Shape = [];

  constructor(layers: Layer[] = []) {
    this.layers.push(...layers);
  }

  /** Builds every layer in order; the first shape mismatch throws a ModelError naming its layer. */
  build(be: Backend, input: Shape, rng: Rng): Shape {
    const names = new Set<string>();
    for (const l of this.layers) {
      if (names.has(l.name)) throw new ModelError(l.name, 'two layers have this name; names must be unique');
      names.add(l.name);
    }
    this.inputShape = [...input];
    let s = input;
    for (const l of this.layers) s = l.build(be, s, rng);
    this.outputShape = s;
    return s;
  }

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

  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}
