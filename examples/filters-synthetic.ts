/**
 * Pictures of one CAE layer trained on synthetic strokes: the same tiny CAE as
 * examples/cae-synthetic.ts (conv → tanh → max-pool with switches → max-unpool
 * → tied transposed conv → sigmoid, MSE, Adam), then
 *
 *   <out>/filters.png          the learned 5×5 kernels, grey symmetric around 0
 *   <out>/reconstructions.png  held-out images (odd rows: their reconstructions)
 *   <out>/loss.png, loss.svg   per-batch and per-epoch training loss, held-out loss
 *
 * and prints how far the filters moved from their random start (a filter still
 * close to its start looks like noise, whatever the loss says).
 *
 *   npx tsx examples/filters-synthetic.ts [--epochs 10 --maps 16 --decay 0 --filter-scale 12 --out test-artifacts]
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as cv from '../ts/index.js';
import { writePng } from '../ts/viz/png.js';
import { filterGrid, lossCurve, reconstructionGrid } from '../ts/viz/raster.js';
import { lossCurveSvg } from '../ts/viz/svg.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '10' },
    maps: { type: 'string', default: '16' },
    kernel: { type: 'string', default: '5' },
    batch: { type: 'string', default: '32' },
    images: { type: 'string', default: '1024' },
    heldout: { type: 'string', default: '128' },
    lr: { type: 'string', default: '0.01' },
    decay: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    build: { type: 'string', default: 'auto' },
    out: { type: 'string', default: 'test-artifacts' },
    'filter-scale': { type: 'string', default: '12' },
  },
});

// A small seeded PRNG so runs repeat exactly (the one of cae-synthetic.ts).
let state = Number(args.seed) >>> 0;
const rand = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const S = 28;

/** 28×28 images with 1–3 anti-aliased strokes each, values in [0, 1] (as in cae-synthetic.ts). */
function strokes(count: number): Float32Array {
  const out = new Float32Array(count * S * S);
  for (let n = 0; n < count; n++) {
    const img = out.subarray(n * S * S, (n + 1) * S * S);
    const lines = 1 + Math.floor(rand() * 3);
    for (let l = 0; l < lines; l++) {
      const x0 = 4 + rand() * 20, y0 = 4 + rand() * 20, x1 = 4 + rand() * 20, y1 = 4 + rand() * 20;
      for (let i = 0; i < S; i++)
        for (let j = 0; j < S; j++) {
          const dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy || 1;
          const t = Math.max(0, Math.min(1, ((j - x0) * dx + (i - y0) * dy) / len2));
          const d = Math.hypot(j - (x0 + t * dx), i - (y0 + t * dy));
          img[i * S + j] = Math.max(img[i * S + j], Math.max(0, 1 - d / 1.5));
        }
    }
  }
  return out;
}

interface CaeConfig {
  maps: number; kernel: number; batch: number; epochs: number; lr: number;
  /** AdamW's decoupled weight decay on W (0 = plain Adam, as in cae-synthetic.ts). */
  decay: number;
}
interface EpochReport { epoch: number; batchLosses: number[]; heldOut: number }

/**
 * Trains one tied-weight CAE layer on `data` (the loop of cae-synthetic.ts, duplicated
 * here for now) and returns its encoder weight [maps, 1, k, k] and a forward pass.
 * `onEpoch` gets each epoch's per-batch training losses and the held-out loss.
 */
function trainCae(be: cv.Backend, data: Float32Array, heldOut: Float32Array, cfg: CaeConfig, onEpoch: (r: EpochReport) => void) {
  const { maps: K, kernel: k, batch: B, epochs, lr, decay } = cfg;
  const N = data.length / (S * S), oh = S - k + 1, ph = Math.floor(oh / 2);
  const live: cv.Tensor[] = [];
  const keep = (t: cv.Tensor) => (live.push(t), t);

  // Parameters: the encoder weight W is shared by the decoder (tied), which has its own bias c.
  const scale = 1 / Math.sqrt(k * k);
  const W0 = Float32Array.from({ length: K * k * k }, () => (rand() * 2 - 1) * scale);
  const W = keep(be.fromArray([K, 1, k, k], W0));
  const b = keep(be.zeros([K])), c = keep(be.zeros([1]));
  const dW = keep(be.zeros([K, 1, k, k])), db = keep(be.zeros([K])), dc = keep(be.zeros([1]));
  const mW = keep(be.zeros([K * k * k])), vW = keep(be.zeros([K * k * k]));
  const mb = keep(be.zeros([K])), vb = keep(be.zeros([K])), mc = keep(be.zeros([1])), vc = keep(be.zeros([1]));

  // Activations and their gradients, allocated once for the whole run.
  const x = keep(be.empty([B, 1, S, S]));
  const h = keep(be.empty([B, K, oh, oh])), pooled = keep(be.empty([B, K, ph, ph])), sw = keep(be.empty([B, K, ph, ph], 'u32'));
  const up = keep(be.empty([B, K, oh, oh])), y = keep(be.empty([B, 1, S, S]));
  const dy = keep(be.empty([B, 1, S, S])), dup = keep(be.empty([B, K, oh, oh])), dpool = keep(be.empty([B, K, ph, ph])), dh = keep(be.empty([B, K, oh, oh]));

  /** Encode, pool with switches, unpool, decode with the same W; returns the MSE against x (gradient in dy). */
  const forward = (batch: Float32Array) => {
    x.set(batch);
    cv.conv2d(x, W, b, h);
    cv.activation('tanh', h, h);
    cv.maxPool2d(h, pooled, sw);
    cv.maxUnpool2d(pooled, sw, up);
    cv.convTranspose2d(up, W, c, y);
    cv.activation('sigmoid', y, y);
    return cv.mseLoss(y, x, dy);
  };
  const heldOutLoss = () => {
    let total = 0, batches = 0;
    for (let s = 0; s + B <= heldOut.length / (S * S); s += B, batches++) total += forward(heldOut.subarray(s * S * S, (s + B) * S * S));
    return total / batches;
  };

  let step = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const batchLosses: number[] = [];
    for (let start = 0; start + B <= N; start += B) {
      batchLosses.push(forward(data.subarray(start * S * S, (start + B) * S * S)));
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
      cv.adamStep(W, dW, mW, vW, { lr, step, weightDecay: decay });
      cv.adamStep(b, db, mb, vb, { lr, step });
      cv.adamStep(c, dc, mc, vc, { lr, step });
    }
    onEpoch({ epoch, batchLosses, heldOut: heldOutLoss() });
  }

  return {
    initialWeights: W0,
    weights: () => W.toArray(),
    /** Reconstructions of the first B images of `images` (B = the batch size). */
    reconstruct: (images: Float32Array) => (forward(images.subarray(0, B * S * S)), y.toArray()),
    dispose: () => live.forEach((t) => t.dispose()),
  };
}

