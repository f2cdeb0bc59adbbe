/**
 * The tasks of the built-in models: what the training loop steps, how it
 * evaluates, and the model's own random streams (input noise, dropout) —
 * their state for checkpoints and their reseeding for data-parallel replicas.
 * Models hand them out through `model.task(spec)`.
 */
import type { Tensor } from '../backend/memory.js';
import type { ConvAutoencoder, StackedConvAutoencoder } from './autoencoder.js';
import type { Classifier } from './classifier.js';
import { numel } from '../shape.js';
import { footprintOf, type ImageFootprint, type Task } from './model.js';

export type { Task, TaskSpec } from './model.js';

/** Trains one CAE on raw inputs. */
export function autoencoderTask(cae: ConvAutoencoder): Task {
  return caeTask(
    cae,
    (x) => x,
    () => stackLayerFootprint([cae], 0, cae.inputShape),
  );
}

/** Greedy layer-wise pretraining: block k trains on the codes of the (fixed) blocks before it. */
export function stackLayerTask(stack: StackedConvAutoencoder, k: number): Task {
  return caeTask(
    stack.blocks[k],
    (x) => stack.encodeThrough(k, x),
    () => stackLayerFootprint(stack.blocks, k, stack.inputShape),
  );
}

/**
 * What a batch of images of `inputShape` leaves in the layers while block k of `blocks` trains: the encoders of the
 * blocks below, which make its input, and its own encoder and decoder. The blocks may be planned only (constructed
 * with `init: null`), so a command can check its batch against a stack before it allocates one.
 */
export function stackLayerFootprint(
  blocks: readonly ConvAutoencoder[],
  k: number,
  inputShape: readonly number[],
): ImageFootprint {
  const below = blocks.slice(0, k).flatMap((b) => b.encoder.layers);
  return footprintOf(numel(inputShape), [...below, ...blocks[k].encoder.layers, ...blocks[k].decoder.layers]);
}

function caeTask(cae: ConvAutoencoder, input: (x: Tensor) => Tensor, footprint: () => ImageFootprint): Task {
  return {
    needsLabels: false,
    params: () => cae.params(),
    step: (x) => cae.trainStep(input(x)),
    evaluate: (x) => ({ loss: cae.loss(input(x)) }),
    randomState: () => [cae.noiseState],
    setRandomState: ([s]) => (cae.noiseState = s),
    reseed: (salt) => cae.reseedNoise(salt),
    footprint,
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
