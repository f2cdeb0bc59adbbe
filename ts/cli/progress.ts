/** A progress bar with rate and ETA on a terminal (cli-progress); plain lines per epoch elsewhere (CI logs). */
import cliProgress from 'cli-progress';
import type { BatchInfo, EpochInfo } from '../train/fit.js';

export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly tty = !!process.stderr.isTTY;

  constructor(
    private readonly label: string,
    private readonly epochs: number,
    private readonly quiet: boolean,
  ) {}

  batch(b: BatchInfo): void {
    if (this.quiet || !this.tty) return;
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${this.label} |{bar}| {percentage}% | epoch {ep}/${this.epochs} | loss {loss} | {rate} img/s | ETA {eta_formatted}`,
          etaBuffer: 50,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(b.batches * this.epochs, 0, { ep: 1, loss: '-', rate: '-' });
    }
    this.bar.update(b.epoch * b.batches + b.batch, {
      ep: b.epoch + 1,
      loss: b.loss.toFixed(4),
      rate: b.imagesPerSecond.toFixed(0),
    });
  }

  epoch(e: EpochInfo): void {
    if (this.quiet || this.tty) return;
    console.log(
      `${this.label}: epoch ${e.epoch + 1}/${this.epochs} loss ${e.loss.toFixed(5)} ${e.valLoss !== undefined ? `val ${e.valLoss.toFixed(5)} ` : ''}lr ${e.lr.toPrecision(3)} ${e.imagesPerSecond.toFixed(0)} img/s ${e.seconds.toFixed(1)} s`,
    );
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
