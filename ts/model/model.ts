/**
 * The model contract every model kind implements, and what it shares with
 * the training loop. A kind is registered by name (ts/model/kinds.ts); the
 * saved JSON names its kind, and loading, the workers and the Trainer go
 * through this interface only, so a new kind needs no change there.
 */
import type { Tensor } from '../backend/memory.js';
import { ArgumentError, ModelError, quote } from '../errors.js';
import { MAX_BACKEND_BYTES, MAX_MODEL_PARAM_BYTES, MAX_TENSOR_ELEMENTS } from '../limits.js';
import { boundedNumel, numel } from '../shape.js';
import type { Layer, Param, ParamInit, PlannedParam, Shape } from './layer.js';

/** What to train or evaluate in a model: `layer` picks a block of a CAE stack (greedy pretraining); other kinds take none. */
export interface TaskSpec {
  /** Index of the stack block to train, in [0, blocks); default 0. Other kinds accept only 0 or nothing. */
  layer?: number;
}

/** What the training loop trains: anything that turns a batch into a loss and gradients. */
export interface Task {
  /** The parameters it trains (for a stack, those of the chosen block only); optimizers skip frozen ones. */
  params(): Param[];
  /** Forward and backward on one batch; adds into Param.grad; returns the mean loss. */
  step(x: Tensor, labels: Tensor | null): number;
  /** Loss of a batch without training, and the predicted class of each image for classifying tasks. */
  evaluate(x: Tensor, labels: Tensor | null): { loss: number; predictions?: Uint32Array };
  /** Whether batches must carry labels. */
  readonly needsLabels: boolean;
  /** States of the model's own generators (input noise, dropout), saved in checkpoints so a resume is exact. */
  randomState?(): number[];
  /** Restores what `randomState` returned (on resuming a checkpoint). */
  setRandomState?(state: number[]): void;
  /** Moves the task's generators to streams of their own for `salt` (each data-parallel replica its own). */
  reseed?(salt: number): void;
  /**
   * What one image's pass leaves in the layers' buffers (`footprintOf` its layers): with it, `fit` refuses a
   * batch that cannot fit before the first step, and `evaluateTask` picks a default batch that fits.
   */
  footprint?(): ImageFootprint;
}

/** Elements one image leaves in the buffers of a task's layers (a lower bound: gradients and workspaces come on top). */
export interface ImageFootprint {
  /** The largest single tensor of one image: the input or one layer's output. */
  largest: number;
  /** The layer of `largest` (named in errors). */
  layer: string;
  /** All the layers' outputs for one image, which a batch keeps alive together. */
  total: number;
}

/**
 * The footprint of `layers` (planned) on inputs of `input` elements per image: the largest single tensor (the
 * input, or a layer's output: a pooling layer's switches are a second tensor of its size) and the sum of what
 * the input and the layers keep.
 */
export function footprintOf(input: number, layers: readonly Layer[]): ImageFootprint {
  const f: ImageFootprint = { largest: input, layer: 'input', total: input };
  for (const l of layers) {
    const kept = l.keptElements();
    f.total += kept;
    const tensor = kept > 0 ? numel(l.outputShape) : 0;
    if (tensor > f.largest) {
      f.largest = tensor;
      f.layer = l.name;
    }
  }
  return f;
}

/**
 * The most images a batch of this footprint can hold: its largest layer output within MAX_TENSOR_ELEMENTS, and
 * the layer outputs of the whole batch (f32, 4 bytes each) within the MAX_BACKEND_BYTES a backend addresses.
 */
export function largestBatch(f: ImageFootprint): number {
  const byTensor = f.largest > 0 ? Math.floor(MAX_TENSOR_ELEMENTS / f.largest) : Number.POSITIVE_INFINITY;
  const byMemory = f.total > 0 ? Math.floor(MAX_BACKEND_BYTES / (4 * f.total)) : Number.POSITIVE_INFINITY;
  return Math.min(byTensor, byMemory);
}

/** A training batch too large for its layers: the most images that fit, and why, in words. */
export interface BatchOverflow {
  /** The most images a batch of these layers can hold (`largestBatch`). */
  most: number;
  /** "does not fit: at most …, since …": what follows "a batch of N images" in a message. */
  why: string;
}

/**
 * Whether a training batch of `images` (one replica's share) fits layers of footprint `f`: null when it does.
 * `fit` and the commands that plan a model before they build it (`convae detect`) say it in the same words.
 */
