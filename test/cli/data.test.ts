/** The CLI on an image folder: train → save → predict / evaluate / encode / reconstruct, and predict agrees with the API. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../ts/anomaly/embed.js';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { decodeSafetensors } from '../../ts/io/safetensors.js';
import { Classifier } from '../../ts/model/classifier.js';
import { loadModel } from '../../ts/model/serialize.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { cliRunner, savedStackAndImages } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliRunner(180_000);

describe.runIf(BUILD === 'simd')('convae CLI on an image folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-cli-data-'));
  const imgs = join(dir, 'imgs'),
    out = join(dir, 'out');
  // The run every test reads (a k-sparse first CAE keeping a quarter of each map, untied decoders, no translations); the resume test changes --sparsity.
  const trainArgs = (sparsity: string) =>
    [
      ['train', '--data', imgs, '--size', '16x16', '--maps', '4,8', '--hidden', '16'],
      ['--epochs', '2', '--pretrain-epochs', '1', '--sparsity', sparsity, '--decoder', 'untied', '--shift', '0'],
      ['--workers', '0', '--out', out],
    ].flat();
  beforeAll(() => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    const r = cli(...trainArgs('0.25'), '-q');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 200_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const savedStack = () => savedStackAndImages(out, imgs);

  it('train saved the class names and an RGB 16×16 model', () => {
    const meta = JSON.parse(readFileSync(join(out, 'classifier.json'), 'utf8'));
    expect(meta.inputShape).toEqual([3, 16, 16]);
    expect(meta.training.classes).toEqual(['blues', 'reds']);
    expect(meta.head.classes).toBe(2);
    // The share of each block's tanh codes in the flat tails (test/anomaly/saturation.test.ts checks the count).
    expect(meta.training.saturatedCodes).toHaveLength(2);
    for (const v of meta.training.saturatedCodes) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('predict prints the same classes as the API on the loaded model', async () => {
    const r = cli('predict', '--model', out, '--data', imgs, '--format', 'json');
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as {
      file: string;
      class_index: number;
      class: string;
      probability: number;
      label: number;
      label_name: string;
    }[];
    const be = await backendUnderTest();
    const { model } = loadModel(
      be,
      readFileSync(join(out, 'classifier.json'), 'utf8'),
      readFileSync(join(out, 'classifier.safetensors')),
    );
    expect(model).toBeInstanceOf(Classifier);
    const f = await loadImageFolder(imgs, { size: [16, 16], channels: 3 });
    const x = be.fromArray([f.dataset.length, 3, 16, 16], f.dataset.images);
    const api = Array.from((model as Classifier).predict(x));
    x.dispose();
    expect(rows.map((p) => p.file)).toEqual(f.files);
    expect(rows.map((p) => p.class_index)).toEqual(api);
    expect(rows.map((p) => p.class)).toEqual(api.map((i) => ['blues', 'reds'][i]));
    for (const p of rows) expect(p.probability).toBeGreaterThanOrEqual(0.5 - 1e-9); // two classes: the argmax has ≥ ½
    (model as Classifier).dispose();
    // The true labels: the class folders, sorted (blues = 0, reds = 1), as the model was trained on them.
    expect(rows.map((p) => p.label)).toEqual(f.files.map((file) => (file.startsWith('blues/') ? 0 : 1)));
    // …and their names, the folder each file lies in (encode's codes.csv calls them the same).
    expect(rows.map((p) => p.label_name)).toEqual(f.files.map((file) => file.slice(0, file.indexOf('/'))));
    // The CSV: one column per JSON field, same names, same order, same values (the predicted class is
    // `class_index`, not a row number: `index` read like one).
    const csv = cli('predict', '--model', out, '--data', imgs);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('file,class_index,class,probability,label,label_name');
    expect(lines[0]).toBe(Object.keys(rows[0]).join(','));
    expect(lines.length).toBe(81);
    for (const [i, line] of lines.slice(1).entries()) {
      const [file, classIndex, cls, probability, label, labelName] = line.split(',');
      expect([file, Number(classIndex), cls, Number(label), labelName]).toEqual([
        rows[i].file,
        rows[i].class_index,
        rows[i].class,
        rows[i].label,
        rows[i].label_name,
      ]);
      expect(Number(probability)).toBeCloseTo(rows[i].probability, 6);
    }
  });

  it('encode writes the codes the API computes from the loaded stack', async () => {
    const codes = join(dir, 'codes-api');
    expect(
      cli('encode', '--model', out, '--data', imgs, '--out', codes, '--workers', '2', '--build', BUILD).status,
    ).toBe(0);
    const st = decodeSafetensors(readFileSync(join(codes, 'codes.safetensors')), 'codes');
    const { stack: model, images } = await savedStack();
    const want = encode(model, images).vectors;
    const got = st.tensors.codes.data as Float32Array;
    expect(got.length).toBe(want.length);
    expect(got.every((v, i) => Object.is(v, want[i]))).toBe(true);
    model.dispose();
  });

  it('evaluate reports MSE per CAE, accuracy and a confusion matrix that sums to the image count', () => {
    const report = join(dir, 'eval.json');
    const r = cli('evaluate', '--model', out, '--data', imgs, '--out', report, '-q');
    expect(r.status).toBe(0);
    const e = JSON.parse(readFileSync(report, 'utf8'));
    expect(e.images).toBe(80);
    expect(e.reconstructionMse.length).toBe(2);
    for (const m of e.reconstructionMse) expect(m).toBeGreaterThan(0);
    const total = e.confusion.flat().reduce((a: number, b: number) => a + b, 0);
    expect(total).toBe(80);
    const right = e.confusion[0][0] + e.confusion[1][1];
    expect(e.accuracy).toBeCloseTo(right / 80, 12);
  });

  it("reconstruct and evaluate report the first CAE's loss on the same images alike: ½·mean((y − x)²)", async () => {
    const report = join(dir, 'eval-mse.json');
    expect(cli('evaluate', '--model', out, '--data', imgs, '--out', report, '-q').status).toBe(0);
    const evaluated = JSON.parse(readFileSync(report, 'utf8')).reconstructionMse[0];
    const r = cli('reconstruct', '--model', out, '--data', imgs, '--out', join(dir, 'rec-all.png'), '--count', '80');
    expect(r.status).toBe(0);
    const printed = Number(/reconstruction MSE (\S+)/.exec(r.stdout)?.[1]);
    // Independently, in f64, from the loaded stack's reconstructions.
    const { be, stack: model, images } = await savedStack();
    const x = be.fromArray([80, 3, 16, 16], images.images);
    const y = model.blocks[0].reconstruct(x).toArray();
    let se = 0;
    for (let i = 0; i < y.length; i++) se += (y[i] - images.images[i]) ** 2;
    x.dispose();
    model.dispose();
    const want = se / (2 * y.length);
    expect(printed).toBeCloseTo(want, 5);
    expect(evaluated).toBeCloseTo(want, 5);
  });

  it('encode writes codes [N, 8, 1, 1] and a CSV row per file; reconstruct writes a PNG', () => {
    const codes = join(dir, 'codes');
    expect(cli('encode', '--model', out, '--data', imgs, '--out', codes).status).toBe(0);
    const st = decodeSafetensors(readFileSync(join(codes, 'codes.safetensors')), 'codes');
    // 16 → conv 5 → 12 → pool → 6 → conv 5 → 2 → pool → 1.
    expect(st.tensors.codes.shape).toEqual([80, 8, 1, 1]);
    expect(st.tensors.labels.shape).toEqual([80]);
    const lines = readFileSync(join(codes, 'codes.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('row,file,label,label_name');
    expect(lines[1]).toBe('0,blues/0.png,0,blues');
    // In workers (the default) or on this thread: the same file, byte for byte.
    const here = join(dir, 'codes-here');
    expect(cli('encode', '--model', out, '--data', imgs, '--out', here, '--workers', '0').status).toBe(0);
    expect(readFileSync(join(here, 'codes.safetensors')).equals(readFileSync(join(codes, 'codes.safetensors')))).toBe(
      true,
    );
    const png = join(dir, 'rec.png');
    const r = cli('reconstruct', '--model', out, '--data', imgs, '--out', png, '--count', '8');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/8 images, reconstruction MSE \d/);
    expect(existsSync(png)).toBe(true);
  });

  it('--sparsity, --decoder and --shift reach the model and run.json; a resume with another value is refused', () => {
    const stack = JSON.parse(readFileSync(join(out, 'stack.json'), 'utf8'));
    expect(stack.blocks[0].sparsity).toEqual({ keep: 0.25 });
    expect(stack.blocks[1].sparsity).toBeNull();
    expect(stack.blocks.map((b: { tied: boolean }) => b.tied)).toEqual([false, false]);
    const flags = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).flags;
    expect([flags.sparsity, flags.decoder, flags.shift]).toEqual([0.25, 'untied', 0]);
    expect(JSON.parse(readFileSync(join(out, 'classifier.json'), 'utf8')).training.shift).toBe(0);
    const again = cli(...trainArgs('0.5'), '--resume');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/--sparsity 0\.25 → 0\.5/);
    for (const bad of ['1.5', '-0.1', 'x']) {
      const b = cli('train', '--sparsity', bad);
      expect(b.status).not.toBe(0);
      expect(b.stderr).toMatch(/--sparsity must be a fraction in \[0, 1\]/);
    }
    for (const bad of ['9', '-1', '0.5', 'x']) {
      const b = cli('train', '--shift', bad);
      expect(b.status).not.toBe(0);
      expect(b.stderr).toMatch(/--shift must be an integer in \[0, 8\]/);
    }
  });

  it('bad --data and --size give a one-line error, no stack trace', () => {
    const r = cli('predict', '--model', out, '--data', join(dir, 'nope'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^convae: --data .*no such folder/);
    const s = cli('train', '--data', imgs, '--size', '0x3');
    expect(s.status).not.toBe(0);
    expect(s.stderr).toMatch(/--size takes HxW/);
    expect(s.stderr).not.toMatch(/\n\s+at /);
  });
});
