/**
 * The benchmark's peers compute the same network as convae: W4 (the CNN of
 * `npm run bench`) on the same weights and inputs gives the same logits in
 * convae, TensorFlow.js (cpu backend, an independent JavaScript reference) and
 * ONNX Runtime Web (wasm, from the ONNX model bench/workloads/onnx.ts builds),
 * and PyTorch (bench/workloads/torch.py, which makes its inputs and weights with
 * its own copy of spec.ts's generator). 16 images instead of 256 keep it fast.
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as cv from '../ts/index.js';
import { W3_BLOCKS, W3_HEAD } from '../bench/workloads/convae-net.js';
import { w4OnnxModel } from '../bench/workloads/onnx.js';
import { inputs, w4Weights } from '../bench/workloads/spec.js';
import { cnnForward, cnnVars, nhwc } from '../bench/workloads/tfjs-net.js';
import { mergeRounds, type Run } from '../bench/report.js';
import type { RunnerResult } from '../bench/workloads/spec.js';
import { PYTHON, runPython } from './export/python.js';
import { backendUnderTest } from './util/backend.js';

const N = 16;
const be = await backendUnderTest();
const weights = w4Weights();
const { x } = inputs('W4', N);

const clf = cv.Classifier.fromBlocks(be, W3_BLOCKS, [1, 28, 28], W3_HEAD, 1);
for (const p of clf.params()) p.value.set(weights[p.name]);
const xt = be.fromArray([N, 1, 28, 28], x);
const ours = clf.logits(xt).toArray();
afterAll(() => {
  xt.dispose();
  clf.dispose();
});

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

describe('bench W4: the peers compute the same network', () => {
  it(`x=[${N},1,28,28] W4 weights: logits are not trivial`, () => {
    expect(ours.length).toBe(N * 10);
    expect(Math.max(...ours.map(Math.abs))).toBeGreaterThan(0.05);
    // Different images give different logits (the check below compares something that depends on the input).
    expect(maxAbsDiff(ours.subarray(0, 10), ours.subarray(10, 20))).toBeGreaterThan(1e-3);
  });

  it(`x=[${N},1,28,28]: TensorFlow.js cpu (NHWC, converted weights) agrees within 1e-5`, async () => {
    await tf.setBackend('cpu');
    const v = cnnVars(weights);
    const xs = nhwc(x, N, [1, 28, 28]) as tf.Tensor4D;
    const y = tf.tidy(() => cnnForward(v, xs));
    const theirs = y.dataSync();
    tf.dispose([y, xs, ...Object.values(v)]);
    expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-5);
  });

  it(`x=[${N},1,28,28]: ONNX Runtime Web (wasm, 1 thread) on the ONNX model of exportOnnx agrees within 1e-5`, async () => {
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(await w4OnnxModel(cv), { executionProviders: ['wasm'] });
    const out = await session.run({ x: new ort.Tensor('float32', x, [N, 1, 28, 28]) });
    await session.release();
    expect(maxAbsDiff(ours, out.logits.data as Float32Array)).toBeLessThan(1e-5);
  });
});

describe('bench: PyTorch runner', () => {
  it.skipIf(!PYTHON)(
    `x=[${N},1,28,28]: bench/workloads/torch.py's W4 (its own inputs and weights from the spec's generator) agrees within 1e-5`,
    () => {
      const script = fileURLToPath(new URL('../bench/workloads/torch.py', import.meta.url));
      const out = runPython([script, '--quick', '--threads=1', '--only=W4'], { timeout: 300_000 });
      const [res] = JSON.parse(out.trim().split('\n').pop()!) as RunnerResult[];
      const row = res.rows[0];
      expect(res.library).toMatch(/^PyTorch \d+\.\d+$/);
      expect(row.status).toBe('ok');
      if (row.status !== 'ok') return;
      expect(row.imagesPerSecond.length).toBeGreaterThanOrEqual(2);
      // The first N of its 256 images are this test's N (the generator's prefix).
      expect(maxAbsDiff(ours, row.logits!.slice(0, N * 10))).toBeLessThan(1e-5);
    },
  );

  it('rounds of one configuration pool their samples; rows only one round has are kept', () => {
    const res = (rates: number[], workers: boolean): RunnerResult[] => [
      {
        key: 'convae',
        library: 'convae',
        version: '0',
        config: 'c',
        threads: 1,
        rows: [{ workload: 'W1', status: 'ok', batch: 64, imagesPerSecond: rates }],
      },
      ...(workers
        ? [
            {
              key: 'convae-workers-2',
              library: 'convae',
              version: '0',
              config: 'w',
              threads: 2,
              rows: [{ workload: 'W1' as const, status: 'ok' as const, batch: 64, imagesPerSecond: [9] }],
            },
          ]
        : []),
    ];
    const runs: Run[] = [
      { label: 'convae', script: 's', args: [], results: res([1, 2], true) },
      { label: 'torch', script: 't', args: [], error: 'boom' },
      { label: 'convae', script: 's', args: [], results: res([3], false) },
      { label: 'torch', script: 't', args: [] },
    ];
    const merged = mergeRounds(runs);
    expect(merged.map((r) => r.label)).toEqual(['convae', 'torch']);
    const rows = merged[0].results!.map((c) => [c.key, c.rows[0].status === 'ok' && c.rows[0].imagesPerSecond]);
    expect(rows).toEqual([
      ['convae', [1, 2, 3]],
      ['convae-workers-2', [9]],
    ]);
    expect(merged[1].error).toBe('boom');
    // The input runs are not changed.
    expect(runs[0].results![0].rows[0]).toMatchObject({ imagesPerSecond: [1, 2] });
  });
});
