/**
 * convae → PyTorch: the exported model.py, loaded with the exported weights by
 * `load_state_dict` (strict), gives convae's logits, codes and reconstructions
 * on real MNIST test images within 1e-5 relative (max abs difference printed).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { exportPyTorch } from '../../ts/export/index.js';
import { backendUnderTest } from '../util/backend.js';
import { classifier, close, convaeOutputs, maxDiff, mnistTest, stack } from './models.js';
import { PYTHON, runPython } from './python.js';

const be = await backendUnderTest();
const models: { dispose(): void }[] = [];
afterAll(() => models.forEach((m) => m.dispose()));
const N = 64;
const images = await mnistTest(N);

function writeExport(model: cv.Classifier | cv.StackedConvAutoencoder): string {
  const dir = mkdtempSync(join(tmpdir(), 'convae-export-'));
  const { files } = exportPyTorch(model, JSON.stringify(cv.modelJson(model)));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  writeFileSync(
    join(dir, 'input.safetensors'),
    cv.encodeSafetensors({ x: { dtype: 'F32', shape: [N, 1, 28, 28], data: images } }),
  );
  return dir;
}

function torchOutputs(dir: string, weights = join(dir, 'model.safetensors')): Record<string, Float32Array> {
  runPython([
    join(import.meta.dirname, 'torch_run.py'),
    dir,
    weights,
    join(dir, 'input.safetensors'),
    join(dir, 'out.safetensors'),
  ]);
  const file = cv.decodeSafetensors(readFileSync(join(dir, 'out.safetensors')), 'torch outputs');
  return Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [k, t.data as Float32Array]));
}

describe.skipIf(!PYTHON)('export to PyTorch: same outputs as convae on MNIST test images', () => {
  it(`classifier (tanh 5×5 pool, relu 3×3 pad 1 pool, dropout 0.5, leaky dense 32): logits and codes of ${N} images`, () => {
    const m = classifier(be);
    models.push(m);
    const ours = convaeOutputs(be, m, images);
    const theirs = torchOutputs(writeExport(m));
    for (const k of ['logits', 'codes']) {
      const d = maxDiff(ours[k], theirs[k]);
      console.log(
        `convae → PyTorch classifier ${k}: max abs diff ${d.abs.toExponential(2)} (scale ${d.scale.toFixed(3)})`,
      );
      expect(close(d), `${k}: ${d.abs}`).toBe(true);
    }
    // Not trivially equal: the logits differ between images.
    expect(maxDiff(ours.logits.subarray(0, 10), ours.logits.subarray(10, 20)).abs).toBeGreaterThan(1e-3);
  });

  it(`stack (block 0 tied + pool, block 1 untied, strided, no pool): codes and both reconstructions of ${N} images`, () => {
    const m = stack(be);
    models.push(m);
    const ours = convaeOutputs(be, m, images);
    const theirs = torchOutputs(writeExport(m));
    expect(Object.keys(theirs).sort()).toEqual(['codes', 'recon0', 'recon1']);
    for (const k of ['codes', 'recon0', 'recon1']) {
      const d = maxDiff(ours[k], theirs[k]);
      console.log(`convae → PyTorch stack ${k}: max abs diff ${d.abs.toExponential(2)} (scale ${d.scale.toFixed(3)})`);
      expect(close(d), `${k}: ${d.abs}`).toBe(true);
    }
  });

  it('model.py of a tied block shares the conv weight (no weight tensor of its own for the deconv)', () => {
    const m = stack(be, 9);
    models.push(m);
    const { files } = exportPyTorch(m, '{}');
    const py = files['model.py'] as string;
    expect(py).toContain('F.conv_transpose2d(h, self.conv0.weight, self.deconv0.bias');
    expect(py).toContain(
      'nn.ConvTranspose2d(6, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), output_padding=(0, 0))',
    );
    expect(py).toContain(
      'nn.ConvTranspose2d(5, 6, kernel_size=(3, 3), stride=(2, 2), padding=(0, 0), output_padding=(1, 1))',
    );
    const names = Object.keys(cv.decodeSafetensors(files['model.safetensors'] as Uint8Array, 'x').tensors).sort();
    expect(names).toContain('block0.deconv0.bias');
    expect(names).not.toContain('block0.deconv0.weight');
    expect(names).toContain('block1.deconv1.weight');
  });
});
