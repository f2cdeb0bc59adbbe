/** `convae predict`: the class of every image by a saved classifier, as CSV or JSON. */
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { argmaxRows } from '../model/classifier.js';
import { csvField, eachBatch } from './apply.js';
import { resolveAllData, type DataSpec } from './data.js';
import { checkOutNotModel, loadSaved } from './saved.js';
import { writeOutput } from '../io/files.js';

export interface PredictArgs extends DataSpec {
  model: string;
  format: 'csv' | 'json';
  /** File written; stdout when absent. */
  out?: string;
  build: Build | 'auto';
  /** Print nothing but errors: no note on unmatched class folders, no `wrote` line (the predictions still go to stdout without `out`). */
  quiet?: boolean;
}

/**
 * One image's prediction: a JSON object of `--format json`, a CSV row of the default format. Both use these names,
 * in this order: `file,class_index,class,probability,label,label_name`. The predicted class is `class_index`/`class`,
 * the true one `label`/`label_name` (as `convae encode`'s codes.csv names it).
 */
export interface Prediction {
  /** The image: its path inside the folder, or `test#i` (the i-th test image of a fixed-format set). */
  file: string;
  /** The predicted class, as an index into the model's classes (0-based; not the image's row). */
  class_index: number;
  /** The predicted class's name (from the saved model, else the index). */
  class: string;
  /** Softmax probability of the predicted class. */
  probability: number;
  /** The image's true class index when the data has labels (a class sub-folder matched to the model's classes by name). */
  label?: number;
  /** The true class's name, with `label`. */
  label_name?: string;
}

/** The CSV's header: the `Prediction` fields, in their order. */
export const PREDICTION_COLUMNS = ['file', 'class_index', 'class', 'probability', 'label', 'label_name'] as const;

export async function predict(a: PredictArgs): Promise<Prediction[]> {
  await checkOutNotModel('convae predict', '--out', a.out, a.model);
  const be = await loadBackend({ build: a.build });
  const saved = await loadSaved(be, a.model, 'classifier');
  try {
    const clf = saved.classifier!;
    const d = await resolveAllData({ ...a, ...saved.input, modelClasses: saved.classes }, saved.inputShape);
    if (d.unmatched && !a.quiet)
      console.error(
        `convae predict: ${d.unmatched.length} class folder(s) of ${d.name.slice(0, 160)} (${d.unmatched.slice(0, 5).join(', ')}) not among the model's classes: the label column is empty`,
      );
    const names = saved.classes ?? d.classes;
    const out: Prediction[] = [];
    eachBatch(be, d, (x, b) => {
      const logits = clf.logits(x);
      const pred = argmaxRows(logits);
      const [, k] = logits.shape;
      const z = logits.data;
      for (let i = 0; i < b.size; i++) {
        const row = z.subarray(i * k, (i + 1) * k);
        let sum = 0;
        for (const v of row) sum += Math.exp(v - row[pred[i]]); // the max is the predicted logit
        const j = b.indices[i];
        const p: Prediction = {
          file: d.names[j],
          class_index: pred[i],
          class: names?.[pred[i]] ?? String(pred[i]),
          probability: 1 / sum,
        };
        if (b.labels) {
          p.label = b.labels[i];
          p.label_name = names?.[p.label] ?? String(p.label);
        }
        out.push(p);
      }
    });
    const text =
      a.format === 'json'
        ? `${JSON.stringify(out, null, 1)}\n`
        : `${[PREDICTION_COLUMNS.join(','), ...out.map((p) => [csvField(p.file), p.class_index, csvField(p.class), p.probability.toFixed(6), p.label ?? '', csvField(p.label_name ?? '')].join(','))].join('\n')}\n`;
    if (a.out) {
      await writeOutput(a.out, text);
      if (!a.quiet) console.log(`wrote ${a.out}: ${out.length} predictions`);
    } else process.stdout.write(text);
    return out;
  } finally {
    saved.dispose();
  }
}
