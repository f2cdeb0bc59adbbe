/**
 * A canvas to draw a digit on, turned into an MNIST-like 28×28 image: the
 * strokes' bounding box scaled to fit 20×20 (aspect kept), placed so that its
 * centre of mass sits at the centre, as LeCun et al. prepared MNIST.
 */
export class DrawPad {
  private drawing = false;
  private last: [number, number] | null = null;
  private readonly small = document.createElement('canvas');

  constructor(
    private readonly canvas: HTMLCanvasElement,
    /** Called with the 28×28 image (values in [0, 1], row-major) after each stroke segment, or null once cleared. */
    private readonly onChange: (image: Float32Array | null) => void,
  ) {
    this.small.width = this.small.height = 28;
    const g = canvas.getContext('2d')!;
    g.lineCap = g.lineJoin = 'round';
    g.strokeStyle = '#fff';
    g.lineWidth = canvas.width / 11;
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
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
      this.onChange(this.image());
    });
  }

  /** The drawing as a 28×28 MNIST-style image, or null when the pad is empty. */
  image(): Float32Array | null {
    const W = this.canvas.width,
      H = this.canvas.height;
    const big = this.canvas.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, W, H).data;
    let x0 = W,
      y0 = H,
      x1 = -1,
      y1 = -1;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        if (big[(y * W + x) * 4] > 16) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
    if (x1 < 0) return null;
    // Fit the bounding box into 20×20, then shift so the centre of mass lands at (14, 14).
    const bw = x1 - x0 + 1,
      bh = y1 - y0 + 1,
      s = 20 / Math.max(bw, bh);
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
      const v = px[i * 4] / 255;
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
