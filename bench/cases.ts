/**
 * The kernel benchmark cases, shared by every build's run. Names carry the
 * shapes (burn's habit); each case says how much work one call does, so the
 * runner can turn a median time into GFLOP/s or GB/s.
 */
import * as cv from '../ts/index.js';

export interface Case {
  name: string;
  /** Floating-point operations (multiply and add count as 2) or bytes moved, per call. */
  work: number;
  unit: 'GFLOP/s' | 'GB/s';
  run: () => void;
}

export const randomFill = (d: Float32Array, seed = 12345) => {
  let s = seed;
  for (let i = 0; i < d.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    d[i] = s / 2 ** 31 - 1;
  }
  return d;
};

const randomTensor = (be: cv.Backend, shape: number[]) => {
  const t = be.empty(shape);
  randomFill(t.data);
  return t;
};

function gemmCase(be: cv.Backend, m: number, n: number, k: number, label = ''): Case {
  const a = randomTensor(be, [m, k]),
    b = randomTensor(be, [k, n]),
    c = be.empty([m, n]);
  return { name: `gemm_${m}x${n}x${k}${label}`, work: 2 * m * n * k, unit: 'GFLOP/s', run: () => cv.gemm(a, b, c) };
}

/** The paper's CAE layer shapes: [n,cIn,s,s] ⊛ [cOut,cIn,k,k], stride 1, no padding. */
export const CONV_SHAPES = [
  { cIn: 1, s: 28, cOut: 20, k: 5 },
  { cIn: 20, s: 12, cOut: 50, k: 5 },
];

export const convTag = (n: number, c: { cIn: number; s: number; cOut: number; k: number }) =>
  `${n}x${c.cIn}x${c.s}x${c.s}_w${c.cOut}x${c.cIn}x${c.k}x${c.k}`;

export const convFlops = (n: number, c: { cIn: number; s: number; cOut: number; k: number }) =>
  2 * n * c.cOut * (c.s - c.k + 1) ** 2 * c.cIn * c.k * c.k;

/** conv2d forward, input-gradient and weight-gradient on one shape. */
function convCases(be: cv.Backend, n: number, c: (typeof CONV_SHAPES)[number]): Case[] {
  const o = c.s - c.k + 1;
  const tag = convTag(n, c),
    flops = convFlops(n, c);
  const x = randomTensor(be, [n, c.cIn, c.s, c.s]),
    w = randomTensor(be, [c.cOut, c.cIn, c.k, c.k]),
    b = randomTensor(be, [c.cOut]);
  const y = be.empty([n, c.cOut, o, o]),
    dx = be.empty([n, c.cIn, c.s, c.s]),
    dw = be.zeros([c.cOut, c.cIn, c.k, c.k]);
  cv.conv2d(x, w, b, y);
  return [
    { name: `conv2d_${tag}`, work: flops, unit: 'GFLOP/s', run: () => cv.conv2d(x, w, b, y) },
    { name: `conv2d_backward_input_${tag}`, work: flops, unit: 'GFLOP/s', run: () => cv.conv2dBackwardInput(y, w, dx) },
    {
      name: `conv2d_backward_weight_${tag}`,
      work: flops,
      unit: 'GFLOP/s',
      run: () => cv.conv2dBackwardWeight(x, y, dw),
    },
  ];
}

function poolCases(be: cv.Backend, n: number, c: number, s: number): Case[] {
  const o = s / 2;
  const tag = `${n}x${c}x${s}x${s}_k2x2_s2`;
  const x = randomTensor(be, [n, c, s, s]),
    y = be.empty([n, c, o, o]),
    sw = be.empty([n, c, o, o], 'u32');
  const u = be.empty([n, c, s, s]),
    dx = be.empty([n, c, s, s]);
  cv.maxPool2d(x, y, sw);
  // Bytes touched: the full-size map once, the pooled values and switches once each.
  const bytes = 4 * (n * c * s * s + 2 * n * c * o * o);
  return [
    { name: `max_pool2d_${tag}`, work: bytes, unit: 'GB/s', run: () => cv.maxPool2d(x, y, sw) },
    { name: `max_pool2d_backward_${tag}`, work: bytes, unit: 'GB/s', run: () => cv.maxPool2dBackward(y, sw, dx) },
    { name: `max_unpool2d_${tag}`, work: bytes, unit: 'GB/s', run: () => cv.maxUnpool2d(y, sw, u) },
    { name: `max_unpool2d_backward_${tag}`, work: bytes, unit: 'GB/s', run: () => cv.maxUnpool2dBackward(u, sw, y) },
  ];
}

export function batchSize(quick: boolean) {
  return quick ? 8 : 64;
}

/** Every case of one build. Tensors live until the process ends. */
export function makeCases(be: cv.Backend, quick: boolean): Case[] {
  const n = batchSize(quick);
  return [
    gemmCase(be, 256, 256, 256),
    gemmCase(be, 20, 576, 25, '_conv1'),
    gemmCase(be, 50, 64, 500, '_conv2'),
    ...CONV_SHAPES.flatMap((c) => convCases(be, n, c)),
    ...poolCases(be, n, 20, 24),
  ];
}
