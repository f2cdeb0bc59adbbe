/**
 * What makes a colour CAE's first-layer filters oriented edges and colour
 * blobs? One configuration per call, measured on patches of the sample
 * photographs of the scikit-image and scikit-learn wheels (scripts/photo-run.sh
 * downloads them):
 *
 *   npx tsx scripts/photo-select.ts name=base pre=none maps=32 pool=2 epochs=2 …
 *
 * Keys (defaults in CONFIG): photos=colour|all|natural|natural+grey, n (training patches), side,
 * flips=0|1, scales (list: 1,0.5), pre=none|contrast|whiten (contrast, then a local ZCA of
 * wwin×wwin windows with eps=weps, ts/data/whiten.ts), maps, kernel, pool,
 * pad (conv padding; (kernel − 1)/2 keeps the size), act, noise (masking fraction), gauss (Gaussian noise std), epochs, lr, wd,
 * batch, seed. Writes DIR/<name>.png (the filters, per-filter scaled, grey 0)
 * and appends a JSON line to DIR/results.jsonl: held-out reconstruction error
 * as a fraction of the held-out patches' variance, and filter statistics
 * (filterStats in ts/viz/filterstats.ts).
 */
import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadBackend } from '../ts/backend/backend.js';
import { ImageDataset } from '../ts/data/dataset.js';
import { contrastNormalize } from '../ts/data/normalize.js';
import { fitWhitening, whiten } from '../ts/data/whiten.js';
import { StackedConvAutoencoder } from '../ts/model/autoencoder.js';
import { evaluateTask } from '../ts/train/evaluate.js';
import { fit } from '../ts/train/fit.js';
import { stackLayerTask } from '../ts/train/tasks.js';
import { Rng } from '../ts/util/rng.js';
import { filterPicture } from '../ts/cli/pictures.js';
import { filterStats, summariseFilterStats } from '../ts/viz/filterstats.js';
import { writePng } from '../ts/viz/png.js';

const CONFIG: Record<string, string> = {
  name: 'run',
  dir: '/tmp/photo/runs',
  src: '/tmp/photo/x',
  photos: 'colour',
  n: '6000',
  held: '1000',
  side: '16',
  flips: '0',
  scales: '1',
  pre: 'none',
  weps: '0.1',
  wwin: '9',
  maps: '32',
  kernel: '7',
  pad: '0',
  pool: '2',
  act: 'tanh',
  noise: '0',
  gauss: '0',
  epochs: '2',
  lr: '3e-3',
  wd: '0',
  batch: '32',
  seed: '1',
};
for (const a of process.argv.slice(2)) {
  const [k, v] = a.split('=');
  if (!(k in CONFIG)) throw new Error(`unknown key ${k}`);
  CONFIG[k] = v;
}
const c = CONFIG,
  num = (k: string) => Number(c[k]);

/** The photographs (not the synthetic images: chessboards, logo, phantom, text, page, horse silhouette, colour wheel). */
const COLOUR = [
  'skimage/data/astronaut.png',
  'skimage/data/chelsea.png',
  'skimage/data/coffee.png',
  'skimage/data/hubble_deep_field.jpg',
  'skimage/data/ihc.png',
  'skimage/data/motorcycle_left.png',
  'skimage/data/motorcycle_right.png',
  'skimage/data/retina.jpg',
  'skimage/data/rocket.jpg',
  'sklearn/datasets/images/china.jpg',
  'sklearn/datasets/images/flower.jpg',
];
const GREY = ['brick', 'camera', 'cell', 'clock_motion', 'coins', 'grass', 'gravel', 'moon'].map(
  (f) => `skimage/data/${f}.png`,
);
/**
 * Scenes and objects under free licences (public domain, CC0, CC BY): not the telescope,
 * microscope and retina images (stars, cells, vessels), nor the Middlebury stereo pair (research terms).
 */
const NATURAL = COLOUR.filter((f) => !/hubble|ihc|retina|motorcycle/.test(f));
const files =
  c.photos === 'all'
    ? [...COLOUR, ...GREY]
    : c.photos === 'natural'
      ? NATURAL
      : c.photos === 'natural+grey'
        ? [...NATURAL, ...GREY]
        : COLOUR;
void readdirSync(c.src);

