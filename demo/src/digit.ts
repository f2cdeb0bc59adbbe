/**
 * What is drawn on the pad, as the model sees it: the input at the model's
 * size, its reconstruction through the trained blocks, the per-pixel error
 * map, and its anomaly score (convae's `reconstructionScores`: the mean
 * squared error over the pixels) against the threshold fitted on the
 * validation images; once a classifier exists, the predicted class.
 */
import { type Backend, type Classifier, ImageDataset, reconstructionScores, type StackedConvAutoencoder } from 'convae';
import type { Threshold } from './analysis.js';

/** The error map's scale: a per-pixel root-mean-square error (over channels) of this much or more is white. */
export const ERROR_WHITE = 0.5;

/** Draws planes [C, H, W] in [0, 1] (grey or RGB) on a canvas of their size. */
export function putImage(canvas: HTMLCanvasElement, img: Float32Array | null, shape: readonly number[]): void {
  const [c, h, w] = shape;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const out = new ImageData(w, h);
  const byte = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));
  for (let p = 0; p < h * w; p++) {
    out.data[4 * p + 3] = 255;
    if (!img) continue;
    for (let k = 0; k < 3; k++) out.data[4 * p + k] = byte(img[(c === 3 ? k : 0) * h * w + p]);
  }
  canvas.getContext('2d')!.putImageData(out, 0, 0);
}

/** Heat colours for t in [0, 1]: black → red → yellow → white. */
export function heat(t: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, t)) * 3;
  return [Math.min(1, v), Math.min(1, Math.max(0, v - 1)), Math.min(1, Math.max(0, v - 2))].map((x) =>
    Math.round(255 * x),
  ) as [number, number, number];
}

/** Per-pixel squared errors [C, H, W] as a heat map of the root-mean-square over channels. */
export function putErrorMap(canvas: HTMLCanvasElement, map: Float32Array | null, shape: readonly number[]): void {
  const [c, h, w] = shape;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const out = new ImageData(w, h);
  for (let p = 0; p < h * w; p++) {
    out.data[4 * p + 3] = 255;
    if (!map) continue;
    let s = 0;
    for (let k = 0; k < c; k++) s += map[k * h * w + p];
    out.data.set(heat(Math.sqrt(s / c) / ERROR_WHITE), 4 * p);
  }
  canvas.getContext('2d')!.putImageData(out, 0, 0);
}

/** What the pad shows, for the page's state and its test. */
export interface PadReading {
  score: number | null;
  threshold: number | null;
  flagged: boolean | null;
}

export class DigitView {
  private image: Float32Array | null = null;
  /** The latest score and verdict. */
  reading: PadReading = { score: null, threshold: null, flagged: null };

  constructor(
    private readonly be: Backend,
    private readonly els: {
      input: HTMLCanvasElement;
      output: HTMLCanvasElement;
      error: HTMLCanvasElement;
      score: HTMLElement;
      prediction: HTMLElement;
    },
  ) {}

  show(image: Float32Array | null, stack: StackedConvAutoencoder, clf: Classifier | null, ctx: PadContext): void {
    this.image = image;
    putImage(this.els.input, image, stack.inputShape);
    this.refresh(stack, clf, ctx);
  }

  /** Runs the current models on the drawing again (after training steps, a load or a new threshold). */
  refresh(stack: StackedConvAutoencoder, clf: Classifier | null, ctx: PadContext): void {
    const shape = stack.inputShape;
    const t = ctx.threshold && ctx.threshold.depth === ctx.depth ? ctx.threshold : null;
    if (!this.image || this.image.length !== shape[0] * shape[1] * shape[2]) {
      this.image = null;
      putImage(this.els.output, null, shape);
      putErrorMap(this.els.error, null, shape);
      this.reading = { score: null, threshold: t?.threshold ?? null, flagged: null };
      this.els.score.textContent = t
        ? `draw something to score it (threshold ${t.threshold.toFixed(4)})`
        : 'draw something to score it';
      this.els.prediction.textContent = clf ? 'draw to classify it' : 'train the classifier to see a predicted class';
      return;
    }
    const one = ImageDataset.fromFloat32(this.image, [shape[0], shape[1], shape[2]]);
    const r = reconstructionScores(stack, one, { depth: ctx.depth, maps: true });
    const score = r.scores[0];
    const y = new Float32Array(this.image.length);
    // The reconstruction itself, to draw it (reconstructionScores gives the errors only).
    const x = this.be.fromArray([1, ...shape], this.image);
    try {
      let h = stack.encodeThrough(ctx.depth, x);
      for (let k = ctx.depth - 1; k >= 0; k--) h = stack.blocks[k].decode(h);
      y.set(h.data);
      putImage(this.els.output, y, shape);
      putErrorMap(this.els.error, r.maps!, shape);
      const flagged = t ? score > t.threshold : null;
      this.reading = { score, threshold: t?.threshold ?? null, flagged };
      const b = (s: string) => Object.assign(document.createElement('b'), { textContent: s });
      if (t)
        this.els.score.replaceChildren(
          `anomaly score ${score.toFixed(4)} ${flagged ? '>' : '≤'} threshold ${t.threshold.toFixed(4)}: `,
          b(flagged ? 'unusual' : 'normal'),
          ` (the threshold flags 5 % of ${t.n} validation images; their median is ${t.median.toFixed(4)})`,
        );
      else this.els.score.textContent = `anomaly score ${score.toFixed(4)} (threshold: after training)`;
      if (!clf) {
        this.els.prediction.textContent = 'train the classifier to see a predicted class';
        return;
      }
      const z = clf.logits(x).toArray();
      const max = Math.max(...z),
        e = z.map((v) => Math.exp(v - max)),
        sum = e.reduce((a, b) => a + b, 0);
      const k = e.indexOf(Math.max(...e));
      this.els.prediction.replaceChildren(
        'predicted: ',
        b(ctx.classes?.[k] ?? String(k)),
        ` (${((100 * e[k]) / sum).toFixed(1)} %)`,
      );
    } finally {
      x.dispose();
    }
  }
}

/** What the pad's reading depends on besides the models. */
export interface PadContext {
  /** Blocks the reconstruction goes through (the depth of the threshold). */
  depth: number;
  threshold: Threshold | null;
  classes: string[] | null;
}
