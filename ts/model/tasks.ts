/**
 * The tasks of the built-in models: what the training loop steps, how it
 * evaluates, and the model's own random streams (input noise, dropout) —
 * their state for checkpoints and their reseeding for data-parallel replicas.
 * Models hand them out through `model.task(spec)`.
 */
import type { Tensor } from '../backend/memory.js';
import type { ConvAutoencoder, StackedConvAutoencoder } from './autoencoder.js';
import type { Classifier } from './classifier.js';
import type { Layer } from './layer.js';
import { numel } from '../shape.js';
import { footprintOf, type Task } from './model.js';

export type { Task, TaskSpec } from './model.js';

/** Trains one CAE on raw inputs. */
export function autoencoderTask(cae: ConvAutoencoder): Task {
  return caeTask(cae, (x) => x, [], cae.inputShape);
}

/** Greedy layer-wise pretraining: block k trains on the codes of the (fixed) blocks before it. */
export function stackLayerTask(stack: StackedConvAutoencoder, k: number): Task {
  const below = stack.blocks.slice(0, k).flatMap((b) => b.encoder.layers);
  return caeTask(stack.blocks[k], (x) => stack.encodeThrough(k, x), below, stack.inputShape);
}

/**
 * `below`: the layers that make its input (the blocks under it in a stack), whose buffers a batch fills too;
 * `inputShape`: the images a batch holds.
 */
function caeTask(
  cae: ConvAutoencoder,
  input: (x: Tensor) => Tensor,
  below: readonly Layer[],
  inputShape: readonly number[],
): Task {
  return {
    needsLabels: false,
    params: () => cae.params(),
    step: (x) => cae.trainStep(input(x)),
    evaluate: (x) => ({ loss: cae.loss(input(x)) }),
    randomState: () => [cae.noiseState],
    setRandomState: ([s]) => (cae.noiseState = s),
    reseed: (salt) => cae.reseedNoise(salt),
    footprint: () => footprintOf(numel(inputShape), [...below, ...cae.encoder.layers, ...cae.decoder.layers]),
  };
}

/** The training task of a classifier: softmax cross-entropy on the labels. */
export function classifierTask(clf: Classifier): Task {
  return {
    needsLabels: true,
    params: () => clf.params(),
    step: (x, labels) => clf.trainStep(x, labels as Tensor),
    evaluate: (x, labels) => clf.evaluate(x, labels as Tensor),
    randomState: () => clf.dropoutState,
    setRandomState: (s) => (clf.dropoutState = s),
    reseed: (salt) => clf.reseedDropout(salt),
    footprint: () => footprintOf(numel(clf.inputShape), clf.net.layers),
  };
}
