/**
 * Progress on the command line: a one-line bar with rate and ETA on a terminal (cli-progress, drawn so it fits the
 * terminal's width), at most MAX_EPOCH_LINES plain lines elsewhere (CI logs), nothing with `-q`. `Progress` is a
 * training stage's (loss, epochs; it also keeps the loss of every batch, so a loss curve of a one-epoch run has more
 * than one point), `CountProgress` a count of work's (`convae denoise`'s tiles).
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
  const loss = `loss ${p.loss === null || !Number.isFinite(p.loss) ? '-' : p.loss.toPrecision(4)}`;
  const rate = `${p.imagesPerSecond === null ? '-' : Math.round(p.imagesPerSecond)} img/s`;
  const tail = `${percent(p.fraction)} ep ${p.epoch}/${p.epochs} ${loss} ${rate} ETA ${formatDuration(p.etaSeconds)}`;
  return barLine(p.label, p.fraction, tail, columns);
}

/** What one line of a count's bar shows (`CountProgress`). @internal */
export interface CountState {
  label: string;
  /** Units done and their total (`convae denoise`: tiles). */
  done: number;
  total: number;
  /** The unit, plural: `tiles`. */
  unit: string;
  /** The item being worked on (1-based) of `items` (`convae denoise`: images). */
  item: number;
  items: number;
  /** Seconds since the start. */
  seconds: number;
}

/** One line of a count's bar, at most `columns - 1` characters, as `progressLine`'s. @internal */
export function countLine(p: CountState, columns = 80): string {
  const f = p.total > 0 ? p.done / p.total : 1;
  const rate = p.seconds > 0 && p.done > 0 ? p.done / p.seconds : null;
  const tail = `${percent(f)} img ${p.item}/${p.items} ${rate === null ? '-' : Math.round(rate)} ${p.unit}/s ETA ${formatDuration(etaOf(p))}`;
  return barLine(p.label, f, tail, columns);
}

/** Seconds left at the rate so far, or null while nothing is done. */
function etaOf(p: CountState): number | null {
  return p.done > 0 && p.seconds > 0 ? ((p.total - p.done) * p.seconds) / p.done : null;
}

/** ` 45%`: the fraction done, floored, in [0, 100]. */
function percent(fraction: number): string {
  return `${String(Math.floor(100 * Math.min(1, Math.max(0, fraction)))).padStart(3)}%`;
}

/** `label [###---] tail` in at most `columns - 1` characters: the bar shrinks first, then the label is cut. */
function barLine(label: string, fraction: number, tail: string, columns: number): string {
  const room = Math.max(1, columns - 1);
  let bar = Math.min(BAR_MAX, room - label.length - tail.length - 4); // 2 spaces + the brackets
  if (bar < BAR_MIN) {
    bar = BAR_MIN;
    label = label.slice(0, Math.max(0, room - tail.length - bar - 4));
  }
  const done = Math.round(bar * Math.min(1, Math.max(0, fraction)));
  const line = `${label} [${'#'.repeat(done)}${'-'.repeat(bar - done)}] ${tail}`;
  return line.length > room ? line.slice(0, room) : line;
}

/**
 * At most about this many plain lines where stderr is no terminal (a log): per training stage (its epochs), per
 * `convae denoise` run (its tiles).
 */
export const MAX_EPOCH_LINES = 50;

/** Whether a log gets the line of step `n` (1-based) of `total`: the first, every k-th and the last, at most about MAX_EPOCH_LINES. */
function logged(n: number, total: number): boolean {
  return n === 1 || n === total || n % Math.ceil(total / MAX_EPOCH_LINES) === 0;
}

/** A cli-progress bar on stderr whose every line is `line`'s, given the terminal's width. */
function stderrBar<P>(
  line: (params: cliProgress.Params, payload: P, columns: number) => string,
): cliProgress.SingleBar {
  return new cliProgress.SingleBar({
    format: (_o, params, payload: P) => line(params, payload, process.stderr.columns || 80),
    etaBuffer: 50,
    stream: process.stderr,
    hideCursor: true,
  });
}

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
      this.bar = stderrBar((params, payload: { ep: number; loss: number | null; rate: number | null }, columns) =>
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
          columns,
        ),
      );
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
    if (!logged(e.epoch + 1, this.epochs)) return;
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

/**
 * The bar of a count of work known in advance (`convae denoise`: the run's tiles, over its images): on a terminal a
 * bar with the rate and ETA; where stderr is no terminal a plain line on stderr each time another MAX_EPOCH_LINES-th
 * of the work is done (so a single photo of many tiles shows its way too), and at the end; nothing when `quiet`.
 * @internal
 */
export class CountProgress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly tty = !!process.stderr.isTTY;
  private readonly start = performance.now();
  /** The last MAX_EPOCH_LINES-th of the total a log was told of (`update`); Infinity once the end was. */
  private told = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit: string,
    private readonly quiet: boolean,
  ) {}

  /** `done` units of the total are done, working on item `item` (1-based) of `items`. */
  update(done: number, item: number, items: number): void {
    if (this.quiet) return;
    // The rate as of this update: redrawn between updates, the bar would show it falling while a group of tiles runs.
    const s: CountState = {
      ...{ label: this.label, done, total: this.total, unit: this.unit, item, items },
      seconds: (performance.now() - this.start) / 1000,
    };
    if (this.tty) {
      if (!this.bar) {
        this.bar = stderrBar((_params, at: CountState, columns) => countLine(at, columns));
        this.bar.start(this.total, 0, s);
      }
      this.bar.update(done, s);
      return;
    }
    const mark =
      done >= this.total ? Number.POSITIVE_INFINITY : Math.floor(done / Math.ceil(this.total / MAX_EPOCH_LINES));
    if (mark <= this.told) return;
    this.told = mark;
    console.error(
      `${this.label}: ${percent(done / this.total).trim()} (${done} of ${this.total} ${this.unit}), image ${item}/${items}, ${formatDuration(s.seconds)}${done < this.total ? `, ETA ${formatDuration(etaOf(s))}` : ''}`,
    );
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
