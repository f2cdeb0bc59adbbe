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
  const a = randomFill(new Float32Array(m * k)),
    b = randomFill(new Float32Array(k * n)),
    c = new Float32Array(m * n);
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
  const { cIn, s, cOut, k } = sh,
    o = s - k + 1;
  const x = randomFill(new Float32Array(n * cIn * s * s)),
    w = randomFill(new Float32Array(cOut * cIn * k * k));
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
                  for (let kj = 0; kj < k; kj++)
                    acc += x[((b * cIn + ci) * s + i + ki) * s + j + kj] * w[((co * cIn + ci) * k + ki) * k + kj];
              y[((b * cOut + co) * o + i) * o + j] = acc;
            }
    },
  };
}

/** Input gradient of conv: scatter dy back through the kernel. */
function convBackwardInput(n: number, sh: (typeof CONV_SHAPES)[number]): NaiveCase {
  const { cIn, s, cOut, k } = sh,
    o = s - k + 1;
  const dy = randomFill(new Float32Array(n * cOut * o * o)),
    w = randomFill(new Float32Array(cOut * cIn * k * k));
  const dx = new Float32Array(n * cIn * s * s);
  return {
    name: `conv2d_backward_input_${convTag(n, sh)}`,
    work: convFlops(n, sh),
    run: () => {
      dx.fill(0);
      for (let b = 0; b < n; b++)
        for (let co = 0; co < cOut; co++)
          for (let i = 0; i < o; i++)
            for (let j = 0; j < o; j++) {
              const g = dy[((b * cOut + co) * o + i) * o + j];
              for (let ci = 0; ci < cIn; ci++)
                for (let ki = 0; ki < k; ki++)
                  for (let kj = 0; kj < k; kj++)
                    dx[((b * cIn + ci) * s + i + ki) * s + j + kj] += g * w[((co * cIn + ci) * k + ki) * k + kj];
            }
    },
  };
}

/** Weight gradient of conv: correlate inputs with dy. */
function convBackwardWeight(n: number, sh: (typeof CONV_SHAPES)[number]): NaiveCase {
  const { cIn, s, cOut, k } = sh,
    o = s - k + 1;
  const x = randomFill(new Float32Array(n * cIn * s * s)),
    dy = randomFill(new Float32Array(n * cOut * o * o));
  const dw = new Float32Array(cOut * cIn * k * k);
  return {
    name: `conv2d_backward_weight_${convTag(n, sh)}`,
    work: convFlops(n, sh),
    run: () => {
      for (let co = 0; co < cOut; co++)
        for (let ci = 0; ci < cIn; ci++)
          for (let ki = 0; ki < k; ki++)
            for (let kj = 0; kj < k; kj++) {
              let acc = 0;
              for (let b = 0; b < n; b++)
                for (let i = 0; i < o; i++)
                  for (let j = 0; j < o; j++)
                    acc += x[((b * cIn + ci) * s + i + ki) * s + j + kj] * dy[((b * cOut + co) * o + i) * o + j];
              dw[((co * cIn + ci) * k + ki) * k + kj] += acc;
            }
    },
  };
}

function pool(n: number, c: number, s: number): NaiveCase {
  const o = s / 2,
    x = randomFill(new Float32Array(n * c * s * s)),
    y = new Float32Array(n * c * o * o),
    sw = new Uint32Array(n * c * o * o);
  return {
    name: `max_pool2d_${n}x${c}x${s}x${s}_k2x2_s2`,
    work: 4 * (n * c * s * s + 2 * n * c * o * o),
    run: () => {
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < o; i++)
          for (let j = 0; j < o; j++) {
            let best = x[p * s * s + 2 * i * s + 2 * j],
              at = 2 * i * s + 2 * j;
            for (let a = 0; a < 2; a++)
              for (let b = 0; b < 2; b++) {
                const idx = (2 * i + a) * s + 2 * j + b,
                  v = x[p * s * s + idx];
                if (v > best) {
                  best = v;
                  at = idx;
                }
              }
            y[(p * o + i) * o + j] = best;
            sw[(p * o + i) * o + j] = at;
          }
    },
  };
}

/** Pool backward, unpool and unpool backward: scatters and gathers through switches. */
function switchCases(n: number, c: number, s: number): NaiveCase[] {
  const o = s / 2,
    planes = n * c,
    tag = `${n}x${c}x${s}x${s}_k2x2_s2`;
  const small = randomFill(new Float32Array(planes * o * o)),
    big = new Float32Array(planes * s * s),
    sw = new Uint32Array(planes * o * o);
  for (let p = 0; p < planes; p++)
    for (let i = 0; i < o; i++) for (let j = 0; j < o; j++) sw[(p * o + i) * o + j] = (2 * i + (j & 1)) * s + 2 * j;
  const work = 4 * (planes * s * s + 2 * planes * o * o);
  const scatter = () => {
    big.fill(0);
    for (let p = 0; p < planes; p++)
      for (let q = 0; q < o * o; q++) big[p * s * s + sw[p * o * o + q]] += small[p * o * o + q];
  };
  return [
    { name: `max_pool2d_backward_${tag}`, work, run: scatter },
    { name: `max_unpool2d_${tag}`, work, run: scatter },
    {
      name: `max_unpool2d_backward_${tag}`,
      work,
      run: () => {
        for (let p = 0; p < planes; p++)
          for (let q = 0; q < o * o; q++) small[p * o * o + q] = big[p * s * s + sw[p * o * o + q]];
      },
    },
  ];
}

export function naiveCases(n: number): NaiveCase[] {
  return [
    gemm(256, 256, 256),
    gemm(20, 576, 25, '_conv1'),
    gemm(50, 64, 500, '_conv2'),
    ...CONV_SHAPES.flatMap((c) => [conv(n, c), convBackwardInput(n, c), convBackwardWeight(n, c)]),
    pool(n, 20, 24),
    ...switchCases(n, 20, 24),
  ];
}
