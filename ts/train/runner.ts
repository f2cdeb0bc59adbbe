/**
 * One interface for "train here" and "train in workers": `fit` on this
 * thread (threadRunner) and the Trainer (ts/worker) both implement it, so
 * the CLI and user code choose with one option (`createRunner` in
 * ts/worker/runner.ts) instead of two code paths.
 */
import type { Backend } from '../backend/backend.js';
import type { ImageDataset } from '../data/dataset.js';
import type { Model, TaskSpec } from '../model/model.js';
import { type FitOptions, fit, type History } from './fit.js';

/** Training options plus the task to train (e.g. `layer` of a stack). */
export type RunOptions = FitOptions & TaskSpec;

/** Runs training on this thread or on workers; `dispose` ends any workers. */
export interface Runner {
  /** Where the work runs ('this thread', '2 workers'). */
  readonly where: string;
  /** Trains `model.task({ layer })` on `data`; the trained values end in the model. */
  fit(model: Model, data: ImageDataset, opts: RunOptions): Promise<{ history: History }>;
  dispose(): Promise<void>;
}

/**
 * Training on this thread. `threads`: the kernel threads each call may use
 * during `fit` (`Backend.setThreads`; the backend's own setting is restored
 * afterwards); default: the backend's setting as it is.
 */
export function threadRunner(be: Backend, threads?: number): Runner {
  if (threads !== undefined) be.checkThreads(threads);
  return {
    where: `this thread${threads && threads > 1 ? `, ${threads} kernel threads` : ''}`,
    async fit(model, data, { layer, ...opts }) {
      const task = model.task(layer === undefined ? {} : { layer });
      if (threads === undefined) return { history: await fit(be, task, data, opts) };
      const before = be.threads;
      be.setThreads(threads);
      try {
        return { history: await fit(be, task, data, opts) };
      } finally {
        be.setThreads(before);
      }
    },
    dispose: async () => {},
  };
}