const cfg: CaeConfig = {
  maps: Number(args.maps), kernel: Number(args.kernel), batch: Number(args.batch), epochs: Number(args.epochs), lr: Number(args.lr), decay: Number(args.decay),
};
const be = await cv.loadBackend({ build: args.build as cv.Build | 'auto' });
console.log(`convae kernels: ${be.build} build; ${cfg.maps} maps of ${cfg.kernel}×${cfg.kernel}, ${cfg.epochs} epochs`);
const data = strokes(Number(args.images)), heldOut = strokes(Number(args.heldout));

const batchX: number[] = [], batchLoss: number[] = [], meanX: number[] = [], epochX: number[] = [], epochLoss: number[] = [], heldOutLoss: number[] = [];
const cae = trainCae(be, data, heldOut, cfg, ({ epoch, batchLosses, heldOut: ho }) => {
  // x in epochs: batch i of epoch e ends at e − 1 + (i + 1)/batches; an epoch's mean sits mid-epoch, the held-out loss at its end.
  batchLosses.forEach((l, i) => { batchX.push(epoch - 1 + (i + 1) / batchLosses.length); batchLoss.push(l); });
  const mean = batchLosses.reduce((a, b) => a + b, 0) / batchLosses.length;
  meanX.push(epoch - 0.5); epochLoss.push(mean); epochX.push(epoch); heldOutLoss.push(ho);
  console.log(`epoch ${epoch}: training MSE ${mean.toFixed(5)}  held-out MSE ${ho.toFixed(5)}`);
});

/** How far training moved the filters from their random start: ‖W − W0‖ / ‖W0‖ and the mean cosine of each filter with its start. */
function drift(w0: Float32Array, w: Float32Array, maps: number) {
  const len = w0.length / maps;
  let num = 0, den = 0, cos = 0;
  for (let o = 0; o < maps; o++) {
    let dot = 0, a2 = 0, b2 = 0;
    for (let j = o * len; j < (o + 1) * len; j++) { num += (w[j] - w0[j]) ** 2; den += w0[j] ** 2; dot += w[j] * w0[j]; a2 += w0[j] ** 2; b2 += w[j] ** 2; }
    cos += dot / Math.sqrt(a2 * b2) / maps;
  }
  return { relative: Math.sqrt(num / den), cosine: cos };
}

try {
  const d = drift(cae.initialWeights, cae.weights(), cfg.maps);
  console.log(`filters moved ‖W − W0‖/‖W0‖ = ${d.relative.toFixed(2)} from their random start; mean cosine with it ${d.cosine.toFixed(2)}`);
  const k = cfg.kernel, shown = Math.min(16, cfg.batch);
  const out = args.out;
  await writePng(join(out, 'filters.png'), filterGrid(cae.weights(), [cfg.maps, 1, k, k], { scale: Number(args['filter-scale']), pad: 2 }));
  const recs = cae.reconstruct(heldOut);
  await writePng(join(out, 'reconstructions.png'), reconstructionGrid(heldOut.subarray(0, shown * S * S), recs.subarray(0, shown * S * S), [shown, 1, S, S], { scale: 3, columns: 8, pad: 2, range: [0, 1] }));
  const series = [
    { name: 'training (per batch)', values: batchLoss, x: batchX, color: [174, 199, 232] as const },
    { name: 'training (epoch mean)', values: epochLoss, x: meanX, color: [31, 119, 180] as const },
    { name: 'held-out', values: heldOutLoss, x: epochX, color: [255, 127, 14] as const },
  ];
  await writePng(join(out, 'loss.png'), lossCurve(series, { logY: true }));
  await writeFile(join(out, 'loss.svg'), lossCurveSvg(series, { logY: true, title: 'CAE on synthetic strokes: reconstruction MSE' }));
  console.log(`wrote ${['filters.png', 'reconstructions.png', 'loss.png', 'loss.svg'].map((f) => join(out, f)).join(', ')}`);
} finally {
  cae.dispose();
}
