/** Adapters from the models to the training loop's Task. */
import type { Tensor } from '../backend/memory.js';
import type { ConvAutoencoder, StackedConvAutoencoder } from '../model/autoencoder.js';
import type { Classifier } from '../model/classifier.js';
import type { Task } from './fit.js';

/** Trains one CAE on raw inputs. */
export function autoencoderTask(cae: ConvAutoencoder): Task {
  return {
    needsLabels: false,
    params: () => cae.params(),
    step: (x) => cae.trainStep(x),
    evaluate: (x) => ({ loss: cae.loss(x) }),
    randomState: () => [cae.noiseState],
    setRandomState: ([s]) => (cae.noiseState = s),
  };
}

/** Greedy layer-wise pretraining: block k trains on the codes of the (fixed) blocks before it. */
export function stackLayerTask(stack: StackedConvAutoencoder, k: number): Task {
  const cae = stack.blocks[k];
  return {
    needsLabels: false,
    params: () => cae.params(),
    step: (x) => cae.trainStep(stack.encodeThrough(k, x)),
    evaluate: (x) => ({ loss: cae.loss(stack.encodeThrough(k, x)) }),
    randomState: () => [cae.noiseState],
    setRandomState: ([s]) => (cae.noiseState = s),
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
  };
}
