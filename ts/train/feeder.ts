/**
 * Batches into wasm: the images of a batch are copied from the dataset
 * straight into a wasm tensor the feeder owns (one pair, reallocated only when
 * the batch size changes), with no JS array in between.
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/memory.js';
import type { ImageDataset } from '../data/dataset.js';
import { DataError } from '../errors.js';

export class Feeder {
  private x: Tensor | null = null;
  private y: Tensor | null = null;
  private labels = new Uint8Array(0);

  constructor(
    private readonly be: Backend,
    private readonly data: ImageDataset,
  ) {}

  /**
   * Images `order[s..e)` of the dataset (`order` null: images s..e−1) as a
   * tensor, with their labels when `needLabels`. Valid until the next feed.
   */
  feed(
    order: ArrayLike<number> | null,
    s: number,
    e: number,
    needLabels: boolean,
  ): { x: Tensor; y: Tensor | null; labels: Uint8Array | null } {
    const n = e - s,
      d = this.data,
      size = d.imageSize;
    if (!this.x || this.x.shape[0] !== n) {
      this.x?.dispose();
      this.y?.dispose();
      this.x = null;
      this.y = null;
      this.x = this.be.empty([n, ...d.shape]);
      this.y = this.be.empty([n], 'u32');
      this.labels = new Uint8Array(n);
    }
    const lab = d.labels;
    if (needLabels && !lab) throw new DataError('this task needs labels but the dataset has none');
    const xd = this.x.data;
    // A byte-stored dataset converts just these images (reading `images` would convert all of them, 4× the memory).
    const bytes = d.bytes !== null;
    const src = bytes ? null : d.images;
    if (!order) {
      if (src) xd.set(src.subarray(s * size, e * size));
      else d.readImages(s, e, xd);
      if (lab) this.labels.set(lab.subarray(s, e));
    } else {
      for (let j = 0; j < n; j++) {
        const i = order[s + j];
        if (src) xd.set(src.subarray(i * size, (i + 1) * size), j * size);
        else d.readImages(i, i + 1, xd.subarray(j * size, (j + 1) * size));
        if (lab) this.labels[j] = lab[i];
      }
    }
    if (needLabels) this.y!.set(this.labels);
    return { x: this.x, y: needLabels ? this.y : null, labels: lab ? this.labels : null };
  }

  dispose(): void {
    this.x?.dispose();
    this.y?.dispose();
  }
}
