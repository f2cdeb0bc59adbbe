/** `convae export` / `convae import` from the command line: files written, the round trip keeps the weights, bad input is a one-line error. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { backendUnderTest } from '../util/backend.js';
import { classifier } from './models.js';

const root = join(import.meta.dirname, '../..');
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'ts/cli/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('convae export / import', () => {
  it('export --format pytorch and onnx, then import the exported weights back unchanged', async () => {
    const be = await backendUnderTest();
    const m = classifier(be);
    const dir = mkdtempSync(join(tmpdir(), 'convae-cli-'));
    const saved = cv.saveModel(m);
    writeFileSync(join(dir, 'classifier.json'), saved.json);
    writeFileSync(join(dir, 'classifier.safetensors'), saved.weights);
    const pt = run('export', '--model', dir, '--format', 'pytorch', '--out', join(dir, 'pt'), '-q');
    expect(pt.stderr).toBe('');
    expect(pt.status).toBe(0);
    for (const f of ['model.py', 'README.md', 'model.safetensors', 'model.json'])
      expect(existsSync(join(dir, 'pt', f))).toBe(true);
    const ox = run(
      'export',
      '--model',
      join(dir, 'classifier.json'),
      '--format',
      'onnx',
      '--out',
      join(dir, 'onnx'),
      '-q',
    );
    expect(ox.status).toBe(0);
    expect(existsSync(join(dir, 'onnx', 'model.onnx')) && existsSync(join(dir, 'onnx', 'encoder.onnx'))).toBe(true);
    const im = run(
      'import',
      '--from',
      join(dir, 'pt', 'model.safetensors'),
      '--arch',
      join(dir, 'pt', 'model.json'),
      '--out',
      join(dir, 'back'),
    );
    expect(im.status).toBe(0);
    expect(im.stdout).toMatch(/imported 8 tensors \(exported names\)/);
    const back = cv.decodeSafetensors(readFileSync(join(dir, 'back', 'classifier.safetensors')), 'back').tensors;
    for (const p of m.params()) expect(back[p.name].data).toEqual(p.value.toArray());
    m.dispose();
  }, 120_000);

  it("import keeps the model's input normalisation and class names: the same predictions as before the export", async () => {
    const be = await backendUnderTest();
    const m = classifier(be);
    const dir = mkdtempSync(join(tmpdir(), 'convae-cli-'));
    const classes = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    const saved = cv.saveModel(m, { normalize: 'contrast', classes, epochs: 3 });
    m.dispose();
    writeFileSync(join(dir, 'classifier.json'), saved.json);
    writeFileSync(join(dir, 'classifier.safetensors'), saved.weights);
    expect(run('export', '--model', dir, '--format', 'pytorch', '--out', join(dir, 'pt'), '-q').status).toBe(0);
    const pt = join(dir, 'pt');
    const im = run(
      'import',
      '--from',
      join(pt, 'model.safetensors'),
      '--arch',
      join(pt, 'model.json'),
      '--out',
      join(dir, 'back'),
      '-q',
    );
    expect(im.stderr).toBe('');
    expect(im.status).toBe(0);
    // The run's own record (epochs) stays behind: the weights no longer come from it.
    expect(JSON.parse(readFileSync(join(dir, 'back', 'classifier.json'), 'utf8')).training).toEqual({
      normalize: 'contrast',
      classes,
    });
    const predict = (model: string) => run('predict', '--model', model, '--data', 'mnist', '--limit', '20').stdout;
    const before = predict(dir);
    expect(before.split('\n')[1]).toMatch(/^test#0,\d,[a-z]+,/);
    expect(predict(join(dir, 'back'))).toBe(before);
  }, 120_000);

  it('export of a model trained on normalised images says what input the exported network expects', async () => {
    const be = await backendUnderTest();
    const m = classifier(be);
    const dir = mkdtempSync(join(tmpdir(), 'convae-cli-'));
    const saved = cv.saveModel(m, { normalize: 'contrast' });
    writeFileSync(join(dir, 'classifier.json'), saved.json);
    writeFileSync(join(dir, 'classifier.safetensors'), saved.weights);
    const note =
      /^convae export: the model was trained on contrast-normalised images \(each image minus its mean, divided by √\(its variance \+ 0\.001\), over all its values\): give the exported network its input so, not raw pixels\n$/;
    for (const format of ['onnx', 'pytorch']) {
      const r = run('export', '--model', dir, '--format', format, '--out', join(dir, format));
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(note);
    }
    expect(readFileSync(join(dir, 'pytorch', 'README.md'), 'utf8')).toMatch(
      /\*\*Input\*\*: the model was trained on contrast-normalised images/,
    );
    expect(cv.exportPyTorch(m, cv.saveModel(m, { normalize: 'whiten' }).json).files['README.md']).toMatch(
      /\*\*Input\*\*: the model was trained on contrast-normalised .*, then whitened images/,
    );
    expect(cv.exportPyTorch(m, cv.saveModel(m).json).files['README.md']).not.toMatch(/Input\*\*/);
    m.dispose();
  }, 120_000);

  it('import refuses class names that do not fit the head, as predict would', async () => {
    const be = await backendUnderTest();
    const m = classifier(be);
    const dir = mkdtempSync(join(tmpdir(), 'convae-cli-'));
    const saved = cv.saveModel(m, { classes: ['a', 'b'] });
    writeFileSync(join(dir, 'model.json'), saved.json);
    writeFileSync(join(dir, 'model.safetensors'), saved.weights);
    m.dispose();
    const r = run(
      'import',
      '--from',
      join(dir, 'model.safetensors'),
      '--arch',
      join(dir, 'model.json'),
      '--out',
      join(dir, 'back'),
    );
    expect(r.stderr).toMatch(
      /^convae: .*model\.json: training\.classes names 2 classes, the classifier's head has 10\n$/,
    );
    expect(r.status).toBe(1);
    expect(existsSync(join(dir, 'back'))).toBe(false);
  });

  it('a state dict with a wrong tensor name: exit 1 and one line naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'convae-cli-'));
    writeFileSync(
      join(dir, 'w.safetensors'),
      cv.encodeSafetensors({ 'block7.conv0.weight': { dtype: 'F32', shape: [1], data: new Float32Array(1) } }),
    );
    writeFileSync(
      join(dir, 'arch.json'),
      JSON.stringify({
        format: 'convae-model',
        version: 1,
        kind: 'stack',
        inputShape: [1, 8, 8],
        blocks: [{ convs: [{ filters: 2, kernel: 3 }] }],
        seed: 1,
      }),
    );
    const r = run(
      'import',
      '--from',
      join(dir, 'w.safetensors'),
      '--arch',
      join(dir, 'arch.json'),
      '--out',
      join(dir, 'o'),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^convae: .*w\.safetensors: tensors not in the architecture: 'block7\.conv0\.weight'/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const bad = run('export', '--model', join(dir, 'nowhere'), '--format', 'onnx', '--out', join(dir, 'o'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--model '.*nowhere' does not exist/);
  });
});
