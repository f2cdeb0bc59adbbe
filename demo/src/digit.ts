/**
 * The drawn digit: its 28×28 input, its reconstruction by the first CAE block
 * and, once a classifier exists, the predicted class with its probability.
 */
import type { Backend, Classifier, StackedConvAutoencoder } from 'convae';

function putGrey(canvas: HTMLCanvasElement, img: Float32Array | null): void {
  const g = canvas.getContext('2d')!;
  const out = new ImageData(28, 28);
  if (img)
    for (let i = 0; i < 784; i++) {
      const v = Math.round(255 * Math.min(1, Math.max(0, img[i])));
      out.data.set([v, v, v, 255], i * 4);
    }
  else for (let i = 0; i < 784; i++) out.data[i * 4 + 3] = 255;
  g.putImageData(out, 0, 0);
}

export class DigitView {
  private image: Float32Array | null = null;

  constructor(
    private readonly be: Backend,
    private readonly input: HTMLCanvasElement,
    private readonly output: HTMLCanvasElement,
    private readonly prediction: HTMLElement,
  ) {}

  show(image: Float32Array | null, stack: StackedConvAutoencoder, clf: Classifier | null): void {
    this.image = image;
    putGrey(this.input, image);
    this.refresh(stack, clf);
  }

  /** Runs the current models on the drawn digit again (after training steps or a load). */
  refresh(stack: StackedConvAutoencoder, clf: Classifier | null): void {
    if (!this.image) {
      putGrey(this.output, null);
      this.prediction.textContent = clf
        ? 'draw a digit to classify it'
        : 'train the classifier to see a predicted class';
      return;
    }
    const x = this.be.fromArray([1, 1, 28, 28], this.image);
    try {
      putGrey(this.output, stack.blocks[0].reconstruct(x).toArray());
      if (!clf) {
        this.prediction.textContent = 'train the classifier to see a predicted class';
        return;
      }
      const z = clf.logits(x).toArray();
      const max = Math.max(...z),
        e = z.map((v) => Math.exp(v - max)),
        sum = e.reduce((a, b) => a + b, 0);
      const k = e.indexOf(Math.max(...e));
      this.prediction.replaceChildren(
        'predicted: ',
        Object.assign(document.createElement('b'), { textContent: String(k) }),
        ` (${((100 * e[k]) / sum).toFixed(1)} %)`,
      );
    } finally {
      x.dispose();
    }
  }
}
