/**
 * Local ZCA whitening of images: a ZCA transform fitted on k×k windows (all
 * channels), kept as the convolution its centre rows make, so it applies to
 * images of any size. Photographs have a 1/f spectrum: most of their variance
 * is in smooth, low-frequency changes, and a network trained on them spends
 * its filters there; whitened, every spatial frequency and colour direction
 * counts alike, and a ReLU CAE's first-layer filters become oriented edges and
 * colour blobs (README "A real colour run"; Coates, Lee & Ng 2011 whiten patches the same way).
 *
 * Browser-safe. `fitWhitening` → `Whitening` (plain data: saved with a model
 * as JSON, read back through `whiteningOf`), `whiten` applies it.
 */
import { ArgumentError, DataError, quote } from '../errors.js';
import { MAX_WHITENING_VALUES, MAX_WHITENING_WORK } from '../limits.js';
import { Rng } from '../util/rng.js';
import { checkResultFloats, datasetArg, ImageDataset } from './dataset.js';
import { optionsOf } from '../util/options.js';

/** Options of `fitWhitening`. */
export interface WhiteningOptions {
  /** Side of the windows the transform is fitted on (odd, ≤ 15). Default 9. */
  window?: number;
  /**
   * Added to every eigenvalue, as a fraction of their mean: how far the weakest directions are amplified.
   * Default 1 (a partial whitening: on photo patches 0.1 gave sharper filters and more single-pixel ones; README).
   */
  eps?: number;
  /** Windows sampled at random places of random images. Default 20 000. */
  samples?: number;
  /** Seed of the sampled images and places. Default 1. */
  seed?: number;
}

/** A fitted local whitening: a [C, C, window, window] convolution (edges replicated). Plain data (JSON-safe with `Array.from(kernel)`). */
export interface Whitening {
  /** Channels C of the images it was fitted on (and can whiten). */
  channels: number;
  /** Side of the filter (odd). */
  window: number;
  /** The `eps` it was fitted with. */
  eps: number;
  /** [C_out, C_in, window, window], row-major. */
  kernel: Float32Array;
}

/** Largest window side: a 3-channel 15×15 window is a 675×675 covariance, seconds to decompose (more channels: MAX_WHITENING_VALUES). */
export const MAX_WHITENING_WINDOW = 15;

/** A window a Whitening may have: odd (the filter has a centre), at most MAX_WHITENING_WINDOW. */
const isWindow = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v % 2 === 1 && v <= MAX_WHITENING_WINDOW;

/** Fits a ZCA whitening on `window`×`window` windows of `data` (all channels together: colour is decorrelated too). */
export function fitWhitening(data: ImageDataset, options?: WhiteningOptions): Whitening {
  const op = 'fitWhitening';
  const [C, H, W] = datasetArg(op, data).shape;
  const opts = optionsOf(op, options);
  const k = opts.window ?? 9;
  const side = Math.min(H, W, MAX_WHITENING_WINDOW);
  if (!Number.isInteger(k) || k < 1 || k % 2 === 0 || k > side)
    throw new ArgumentError(op, 'window', `must be an odd integer in [1, ${side}], got ${quote(k)}`);
  const eps = opts.eps ?? 1;
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps))
    throw new ArgumentError(op, 'eps', `must be a finite number > 0, got ${quote(eps)}`);
  const samples = opts.samples ?? 20000;
  if (!Number.isInteger(samples) || samples < 2 || samples > 1e7)
    throw new ArgumentError(op, 'samples', `must be an integer in [2, 10⁷], got ${quote(samples)}`);
  const D = C * k * k;
  if (D > MAX_WHITENING_VALUES)
    throw new ArgumentError(
      op,
      'window',
      `${k} on ${C} channels gives windows of ${D} values, more than ${MAX_WHITENING_VALUES} (MAX_WHITENING_VALUES): take a smaller window`,
    );
  const work = (samples * D * (D + 1)) / 2;
  if (work > MAX_WHITENING_WORK)
    throw new ArgumentError(
      op,
      'samples',
      `${samples} of ${D}-value windows cost ${work} multiply-adds, more than ${MAX_WHITENING_WORK} (MAX_WHITENING_WORK): at most ${Math.floor(MAX_WHITENING_WORK / ((D * (D + 1)) / 2))} samples of this window`,
    );
  const rng = new Rng(opts.seed ?? 1);
  const sum = new Float64Array(D);
  const cov = new Float64Array(D * D);
  const win = new Float64Array(D);
  const img = new Float32Array(data.imageSize);
  for (let s = 0; s < samples; s++) {
    const i = rng.int(data.length);
    data.readImages(i, i + 1, img);
    const y0 = rng.int(H - k + 1),
      x0 = rng.int(W - k + 1);
    for (let c = 0; c < C; c++)
      for (let y = 0; y < k; y++)
        for (let x = 0; x < k; x++) win[(c * k + y) * k + x] = img[(c * H + y0 + y) * W + x0 + x];
    for (let a = 0; a < D; a++) {
      const wa = win[a];
      sum[a] += wa;
      for (let b = a; b < D; b++) cov[a * D + b] += wa * win[b];
    }
  }
  for (let a = 0; a < D; a++)
    for (let b = a; b < D; b++) {
      const v = cov[a * D + b] / samples - (sum[a] / samples) * (sum[b] / samples);
      cov[a * D + b] = v;
      cov[b * D + a] = v;
    }
  const { values, vectors } = symmetricEigen(cov, D);
  let avg = 0;
  for (const v of values) avg += Math.max(v, 0) / D;
  if (!(avg > 0)) throw new DataError(`${op}: the images have no variance to whiten`);
  const scale = values.map((v) => 1 / Math.sqrt(Math.max(v, 0) + eps * avg));
  // ZCA = V diag(scale) Vᵀ; the rows of each channel's centre pixel are the filter.
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
  return { channels: C, window: k, eps, kernel };
}

