/**
 * ONNX Runtime Web's side of `npm run bench`: W4 only (ORT Web runs inference;
 * W1–W3 need training, which onnxruntime-web's inference package does not do),
 * on its wasm execution provider with `--threads=N` (ort.env.wasm.numThreads,
 * which must be set before the first session: one process per thread count).
 *   node --import tsx bench/workloads/ort.ts --threads=1|2 [--quick]
 */
import * as ort from 'onnxruntime-web';
import { FULL, QUICK, measure } from '../timing.js';
import { BATCH, inputs, type RunnerResult, type WorkloadResult } from './spec.js';
import * as cv from '../../ts/index.js';
import { w4OnnxModel } from './onnx.js';

const quick = process.argv.includes('--quick');
const threads = Number(process.argv.find((a) => a.startsWith('--threads='))?.slice(10) ?? 1);
ort.env.wasm.numThreads = threads;
ort.env.wasm.simd = true;

const batch = BATCH.W4;
const session = await ort.InferenceSession.create(await w4OnnxModel(cv), {
  executionProviders: ['wasm'],
  graphOptimizationLevel: 'all',
});
const x = new ort.Tensor('float32', inputs('W4').x, [batch, 1, 28, 28]);
const infer = async () => {
  const out = await session.run({ x });
  return out.logits.data as Float32Array;
};
const rates = await measure(batch, infer, quick ? QUICK : FULL);
const logits = [...(await infer())];
await session.release();

const version = ort.env.versions.web ?? 'unknown';
const na = (workload: 'W1' | 'W2' | 'W3'): WorkloadResult => ({
  workload,
  status: 'unsupported',
  reason: 'onnxruntime-web 1.30 has no training API (inference sessions only; no TrainingSession export)',
});
const result: RunnerResult = {
  key: `ort-${threads}`,
  library: 'ONNX Runtime Web',
  version,
  config: `wasm EP, ${threads} thread${threads > 1 ? 's' : ''}`,
  threads,
  // W1–W3 are listed (unsupported) once, with the 1-thread configuration.
  rows: [
    ...(threads === 1 ? [na('W1'), na('W2'), na('W3')] : []),
    { workload: 'W4', status: 'ok', batch, imagesPerSecond: rates, logits },
  ],
};
console.log(JSON.stringify([result]));
// ORT's thread pool (worker_threads) would keep Node alive.
process.exit(0);
