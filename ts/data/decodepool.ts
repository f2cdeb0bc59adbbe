/**
 * Decoding many images off the main thread: a few module Workers running
 * dist/decode-worker.js (decodeworker.ts), each given up to two images at a
 * time, started for one load and ended after it. Where workers cannot decode
 * (no Worker, or a worker without OffscreenCanvas: it says so when it starts),
 * or when asked with `workers: 0`, the same code runs on this thread.
 *
 * Protocol: the worker posts `ready` once (ok, or why not), then answers each
 * request by its id with the image (its planes transferred, and their size) or a reason.
 */
import { DataError, truncate } from '../errors.js';
import type { DecodedIn } from './browsertypes.js';
import { type DecodedImage, type DecodeSettings, decodeImageBlob, drawDecoded } from './imagedecode.js';
import { type StartedWorker, startModuleWorker } from '../util/workerscript.js';

/** A request to the decoding worker: a file to decode, or a captured bitmap (transferred) to draw. */
export type DecodeRequest = { id: number; settings: DecodeSettings } & (
  | { kind: 'blob'; blob: Blob }
  | { kind: 'bitmap'; bitmap: ImageBitmap }
);

/** A message from the decoding worker. */
export type DecodeReply =
  | { type: 'ready'; ok: true }
  | { type: 'ready'; ok: false; reason: string }
  | { type: 'done'; id: number; image: DecodedImage }
  | { type: 'failed'; id: number; reason: string };

/** One image to decode: a file, or a bitmap already captured (the pool closes it). */
export type DecodeItem = { kind: 'blob'; blob: Blob } | { kind: 'bitmap'; bitmap: ImageBitmap };

/** Images a worker holds at once: one decoding while the next is read. */
const IN_FLIGHT = 2;
/** Most decoding workers one load starts. */
export const MAX_DECODE_WORKERS = 16;

/** The decoding worker's script: dist/decode-worker.js beside this package's modules (dist/data/ → dist/). */
const defaultWorkerUrl = () => new URL('../decode-worker.js', import.meta.url);

interface Lane {
  decode(item: DecodeItem, settings: DecodeSettings): Promise<DecodedImage>;
  close(): void;
}

/** A failure of one image (a reason for `skipped`, or the FormatError of `onError: 'throw'`). */
export class ImageFailure extends Error {
  override name = 'ImageFailure';
}

function thisThread(): Lane {
  return {
    async decode(item, settings) {
      try {
        if (item.kind === 'blob') return await decodeImageBlob(item.blob, settings);
        try {
          return drawDecoded(item.bitmap, item.bitmap.width, item.bitmap.height, settings);
        } finally {
          item.bitmap.close();
        }
      } catch (e) {
        throw new ImageFailure(e instanceof Error ? e.message : String(e));
      }
    },
    close() {},
  };
}

/** Starts one worker; resolves once it said it can decode, null when it said it cannot. */
function startWorker(url: URL | string): Promise<Lane | null> {
  return new Promise((resolve, reject) => {
    let lane: StartedWorker;
    try {
      lane = startModuleWorker(url, 'convae-decode');
    } catch (e) {
      reject(
        new DataError(`cannot start the image-decoding worker ${truncate(String(url), 300)}: ${(e as Error).message}`),
      );
      return;
    }
    const w = lane.worker;
    const pending = new Map<number, { ok: (d: DecodedImage) => void; fail: (e: Error) => void }>();
    let next = 0,
      started = false,
      dead: Error | null = null;
    const die = (e: Error) => {
      dead ??= e;
      for (const p of pending.values()) p.fail(dead);
      pending.clear();
      lane.stop();
    };
    w.onerror = (ev) => {
      ev.preventDefault();
      const e = new DataError(
        `the image-decoding worker ${truncate(String(url), 300)} failed: ${ev.message || 'no message (its script may not load: pass workerUrl, or workers: 0 to decode on this thread)'}`,
      );
      if (!started) reject(e);
      die(e);
    };
    w.onmessageerror = () => die(new DataError('a message from the image-decoding worker could not be read'));
    w.onmessage = (ev: MessageEvent<DecodeReply>) => {
      const m = ev.data;
      if (m.type === 'ready') {
        started = true;
        if (!m.ok) {
          lane.stop();
          resolve(null);
          return;
        }
        resolve({
          decode(item, settings) {
            if (dead) return Promise.reject(dead);
            const id = next++;
            return new Promise<DecodedImage>((ok, fail) => {
              pending.set(id, { ok, fail });
              if (item.kind === 'blob') w.postMessage({ id, settings, kind: 'blob', blob: item.blob } as DecodeRequest);
              else w.postMessage({ id, settings, kind: 'bitmap', bitmap: item.bitmap } as DecodeRequest, [item.bitmap]);
            });
          },
          close: () => lane.stop(),
        });
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.type === 'done') p.ok(m.image);
      else p.fail(new ImageFailure(m.reason));
    };
  });
}

