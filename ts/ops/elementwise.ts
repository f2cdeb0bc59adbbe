/** Activations, losses and optimizer updates over flat buffers. */
import type { Tensor } from '../backend/memory.js';
import { ArgumentError, quote, ShapeError } from '../errors.js';
import { fmt } from '../shape.js';
import { distinct, expectShape, intArg, numberArg, sameMemory, status, tensorArg } from './check.js';

/** An elementwise activation function. */
export type Activation = 'identity' | 'relu' | 'leakyRelu' | 'tanh' | 'sigmoid';
const ACTIVATION_CODE: Record<Activation, number> = { identity: 0, relu: 1, leakyRelu: 2, tanh: 3, sigmoid: 4 };

/**
 * Largest leakyRelu slope. The kernels take the slope as an f32 in [0, 1) (the backward pass reads the sign of
 * x from y); a number closer to 1 than this can round to 1 on its way to f32. Model descriptions are held to the
 * same bound (model/schema.ts), so a slope they accept never fails at the first forward pass.
 */
export const MAX_LEAKY_SLOPE = 0.999999;

function activationCode(op: string, kind: Activation, alpha: number): number {
  // Own properties only: 'toString', 'constructor', '__proto__' are not activations.
  if (typeof kind !== 'string' || !Object.hasOwn(ACTIVATION_CODE, kind))
    throw new ArgumentError(
      op,
      'kind',
      `must be one of ${Object.keys(ACTIVATION_CODE).join(', ')}, got ${quote(kind)}`,
    );
  const code = ACTIVATION_CODE[kind];
  if (kind === 'leakyRelu') numberArg(op, 'alpha', alpha, 0, MAX_LEAKY_SLOPE);
  return code;
}

function sameSize(op: string, ref: Tensor, refName: string, t: Tensor, name: string) {
  if (t.size !== ref.size)
    throw new ShapeError(op, name, `${ref.size} elements like ${refName} ${fmt(ref.shape)}`, `${fmt(t.shape)}`);
}

/** y = act(x), any shape, y may be x (in place). alpha: slope of leakyRelu for x < 0 (default 0.01). */
export function activation(kind: Activation, x: Tensor, y: Tensor, alpha = 0.01): Tensor {
  const op = 'activation';
  const code = activationCode(op, kind, alpha);
  tensorArg(op, 'x', x, null);
  tensorArg(op, 'y', y, null);
  sameSize(op, x, 'x', y, 'y');
  const mem = sameMemory(op, x, y);
  status(op, mem.exports.activation(code, alpha, x.size, x.ptr, y.ptr));
  return y;
}

/** dx = act'(·) · dy computed from the activation's OUTPUT y; dx may be dy (in place). */
export function activationBackward(kind: Activation, y: Tensor, dy: Tensor, dx: Tensor, alpha = 0.01): Tensor {
  const op = 'activationBackward';
  const code = activationCode(op, kind, alpha);
  tensorArg(op, 'y', y, null);
  tensorArg(op, 'dy', dy, null);
  tensorArg(op, 'dx', dx, null);
  sameSize(op, y, 'y', dy, 'dy');
  sameSize(op, y, 'y', dx, 'dx');
  const mem = sameMemory(op, y, dy, dx);
  distinct(op, { dx }, { y });
  status(op, mem.exports.activation_backward(code, alpha, y.size, y.ptr, dy.ptr, dx.ptr));
  return dx;
}

/** Returns 1/(2n) Σ (target − pred)² over all n elements; writes grad = (pred − target)/n when given. */
export function mseLoss(pred: Tensor, target: Tensor, grad: Tensor | null = null): number {
  const op = 'mseLoss';
  tensorArg(op, 'pred', pred, null);
  tensorArg(op, 'target', target, null);
  expectShape(op, 'target', target, pred.shape);
  if (grad) {
    tensorArg(op, 'grad', grad, null);
    expectShape(op, 'grad', grad, pred.shape);
  }
  const mem = sameMemory(op, pred, target, grad);
  distinct(op, { grad }, { pred, target });
  const out = mem.scalarSlot();
  status(op, mem.exports.mse_loss(pred.size, pred.ptr, target.ptr, grad ? grad.ptr : 0, out));
  return new Float32Array(mem.memory.buffer, out, 1)[0];
}

