/**
 * The main thread's side of the analysis worker (analysis.worker.ts): posts
 * the data once and the model after each change, and drops answers about a
 * model that has changed since it asked.
 */
import * as Comlink from 'comlink';
import { type Backend, type ImageDataset, saveModel, type StackedConvAutoencoder } from 'convae';
import type { AnalysisApi } from './analysis.worker.js';

/** The threshold on reconstruction scores, fitted on the validation images. */
export interface Threshold {
  threshold: number;
  /** Median validation score, for scale. */
  median: number;
  /** Validation images it was fitted on. */
  n: number;
  /** Blocks the scores reconstruct through. */
  depth: number;
}

export class Analysis {
  private readonly api: Comlink.Remote<AnalysisApi>;
  private version = 0;
  /** The last call in the queue (calls run in order; a failed one does not stop the next). */
  private tail: Promise<unknown>;

  constructor(be: Backend) {
    const worker = new Worker(new URL('./analysis.worker.ts', import.meta.url), { type: 'module', name: 'analysis' });
    this.api = Comlink.wrap<AnalysisApi>(worker);
    this.tail = this.api.init(be.workerOptions);
  }

  private queue<T>(f: () => Promise<T>): Promise<T> {
    const p = this.tail.then(f, f);
    this.tail = p.catch(() => {});
    return p;
  }

  /** Posts the validation and test images (copies, transferred). */
  setData(validation: ImageDataset, test: ImageDataset): void {
    const v = validation.readImages(0, validation.length, new Float32Array(validation.length * validation.imageSize));
    const t = test.readImages(0, test.length, new Float32Array(test.length * test.imageSize));
    this.version++;
    void this.queue(() =>
      this.api.setData(
        [...validation.shape] as [number, number, number],
        Comlink.transfer(v, [v.buffer]),
        Comlink.transfer(t, [t.buffer]),
      ),
    );
  }

  /** Posts the model's current weights; resolves with the threshold, or null when the model changed meanwhile. */
  async setModel(stack: StackedConvAutoencoder, depth: number): Promise<Threshold | null> {
    const v = ++this.version;
    const { json, weights } = saveModel(stack);
    const r = await this.queue(() => this.api.setModel(json, Comlink.transfer(weights, [weights.buffer]), depth));
    return v === this.version ? { ...(r as Omit<Threshold, 'depth'>), depth } : null;
  }

  /** What block-0 feature `feature` responds to, for the model last posted; null when it changed meanwhile. */
  async project(feature: number, top: number) {
    const v = this.version;
    const r = await this.queue(() => this.api.project(feature, top));
    return v === this.version ? r : null;
  }
}