/** Options of a decoding run: how many workers (0: this thread) and the worker script. */
export interface PoolOptions {
  workers: number;
  workerUrl?: string | URL;
}

/** The default number of decoding workers: the cores less one for the page, 1 to 4. */
export function defaultDecodeWorkers(): number {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 2 : 2;
  return Math.max(1, Math.min(4, cores - 1));
}

/**
 * Decodes items 0..n−1 (`item(k)` is awaited one at a time, in order: a video
 * is seeked frame by frame) and reports each result. Returns where they were decoded.
 * `onImage` returning false stops the run (a failure with onError 'throw').
 */
export async function decodeAll(
  n: number,
  item: (k: number) => Promise<DecodeItem>,
  settings: DecodeSettings,
  opts: PoolOptions,
  onImage: (k: number, result: DecodedImage | ImageFailure) => boolean,
): Promise<{ decodedIn: DecodedIn; why?: string }> {
  let lanes: Lane[] = [];
  let why: string | undefined;
  const canWork = typeof Worker === 'function' && typeof OffscreenCanvas === 'function';
  if (opts.workers > 0 && canWork) {
    const started = await Promise.allSettled(
      Array.from({ length: Math.min(opts.workers, n) }, () => startWorker(opts.workerUrl ?? defaultWorkerUrl())),
    );
    const failed = started.find((s) => s.status === 'rejected');
    lanes = started.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value] : []));
    if (failed) {
      for (const l of lanes) l.close();
      throw (failed as PromiseRejectedResult).reason;
    }
    if (lanes.length === 0) why = 'the workers cannot decode here (no OffscreenCanvas 2D context in workers)';
  } else why = opts.workers > 0 ? 'this browser has no Worker or no OffscreenCanvas' : 'asked for (workers: 0)';
  const decodedIn: DecodedIn = lanes.length > 0 ? 'workers' : 'main thread';
  if (lanes.length === 0) lanes = [thisThread()];

  let next = 0,
    stop = false,
    fatal: unknown = null;
  // Items are produced one at a time, in order.
  let producing: Promise<unknown> = Promise.resolve();
  const produce = (k: number) => {
    const p = producing.then(() => item(k));
    producing = p.catch(() => {});
    return p;
  };
  const run = async (lane: Lane) => {
    while (!stop && next < n) {
      const k = next++;
      let result: DecodedImage | ImageFailure;
      try {
        result = await lane.decode(await produce(k), settings);
      } catch (e) {
        if (!(e instanceof ImageFailure)) {
          fatal ??= e;
          stop = true;
          return;
        }
        result = e;
      }
      if (!stop && !onImage(k, result)) stop = true;
    }
  };
  try {
    await Promise.all(
      lanes.flatMap((l) => Array.from({ length: decodedIn === 'workers' ? IN_FLIGHT : 1 }, () => run(l))),
    );
  } finally {
    for (const l of lanes) l.close();
  }
  if (fatal) throw fatal;
  return why ? { decodedIn, why } : { decodedIn };
}
