/**
 * The image-decoding worker (bundled by scripts/bundle-worker.mjs into
 * dist/decode-worker.js, a module Worker): decodes files with
 * `createImageBitmap` and draws them at the dataset's size on an
 * `OffscreenCanvas`, or draws a bitmap the page captured (a video frame).
 * It first says whether it can (a worker without OffscreenCanvas cannot: the
 * page then decodes on its own thread). Protocol: decodepool.ts.
 */
import { type DecodedImage, decodeImageBlob, drawDecoded } from './imagedecode.js';
import type { DecodeReply, DecodeRequest } from './decodepool.js';

declare const self: {
  postMessage(m: DecodeReply, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<DecodeRequest>) => void) | null;
};

const reason = (e: unknown) => {
  const m = e instanceof Error ? e.message : String(e);
  return m.length > 200 ? `${m.slice(0, 200)}…` : m;
};

function capable(): string | null {
  if (typeof createImageBitmap !== 'function') return 'no createImageBitmap in workers';
  if (typeof OffscreenCanvas !== 'function') return 'no OffscreenCanvas in workers';
  try {
    if (!new OffscreenCanvas(1, 1).getContext('2d')) return 'no 2D context on an OffscreenCanvas';
  } catch (e) {
    return `no 2D context on an OffscreenCanvas (${reason(e)})`;
  }
  return null;
}

self.onmessage = async (e) => {
  const m = e.data;
  try {
    const image = m.kind === 'blob' ? await decodeImageBlob(m.blob, m.settings) : drawBitmap(m.bitmap, m.settings);
    self.postMessage({ type: 'done', id: m.id, image }, [image.bytes.buffer]);
  } catch (err) {
    self.postMessage({ type: 'failed', id: m.id, reason: reason(err) });
  }
};

function drawBitmap(bitmap: ImageBitmap, settings: DecodeRequest['settings']): DecodedImage {
  try {
    return drawDecoded(bitmap, bitmap.width, bitmap.height, settings);
  } finally {
    bitmap.close();
  }
}

const cannot = capable();
self.postMessage(cannot ? { type: 'ready', ok: false, reason: cannot } : { type: 'ready', ok: true });
