/**
 * The kernel core's demo: trains one convolutional autoencoder layer — conv →
 * tanh → max-pool (switches) → max-unpool → tied transposed conv → sigmoid, MSE —
 * on synthetic 28×28 images of random strokes, and prints the falling loss.
 * Every step is written out with the raw ops so the data flow of a CAE is visible.
 *
 *   npm run demo:node [-- --epochs 8 --maps 8 --build simd]
 */
import { parseArgs } from 'node:util';
import * as cv from '../ts/index.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '6' },
    maps: { type: 'string', default: '8' },
    kernel: { type: 'string', default: '5' },
    batch: { type: 'string', default: '32' },
    images: { type: 'string', default: '512' },
    lr: { type: 'string', default: '0.01' },
    seed: { type: 'string', default: '1' },
    build: { type: 'string', default: 'auto' },
  },
});
const epochs = Number(args.epochs),
  K = Number(args.maps),
  k = Number(args.kernel);
const B = Number(args.batch),
  N = Number(args.images),
  lr = Number(args.lr);

// A small seeded PRNG so runs repeat exactly.
let state = Number(args.seed) >>> 0;
const rand = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** 28×28 images with 1–3 anti-aliased strokes each, values in [0, 1]. */
function strokes(count: number): Float32Array {
  const S = 28,
    out = new Float32Array(count * S * S);
  for (let n = 0; n < count; n++) {
    const img = out.subarray(n * S * S, (n + 1) * S * S);
    const lines = 1 + Math.floor(rand() * 3);
    for (let l = 0; l < lines; l++) {
      const x0 = 4 + rand() * 20,
        y0 = 4 + rand() * 20,
        x1 = 4 + rand() * 20,
        y1 = 4 + rand() * 20;
      for (let i = 0; i < S; i++)
        for (let j = 0; j < S; j++) {
          const dx = x1 - x0,
            dy = y1 - y0,
            len2 = dx * dx + dy * dy || 1;
          const t = Math.max(0, Math.min(1, ((j - x0) * dx + (i - y0) * dy) / len2));
          const d = Math.hypot(j - (x0 + t * dx), i - (y0 + t * dy));
          img[i * S + j] = Math.max(img[i * S + j], Math.max(0, 1 - d / 1.5));
        }
    }
  }
  return out;
}

const be = await cv.loadBackend({ build: args.build as cv.Build | 'auto' });
console.log(`convae kernels: ${be.build} build`);

const S = 28,
  oh = S - k + 1,
  ph = Math.floor(oh / 2);
const data = strokes(N);

// Parameters: the encoder weight W is shared by the decoder (tied), which has its own bias c.
const scale = 1 / Math.sqrt(k * k);
const W = be.fromArray(
  [K, 1, k, k],
  Array.from({ length: K * k * k }, () => (rand() * 2 - 1) * scale),
);
const b = be.zeros([K]),
  c = be.zeros([1]);
const dW = be.zeros([K, 1, k, k]),
  db = be.zeros([K]),
  dc = be.zeros([1]);
const mW = be.zeros([K * k * k]),
  vW = be.zeros([K * k * k]);
const mb = be.zeros([K]),
  vb = be.zeros([K]),
  mc = be.zeros([1]),
  vc = be.zeros([1]);

// Activations and their gradients, allocated once for the whole run.
const x = be.empty([B, 1, S, S]);
const h = be.empty([B, K, oh, oh]),
  pooled = be.empty([B, K, ph, ph]),
  sw = be.empty([B, K, ph, ph], 'u32');
const up = be.empty([B, K, oh, oh]),
  y = be.empty([B, 1, S, S]);
const dy = be.empty([B, 1, S, S]),
  dup = be.empty([B, K, oh, oh]),
  dpool = be.empty([B, K, ph, ph]),
  dh = be.empty([B, K, oh, oh]);

let step = 0;
for (let epoch = 1; epoch <= epochs; epoch++) {
  let total = 0,
    batches = 0;
  const t0 = performance.now();
  for (let start = 0; start + B <= N; start += B) {
    x.set(data.subarray(start * S * S, (start + B) * S * S));
    // Forward: encode, pool with switches, unpool, decode with the same W.
    cv.conv2d(x, W, b, h);
    cv.activation('tanh', h, h);
    cv.maxPool2d(h, pooled, sw);
    cv.maxUnpool2d(pooled, sw, up);
    cv.convTranspose2d(up, W, c, y);
    cv.activation('sigmoid', y, y);
    total += cv.mseLoss(y, x, dy);
    batches++;
    // Backward: parameter gradients accumulate, so both uses of W add into dW.
    for (const g of [dW, db, dc]) g.fill(0);
    cv.activationBackward('sigmoid', y, dy, dy);
    cv.biasBackward(dy, dc);
    cv.convTranspose2dBackwardWeight(up, dy, dW);
    cv.convTranspose2dBackwardInput(dy, W, dup);
    cv.maxUnpool2dBackward(dup, sw, dpool);
    cv.maxPool2dBackward(dpool, sw, dh);
    cv.activationBackward('tanh', h, dh, dh);
    cv.biasBackward(dh, db);
    cv.conv2dBackwardWeight(x, dh, dW);
    step++;
    cv.adamStep(W, dW, mW, vW, { lr, step });
    cv.adamStep(b, db, mb, vb, { lr, step });
    cv.adamStep(c, dc, mc, vc, { lr, step });
  }
  const ms = performance.now() - t0;
  console.log(
    `epoch ${epoch}: reconstruction MSE ${(total / batches).toFixed(5)}  (${((batches * B) / (ms / 1000)).toFixed(0)} images/s)`,
  );
}
