/**
 * Training progress on the command line: a one-line bar with loss, rate and
 * ETA on a terminal (cli-progress, drawn by `progressLine` so it fits the
 * terminal's width), plain lines per epoch elsewhere (CI logs). It also keeps
 * the loss of every batch, so a loss curve of a one-epoch run has more than one point.
 * @internal
 * @module
 */
import cliProgress from 'cli-progress';
import type { BatchInfo, EpochInfo } from '../train/fit.js';

/** What one line of the bar shows. @internal */
export interface ProgressState {
  label: string;
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** Done so far, in [0, 1]. */
  fraction: number;
  loss: number | null;
  imagesPerSecond: number | null;
  /** Seconds left, or null while unknown. */
  etaSeconds: number | null;
}

const BAR_MIN = 6,
  BAR_MAX = 30;

/** `1h05m`, `3m07s`, `42s`, `--` (unknown). @internal */
export function formatDuration(s: number | null): string {
  if (s === null || !Number.isFinite(s) || s < 0) return '--';
  const t = Math.round(s);
  if (t >= 3600) return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
  if (t >= 60) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${t}s`;
}

/**
 * One line of the bar, at most `columns - 1` characters (a line as wide as the
 * terminal wraps on some terminals): the bar shrinks first, then the label is cut,
 * so rate and ETA stay visible down to ~50 columns.
 * @internal
 */
export function progressLine(p: ProgressState, columns = 80): string {
  const pct = `${String(Math.floor(100 * Math.min(1, Math.max(0, p.fraction)))).padStart(3)}%`;
  const loss = `loss ${p.loss === null || !Number.isFinite(p.loss) ? '-' : p.loss.toPrecision(4)}`;
  const rate = `${p.imagesPerSecond === null ? '-' : Math.round(p.imagesPerSecond)} img/s`;
  const tail = `${pct} ep ${p.epoch}/${p.epochs} ${loss} ${rate} ETA ${formatDuration(p.etaSeconds)}`;
  const room = Math.max(1, columns - 1);
  let label = p.label;
  let bar = Math.min(BAR_MAX, room - label.length - tail.length - 4); // 2 spaces + the brackets
  if (bar < BAR_MIN) {
    bar = BAR_MIN;
    label = label.slice(0, Math.max(0, room - tail.length - bar - 4));
  }
  const done = Math.round(bar * Math.min(1, Math.max(0, p.fraction)));
  const line = `${label} [${'#'.repeat(done)}${'-'.repeat(bar - done)}] ${tail}`;
  return line.length > room ? line.slice(0, room) : line;
}

/** At most about this many epoch lines per training stage where stderr is no terminal (a log). */
export const MAX_EPOCH_LINES = 50;

/** The bar of one training stage (`convae train` draws one per CAE and one for fine-tuning). @internal */
export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly tty = !!process.stderr.isTTY;
  /** Batch losses, at x = epoch + batch / batches (fractional epochs, as the loss plots use; `batch` counts from 1). */
  readonly batchX: number[] = [];
  readonly batchLoss: number[] = [];

  constructor(
    private readonly label: string,
    private readonly epochs: number,
    private readonly quiet: boolean,
  ) {}

  batch(b: BatchInfo): void {
    this.batchX.push(b.epoch + b.batch / b.batches);
    this.batchLoss.push(b.loss);
    if (this.quiet || !this.tty) return;
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar({
        format: (_o, params, payload: { ep: number; loss: number | null; rate: number | null }) =>
          progressLine(
            {
              label: this.label,
              epoch: payload.ep,
              epochs: this.epochs,
              fraction: params.progress,
              loss: payload.loss,
              imagesPerSecond: payload.rate,
              etaSeconds: params.value > 0 && params.eta >= 0 ? params.eta : null,
            },
            process.stderr.columns || 80,
          ),
        etaBuffer: 50,
        stream: process.stderr,
        hideCursor: true,
      });
      this.bar.start(b.batches * this.epochs, 0, { ep: 1, loss: null, rate: null });
    }
    this.bar.update(b.epoch * b.batches + b.batch, {
      ep: b.epoch + 1,
      loss: b.loss,
      rate: b.imagesPerSecond,
    });
  }

  epoch(e: EpochInfo): void {
    if (this.quiet || this.tty) return;
    // A log gets the first epoch, every k-th and the last: `train --labels 240` fine-tunes 625 epochs.
    const n = e.epoch + 1;
    if (n !== 1 && n !== this.epochs && n % Math.ceil(this.epochs / MAX_EPOCH_LINES) !== 0) return;
    console.log(
      `${this.label}: epoch ${e.epoch + 1}/${this.epochs} loss ${e.loss.toFixed(5)} ${e.valLoss !== undefined ? `val ${e.valLoss.toFixed(5)} ` : ''}lr ${e.lr.toPrecision(3)} ${e.imagesPerSecond.toFixed(0)} img/s ${e.seconds.toFixed(1)} s`,
    );
  }

  /**
   * The loss curve of this stage for `lossCurve`/`lossChart`: every batch when
   * there are at most `maxPoints` of them, else means of equal runs of batches.
   */
  series(name: string, maxPoints = 400): { name: string; values: number[]; x: number[] } {
    const n = this.batchLoss.length,
      per = Math.max(1, Math.ceil(n / maxPoints));
    const values: number[] = [],
      x: number[] = [];
    for (let i = 0; i < n; i += per) {
      const end = Math.min(n, i + per);
      let s = 0;
      for (let j = i; j < end; j++) s += this.batchLoss[j];
      values.push(s / (end - i));
      x.push(this.batchX[end - 1]);
    }
    return { name, values, x };
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
