/** Optimizers over a model's parameters: state buffers per parameter, one kernel call per parameter. */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/memory.js';
import { ArgumentError, quote } from '../errors.js';
import { adamStep, sgdStep } from '../ops/elementwise.js';
import type { Param } from '../model/layer.js';

/** An optimizer and its hyper-parameters: SGD (momentum, Nesterov, weight decay) or Adam(W). */
export type OptimizerSpec =
  | { type: 'sgd'; lr: number; momentum?: number; nesterov?: boolean; weightDecay?: number }
  | { type: 'adam'; lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number };

/** Learning rate as a function of the epoch (0-based). */
export type Schedule =
  | { type: 'constant' }
  | { type: 'step'; every: number; gamma: number }
  | { type: 'cosine'; epochs: number; minFactor?: number };

/** The learning rate of `epoch` (0-based) under schedule `s` from the base rate. */
export function scheduledLr(base: number, epoch: number, s: Schedule = { type: 'constant' }): number {
  switch (s.type) {
    case 'constant':
      return base;
    case 'step':
      return base * s.gamma ** Math.floor(epoch / s.every);
    case 'cosine': {
      const min = s.minFactor ?? 0;
      const t = Math.min(1, epoch / Math.max(1, s.epochs));
      return base * (min + (1 - min) * 0.5 * (1 + Math.cos(Math.PI * t)));
    }
    default:
      throw new ArgumentError('schedule', 'type', `unknown schedule ${(s as { type: string }).type}`);
  }
}

/**
 * The learning-rate factor of each parameter under `factors` (prefix → factor):
 * the longest prefix that is the parameter's name or ends where a `.` follows
 * in it; 1 where none matches. Throws an ArgumentError naming `op` for a
 * factor that is not a finite number ≥ 0 or a prefix that names no parameter.
 */
export function lrFactorsOf(params: readonly Param[], factors: unknown, op: string): Float64Array {
  const out = new Float64Array(params.length).fill(1);
  if (factors === undefined) return out;
  if (factors === null || typeof factors !== 'object' || Array.isArray(factors))
    throw new ArgumentError(
      op,
      'lrFactors',
      'must be an object of parameter-name prefixes and factors, like { block0: 0.1 }',
    );
  const keys = Object.keys(factors);
  if (keys.length > MAX_FACTORS)
    throw new ArgumentError(op, 'lrFactors', `has ${keys.length} prefixes, at most ${MAX_FACTORS}`);
  const best = new Int32Array(params.length).fill(-1);
  for (const k of keys) {
    const f = (factors as Record<string, unknown>)[k];
    const name = quote(k);
    if (typeof f !== 'number' || !Number.isFinite(f) || f < 0)
      throw new ArgumentError(op, `lrFactors[${name}]`, `must be a finite number ≥ 0, got ${quote(f)}`);
    let hits = 0;
    params.forEach((p, i) => {
      if ((p.name === k || p.name.startsWith(`${k}.`)) && k.length > best[i]) {
        best[i] = k.length;
        out[i] = f;
      }
      if (p.name === k || p.name.startsWith(`${k}.`)) hits++;
    });
    if (!hits)
      throw new ArgumentError(
        op,
        `lrFactors[${name}]`,
        'names no parameter of the model (prefixes end at a dot: block0, block0.conv0, dense0)',
      );
  }
  return out;
}

const MAX_FACTORS = 256;

/** The optimizer of a training run over a list of parameters (SGD with momentum, or AdamW), with its state buffers. */
export class Optimizer {
  private readonly state = new Map<Param, Tensor[]>();
  /** Each parameter's learning-rate factor (see `lrFactorsOf`). */
  private readonly factors: Float64Array;
  /** Steps taken (Adam's bias correction counts from 1). */
  steps = 0;

  /** `lrFactors`: learning-rate factors by parameter-name prefix (FitOptions.lrFactors). */
  constructor(
    private readonly be: Backend,
    private readonly params: readonly Param[],
    /** Type, learning rate and hyper-parameters, as given. */
    readonly spec: OptimizerSpec,
    lrFactors?: Record<string, number>,
  ) {
    if (spec.type !== 'sgd' && spec.type !== 'adam')
      throw new ArgumentError('optimizer', 'type', `must be 'sgd' or 'adam', got ${(spec as { type: string }).type}`);
    if (!(spec.lr > 0)) throw new ArgumentError('optimizer', 'lr', `must be > 0, got ${spec.lr}`);
    this.factors = lrFactorsOf(params, lrFactors, 'optimizer');
  }

  /** Momentum for SGD; first and second moments for Adam. */
  private get buffersPerParam(): number {
    return this.spec.type === 'adam' ? 2 : 1;
  }

  /** A parameter's state buffers, created (zeroed) on first use. */
  private stateOf(p: Param): Tensor[] {
    let st = this.state.get(p);
    if (!st) {
      st = Array.from({ length: this.buffersPerParam }, () => this.be.zeros([p.value.size]));
      this.state.set(p, st);
    }
    return st;
  }

  /** Zeroes every parameter gradient (gradients accumulate across kernel calls). */
  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  /** Applies one update with learning rate `lr` to every trainable parameter. */
  step(lr = this.spec.lr): void {
    this.steps++;
    const s = this.spec;
    for (const [i, p] of this.params.entries()) {
      const f = this.factors[i];
      if (!p.trainable || f === 0) continue;
      const st = this.stateOf(p);
      if (s.type === 'sgd')
        sgdStep(p.value, p.grad, st[0], {
          lr: lr * f,
          momentum: s.momentum ?? 0,
          nesterov: s.nesterov,
          weightDecay: s.weightDecay,
        });
      else
        adamStep(p.value, p.grad, st[0], st[1], {
          lr: lr * f,
          beta1: s.beta1,
          beta2: s.beta2,
          eps: s.eps,
          weightDecay: s.weightDecay,
          step: this.steps,
        });
    }
  }

  /** The optimizer's buffers by parameter name (momentum, or Adam's m and v), copied out. */
  exportState(): Record<string, Float32Array[]> {
    const out: Record<string, Float32Array[]> = {};
    for (const [p, ts] of this.state) out[p.name] = ts.map((t) => t.toArray());
    return out;
  }

  /** Restores buffers saved by exportState (sizes are checked). */
  importState(state: Record<string, Float32Array[]>, steps: number): void {
    this.steps = steps;
    for (const p of this.params) {
      const saved = state[p.name];
      if (!saved) continue;
      if (saved.length !== this.buffersPerParam || saved.some((a) => a.length !== p.value.size)) {
        throw new ArgumentError(
          'optimizer',
          'state',
          `for '${p.name}' does not fit a ${this.spec.type} optimizer of ${p.value.size} values`,
        );
      }
      this.stateOf(p).forEach((t, i) => t.set(saved[i]));
    }
  }

  /** Frees its buffers (not the parameters, which are the model's). */
  dispose(): void {
    for (const ts of this.state.values()) for (const t of ts) t.dispose();
    this.state.clear();
  }
}
