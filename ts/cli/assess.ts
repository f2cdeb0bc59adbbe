/** `convae evaluate`: reconstruction MSE of each saved CAE, and accuracy and confusion matrix of the saved classifier. */
import { loadBackend } from '../backend/backend.js';
import { DataError, quote } from '../errors.js';
import type { Build } from '../backend/loader.js';
import { evaluateTask } from '../train/evaluate.js';
import { stackLayerTask } from '../model/tasks.js';
import { resolveAllData, type DataSpec } from './data.js';
import { evaluateClassifier } from './evaluate.js';
import { checkOutNotModel, loadSaved } from './saved.js';
import { writeOutput } from '../io/files.js';

export interface AssessArgs extends DataSpec {
  model: string;
  /** JSON report written here too (stdout always gets the summary). */
  out?: string;
  build: Build | 'auto';
  quiet: boolean;
}

export interface Assessment {
  data: string;
  images: number;
  /** Mean squared reconstruction error of each CAE of the stack (its input: the codes of the blocks before). */
  reconstructionMse?: number[];
  accuracy?: number;
  error?: number;
  classes?: string[];
  /** Rows: true class, columns: predicted. */
  confusion?: number[][];
}

export async function assess(a: AssessArgs): Promise<Assessment> {
  const log = (s: string) => a.quiet || console.log(s);
  await checkOutNotModel('convae evaluate', '--out', a.out, a.model);
  const be = await loadBackend({ build: a.build });
  const saved = await loadSaved(be, a.model, 'any');
  try {
    const d = await resolveAllData({ ...a, ...saved.input, modelClasses: saved.classes }, saved.inputShape);
    if (saved.classifier && d.unmatched)
      throw new DataError(
        `${d.name.slice(0, 160)}: class folder${d.unmatched.length > 1 ? 's' : ''} ${d.unmatched
          .slice(0, 5)
          .map((c) => quote(c))
          .join(
            ', ',
          )}${d.unmatched.length > 5 ? ` and ${d.unmatched.length - 5} more` : ''} not among the classes the model was trained on (${saved
          .classes!.slice(0, 20)
          .join(', ')}): accuracy needs the folders named as in training`,
      );
    const r: Assessment = { data: d.name, images: d.data.length };
    if (saved.stack) {
      const stack = saved.stack;
      r.reconstructionMse = stack.blocks.map((_, k) => evaluateTask(be, stackLayerTask(stack, k), d.data).loss);
      log(`reconstruction MSE per CAE: ${r.reconstructionMse.map((v) => v.toFixed(5)).join(', ')}`);
    }
    if (saved.classifier && d.data.labels) {
      const k = saved.classifier.head.classes;
      if ((d.data.numClasses ?? 0) > k)
        throw new DataError(`${d.name} has ${d.data.numClasses} classes, the classifier ${k}`);
      const ev = evaluateClassifier(be, saved.classifier, d.data);
      r.accuracy = 1 - ev.error;
      r.error = ev.error;
      r.confusion = ev.confusion;
      const names = saved.classes ?? d.classes ?? ev.confusion.map((_, i) => String(i));
      r.classes = names;
      log(`accuracy ${(100 * r.accuracy).toFixed(2)} % on ${d.data.length} images of ${d.name}`);
      log(`confusion (rows: true, columns: predicted): ${names.join(', ')}`);
      for (const [i, row] of ev.confusion.entries()) log(`  ${names[i]?.padEnd(12) ?? i}  ${row.join(' ')}`);
    } else if (saved.classifier) log('the data has no labels: no accuracy');
    if (a.out) {
      await writeOutput(a.out, `${JSON.stringify(r, null, 2)}\n`);
    }
    return r;
  } finally {
    saved.dispose();
  }
}
