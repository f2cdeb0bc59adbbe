/**
 * Naive TypeScript loops for the same cases: what a JavaScript user would write
 * without convae. Straight loops over Float32Arrays, no tricks beyond hoisting.
 */
import { CONV_SHAPES, convFlops, convTag, randomFill } from './cases.js';

export interface NaiveCase {
  name: string;
  work: number;
  run: () => void;
}

function gemm(m: number, n: number, k: number, label = ''): NaiveCase {
  const a = randomFill(new Float32Array(m * k)), b = randomFill(new Float32Array(k * n)), c = new Float32Array(m * n);
  return {
    name: `gemm_${m}x${n}x${k}${label}`,
    work: 2 * m * n * k,
    run: () => {
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
          c[i * n + j] = s;
        }
    },
  };
}

function conv(n: number, sh: (typeof CONV_SHAPES)[number]): NaiveCase {
  const { cIn, s, cOut, k } = sh, o = s - k + 1;
  const x = randomFill(new Float32Array(n * cIn * s * s)), w = randomFill(new Float32Array(cOut * cIn * k * k));
  const y = new Float32Array(n * cOut * o * o);
  return {
    name: `conv2d_${convTag(n, sh)}`,
    work: convFlops(n, sh),
    run: () => {
      for (let b = 0; b < n; b++)
        for (let co = 0; co < cOut; co++)
          for (let i = 0; i < o; i++)
            for (let j = 0; j < o; j++) {
              let acc = 0;
              for (let ci = 0; ci < cIn; ci++)
                for (let ki = 0; ki < k; ki++)
                  for (let kj = 0; kj < k; kj++) acc += x[((b * cIn + ci) * s + i + ki) * s + j + kj] * w[((co * cIn + ci) * k + ki) * k + kj];
              y[((b * cOut + co) * o + i) * o + j] = acc;
            }
    },
  };
}

function pool(n: number, c: number, s: number): NaiveCase {
  const o = s / 2, x = randomFill(new Float32Array(n * c * s * s)), y = new Float32Array(n * c * o * o), sw = new Uint32Array(n * c * o * o);
  return {
    name: `max_pool2d_${n}x${c}x${s}x${s}_k2x2_s2`,
    work: 4 * (n * c * s * s + 2 * n * c * o * o),
    run: () => {
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < o; i++)
          for (let j = 0; j < o; j++) {
            let best = x[p * s * s + 2 * i * s + 2 * j], at = 2 * i * s + 2 * j;
            for (let a = 0; a < 2; a++)
              for (let b = 0; b < 2; b++) {
                const idx = (2 * i + a) * s + 2 * j + b, v = x[p * s * s + idx];
                if (v > best) { best = v; at = idx; }
              }
            y[(p * o + i) * o + j] = best;
            sw[(p * o + i) * o + j] = at;
          }
    },
  };
}

export function naiveCases(n: number): NaiveCase[] {
  return [gemm(256, 256, 256), gemm(20, 576, 25, '_conv1'), gemm(50, 64, 500, '_conv2'), ...CONV_SHAPES.map((c) => conv(n, c)), pool(n, 20, 24)];
}
