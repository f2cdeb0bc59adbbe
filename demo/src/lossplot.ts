/**
 * A small canvas plot of the training loss: one series per training stage
 * (CAE block 0, block 1, classifier), batch losses against the global step on
 * a log scale, each epoch's mean loss as a dot in the middle of its epoch. Redrawn at most once per animation frame.
 */
import { PALETTE, formatTick, logTicks } from 'convae';

interface Series {
  name: string;
  color: string;
  batches: [number, number][];
  epochs: [number, number][];
}

const rgb = (i: number) => `rgb(${PALETTE[i % PALETTE.length].join(',')})`;

export class LossPlot {
  private series: Series[] = [];
  private steps = 0;
  private epochStart = 0;
  private queued = false;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.draw();
  }

  clear(): void {
    this.series = [];
    this.steps = this.epochStart = 0;
    this.request();
  }

  /** Starts a new series (a new stage); its batches continue the step count. */
  begin(name: string): void {
    this.series.push({ name, color: rgb(this.series.length), batches: [], epochs: [] });
    this.epochStart = this.steps;
  }

  batch(loss: number): void {
    this.series.at(-1)?.batches.push([++this.steps, loss]);
    this.request();
  }

  epoch(loss: number): void {
    this.series.at(-1)?.epochs.push([(this.epochStart + this.steps) / 2, loss]);
    this.epochStart = this.steps;
    this.request();
  }

  private request(): void {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      this.draw();
    });
  }

  private draw(): void {
    const c = this.canvas,
      g = c.getContext('2d')!;
    const W = c.width,
      H = c.height,
      m = { l: 48, r: 10, t: 10, b: 24 };
    g.clearRect(0, 0, W, H);
    g.font = '11px system-ui, sans-serif';
    let lo = Infinity,
      hi = -Infinity;
    for (const s of this.series)
      for (const [, v] of s.batches) if (v > 0 && Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    if (!(lo <= hi)) {
      g.fillStyle = '#888';
      g.fillText('the loss curve appears here during training', m.l, H / 2);
      return;
    }
    if (hi / lo < 1.5) [lo, hi] = [lo / 1.25, hi * 1.25];
    const x0 = 1,
      x1 = Math.max(this.steps, 2);
    const X = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
    const Y = (y: number) => m.t + (1 - Math.log(y / lo) / Math.log(hi / lo)) * (H - m.t - m.b);
    // Axes and log ticks.
    g.strokeStyle = '#e4e6ee';
    g.fillStyle = '#555';
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (const t of logTicks(lo, hi, 5)) {
      const y = Y(t);
      g.beginPath();
      g.moveTo(m.l, y);
      g.lineTo(W - m.r, y);
      g.stroke();
      g.fillText(formatTick(t), m.l - 4, y);
    }
    g.textAlign = 'center';
    g.textBaseline = 'top';
    g.textAlign = 'right';
    g.fillText(`step ${this.steps}`, W - m.r - 4, m.t + 4);
    g.textAlign = 'center';
    g.fillText('loss (log) · ● epoch mean', m.l + 60, H - m.b + 6);
    g.strokeStyle = '#888';
    g.strokeRect(m.l, m.t, W - m.l - m.r, H - m.t - m.b);
    // Series.
    let legendX = m.l + 150;
    for (const s of this.series) {
      g.strokeStyle = s.color;
      g.lineWidth = 1;
      g.beginPath();
      s.batches.forEach(([x, y], i) => (i ? g.lineTo(X(x), Y(y)) : g.moveTo(X(x), Y(y))));
      g.stroke();
      g.fillStyle = s.color;
      for (const [x, y] of s.epochs) {
        g.beginPath();
        g.arc(X(x), Y(y), 3.5, 0, 2 * Math.PI);
        g.fill();
      }
      g.textAlign = 'left';
      g.fillText(`■ ${s.name}`, legendX, H - m.b + 6);
      legendX += g.measureText(`■ ${s.name}`).width + 12;
    }
  }
}
