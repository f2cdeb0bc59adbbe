/**
 * An f64 evaluation of a built Sequential, layer by layer with the independent
 * references (test/reference/*), reading each layer's configuration and
 * parameters. Used to check whole-model gradients by finite differences in f64.
 */
import type { Layer } from '../../ts/model/layer.js';
import {
  Activation,
  Conv2D,
  ConvTranspose2D,
  Dense,
  Dropout,
  Flatten,
  KSparse,
  MaxPool2D,
  MaxUnpool2D,
} from '../../ts/model/layers.js';
import { pair } from '../../ts/shape.js';
import * as RC from '../reference/conv.js';
import * as RE from '../reference/elementwise.js';
import * as RP from '../reference/pool.js';

export type ParamValues = Map<string, Float64Array>;

/** Runs `layers` in f64 on x ([n, ...inputShape]), with parameter values from `values` (by name). */
export function forwardF64(layers: Layer[], x: Float64Array, n: number, values: ParamValues): Float64Array {
  let t = x;
  const switches = new Map<string, Uint32Array>();
  const s4 = (shape: readonly number[]) => [n, ...shape] as unknown as RC.Shape4;
  for (const l of layers) {
    const ins = l.inputShape;
    if (l instanceof Conv2D) {
      const [sh, sw] = pair(l.opts.stride ?? 1),
        [ph, pw] = pair(l.opts.padding ?? 0);
      const w = values.get(l.weight.name)!,
        b = l.bias ? values.get(l.bias.name)! : null;
      t = RC.conv2dRef(t, s4(ins), w, l.weight.value.shape as unknown as RC.Shape4, b, { sh, sw, ph, pw }).y;
    } else if (l instanceof ConvTranspose2D) {
      const [sh, sw] = pair(l.opts.stride ?? 1),
        [ph, pw] = pair(l.opts.padding ?? 0);
      const [kh, kw] = pair(l.opts.kernel);
      const out = l.outputShape;
      const oph = out[1] - ((ins[1] - 1) * sh - 2 * ph + kh),
        opw = out[2] - ((ins[2] - 1) * sw - 2 * pw + kw);
      const w = values.get(l.weight.name)!,
        b = l.bias ? values.get(l.bias.name)! : null;
      t = RC.convTranspose2dRef(t, s4(ins), w, l.weight.value.shape as unknown as RC.Shape4, b, {
        sh,
        sw,
        ph,
        pw,
        oph,
        opw,
      }).y;
    } else if (l instanceof Activation) {
      t = RE.activationRef(l.kind, t, l.alpha);
    } else if (l instanceof MaxPool2D) {
      const [kh, kw] = pair(l.poolOptions.kernel),
        [sh, sw] = pair(l.poolOptions.stride);
      const r = RP.maxPool2dRef(t, n * ins[0], ins[1], ins[2], kh, kw, sh, sw);
      switches.set(l.name, r.switches);
      t = r.y;
    } else if (l instanceof MaxUnpool2D) {
      const out = l.outputShape;
      t = RP.maxUnpool2dRef(t, switches.get(l.pool.name)!, n * ins[0], ins[1], ins[2], out[1], out[2]);
    } else if (l instanceof Dense) {
      const w = values.get(l.weight.name)!,
        b = l.bias ? values.get(l.bias.name)! : null;
      t = RE.denseRef(t, [n, ins[0]], w, l.weight.value.shape as unknown as RE.Shape2, b);
    } else if (l instanceof KSparse) {
      t = RP.kSparseRef(t, n * ins[0], ins[1] * ins[2], l.k).y;
    } else if (l instanceof Flatten || l instanceof Dropout) {
      // Flatten is a reshape; dropout is the identity outside training.
    } else {
      throw new Error(`forwardF64: no reference for ${l.type}`);
    }
  }
  return t;
}
