/**
 * A canvas to draw on, turned into an input of the model: for MNIST, an
 * MNIST-like 28×28 image (the strokes' bounding box scaled to fit 20×20,
 * aspect kept, placed so that its centre of mass sits at the centre, as LeCun
 * et al. prepared MNIST); for other images, the whole pad scaled to the
 * input's size, in colour or grey (BT.601 luma) as the data are.
 */
export class DrawPad {
  /** Pen colour (CSS), used from the next stroke on. */
  pen = '#ffffff';
  private drawing = false;
  private last: [number, number] | null = null;
  private readonly small = document.createElement('canvas');

  constructor(
    private readonly canvas: HTMLCanvasElement,
    /** Called after each stroke segment (at most once a frame), and with null once cleared. */
    private readonly onChange: (drawn: DrawPad | null) => void,
  ) {
    this.small.width = this.small.height = 28;
    const g = canvas.getContext('2d')!;
    g.lineCap = g.lineJoin = 'round';
    g.strokeStyle = '#fff';
    g.lineWidth = canvas.width / 11;
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
      g.strokeStyle = this.pen;
      this.drawing = true;
      this.last = this.at(e);
      this.stroke(this.last);
    });
    canvas.addEventListener('pointermove', (e) => this.drawing && this.stroke(this.at(e)));
    const end = () => {
      this.drawing = false;
      this.last = null;
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    this.clear();
  }

  clear(): void {
    const g = this.canvas.getContext('2d')!;
    g.fillStyle = '#000';
    g.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.onChange(null);
  }

  private at(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [
      ((e.clientX - r.left) * this.canvas.width) / r.width,
      ((e.clientY - r.top) * this.canvas.height) / r.height,
    ];
  }

  private stroke(p: [number, number]): void {
    const g = this.canvas.getContext('2d')!;
    const from = this.last ?? p;
    g.beginPath();
    g.moveTo(from[0], from[1]);
    g.lineTo(p[0] + 0.01, p[1]);
    g.stroke();
    this.last = p;
    this.changed();
  }

  /** At most one conversion (and one inference) per animation frame while drawing. */
  private queued = false;
  private changed(): void {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      this.onChange(this.empty() ? null : this);
    });
  }

  private pixels(): Uint8ClampedArray {
    return this.canvas
      .getContext('2d', { willReadFrequently: true })!
      .getImageData(0, 0, this.canvas.width, this.canvas.height).data;
  }

  /** Nothing drawn yet (every pixel black). */
  empty(): boolean {
    const d = this.pixels();
    for (let i = 0; i < d.length; i += 4) if (d[i] > 16 || d[i + 1] > 16 || d[i + 2] > 16) return false;
    return true;
  }

  /** The drawing as an input of `shape` [C, H, W] (values in [0, 1], NCHW), MNIST-style when `mnist`; null when empty. */
  image(shape: readonly [number, number, number], mnist: boolean): Float32Array | null {
    if (mnist && shape[0] === 1 && shape[1] === 28 && shape[2] === 28) return this.mnistImage();
    if (this.empty()) return null;
    const [c, h, w] = shape;
    this.small.width = w;
    this.small.height = h;
    const g = this.small.getContext('2d', { willReadFrequently: true })!;
    g.imageSmoothingEnabled = true;
    g.imageSmoothingQuality = 'high';
    g.drawImage(this.canvas, 0, 0, w, h);
    const px = g.getImageData(0, 0, w, h).data;
    const out = new Float32Array(c * h * w);
    for (let p = 0; p < h * w; p++) {
      const r = px[4 * p],
        gr = px[4 * p + 1],
        b = px[4 * p + 2];
      if (c === 1) out[p] = (0.299 * r + 0.587 * gr + 0.114 * b) / 255;
      else {
        out[p] = r / 255;
        out[h * w + p] = gr / 255;
        out[2 * h * w + p] = b / 255;
      }
    }
    return out;
  }

  /** The drawing as a 28×28 MNIST-style image, or null when the pad is empty. */
  private mnistImage(): Float32Array | null {
    const W = this.canvas.width,
      H = this.canvas.height;
    const big = this.pixels();
    let x0 = W,
      y0 = H,
      x1 = -1,
      y1 = -1;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const q = (y * W + x) * 4;
        if (Math.max(big[q], big[q + 1], big[q + 2]) > 16) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
    if (x1 < 0) return null;
    // Fit the bounding box into 20×20, then shift so the centre of mass lands at (14, 14).
    const bw = x1 - x0 + 1,
      bh = y1 - y0 + 1,
      s = 20 / Math.max(bw, bh);
    this.small.width = this.small.height = 28;
    const g = this.small.getContext('2d', { willReadFrequently: true })!;
    g.fillStyle = '#000';
    g.fillRect(0, 0, 28, 28);
    g.imageSmoothingEnabled = true;
    g.imageSmoothingQuality = 'high';
    g.drawImage(this.canvas, x0, y0, bw, bh, (28 - bw * s) / 2, (28 - bh * s) / 2, bw * s, bh * s);
    const px = g.getImageData(0, 0, 28, 28).data;
    const img = new Float32Array(784);
    let m = 0,
      mx = 0,
      my = 0;
    for (let i = 0; i < 784; i++) {
      const v = (0.299 * px[i * 4] + 0.587 * px[i * 4 + 1] + 0.114 * px[i * 4 + 2]) / 255;
      img[i] = v;
      m += v;
      mx += v * (i % 28);
      my += v * Math.floor(i / 28);
    }
    const dx = Math.round(13.5 - mx / m),
      dy = Math.round(13.5 - my / m);
    const out = new Float32Array(784);
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) {
        const sx = x - dx,
          sy = y - dy;
        if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) out[y * 28 + x] = img[sy * 28 + sx];
      }
    return out;
  }
}
