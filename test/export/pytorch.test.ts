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
import { exportPyTorch, importPyTorch } from '../../ts/export/index.js';
import { backendUnderTest } from '../util/backend.js';
import { classifier, close, convaeOutputs, maxDiff, mnistTest, normalisations, stack } from './models.js';
import { PYTHON, runPython } from './python.js';

const be = await backendUnderTest();
const models: { dispose(): void }[] = [];
afterAll(() => models.forEach((m) => m.dispose()));
const N = 64;
const images = await mnistTest(N);

function writeExport(model: cv.Classifier | cv.StackedConvAutoencoder, training?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'convae-export-'));
  const { files } = exportPyTorch(model, JSON.stringify(cv.modelJson(model, training)));
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

describe.skipIf(!PYTHON)(
  'export to PyTorch of a model trained on normalised images: raw pixels in, convae outputs out',
  () => {
    const norms = normalisations(images);
    for (const kind of ['classifier', 'stack'] as const)
      for (const normalize of ['contrast', 'whiten'] as const)
        it(`${kind}, ${normalize}: raw MNIST pixels give convae's outputs on its own normalisation of them`, () => {
          const m = kind === 'classifier' ? classifier(be) : stack(be);
          models.push(m);
          const { training, input } = norms[normalize];
          const ours = convaeOutputs(be, m, input);
          const raw = convaeOutputs(be, m, images);
          const theirs = torchOutputs(writeExport(m, training));
          const keys = kind === 'classifier' ? ['logits', 'codes'] : ['codes', 'recon0', 'recon1'];
          expect(Object.keys(theirs).sort()).toEqual([...keys].sort());
          for (const k of keys) {
            // Unless the module normalises, raw pixels give other outputs: the comparison below could not pass.
            expect(maxDiff(raw[k], ours[k]).abs, `${k} of raw pixels`).toBeGreaterThan(1e-2);
            const d = maxDiff(theirs[k], ours[k]);
            console.log(
              `convae → PyTorch ${kind} (${normalize}) ${k} of raw pixels: max abs diff ${d.abs.toExponential(2)} (scale ${d.scale.toFixed(3)})`,
            );
            expect(close(d), `${k}: ${d.abs}`).toBe(true);
          }
        });
  },
);

describe('exportPyTorch of a whitened model: the kernel is buffer normalize.kernel, and import skips it', () => {
  it('model.safetensors holds the kernel; importPyTorch reads the export back with the same weights', () => {
    const m = classifier(be);
    models.push(m);
    const { training } = normalisations(images.subarray(0, 8 * 784)).whiten;
    const json = JSON.stringify(cv.modelJson(m, training));
    const { files } = exportPyTorch(m, json);
    const tensors = cv.decodeSafetensors(files['model.safetensors'] as Uint8Array, 'x').tensors;
    const kernel = (training.whitening as { kernel: number[] }).kernel;
    expect(tensors['normalize.kernel'].shape).toEqual([1, 1, 5, 5]);
    expect(Array.from(tensors['normalize.kernel'].data)).toEqual(Array.from(Float32Array.from(kernel)));
    expect(files['model.py']).toContain('self.register_buffer("kernel", torch.zeros(1, 1, 5, 5))');
    expect(files['model.py']).toContain('F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), self.kernel)');
    const back = importPyTorch(be, json, files['model.safetensors'] as Uint8Array);
    models.push(back.model);
    expect(back.model.params().map((p) => [p.name, p.value.toArray()])).toEqual(
      m.params().map((p) => [p.name, p.value.toArray()]),
    );
    // Without the whitening in the architecture, the imported model would be fed unwhitened images.
    expect(() => importPyTorch(be, JSON.stringify(cv.modelJson(m)), files['model.safetensors'] as Uint8Array)).toThrow(
      /'normalize\.kernel' is an export's whitening, but the architecture's training\.normalize is not 'whiten'/,
    );
  });
});