/** `data` convolved with the whitening filter: same size, edge pixels replicated; labels kept. */
export function whiten(data: ImageDataset, w: Whitening): ImageDataset {
  const op = 'whiten';
  const [C, H, W] = datasetArg(op, data).shape;
  if (w === null || typeof w !== 'object')
    throw new ArgumentError(op, 'w', `must be a Whitening (fitWhitening, whiteningOf), got ${quote(w)}`);
  if (C !== w.channels)
    throw new DataError(`${op}: the whitening was fitted on ${quote(w.channels)}-channel images, given ${C}`);
  // A short kernel would read past its end as NaN, silently.
  if (!isWindow(w.window) || !(w.kernel instanceof Float32Array) || w.kernel.length !== C * C * w.window ** 2)
    throw new ArgumentError(
      op,
      'w',
      `must hold an odd window in [1, ${MAX_WHITENING_WINDOW}] and a Float32Array kernel of C·C·window² values`,
    );
  const k = w.window,
    r = (k - 1) / 2,
    kernel = w.kernel;
  const size = data.imageSize;
  checkResultFloats(op, 'data', data.length, size, 'whitened images');
  const out = new Float32Array(data.length * size);
  const img = new Float32Array(size);
  // Column and row index of each tap with the edges replicated, computed once.
  const xs = Int32Array.from({ length: W * k }, (_, t) =>
    Math.min(W - 1, Math.max(0, Math.floor(t / k) + (t % k) - r)),
  );
  const ys = Int32Array.from({ length: H * k }, (_, t) =>
    Math.min(H - 1, Math.max(0, Math.floor(t / k) + (t % k) - r)),
  );
  for (let i = 0; i < data.length; i++) {
    data.readImages(i, i + 1, img);
    for (let co = 0; co < C; co++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          let s = 0;
          for (let ci = 0; ci < C; ci++)
            for (let dy = 0; dy < k; dy++) {
              const row = (ci * H + ys[y * k + dy]) * W,
                kr = ((co * C + ci) * k + dy) * k;
              for (let dx = 0; dx < k; dx++) s += kernel[kr + dx] * img[row + xs[x * k + dx]];
            }
          out[i * size + (co * H + y) * W + x] = s;
        }
  }
  return ImageDataset.fromFloat32(out, data.shape, data.labels ?? undefined, data.numClasses);
}

const F32_MAX = 3.4028234663852886e38;

/** A whitening read from JSON (a saved model's metadata): every field checked; a DataError naming `where` otherwise. */
export function whiteningOf(v: unknown, where: string): Whitening {
  const o = v as { channels?: unknown; window?: unknown; eps?: unknown; kernel?: unknown } | null;
  const fail = (m: string) => new DataError(`${where}: whitening ${m}`);
  if (!o || typeof o !== 'object') throw fail('must be an object');
  const { channels, window, eps, kernel } = o;
  if (channels !== 1 && channels !== 3) throw fail(`channels must be 1 or 3, got ${quote(channels)}`);
  if (!isWindow(window))
    throw fail(`window must be an odd integer in [1, ${MAX_WHITENING_WINDOW}], got ${quote(window)}`);
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) throw fail('eps must be a finite number > 0');
  const n = channels * channels * window * window;
  if (!Array.isArray(kernel) || kernel.length !== n) throw fail(`kernel must be an array of ${n} numbers`);
  // Stored as float32: a JSON number beyond its range (1e39) would whiten every image to ±Infinity.
  if (!kernel.every((x) => typeof x === 'number' && Number.isFinite(Math.fround(x))))
    throw fail(`kernel must hold finite float32 numbers (magnitude below ${F32_MAX.toPrecision(4)})`);
  return { channels, window, eps, kernel: Float32Array.from(kernel as number[]) };
}

/** Eigenvalues and eigenvectors (the columns of `vectors`, row-major D×D) of a symmetric matrix, by cyclic Jacobi rotations. */
export function symmetricEigen(m: Float64Array, D: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(D * D);
  for (let i = 0; i < D; i++) v[i * D + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0,
      diag = 0;
    for (let p = 0; p < D; p++) {
      diag += a[p * D + p] ** 2;
      for (let q = p + 1; q < D; q++) off += a[p * D + q] ** 2;
    }
    if (off <= 1e-24 * diag || off === 0) break;
    for (let p = 0; p < D - 1; p++)
      for (let q = p + 1; q < D; q++) {
        const apq = a[p * D + q];
        if (apq === 0) continue;
        // The rotation that zeroes a[p][q] (Golub & Van Loan, the symmetric Schur decomposition).
        const theta = (a[q * D + q] - a[p * D + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
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
