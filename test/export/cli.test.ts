/** `convae export` / `convae import` from the command line: files written, the round trip keeps the weights, bad input is a one-line error. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { backendUnderTest } from '../util/backend.js';
import { classifier, mnistTest, normalisations } from './models.js';

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

  for (const normalize of ['contrast', 'whiten'] as const)
    it(`import keeps the model's input normalisation (${normalize}) and class names: the same predictions as before the export`, async () => {
      const be = await backendUnderTest();
      const m = classifier(be);
      const dir = mkdtempSync(join(tmpdir(), 'convae-cli-'));
      const classes = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
      const input = normalisations(await mnistTest(8))[normalize].training;
      const saved = cv.saveModel(m, { ...input, classes, epochs: 3 });
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
        ...input,
        classes,
      });
      const predict = (model: string) => run('predict', '--model', model, '--data', 'mnist', '--limit', '20').stdout;
      const before = predict(dir);
      expect(before.split('\n')[1]).toMatch(/^test#0,\d,[a-z]+,/);
      expect(predict(join(dir, 'back'))).toBe(before);
    }, 120_000);

  it('export of a model trained on whitened images: the export takes raw pixels, and says its first step', async () => {
    const be = await backendUnderTest();
    const m = classifier(be);
    const dir = mkdtempSync(join(tmpdir(), 'convae-cli-'));
    const saved = cv.saveModel(m, normalisations(await mnistTest(8)).whiten.training);
    m.dispose();
    writeFileSync(join(dir, 'classifier.json'), saved.json);
    writeFileSync(join(dir, 'classifier.safetensors'), saved.weights);
    const step =
      /^it takes raw pixels in \[0, 1\], as convae predict does: its first step is the model's contrast normalisation \(each image minus its mean over all its values, divided by √\(their variance \+ 0\.001\)\), then the local whitening of training\.whitening \(a 1×1×5×5 convolution, the image's edge rows and columns repeated\)$/m;
    for (const format of ['onnx', 'pytorch']) {
      const r = run('export', '--model', dir, '--format', format, '--out', join(dir, format));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(step);
      expect(run('export', '--model', dir, '--format', format, '--out', join(dir, 'q'), '-q').stdout).toBe('');
    }
    expect(readFileSync(join(dir, 'pytorch', 'README.md'), 'utf8')).toMatch(
      /\*\*Input\*\*: raw pixels in \[0, 1\], as `convae predict` reads image files\. `Model` first applies `Normalize`, the normalisation the model was trained on: contrast normalisation .*, then the local whitening/,
    );
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

  it('export refuses class names that do not fit the head, and an --out that is a file, naming the flag', async () => {
    const be = await backendUnderTest();
    const m = classifier(be);
    const dir = mkdtempSync(join(tmpdir(), 'convae-cli-'));
    const bad = cv.saveModel(m, { classes: ['a', 'b', 'c'] });
    writeFileSync(join(dir, 'classifier.json'), bad.json);
    writeFileSync(join(dir, 'classifier.safetensors'), bad.weights);
    const good = join(dir, 'good');
    mkdirSync(good);
    const ok = cv.saveModel(m);
    writeFileSync(join(good, 'classifier.json'), ok.json);
    writeFileSync(join(good, 'classifier.safetensors'), ok.weights);
    m.dispose();
    const classes = run('export', '--model', dir, '--format', 'onnx', '--out', join(dir, 'onnx'));
    expect(classes.stderr).toMatch(
      /^convae: .*classifier\.json: training\.classes names 3 classes, the classifier's head has 10\n$/,
    );
    expect(classes.status).toBe(1);
    expect(existsSync(join(dir, 'onnx'))).toBe(false);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    for (const format of ['onnx', 'pytorch']) {
      const r = run('export', '--model', good, '--format', format, '--out', file);
      expect(r.stderr, format).toMatch(
        /^convae: cannot write to --out ".*a-file": it exists and is not a directory\n$/,
      );
      expect(r.status, format).toBe(1);
    }
    expect(readFileSync(file, 'utf8')).toBe('x');
  }, 60_000);

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
