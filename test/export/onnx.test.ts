/**
 * convae → ONNX: the exported classifier (logits) and encoders (codes), run by
 * onnxruntime-web in Node (and Python's onnxruntime when installed), give
 * convae's outputs on MNIST test images within 1e-5, for two batch sizes from
 * one file (the batch dimension is dynamic).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { exportOnnx } from '../../ts/export/index.js';
import { backendUnderTest } from '../util/backend.js';
import { classifier, close, convaeOutputs, maxDiff, mnistTest, stack } from './models.js';
import { PYTHON_ORT, runPython } from './python.js';

ort.env.wasm.numThreads = 1;
const be = await backendUnderTest();
const images = await mnistTest(32);
const models: { dispose(): void }[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

async function runOrt(file: Uint8Array, x: Float32Array, n: number, output: string): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(file, { executionProviders: ['wasm'] });
  try {
    const out = await s.run({ x: new ort.Tensor('float32', x, [n, 1, 28, 28]) });
    return out[output].data as Float32Array;
  } finally {
    await s.release();
  }
}

describe('export to ONNX: onnxruntime-web gives convae outputs', () => {
  for (const kind of ['classifier', 'stack'] as const) {
    it(`${kind}: ${kind === 'classifier' ? 'logits and codes' : 'codes'}, batches of 32 and 5 from one file`, async () => {
      const m = kind === 'classifier' ? classifier(be) : stack(be);
      models.push(m);
      const files = await exportOnnx(m);
      expect(Object.keys(files).sort()).toEqual(
        kind === 'classifier' ? ['encoder.onnx', 'model.onnx'] : ['encoder.onnx'],
      );
      for (const n of [32, 5]) {
        const x = images.slice(0, n * 784);
        const ours = convaeOutputs(be, m, x);
        const checks: [string, string, string][] =
          kind === 'classifier'
            ? [
                ['model.onnx', 'logits', 'logits'],
                ['encoder.onnx', 'codes', 'codes'],
              ]
            : [['encoder.onnx', 'codes', 'codes']];
        for (const [file, output, key] of checks) {
          const d = maxDiff(await runOrt(files[file], x, n, output), ours[key]);
          console.log(
            `convae → ONNX (onnxruntime-web) ${kind} ${output}, batch ${n}: max abs diff ${d.abs.toExponential(2)}`,
          );
          expect(close(d), `${output}: ${d.abs}`).toBe(true);
        }
      }
    });
  }

  it.skipIf(!PYTHON_ORT)("classifier logits with Python's onnxruntime", async () => {
    const m = classifier(be);
    models.push(m);
    const dir = mkdtempSync(join(tmpdir(), 'convae-onnx-'));
    writeFileSync(join(dir, 'model.onnx'), (await exportOnnx(m))['model.onnx']);
    writeFileSync(
      join(dir, 'input.safetensors'),
      cv.encodeSafetensors({ x: { dtype: 'F32', shape: [32, 1, 28, 28], data: images } }),
    );
    runPython([
      join(import.meta.dirname, 'ort_run.py'),
      join(dir, 'model.onnx'),
      join(dir, 'input.safetensors'),
      join(dir, 'y.safetensors'),
    ]);
    const y = cv.decodeSafetensors(readFileSync(join(dir, 'y.safetensors')), 'y').tensors.y.data as Float32Array;
    const d = maxDiff(y, convaeOutputs(be, m, images).logits);
    console.log(`convae → ONNX (Python onnxruntime) classifier logits: max abs diff ${d.abs.toExponential(2)}`);
    expect(close(d)).toBe(true);
  });
});