interface Photo {
  px: Uint8Array;
  w: number;
  h: number;
}
const photos: Photo[] = [];
for (const f of files)
  for (const s of c.scales.split(',').map(Number)) {
    const img = sharp(join(c.src, f)).removeAlpha().toColourspace('srgb');
    const m = await sharp(join(c.src, f)).metadata();
    const w = Math.round(m.width! * s),
      h = Math.round(m.height! * s);
    const { data } = await img.resize(w, h, { kernel: 'lanczos3' }).raw().toBuffer({ resolveWithObject: true });
    photos.push({ px: new Uint8Array(data), w, h });
  }

const side = num('side');
/** Random crops (a random photo, place, and with flips=1 a random horizontal and vertical flip), NCHW bytes. */
function patches(n: number, seed: number): ImageDataset {
  const rng = new Rng(seed);
  const out = new Uint8Array(n * 3 * side * side);
  const plane = side * side;
  for (let i = 0; i < n; i++) {
    const p = photos[rng.nextU32() % photos.length];
    const x0 = rng.nextU32() % (p.w - side + 1),
      y0 = rng.nextU32() % (p.h - side + 1);
    const fx = c.flips === '1' && rng.next() < 0.5,
      fy = c.flips === '1' && rng.next() < 0.5;
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        const sx = x0 + (fx ? side - 1 - x : x),
          sy = y0 + (fy ? side - 1 - y : y);
        for (let ch = 0; ch < 3; ch++) out[i * 3 * plane + ch * plane + y * side + x] = p.px[(sy * p.w + sx) * 3 + ch];
      }
  }
  return ImageDataset.fromUint8(out, [3, side, side]);
}

const t0 = performance.now();
let train = patches(num('n'), num('seed'));
let held = patches(num('held'), num('seed') + 1000);
if (c.pre === 'contrast') {
  train = contrastNormalize(train);
  held = contrastNormalize(held);
} else if (c.pre === 'whiten') {
  const wh = fitWhitening(contrastNormalize(train), { eps: num('weps'), window: num('wwin') });
  train = whiten(contrastNormalize(train), wh);
  held = whiten(contrastNormalize(held), wh);
}
const be = await loadBackend();
const normalised = c.pre !== 'none';
const stack = new StackedConvAutoencoder(
  be,
  [
    {
      convs: [{ filters: num('maps'), kernel: num('kernel'), padding: num('pad') }],
      activation: c.act as 'tanh',
      pool: num('pool') > 1 ? { kernel: num('pool') } : null,
      noise:
        num('noise') > 0
          ? { type: 'mask', fraction: num('noise') }
          : num('gauss') > 0
            ? { type: 'gaussian', std: num('gauss') }
            : null,
      // Normalised patches are not in [0, 1]: a linear output, not a sigmoid.
      outputActivation: normalised ? 'identity' : 'sigmoid',
    },
  ],
  [3, side, side],
  num('seed'),
);
const w = stack.blocks[0].convs[0].weight.value;
const init = w.toArray();
await fit(be, stackLayerTask(stack, 0), train, {
  epochs: num('epochs'),
  batchSize: num('batch'),
  seed: num('seed'),
  optimizer: { type: 'adam', lr: num('lr'), weightDecay: num('wd') },
});
const loss = evaluateTask(be, stackLayerTask(stack, 0), held).loss;
// The loss is ½·mean squared error; relative to the held-out patches' variance, comparable across preprocessing.
const hx = held.images;
let m = 0;
for (const v of hx) m += v;
m /= hx.length;
let v2 = 0;
for (const v of hx) v2 += (v - m) ** 2;
const relative = (2 * loss) / (v2 / hx.length);
const final = w.toArray();
const shape = w.shape as [number, number, number, number];
const stats = filterStats(final, shape, init);
const sum = summariseFilterStats(stats);
mkdirSync(c.dir, { recursive: true });
await writePng(join(c.dir, `${c.name}.png`), filterPicture(final, shape, 12));
// The weights too, so the statistics can be recomputed.
writeFileSync(join(c.dir, `${c.name}.f32`), new Uint8Array(final.buffer, final.byteOffset, final.byteLength));
const row = { ...c, seconds: Math.round((performance.now() - t0) / 1000), relativeError: relative, ...sum };
appendFileSync(join(c.dir, 'results.jsonl'), `${JSON.stringify(row)}\n`);
console.log(JSON.stringify(row));
stack.dispose();
