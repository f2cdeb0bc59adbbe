/**
 * The workloads of `npm run bench` (issue 5), shared by every library's runner:
 * shapes, batch sizes, deterministic inputs and the W4 network's weights, so
 * all peers compute the same thing on the same numbers. Layouts are PyTorch's
 * (NCHW, conv weight OIHW, dense weight [out, in]); a runner that wants another
 * layout converts once, outside the timed region.
 */
export type WorkloadId = 'W1' | 'W2' | 'W3' | 'W4';
export const WORKLOAD_IDS: readonly WorkloadId[] = ['W1', 'W2', 'W3', 'W4'];

export const DESCRIPTIONS: Record<WorkloadId, string> = {
  W1: 'CAE layer 1 train step: [64,1,28,28] → conv 5×5 1→20 +bias → tanh → max-pool 2×2 (switches) → unpool → tied transposed conv 20→1 +bias → MSE → backward → SGD',
  W2: 'CAE layer 2 train step: [64,20,12,12] → conv 5×5 20→50 +bias → tanh → max-pool 2×2 (switches) → unpool → tied transposed conv 50→20 +bias → MSE → backward → SGD',
  W3: 'CNN fine-tune step: [64,1,28,28] → conv 20 5×5 + tanh + pool 2 → conv 50 5×5 + tanh + pool 2 → flatten 800 → dense 500 relu → dense 10 → softmax CE → backward → SGD',
  W4: 'inference: the W3 network forward (logits), batch 256',
};

export const BATCH: Record<WorkloadId, number> = { W1: 64, W2: 64, W3: 64, W4: 256 };
export const INPUT_SHAPE: Record<WorkloadId, [number, number, number]> = {
  W1: [1, 28, 28],
  W2: [20, 12, 12],
  W3: [1, 28, 28],
  W4: [1, 28, 28],
};
export const LR = 0.01;

/** A deterministic LCG in [lo, hi) (the same numbers in every process). */
export function fillUniform(d: Float32Array, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  for (let i = 0; i < d.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    d[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return d;
}

/** Inputs of a workload: W1/W3/W4 images in [0,1), W2 codes in (−1,1) (tanh then pool), labels 0..9. */
export function inputs(id: WorkloadId, batch = BATCH[id]): { x: Float32Array; labels: Uint32Array } {
  const [c, h, w] = INPUT_SHAPE[id];
  const x = fillUniform(new Float32Array(batch * c * h * w), 7 + id.charCodeAt(1), id === 'W2' ? -1 : 0, 1);
  const labels = new Uint32Array(batch);
  for (let i = 0; i < batch; i++) labels[i] = (i * 7 + 3) % 10;
  return { x, labels };
}

/** The W4 (= W3) network's parameters, PyTorch names and layouts, Glorot-uniform-like scales. */
export const W4_PARAMS: { name: string; shape: number[]; fanIn: number; fanOut: number }[] = [
  { name: 'block0.conv0.weight', shape: [20, 1, 5, 5], fanIn: 25, fanOut: 500 },
  { name: 'block0.conv0.bias', shape: [20], fanIn: 25, fanOut: 500 },
  { name: 'block1.conv0.weight', shape: [50, 20, 5, 5], fanIn: 500, fanOut: 1250 },
  { name: 'block1.conv0.bias', shape: [50], fanIn: 500, fanOut: 1250 },
  { name: 'dense0.weight', shape: [500, 800], fanIn: 800, fanOut: 500 },
  { name: 'dense0.bias', shape: [500], fanIn: 800, fanOut: 500 },
  { name: 'logits.weight', shape: [10, 500], fanIn: 500, fanOut: 10 },
  { name: 'logits.bias', shape: [10], fanIn: 500, fanOut: 10 },
];

export function w4Weights(): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [i, p] of W4_PARAMS.entries()) {
    const limit = Math.sqrt(6 / (p.fanIn + p.fanOut)) * (p.name.endsWith('bias') ? 0.1 : 1);
    out[p.name] = fillUniform(new Float32Array(p.shape.reduce((a, b) => a * b, 1)), 1000 + i, -limit, limit);
  }
  return out;
}

/** What a runner prints as the last line of its output (JSON). */
export interface RunnerResult {
  /** Names the configuration: 'convae', 'convae-workers-N', 'tfjs-cpu', 'tfjs-wasm-N', 'ort-N'. */
  key: string;
  library: string;
  version: string;
  /** e.g. 'relaxed build', 'cpu backend', 'wasm backend, 1 thread' */
  config: string;
  threads: number;
  rows: WorkloadResult[];
}

export type WorkloadResult =
  | { workload: WorkloadId; status: 'ok'; batch: number; imagesPerSecond: number[]; note?: string; logits?: number[] }
  | { workload: WorkloadId; status: 'unsupported'; reason: string }
  | { workload: WorkloadId; status: 'skipped'; reason: string };