export function batchOverflow(images: number, f: ImageFootprint): BatchOverflow | null {
  const most = largestBatch(f);
  if (images <= most) return null;
  return {
    most,
    why: `does not fit: at most ${most}, since one image leaves ${f.total} values in the layers (the largest, ${quote(f.layer)}, ${f.largest}), and a batch may hold at most ${MAX_TENSOR_ELEMENTS} in one layer (MAX_TENSOR_ELEMENTS) and ${MAX_BACKEND_BYTES} bytes in all (MAX_BACKEND_BYTES)`,
  };
}

/**
 * The images a pass over `n` of them runs at once through layers of footprint `f` (undefined: no bound known):
 * `given` (a count already checked), else `preferred`, or fewer when that many would not fit. A batch that cannot
 * fit (at most `n` of its images over `largestBatch`) is an ArgumentError naming batchSize; `what` names the layers
 * in it ("this model", "through 2 block(s) of this stack").
 */
export function fittingBatch(
  op: string,
  f: ImageFootprint | undefined,
  n: number,
  given: number | undefined,
  preferred: number,
  what: string,
): number {
  const most = f ? largestBatch(f) : Number.POSITIVE_INFINITY;
  const batch = given ?? Math.max(1, Math.min(preferred, most));
  if (Math.min(batch, n) > most)
    throw new ArgumentError(
      op,
      'batchSize',
      `of ${Math.min(batch, n)} images does not fit ${what}: at most ${most} (MAX_TENSOR_ELEMENTS, MAX_BACKEND_BYTES)`,
    );
  return batch;
}

/** A model's architecture as saved: its kind, input shape and every hyper-parameter (defaults written out). */
export interface Architecture {
  /** The registered kind name ('cae', 'stack', 'classifier', …). */
  kind: string;
  /** Per-image input shape [c, h, w]. */
  inputShape: number[];
  /** The kind's own fields (blocks, head, seed, …), every default written out. */
  [field: string]: unknown;
}

/** What every trainable, saveable model offers (autoencoders, stacks, classifiers); `dispose` frees its tensors. */
export interface Model {
  /** The registered kind name saved in the JSON ('cae', 'stack', 'classifier', …). */
  readonly kind: string;
  /** Per-image input shape [c, h, w]. */
  readonly inputShape: Shape;
  /** Every parameter, each once (a tied weight belongs to its owner). */
  params(): Param[];
  /** The architecture (no weights) as saved by `saveModel`. */
  toJSON(): Architecture;
  /** The training/evaluation task for `spec`; throws ArgumentError for a spec the kind does not have. */
  task(spec?: TaskSpec): Task;
  /** Frees every tensor of the model; it cannot be used afterwards. */
  dispose(): void;
}

/** A model that scores classes (Trainer.predict, accuracy and confusion matrices). */
export interface Classifying {
  /** Number of classes: the logits' width; labels are 0 … classes−1. */
  readonly classes: number;
  /** Logits of a batch (eval mode), [n, classes]; the tensor is owned by the model. */
  logits(x: Tensor): Tensor;
}

/** Whether the model is a classifier (has `logits` and an integer `classes`). */
export const isClassifying = (m: Model): m is Model & Classifying =>
  typeof (m as Partial<Classifying>).logits === 'function' && Number.isInteger((m as Partial<Classifying>).classes);

/**
 * Refuses a model whose parameters pass the limits (ts/limits.ts), then asks
 * `init` whether it can fill them (a weights file must hold exactly these):
 * both before the first tensor is allocated.
 */
export function checkPlanned(owner: string, planned: readonly PlannedParam[], init: ParamInit): void {
  let total = 0;
  for (const p of planned) {
    const n = boundedNumel(p.shape, MAX_TENSOR_ELEMENTS);
    if (n > MAX_TENSOR_ELEMENTS)
      throw new ModelError(p.name, `[${p.shape.join(',')}] has more than ${MAX_TENSOR_ELEMENTS} elements (the limit)`);
    total += 4 * n;
    if (total > MAX_MODEL_PARAM_BYTES)
      throw new ModelError(owner, `the parameters need more than ${MAX_MODEL_PARAM_BYTES} bytes (the limit)`);
  }
  init.expect?.(planned);
}

/** Runs `build`; if it throws, disposes what was made so far (nothing stays allocated on a refused model). */
export function disposingOnThrow<T>(build: () => T, cleanup: () => void): T {
  try {
    return build();
  } catch (e) {
    cleanup();
    throw e;
  }
}
