/**
 * The numbers beside the loss curve: stage, epoch and batch, the latest loss,
 * images per second and the time left (this stage), and test accuracy.
 */
import type { BatchInfo, EpochInfo } from 'convae';

const el = (id: string) => document.getElementById(id)!;

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '–';
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

export class ProgressView {
  private label = 'idle';
  private epochs = 1;
  private perEpoch = 1;

  /** A new stage of `epochs` epochs over `images` images each. */
  begin(label: string, epochs: number, images: number): void {
    this.label = label;
    this.epochs = epochs;
    this.perEpoch = images;
    this.text('stage', `${label}: starting…`);
    (el('bar') as HTMLProgressElement).value = 0;
    this.text('eta', '–');
    this.text('speed', '–');
  }

  private latest: BatchInfo | null = null;
  private queued = false;

  /** Batch events arrive in bursts, several per frame: the numbers are written once per animation frame. */
  batch(i: BatchInfo): void {
    this.latest = i;
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      if (this.latest) this.show(this.latest);
    });
  }

  private show(i: BatchInfo): void {
    const done = i.epoch * this.perEpoch + i.images,
      total = this.epochs * this.perEpoch;
    (el('bar') as HTMLProgressElement).value = done / total;
    this.text('stage', `${this.label}: epoch ${i.epoch + 1}/${this.epochs}, batch ${i.batch}/${i.batches}`);
    this.text('loss', i.loss.toPrecision(4));
    this.text('speed', String(Math.round(i.imagesPerSecond)));
    this.text('eta', formatSeconds((total - done) / i.imagesPerSecond));
  }

  epoch(i: EpochInfo): void {
    if (i.valAccuracy !== undefined) this.text('accuracy', `${(100 * i.valAccuracy).toFixed(2)} %`);
  }

  status(text: string, error = false): void {
    this.latest = null;
    this.text('eta', '–');
    this.text('stage', text);
    el('stage').classList.toggle('error', error);
  }

  private text(id: string, t: string): void {
    el(id).textContent = t;
  }
}
