/**
 * FLOPs per image of the workloads of `npm run bench`, counted in this one place.
 *
 * Convention (stated in bench/RESULTS.md):
 * - A convolution's forward is 2·Cout·Hout·Wout·Cin·K² per image (multiply and
 *   add count as 2); a transposed convolution counts as the convolution it is
 *   the transpose of (2·Cin·Hin·Win·Cout·K², Hin×Win its input); a dense layer
 *   is 2·in·out.
 * - Training counts 3× the forward for every conv / transposed conv / dense
 *   layer (forward, input gradient, weight gradient), except the first layer of
 *   a network, whose input gradient is not computed: 2×.
 * - Bias, activations, pooling, unpooling, losses and the optimizer are not counted.
 */
import { convOut, poolOut } from '../ts/shape.js';

export const convFlops = (cIn: number, cOut: number, hOut: number, wOut: number, k: number) =>
  2 * cOut * hOut * wOut * cIn * k * k;

/** The library's own shape math (square inputs, stride 1, no padding; 2×2 pooling). */
const size = (v: number | string) => {
  if (typeof v === 'string') throw new Error(`bench/flops.ts: ${v}`);
  return v;
};
const h1 = size(convOut(28, 5, 1, 0)),
  p1 = size(poolOut(h1, 2, 2));
const h2 = size(convOut(p1, 5, 1, 0)),
  p2 = size(poolOut(h2, 2, 2));
const conv1 = convFlops(1, 20, h1, h1, 5);
const conv2 = convFlops(20, 50, h2, h2, 5);
const dense1 = 2 * 50 * p2 * p2 * 500;
const dense2 = 2 * 500 * 10;

/** Per image. */
export const FLOPS = {
  // conv 1→20 (first layer: 2×) + tied transposed conv 20→1 (3×)
  W1: 2 * conv1 + 3 * conv1,
  // conv 20→50 (first layer of this network: 2×) + tied transposed conv 50→20 (3×)
  W2: 2 * conv2 + 3 * conv2,
  // conv1 (2×) + conv2, dense 800→500, dense 500→10 (3× each)
  W3: 2 * conv1 + 3 * (conv2 + dense1 + dense2),
  // forward only
  W4: conv1 + conv2 + dense1 + dense2,
} as const;

export const FLOP_CONVENTION =
  'forward conv 2·N·Cout·Hout·Wout·Cin·K² (a transposed conv counts as the conv it transposes), dense 2·N·in·out; ' +
  'training = 3× forward per conv/dense layer (forward, input gradient, weight gradient), 2× for the first layer (no input gradient); ' +
  'bias, activations, pooling, unpooling, loss and optimizer not counted. ' +
  `Per image: W1 ${(FLOPS.W1 / 1e6).toFixed(2)} MFLOP, W2 ${(FLOPS.W2 / 1e6).toFixed(2)}, W3 ${(FLOPS.W3 / 1e6).toFixed(2)}, W4 ${(FLOPS.W4 / 1e6).toFixed(2)}.`;
