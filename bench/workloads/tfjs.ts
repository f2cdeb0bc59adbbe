/**
 * TensorFlow.js's side of `npm run bench`: the same workloads, written as a
 * TensorFlow.js user would, on the `cpu` backend (pure JavaScript; tfjs-node is
 * not used) or the `wasm` backend (XNNPACK, SIMD).
 *   node --import tsx bench/workloads/tfjs.ts --backend=cpu|wasm [--threads=N] [--quick] [--only=W1,W4]
 *
 * Layout: TensorFlow.js convolutions and pooling are NHWC, so inputs are
 * transposed once outside the timed region and weights converted from the
 * PyTorch layouts (OIHW → HWIO; the dense weight's rows permuted to NHWC
 * flatten order), so W4 computes the same function as convae and ORT.
 * Pool with switches + unpool: TensorFlow.js has no max-unpool; unpool(pool(h))
 * is written h ⊙ m with m = (h == nearest-upsample(maxPool(h))) held constant
 * (custom gradient dy ⊙ m) — the same values and gradient as switches (up to ties).
 * Training errors (missing kernels) are caught and reported as "unsupported"
 * with the error's own message.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FULL, QUICK, SLOW_FULL, SLOW_QUICK, measure } from '../timing.js';
import {
  BATCH,
  INPUT_SHAPE,
  LR,
  WORKLOAD_IDS,
  inputs,
  w4Weights,
  type RunnerResult,
  type WorkloadId,
  type WorkloadResult,
} from './spec.js';
import { cnnForward, cnnLogits, cnnVars, glorot, nhwc } from './tfjs-net.js';

const quick = process.argv.includes('--quick');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const backend = arg('backend') ?? 'cpu';
const threads = Number(arg('threads') ?? 1);
const only = (arg('only')?.split(',') ?? WORKLOAD_IDS) as WorkloadId[];
/** TensorFlow.js cpu trains at a few images/s: its training batches may be made smaller (--train-batch=N), which the report states. */
const trainBatch = arg('train-batch') ? Number(arg('train-batch')) : undefined;

let threadNote = '';
if (backend === 'wasm') {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(
    path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + path.sep,
  );
  wasm.setThreadsCount(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialise');
  const got = wasm.getThreadsCount();
  if (got !== threads) {
    threadNote = `${threads} threads: not available in Node — tfjs-backend-wasm reports WASM_HAS_MULTITHREAD_SUPPORT false when IS_NODE (getThreadsCount() = ${got}); forcing the flag fails to start its pthread worker from a blob: URL (ERR_WORKER_PATH)`;
  }
} else {
  await tf.setBackend('cpu');
}
await tf.ready();

/** unpool(maxPool(h)) with the pool's switches, as h ⊙ mask with mask constant. */
const poolUnpool = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const hh = args[0] as tf.Tensor4D,
    save = args[1] as tf.GradSaveFunc;
  const [, H, W] = hh.shape;
  const up = tf.image.resizeNearestNeighbor(tf.maxPool(hh, 2, 2, 'valid'), [H, W]);
  const mask = tf.cast(tf.equal(hh, up), 'float32');
  save([mask]);
  return { value: tf.mul(hh, mask), gradFunc: (dy, saved) => tf.mul(dy, saved[0]) };
});

function cae(id: 'W1' | 'W2', batch: number) {
  const [c, h] = INPUT_SHAPE[id];
  const f = id === 'W1' ? 20 : 50;
  const w = glorot([5, 5, c, f], c * 25, f * 25, 1);
  const b = tf.variable(tf.zeros([f])),
    bd = tf.variable(tf.zeros([c]));
  const x = nhwc(inputs(id, batch).x, batch, INPUT_SHAPE[id]);
  const opt = tf.train.sgd(LR);
  const step = () => {
    const loss = opt.minimize(
      () => {
        const e = tf.tanh(tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Variable<tf.Rank.R4>, 1, 'valid'), b));
        const u = poolUnpool(e) as tf.Tensor4D;
        const y = tf.add(tf.conv2dTranspose(u, w as tf.Variable<tf.Rank.R4>, [batch, h, h, c], 1, 'valid'), bd);
        return tf.div(tf.sum(tf.squaredDifference(y, x)), 2 * x.size) as tf.Scalar; // 1/(2n) Σ over the n elements, as convae's mse_loss
      },
      true,
      [w, b, bd],
    );
    const v = loss!.dataSync()[0];
    loss!.dispose();
    return v;
  };
  return { step, dispose: () => tf.dispose([w, b, bd, x]) };
}

function cnnTrain(batch: number) {
  const v = cnnVars();
  const { x: xs, labels } = inputs('W3', batch);
  const x = nhwc(xs, batch, INPUT_SHAPE.W3) as tf.Tensor4D;
  const onehot = tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), 10);
  const opt = tf.train.sgd(LR);
  const step = () => {
    const loss = opt.minimize(
      () => tf.losses.softmaxCrossEntropy(onehot, cnnForward(v, x)) as tf.Scalar,
      true,
      Object.values(v),
    );
    const r = loss!.dataSync()[0];
    loss!.dispose();
    return r;
  };
  return { step, dispose: () => tf.dispose([...Object.values(v), x, onehot]) };
}

async function run(id: WorkloadId): Promise<WorkloadResult> {
  if (id === 'W4') {
    const batch = BATCH.W4;
    const v = cnnVars(w4Weights());
    const x = nhwc(inputs('W4').x, batch, INPUT_SHAPE.W4) as tf.Tensor4D;
    const infer = () => cnnLogits(v, x);
    const rates = await measure(batch, infer, quick ? QUICK : FULL);
    const logits = [...infer()];
    tf.dispose([...Object.values(v), x]);
    return { workload: id, status: 'ok', batch, imagesPerSecond: rates, logits };
  }
  const batch = trainBatch ?? BATCH[id];
  const job = id === 'W3' ? cnnTrain(batch) : cae(id, batch);
  try {
    job.step(); // the first step shows whether this backend can train at all
  } catch (e) {
    job.dispose();
    return { workload: id, status: 'unsupported', reason: (e as Error).message.split('\n')[0] };
  }
  const slow = backend === 'cpu';
  const rates = await measure(batch, job.step, slow ? (quick ? SLOW_QUICK : SLOW_FULL) : quick ? QUICK : FULL);
  job.dispose();
  return {
    workload: id,
    status: 'ok',
    batch,
    imagesPerSecond: rates,
    note: batch !== BATCH[id] ? `batch ${batch} (of ${BATCH[id]})` : undefined,
  };
}

const rows: WorkloadResult[] = [];
// Under Node, tfjs-backend-wasm runs 1 thread whatever is asked: report the thread count that cannot run as such, not a 1-thread number.
for (const id of only)
  rows.push(threadNote ? { workload: id, status: 'unsupported', reason: threadNote } : await run(id));
const result: RunnerResult = {
  key: backend === 'wasm' ? `tfjs-wasm-${threads}` : 'tfjs-cpu',
  library: 'TensorFlow.js',
  version: tf.version.tfjs,
  config:
    backend === 'wasm'
      ? `wasm backend (XNNPACK, SIMD), ${threads} thread${threads > 1 ? 's' : ''}`
      : 'cpu backend (JavaScript)',
  threads,
  rows,
};
console.log(JSON.stringify([result]));
