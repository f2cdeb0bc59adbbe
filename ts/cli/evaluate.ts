import type { Backend } from '../backend/backend.js';
import type { ImageDataset } from '../data/dataset.js';
import { DataError } from '../errors.js';
import type { Classifier } from '../model/classifier.js';
import { Feeder } from '../train/fit.js';

/** Test error, accuracy and confusion matrix (rows: true class, columns: predicted). */
export function evaluateClassifier(be: Backend, clf: Classifier, data: ImageDataset, batchSize = 500) {
  if (!data.labels) throw new DataError('evaluation needs labels');
  const k = clf.head.classes;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const feeder = new Feeder(be, data.shape);
  let wrong = 0,
    loss = 0;
  try {
    for (const b of data.batches(batchSize)) {
      const { x, y } = feeder.feed(b, true);
      const r = clf.evaluate(x, y!);
      loss += r.loss * b.size;
      for (let i = 0; i < b.size; i++) {
        confusion[b.labels![i]][r.predictions[i]]++;
        if (r.predictions[i] !== b.labels![i]) wrong++;
      }
    }
  } finally {
    feeder.dispose();
  }
  return { error: wrong / data.length, loss: loss / data.length, confusion };
}
