/**
 * What crosses the thread boundary: convae's typed errors (comlink alone would
 * turn them into plain Errors) and datasets (shared, transferred or copied).
 * Imported by both sides, so both register the same error handler.
 */
import * as Comlink from 'comlink';
import * as errors from '../errors.js';
import { ImageDataset, type ImageShape } from '../data/dataset.js';
import { ArgumentError } from '../errors.js';

const ERROR_CLASSES: Record<string, new (...a: never[]) => Error> = {};
for (const v of Object.values(errors)) {
  if (typeof v === 'function' && v.prototype instanceof Error) ERROR_CLASSES[(v as { name: string }).name] = v as never;
}

interface WireError {
  isError: boolean;
  value: unknown;
}

type ThrowHandler = Comlink.TransferHandler<{ value: unknown }, WireError>;
const original = Comlink.transferHandlers.get('throw') as ThrowHandler;

/** A thrown convae error keeps its class and fields (op, arg, failure, ...) on the other side. */
Comlink.transferHandlers.set('throw', {
  canHandle: original.canHandle,
  serialize({ value }: { value: unknown }): [WireError, Transferable[]] {
    if (value instanceof Error) {
      const fields: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value))
        if (v === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof v)) fields[k] = v;
      return [
        { isError: true, value: { ...fields, name: value.name, message: value.message, stack: value.stack } },
        [],
      ];
    }
    return [{ isError: false, value }, []];
  },
  deserialize(w: WireError): never {
    if (!w.isError) throw w.value;
    const v = w.value as { name: string; message: string; stack?: string };
    const Cls = ERROR_CLASSES[v.name];
    const e = new Error(v.message);
    if (Cls) Object.setPrototypeOf(e, Cls.prototype);
    Object.assign(e, v, { stack: `${v.stack ?? ''}\n    (thrown in a convae worker)` });
    throw e;
  },
} as ThrowHandler);

/** A dataset as posted to a worker: floats, or the bytes of a byte-stored dataset with their `scale` (never converted for the trip). */
export interface DatasetWire {
  images: Float32Array | Uint8Array;
  /** Byte-to-float factor; present exactly when `images` are bytes. */
  scale?: number;
  labels: Uint8Array | null;
  shape: [number, number, number];
  numClasses?: number;
}

/** How a dataset reaches the workers: shared memory (one copy for all, kept for later jobs), moved (the caller's buffers detach) or copied per worker. */
export type DataMode = 'share' | 'transfer' | 'copy';

/** True where `SharedArrayBuffer` can be used (Node; a cross-origin isolated page). */
export const canShareMemory = (): boolean =>
  typeof SharedArrayBuffer === 'function' &&
  (typeof crossOriginIsolated === 'undefined' || crossOriginIsolated === true);

const shared = new WeakMap<ImageDataset, DatasetWire>();

function toShared<T extends Float32Array | Uint8Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Ctor = a.constructor as { new (b: SharedArrayBuffer, o: number, n: number): T };
  const out = new Ctor(new SharedArrayBuffer(a.byteLength), 0, a.length);
  out.set(a);
  return out;
}

/** The dataset in a form that can be posted, and what to transfer with it. */
export function datasetWire(d: ImageDataset, mode: DataMode): { wire: DatasetWire; transfer: ArrayBuffer[] } {
  const bytes = d.bytes;
  const images = bytes ?? d.images;
  const base = {
    shape: [...d.shape] as [number, number, number],
    ...(d.numClasses !== undefined ? { numClasses: d.numClasses } : {}),
    ...(bytes ? { scale: d.byteScale as number } : {}),
  };
  if (mode === 'share') {
    let w = shared.get(d);
    if (!w) {
      w = { ...base, images: toShared(images), labels: d.labels ? toShared(d.labels) : null };
      shared.set(d, w);
    }
    return { wire: w, transfer: [] };
  }
  if (mode === 'transfer') {
    const whole = (a: Float32Array | Uint8Array) =>
      a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;
    if (!whole(images) || (d.labels && !whole(d.labels))) {
      throw new ArgumentError(
        'Trainer.fit',
        'transfer',
        'needs a dataset that owns its whole buffers (not a view made by take(), nor shared memory); copy it or leave transfer off',
      );
    }
    if (images.buffer === d.labels?.buffer)
      throw new ArgumentError('Trainer.fit', 'transfer', 'images and labels share one buffer');
    return {
      wire: { ...base, images, labels: d.labels },
      transfer: [images.buffer as ArrayBuffer, ...(d.labels ? [d.labels.buffer as ArrayBuffer] : [])],
    };
  }
  return { wire: { ...base, images, labels: d.labels }, transfer: [] };
}

/** The dataset a worker received. It was an ImageDataset on the caller's side, checked there: not scanned again. */
export function datasetFromWire(w: DatasetWire): ImageDataset {
  return ImageDataset.trusted(w.images, w.shape as unknown as ImageShape, w.labels, w.numClasses, w.scale);
}
