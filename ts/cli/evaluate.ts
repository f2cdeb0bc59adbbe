import type { Backend } from '../backend/backend.js';
import type { ImageDataset } from '../data/dataset.js';
import { DataError } from '../errors.js';
import type { Classifier } from '../model/classifier.js';

/** Test error, accuracy and confusion matrix (rows: true class, columns: predicted). */
export function evaluateClassifier(be: Backend, clf: Classifier, data: ImageDataset, batchSize = 500) {
  if (!data.labels) throw new DataError('evaluation needs labels');
  const k = clf.head.classes;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let wrong = 0, loss = 0;
  for (const b of data.batches(batchSize)) {
    const x = be.fromArray([b.size, ...data.shape], b.images);
    const y = be.fromArray([b.size], b.labels!, 'u32');
    try {
      const r = clf.evaluate(x, y);
      loss += r.loss * b.size;
      for (let i = 0; i < b.size; i++) {
        confusion[b.labels![i]][r.predictions[i]]++;
        if (r.predictions[i] !== b.labels![i]) wrong++;
      }
    } finally {
      x.dispose();
      y.dispose();
    }
  }
  return { error: wrong / data.length, loss: loss / data.length, confusion };
}
