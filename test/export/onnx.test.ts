/**
 * convae → ONNX: the exported classifier (logits) and encoders (codes), run by
 * onnxruntime-web in Node (and Python's onnxruntime when installed), give
 * convae's outputs on MNIST test images within 1e-5, for two batch sizes from
 * one file (the batch dimension is dynamic).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { exportOnnx } from '../../ts/export/index.js';
import { backendUnderTest } from '../util/backend.js';
import { classifier, close, convaeOutputs, maxDiff, mnistTest, normalisations, stack } from './models.js';
import { runOrt } from './ort.js';
import { PYTHON_ORT, runPython } from './python.js';

const be = await backendUnderTest();
const images = await mnistTest(32);
const models: { dispose(): void }[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

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
    const y = runPythonOrt((await exportOnnx(m))['model.onnx'], images);
    const d = maxDiff(y, convaeOutputs(be, m, images).logits);
    console.log(`convae → ONNX (Python onnxruntime) classifier logits: max abs diff ${d.abs.toExponential(2)}`);
    expect(close(d)).toBe(true);
  });
});

/** Output `y` of Python's onnxruntime on a batch of 28×28 images (written to and read from safetensors). */
function runPythonOrt(onnx: Uint8Array, x: Float32Array): Float32Array {
  const dir = mkdtempSync(join(tmpdir(), 'convae-onnx-'));
  writeFileSync(join(dir, 'model.onnx'), onnx);
  writeFileSync(
    join(dir, 'input.safetensors'),
    cv.encodeSafetensors({ x: { dtype: 'F32', shape: [x.length / 784, 1, 28, 28], data: x } }),
  );
  runPython([
    join(import.meta.dirname, 'ort_run.py'),
    join(dir, 'model.onnx'),
    join(dir, 'input.safetensors'),
    join(dir, 'y.safetensors'),
  ]);
  return cv.decodeSafetensors(readFileSync(join(dir, 'y.safetensors')), 'y').tensors.y.data as Float32Array;
}

describe('export to ONNX of a model trained on normalised images: raw pixels in, convae outputs out', () => {
  const norms = normalisations(images);
  for (const kind of ['classifier', 'stack'] as const)
    for (const normalize of ['contrast', 'whiten'] as const)
      it(`${kind}, ${normalize}: raw MNIST pixels give convae's outputs on its own normalisation of them`, async () => {
        const m = kind === 'classifier' ? classifier(be) : stack(be);
        models.push(m);
        const { training, input } = norms[normalize];
        const files = await exportOnnx(m, cv.saveModel(m, training).json);
        const ours = convaeOutputs(be, m, input);
        // Unless the graph normalises, raw pixels give other outputs: the comparison below could not pass.
        const raw = convaeOutputs(be, m, images);
        const checks: [string, string][] = [['encoder.onnx', 'codes']];
        if (kind === 'classifier') checks.push(['model.onnx', 'logits']);
        for (const [file, output] of checks) {
          expect(maxDiff(raw[output], ours[output]).abs, `${output} of raw pixels`).toBeGreaterThan(1e-2);
          const d = maxDiff(await runOrt(files[file], images, 32, output), ours[output]);
          console.log(
            `convae → ONNX ${kind} (${normalize}) ${output} of raw pixels: max abs diff ${d.abs.toExponential(2)} (scale ${d.scale.toFixed(3)})`,
          );
          expect(close(d), `${output}: ${d.abs}`).toBe(true);
        }
      });

  // Python's onnxruntime is another build of the runtime (its own Pad and Conv kernels): the normalising steps must
  // hold there too, not only in onnxruntime-web.
  for (const normalize of ['contrast', 'whiten'] as const)
    it.skipIf(!PYTHON_ORT)(
      `classifier, ${normalize}: raw pixels give convae's logits with Python's onnxruntime`,
      async () => {
        const m = classifier(be);
        models.push(m);
        const { training, input } = norms[normalize];
        const y = runPythonOrt((await exportOnnx(m, cv.saveModel(m, training).json))['model.onnx'], images);
        const ours = convaeOutputs(be, m, input).logits;
        expect(maxDiff(convaeOutputs(be, m, images).logits, ours).abs, 'logits of raw pixels').toBeGreaterThan(1e-2);
        const d = maxDiff(y, ours);
        console.log(
          `convae → ONNX (Python onnxruntime) classifier (${normalize}) logits of raw pixels: max abs diff ${d.abs.toExponential(2)}`,
        );
        expect(close(d), `logits: ${d.abs}`).toBe(true);
      },
    );

  it("a model without normalisation: the same bytes with its JSON ('none' or no record) as without", async () => {
    const m = classifier(be);
    models.push(m);
    const bare = await exportOnnx(m);
    for (const training of [undefined, { normalize: 'none' }]) {
      const files = await exportOnnx(m, cv.saveModel(m, training).json);
      for (const name of ['model.onnx', 'encoder.onnx'])
        expect(Buffer.from(files[name]).equals(Buffer.from(bare[name]))).toBe(true);
    }
  });

  it('a whitening of other channels than the model takes, or an unknown normalize, is refused', async () => {
    const m = classifier(be);
    models.push(m);
    const w = { channels: 3, window: 1, eps: 1, kernel: Array.from({ length: 9 }, () => 0) };
    await expect(exportOnnx(m, cv.saveModel(m, { normalize: 'whiten', whitening: w }).json)).rejects.toThrow(
      /^exportOnnx: training\.whitening of modelJsonText whitens 3-channel images, the model takes 1$/,
    );
    await expect(exportOnnx(m, cv.saveModel(m, { normalize: 'zca' }).json)).rejects.toThrow(
      /training\.normalize must be 'none', 'contrast' or 'whiten', got "zca"/,
    );
    await expect(exportOnnx(m, 'not json')).rejects.toThrow(/^exportOnnx: modelJsonText must be the model's JSON text/);
  });
});
