/**
 * Local ZCA whitening for scripts/photo-select.ts (measured there, not kept in
 * the library: on photo patches a CAE on whitened input learned single-pixel
 * and noisy filters — README "A real colour run"). A ZCA transform fitted on k×k
 * windows, applied as a convolution (the ZCA rows of each window's centre
 * pixel), so it works on images of any size.
 */
import { ImageDataset } from '../ts/data/dataset.js';
import { Rng } from '../ts/util/rng.js';

/** Options of `fitWhitening`. */
export interface WhiteningOptions {
  /** Side of the windows the ZCA transform is fitted on (odd). Default 9. */
  window?: number;
  /** Added to every eigenvalue (relative to their mean): how far the smallest components are amplified. Default 0.1. */
  eps?: number;
  /** Windows sampled. Default 20 000. */
  samples?: number;
  seed?: number;
}

/** A fitted local whitening: the filter, and `apply` (same-size output, edges replicated). */
export interface Whitening {
  /** [C_out = C, C_in = C, k, k]. */
  kernel: Float32Array;
  channels: number;
  window: number;
  apply(data: ImageDataset): ImageDataset;
}

/** Fits a ZCA whitening on k×k windows of `data` and returns it as a convolution filter. */
export function fitWhitening(data: ImageDataset, opts: WhiteningOptions = {}): Whitening {
  const op = 'fitWhitening';
  const k = opts.window ?? 9;
  const [C, H, W] = data.shape;
  if (!Number.isInteger(k) || k < 1 || k % 2 === 0 || k > Math.min(H, W))
    throw new Error(`${op}: window must be an odd integer in [1, ${Math.min(H, W)}], got ${k}`);
  const eps = opts.eps ?? 0.1;
  if (!(eps > 0)) throw new Error(`${op}: eps must be > 0, got ${eps}`);
  const samples = opts.samples ?? 20000;
  if (!Number.isInteger(samples) || samples < 2)
    throw new Error(`${op}: samples must be an integer ≥ 2, got ${samples}`);
  if (data.length < 1) throw new Error(`${op}: no images`);
  const D = C * k * k;
  const rng = new Rng(opts.seed ?? 1);
  const mean = new Float64Array(D);
  const cov = new Float64Array(D * D);
  const win = new Float64Array(D);
  const img = new Float32Array(data.imageSize);
  for (let s = 0; s < samples; s++) {
    const i = rng.nextU32() % data.length;
    data.readImages(i, i + 1, img);
    const y0 = rng.nextU32() % (H - k + 1),
      x0 = rng.nextU32() % (W - k + 1);
    for (let c = 0; c < C; c++)
      for (let y = 0; y < k; y++)
        for (let x = 0; x < k; x++) win[(c * k + y) * k + x] = img[(c * H + y0 + y) * W + x0 + x];
    for (let a = 0; a < D; a++) {
      mean[a] += win[a];
      const wa = win[a];
      for (let b = a; b < D; b++) cov[a * D + b] += wa * win[b];
    }
  }
  for (let a = 0; a < D; a++) mean[a] /= samples;
  for (let a = 0; a < D; a++)
    for (let b = a; b < D; b++) {
      const v = cov[a * D + b] / samples - mean[a] * mean[b];
      cov[a * D + b] = v;
      cov[b * D + a] = v;
    }
  const { values, vectors } = symmetricEigen(cov, D);
  const avg = values.reduce((p, v) => p + Math.max(v, 0), 0) / D;
  const scale = values.map((v) => 1 / Math.sqrt(Math.max(v, 0) + eps * avg));
  const centre = ((k - 1) / 2) * k + (k - 1) / 2;
  const kernel = new Float32Array(C * D);
  for (let co = 0; co < C; co++) {
    const r = co * k * k + centre;
    for (let b = 0; b < D; b++) {
      let s = 0;
      for (let e = 0; e < D; e++) s += vectors[r * D + e] * scale[e] * vectors[b * D + e];
      kernel[co * D + b] = s;
    }
  }
  return { kernel, channels: C, window: k, apply: (d) => convolveSame(d, kernel, C, k) };
}

/** `data` convolved with a [C, C, k, k] kernel, same size (edge pixels replicated). */
function convolveSame(data: ImageDataset, kernel: Float32Array, C: number, k: number): ImageDataset {
  const [c0, H, W] = data.shape;
  if (c0 !== C) throw new Error(`whitening: fitted on ${C}-channel images, given ${c0}`);
  const r = (k - 1) / 2;
  const size = data.imageSize;
  const out = new Float32Array(data.length * size);
  const img = new Float32Array(size);
  for (let i = 0; i < data.length; i++) {
    data.readImages(i, i + 1, img);
    for (let co = 0; co < C; co++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          let s = 0;
          for (let ci = 0; ci < C; ci++)
            for (let dy = 0; dy < k; dy++) {
              const yy = Math.min(H - 1, Math.max(0, y + dy - r));
              const row = (ci * H + yy) * W,
                kr = ((co * C + ci) * k + dy) * k;
              for (let dx = 0; dx < k; dx++) s += kernel[kr + dx] * img[row + Math.min(W - 1, Math.max(0, x + dx - r))];
            }
          out[i * size + (co * H + y) * W + x] = s;
        }
  }
  return ImageDataset.fromFloat32(out, data.shape, data.labels ?? undefined, data.numClasses);
}

/** Eigenvalues and eigenvectors (columns of `vectors`, row-major D×D) of a symmetric matrix, by cyclic Jacobi rotations. */
export function symmetricEigen(m: Float64Array, D: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(D * D);
  for (let i = 0; i < D; i++) v[i * D + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0,
      diag = 0;
    for (let p = 0; p < D; p++) {
      diag += a[p * D + p] ** 2;
      for (let q = p + 1; q < D; q++) off += a[p * D + q] ** 2;
    }
    if (off <= 1e-22 * diag) break;
    for (let p = 0; p < D - 1; p++)
      for (let q = p + 1; q < D; q++) {
        const apq = a[p * D + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * D + q] - a[p * D + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let r = 0; r < D; r++) {
          const arp = a[r * D + p],
            arq = a[r * D + q];
          a[r * D + p] = c * arp - s * arq;
          a[r * D + q] = s * arp + c * arq;
        }
        for (let r = 0; r < D; r++) {
          const apr = a[p * D + r],
            aqr = a[q * D + r];
          a[p * D + r] = c * apr - s * aqr;
          a[q * D + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < D; r++) {
          const vrp = v[r * D + p],
            vrq = v[r * D + q];
          v[r * D + p] = c * vrp - s * vrq;
          v[r * D + q] = s * vrp + c * vrq;
        }
      }
  }
  const values = new Float64Array(D);
  for (let i = 0; i < D; i++) values[i] = a[i * D + i];
  return { values, vectors: v };
}
