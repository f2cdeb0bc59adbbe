/**
 * The page of `npm run bench:browser`: W4 (the CNN's inference, batch 256) in
 * Chromium, where the peers' threads work (cross-origin isolated page), for
 * one configuration per page load — TensorFlow.js wasm or ONNX Runtime Web at
 * 1 or 2 threads, convae on the page's thread or through `Trainer.predict` on
 * 1 and 2 workers. Bundled by bench/browser.ts with esbuild; convae itself is
 * imported from the built package (/dist/index.js), as an app would.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as ort from 'onnxruntime-web';
import { FULL, QUICK, measure } from '../timing.js';
import { W3_BLOCKS, W3_HEAD } from '../workloads/convae-net.js';
import { w4OnnxModel } from '../workloads/onnx.js';
import { BATCH, INPUT_SHAPE, inputs, w4Weights } from '../workloads/spec.js';
import { cnnLogits, cnnVars, nhwc } from '../workloads/tfjs-net.js';

type Convae = typeof import('../../ts/index.js');
export interface PageConfig {
  lib: 'tfjs-wasm' | 'ort' | 'convae' | 'convae-workers';
  threads: number;
  quick: boolean;
  /** TensorFlow.js wasm: make navigator.hardwareConcurrency report this before it starts (see bench/browser.ts). */
  reportCores?: number;
}
export interface PageResult {
  label: string;
  /** images/s per sample; for convae-workers one series per worker count */
  rates: Record<string, number[]>;
  logits: number[];
  threadsRunning?: number;
  build?: string;
}

const batch = BATCH.W4;

async function tfjsWasm(c: PageConfig): Promise<PageResult> {
  if (c.reportCores) Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => c.reportCores });
  setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  setThreadsCount(c.threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialise');
  await tf.ready();
  const v = cnnVars(w4Weights());
  const x = nhwc(inputs('W4').x, batch, INPUT_SHAPE.W4) as tf.Tensor4D;
  const infer = () => cnnLogits(v, x);
  const rates = await measure(batch, infer, c.quick ? QUICK : FULL);
  return {
    label: `TensorFlow.js ${tf.version.tfjs} wasm${c.reportCores ? ` (hardwareConcurrency shown as ${c.reportCores})` : ''}`,
    rates: { [c.threads]: rates },
    logits: [...infer()],
    threadsRunning: getThreadsCount(),
  };
}

async function onnx(c: PageConfig): Promise<PageResult> {
  ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
  ort.env.wasm.numThreads = c.threads;
  const cv = (await import(/* @vite-ignore */ '/dist/index.js' as string)) as Convae;
  const session = await ort.InferenceSession.create(await w4OnnxModel(cv), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const x = new ort.Tensor('float32', inputs('W4').x, [batch, 1, 28, 28]);
  const infer = async () => (await session.run({ x })).logits.data as Float32Array;
  const rates = await measure(batch, infer, c.quick ? QUICK : FULL);
  const logits = [...(await infer())];
  await session.release();
  return {
    label: `ONNX Runtime Web ${ort.env.versions.web ?? ''} wasm`,
    rates: { [c.threads]: rates },
    logits,
    threadsRunning: ort.env.wasm.numThreads,
  };
}

async function convae(c: PageConfig): Promise<PageResult> {
  const cv = (await import(/* @vite-ignore */ '/dist/index.js' as string)) as Convae;
  const be = await cv.loadBackend();
  const clf = cv.Classifier.fromBlocks(be, W3_BLOCKS, INPUT_SHAPE.W4, W3_HEAD, 1);
  const w = w4Weights();
  for (const p of clf.params()) p.value.set(w[p.name]);
  if (c.lib === 'convae') {
    const x = be.fromArray([batch, ...INPUT_SHAPE.W4], inputs('W4').x);
    const rates = await measure(batch, () => clf.logits(x), c.quick ? QUICK : FULL);
    const logits = [...clf.logits(x).data];
    x.dispose();
    clf.dispose();
    return { label: `convae (${be.build} build)`, rates: { 1: rates }, logits, build: be.build };
  }
  // 1 and N workers in turns, as the Node runner does; 8 batches of 256 per sample.
  const steps = c.quick ? 2 : 8,
    rounds = c.quick ? 1 : 6;
  const { x } = inputs('W4', batch * steps);
  const data = cv.ImageDataset.fromFloat32(x, INPUT_SHAPE.W4, new Uint8Array(batch * steps), 10);
  const trainer = await cv.Trainer.create(be, { size: c.threads });
  const counts = [...new Set([1, c.threads])];
  const rates: Record<string, number[]> = Object.fromEntries(counts.map((k) => [k, []]));
  let logits: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    for (const k of counts) {
      const t = performance.now();
      const { logits: y } = await trainer.predict(clf, data, { workers: k, batchSize: batch });
      if (r > 0) rates[k].push(data.length / ((performance.now() - t) / 1000));
      logits = [...y.subarray(0, batch * 10)];
    }
  }
  await trainer.dispose();
  clf.dispose();
  return { label: `convae (${be.build} build) Trainer.predict`, rates, logits, build: be.build };
}

(window as unknown as { runBench: (c: PageConfig) => Promise<PageResult> }).runBench = async (c) => {
  if (!crossOriginIsolated)
    throw new Error('the bench page must be cross-origin isolated (threads need SharedArrayBuffer)');
  return c.lib === 'tfjs-wasm' ? tfjsWasm(c) : c.lib === 'ort' ? onnx(c) : convae(c);
};
(window as unknown as { benchReady: boolean }).benchReady = true;