/** Returns mean −log softmax(logits)[label]; writes grad = (softmax − onehot)/n when given. logits [n,k], labels u32 [n]. */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, grad: Tensor | null = null): number {
  const op = 'softmaxCrossEntropy';
  tensorArg(op, 'logits', logits, 2);
  tensorArg(op, 'labels', labels, 1, 'u32');
  const [n, k] = logits.shape;
  expectShape(op, 'labels', labels, [n]);
  const lab = labels.u32;
  for (let i = 0; i < n; i++) {
    if (lab[i] >= k) throw new ArgumentError(op, 'labels', `must be < ${k} classes, got ${lab[i]} at index ${i}`);
  }
  if (grad) {
    tensorArg(op, 'grad', grad, 2);
    expectShape(op, 'grad', grad, logits.shape);
  }
  const mem = sameMemory(op, logits, labels, grad);
  distinct(op, { grad }, { logits, labels });
  const out = mem.scalarSlot();
  status(op, mem.exports.softmax_cross_entropy(n, k, logits.ptr, labels.ptr, grad ? grad.ptr : 0, out));
  return new Float32Array(mem.memory.buffer, out, 1)[0];
}

/** Hyper-parameters of one SGD step (`sgdStep`): momentum, Nesterov, weight decay. */
export interface SgdOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum factor in [0, 1]; default 0. */
  momentum?: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay?: number;
  /** Nesterov momentum (PyTorch semantics); needs momentum > 0. */
  nesterov?: boolean;
}

/** One SGD step with momentum (PyTorch semantics) on flat buffers of equal size, in place. */
export function sgdStep(params: Tensor, grads: Tensor, velocity: Tensor, o: SgdOptions): void {
  const op = 'sgdStep';
  tensorArg(op, 'params', params, null);
  tensorArg(op, 'grads', grads, null);
  tensorArg(op, 'velocity', velocity, null);
  sameSize(op, params, 'params', grads, 'grads');
  sameSize(op, params, 'params', velocity, 'velocity');
  const lr = numberArg(op, 'lr', o.lr, 0);
  const momentum = numberArg(op, 'momentum', o.momentum ?? 0, 0, 1);
  const wd = numberArg(op, 'weightDecay', o.weightDecay ?? 0, 0);
  if (o.nesterov && momentum === 0) throw new ArgumentError(op, 'nesterov', 'needs momentum > 0');
  const mem = sameMemory(op, params, grads, velocity);
  distinct(op, { params, velocity }, { grads });
  distinct(op, { params }, { velocity });
  status(op, mem.exports.sgd_step(params.size, params.ptr, grads.ptr, velocity.ptr, lr, momentum, wd, !!o.nesterov));
}

/** Hyper-parameters of one AdamW step (`adamStep`). */
export interface AdamOptions {
  /** Learning rate. */
  lr: number;
  /** Decay of the first-moment average; default 0.9. */
  beta1?: number;
  /** Decay of the second-moment average; default 0.999. */
  beta2?: number;
  /** Added to the denominator for stability; default 1e-8. */
  eps?: number;
  /** Decoupled weight decay (AdamW). */
  weightDecay?: number;
  /** 1 for the first step. */
  step: number;
}

/** One AdamW step (PyTorch semantics) on flat buffers of equal size, in place. */
export function adamStep(params: Tensor, grads: Tensor, m: Tensor, v: Tensor, o: AdamOptions): void {
  const op = 'adamStep';
  for (const [name, t] of [
    ['params', params],
    ['grads', grads],
    ['m', m],
    ['v', v],
  ] as const) {
    tensorArg(op, name, t, null);
    sameSize(op, params, 'params', t, name);
  }
  const lr = numberArg(op, 'lr', o.lr, 0);
  const b1 = numberArg(op, 'beta1', o.beta1 ?? 0.9, 0, 0.999999);
  const b2 = numberArg(op, 'beta2', o.beta2 ?? 0.999, 0, 0.99999999);
  const eps = numberArg(op, 'eps', o.eps ?? 1e-8, 0);
  const wd = numberArg(op, 'weightDecay', o.weightDecay ?? 0, 0);
  const step = intArg(op, 'step', o.step, 1);
  const mem = sameMemory(op, params, grads, m, v);
  distinct(op, { params, m, v }, { grads });
  distinct(op, { params }, { m, v });
  distinct(op, { m }, { v });
  status(op, mem.exports.adam_step(params.size, params.ptr, grads.ptr, m.ptr, v.ptr, lr, b1, b2, eps, wd, step));
}

/** `x = a·x + b·y` in place (the data-parallel gradient average; symmetric in its two terms, bit for bit). */
export function axpby(x: Tensor, a: number, y: Tensor, b: number): void {
  const op = 'axpby';
  tensorArg(op, 'x', x, null);
  tensorArg(op, 'y', y, null);
  sameSize(op, x, 'x', y, 'y');
  const mem = sameMemory(op, x, y);
  distinct(op, { x }, { y });
  status(op, mem.exports.axpby(x.size, x.ptr, numberArg(op, 'a', a), y.ptr, numberArg(op, 'b', b)));
}
