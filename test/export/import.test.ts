/**
 * PyTorch → convae: state dicts made by torch (PyTorch's own initialisation of
 * the exported module; a hand-built nn.Sequential with numeric names) imported
 * into convae give torch's outputs on MNIST test images; wrong names, shapes
 * and dtypes are FormatErrors naming the tensor, and leave nothing allocated.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { exportPyTorch, importPyTorch } from '../../ts/export/index.js';
import { backendUnderTest } from '../util/backend.js';
import {
  CLASSIFIER_BLOCKS,
  CLASSIFIER_HEAD,
  classifier,
  close,
  convaeOutputs,
  maxDiff,
  mnistTest,
  stack,
} from './models.js';
import { PYTHON, runPython } from './python.js';

const be = await backendUnderTest();
const N = 32;
const images = await mnistTest(N);
const here = import.meta.dirname;
const f32 = (shape: number[], data: Float32Array = new Float32Array(shape.reduce((a, b) => a * b, 1))) =>
  ({ dtype: 'F32', shape, data }) as const;

function exportDir(model: cv.Classifier | cv.StackedConvAutoencoder): { dir: string; json: string } {
  const dir = mkdtempSync(join(tmpdir(), 'convae-import-'));
  const json = JSON.stringify(cv.modelJson(model));
  for (const [name, data] of Object.entries(exportPyTorch(model, json).files)) writeFileSync(join(dir, name), data);
  writeFileSync(join(dir, 'input.safetensors'), cv.encodeSafetensors({ x: f32([N, 1, 28, 28], images) }));
  return { dir, json };
}

const readOut = (path: string) =>
  Object.fromEntries(
    Object.entries(cv.decodeSafetensors(readFileSync(path), path).tensors).map(([k, t]) => [k, t.data as Float32Array]),
  );

describe.skipIf(!PYTHON)('import from PyTorch: state dicts made by torch', () => {
  for (const kind of ['classifier', 'stack'] as const) {
    it(`${kind}: torch's initialisation of the exported module, imported, gives torch's outputs`, () => {
      const src = kind === 'classifier' ? classifier(be) : stack(be);
      const { dir, json } = exportDir(src);
      src.dispose();
      const state = join(dir, 'torch.safetensors');
      runPython([join(here, 'torch_state.py'), 'exported', dir, state]);
      runPython([join(here, 'torch_run.py'), dir, state, join(dir, 'input.safetensors'), join(dir, 'out.safetensors')]);
      const theirs = readOut(join(dir, 'out.safetensors'));
      const { model, naming } = importPyTorch(be, json, readFileSync(state), state);
      expect(naming).toBe('exported');
      const ours = convaeOutputs(be, model, images);
      model.dispose();
      for (const k of Object.keys(theirs)) {
        const d = maxDiff(ours[k], theirs[k]);
        console.log(
          `PyTorch → convae ${kind} ${k}: max abs diff ${d.abs.toExponential(2)} (scale ${d.scale.toFixed(3)})`,
        );
        expect(close(d), `${k}: ${d.abs}`).toBe(true);
      }
    });
  }

  it('classifier from a hand-built nn.Sequential (numeric names 0, 3, 8, 11): same logits', () => {
    const src = classifier(be);
    const { dir, json } = exportDir(src);
    src.dispose();
    const state = join(dir, 'seq.safetensors');
    runPython([
      join(here, 'torch_state.py'),
      'sequential',
      join(dir, 'input.safetensors'),
      state,
      join(dir, 'seq-out.safetensors'),
    ]);
    const { model, naming, mapping } = importPyTorch(be, json, readFileSync(state), state);
    expect(naming).toBe('sequential');
    expect(mapping['0.weight']).toBe('block0.conv0.weight');
    expect(mapping['11.bias']).toBe('logits.bias');
    const d = maxDiff(convaeOutputs(be, model, images).logits, readOut(join(dir, 'seq-out.safetensors')).logits);
    model.dispose();
    console.log(`PyTorch nn.Sequential → convae logits: max abs diff ${d.abs.toExponential(2)}`);
    expect(close(d)).toBe(true);
  });
});

describe('import: bad state dicts are FormatErrors naming the tensor', () => {
  const json = JSON.stringify({
    format: 'convae-model',
    version: 1,
    kind: 'classifier',
    inputShape: [1, 28, 28],
    blocks: CLASSIFIER_BLOCKS,
    head: CLASSIFIER_HEAD,
    seed: 1,
  });
  const good = () => {
    const c = classifier(be);
    const t = Object.fromEntries(c.params().map((p) => [p.name, f32([...p.value.shape], p.value.toArray())]));
    c.dispose();
    return t as Record<string, cv.SafetensorsTensor>;
  };
  const attempt = (tensors: Record<string, cv.SafetensorsTensor>) => () =>
    importPyTorch(be, json, cv.encodeSafetensors(tensors), 'w.safetensors');

  it('accepts the good file (and the DDP module. prefix)', () => {
    importPyTorch(be, json, cv.encodeSafetensors(good()), 'w').model.dispose();
    const prefixed = Object.fromEntries(Object.entries(good()).map(([k, v]) => [`module.${k}`, v]));
    importPyTorch(be, json, cv.encodeSafetensors(prefixed), 'w').model.dispose();
  });
  it('a wrong name', () => {
    const t = good();
    t['block0.conv9.weight'] = t['block0.conv0.weight'];
    delete t['block0.conv0.weight'];
    expect(attempt(t)).toThrow(cv.FormatError);
    expect(attempt(t)).toThrow(/block0\.conv9\.weight/);
  });
  it('a wrong shape', () => {
    const t = good();
    t['dense0.weight'] = f32([32, 287]);
    expect(attempt(t)).toThrow(/'dense0\.weight' has shape \[32,287\], the architecture needs \[32,288\]/);
  });
  it('a missing tensor', () => {
    const t = good();
    delete t['logits.bias'];
    expect(attempt(t)).toThrow(/missing tensors: logits\.bias/);
  });
  it('a wrong dtype', () => {
    const t = good();
    t['logits.bias'] = { dtype: 'I32', shape: [10], data: new Int32Array(10) };
    expect(attempt(t)).toThrow(/'logits\.bias' has dtype I32/);
  });
  it('an nn.Sequential with a wrong shape names its numeric name and the convae layer', () => {
    const seq: Record<string, cv.SafetensorsTensor> = {};
    const names = ['0', '3', '8', '11'];
    Object.values(good()).forEach((t, i) => {
      seq[`${names[i >> 1]}.${i % 2 ? 'bias' : 'weight'}`] = t;
    });
    importPyTorch(be, json, cv.encodeSafetensors(seq), 'w').model.dispose();
    seq['8.weight'] = f32([32, 300]);
    expect(attempt(seq)).toThrow(/'8\.weight' \(dense0\.weight\) has shape \[32,300\]/);
    delete seq['11.bias'];
    delete seq['11.weight'];
    expect(attempt(seq)).toThrow(/3 modules with parameters .* the architecture has 4/);
  });
  it('not a model description', () => {
    expect(() => importPyTorch(be, '{"format":"x"}', cv.encodeSafetensors(good()), 'w')).toThrow(cv.FormatError);
    expect(() => importPyTorch(be, 'nope', cv.encodeSafetensors(good()), 'w')).toThrow(
      /model\.json: model description is not valid JSON/,
    );
  });
});
