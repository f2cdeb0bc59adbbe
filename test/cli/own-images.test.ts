/**
 * A newcomer's first commands on a folder of their own images: the bare `convae` shows them, a
 * damaged file says how to go on, `--skip-bad` names every file it skipped, `features` reads the
 * folder, and a command that needs a classifier says how to get one from a stack.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../ts/anomaly/embed.js';
import { projectFeature } from '../../ts/anomaly/project.js';
import { contrastNormalize } from '../../ts/data/normalize.js';
import { decodeSafetensors } from '../../ts/io/safetensors.js';
import { BUILD } from '../util/backend.js';
import { cliRunner, savedStackAndImages } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliRunner(180_000);

/** One line on stderr, exit 1, no stack trace. */
function expectRefused(r: { status: number | null; stderr: string }, message: RegExp): void {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/^convae(?: [a-z-]+)?: /); // "convae: …", or a command's own "convae detect: …"
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe.runIf(BUILD === 'simd')('convae on a folder of your own images', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-own-'));
  const imgs = join(dir, 'imgs'), // 80 good 20×20 RGB images in reds/ and blues/
    damaged = join(dir, 'damaged'), // the same, and two files that cannot be decoded
    stack = join(dir, 'stack');
  beforeAll(() => {
    for (const d of [imgs, damaged])
      expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', d], { cwd: root }).status).toBe(0);
    const png = readFileSync(join(damaged, 'reds', '0.png'));
    writeFileSync(join(damaged, 'reds', 'truncated.png'), png.subarray(0, png.length >> 1));
    writeFileSync(join(damaged, 'blues', 'not-an-image.jpg'), 'hello');
    const r = cli(
      'pretrain',
      '--data',
      imgs,
      '--size',
      '16x16',
      '--maps',
      '4,8',
      '--epochs',
      '1',
      '--out',
      stack,
      '-q',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 200_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a bare convae shows the own-images commands, and each one takes the flags it shows', () => {
    const r = cli();
    expect(r.status).toBe(0);
    const examples = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('  convae '))
      .map((l) => l.trim().split(/\s+/).slice(1));
    expect(examples.map((e) => e[0])).toEqual(
      expect.arrayContaining(['pretrain', 'encode', 'reconstruct', 'features', 'train', 'anomaly', 'export']),
    );
    for (const [cmd, ...args] of examples) {
      const help = cli(cmd!, '--help').stdout;
      for (const flag of args.filter((a) => a.startsWith('--'))) expect(help, `${cmd} ${flag}`).toContain(`${flag} <`);
    }
  });

  it('a file that cannot be decoded stops the run naming it, and says that --skip-bad skips it', () => {
    const r = cli(
      'pretrain',
      '--data',
      damaged,
      '--size',
      '16x16',
      '--maps',
      '4,8',
      '--epochs',
      '1',
      '--out',
      join(dir, 'x'),
    );
    expectRefused(
      r,
      /(truncated\.png|not-an-image\.jpg): cannot decode the image: .*\(--skip-bad skips such files\)$/m,
    );
  });

  it('--skip-bad names every file it skipped, then trains on the others', () => {
    const out = join(dir, 'skipped');
    const r = cli(
      ...['pretrain', '--data', damaged, '--size', '16x16', '--maps', '4,8', '--epochs', '1'],
      ...['--skip-bad', '--out', out, '-q'],
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/skipped 2 file\(s\) that cannot be decoded/);
    expect(r.stderr).toMatch(/^ {2}reds\/truncated\.png: /m);
    expect(r.stderr).toMatch(/^ {2}blues\/not-an-image\.jpg: /m);
    expect(existsSync(join(out, 'stack.safetensors'))).toBe(true);
  });

  // search and paper listed --skip-bad in their help and dropped it: the first damaged file stopped them. Each is
  // stopped here by a refusal that comes after reading, so the test needs no training.
  it('search and paper --skip-bad skip the damaged files too', () => {
    const runs = [
      ['search', '--data', damaged, '--size', '16x16', '--maps', '4', '--kernels', '17', '--out', join(dir, 's')],
      ['paper', '--data', damaged, '--size', '16x16', '--sizes', '50000', '--seeds', '1', '--out', join(dir, 'p')],
    ];
    for (const line of runs) {
      expect(cli(...line).stderr, line[0]).toMatch(/cannot decode the image: .*\(--skip-bad skips such files\)/);
      const r = cli(...line, '--skip-bad');
      expect(r.stderr, line[0]).toMatch(/skipped 2 file\(s\) that cannot be decoded/);
      expect(r.stderr, line[0]).toMatch(
        line[0] === 'search' ? /--kernels/ : /--sizes 50000: .* has only \d+ training images/,
      );
    }
  });

  it('--data naming a file says it takes a folder', () => {
    expectRefused(
      cli('pretrain', '--data', join(imgs, 'reds', '0.png'), '--out', join(dir, 'y')),
      /--data .*0\.png: a file, not a folder/,
    );
  });

  it('features --data reads the folder, resized to the stack input: one colour row per feature', () => {
    const out = join(dir, 'features');
    const r = cli('features', '--model', stack, '--data', imgs, '--top', '4', '--out', out, '-q');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const meta = JSON.parse(readFileSync(join(out, 'features.json'), 'utf8'));
    expect(meta.block1).toHaveLength(4); // --maps 4,8
    expect(meta.block2).toHaveLength(8);
    for (const f of meta.block1) for (const i of f.images) expect(i >= 0 && i < 80).toBe(true);
    const png = PNG.sync.read(readFileSync(join(out, 'features-block1.png')));
    expect(png.height).toBeGreaterThan(4 * 16);
    expectRefused(
      cli('features', '--model', stack, '--data', imgs, '--dataset', 'mnist'),
      /--dataset and --data name the data twice/,
    );
    // A folder of fewer images than --top (default 8): says how many it holds, and what to change.
    const few = join(dir, 'three-images');
    mkdirSync(few);
    for (const i of [0, 1, 2]) copyFileSync(join(imgs, 'reds', `${i}.png`), join(few, `${i}.png`));
    expectRefused(
      cli('features', '--model', stack, '--data', few, '--out', join(dir, 'features-few')),
      /--top 8 must be at most 3, the images of --data .*three-images: give --top 3 or more images/,
    );
  });

  it('predict on a pretrain folder (a stack, no classifier) says how to fine-tune one', () => {
    expectRefused(
      cli('predict', '--model', stack, '--data', imgs),
      /needs a classifier \(classifier\.json\), not found; it holds a CAE stack: .*convae train --stack .* --data DIR/,
    );
  });

  it('detect: trained on reds/ alone, it flags the blues of the whole folder; workers score as this thread does', () => {
    const csv = join(dir, 'detect.csv');
    const args = ['detect', '--normal-data', join(imgs, 'reds'), '--data', imgs, '--size', '16x16'];
    const r = cli(...args, '--out', csv);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/32 normal images train the stack .*, 8 fit the threshold/);
    expect(r.stderr).toMatch(/(\d+) of 80 images of folder:.* score above the threshold/);
    const text = readFileSync(csv, 'utf8');
    const [header, ...lines] = text.trim().split('\n');
    expect(header).toBe('file,score,anomalous');
    expect(lines).toHaveLength(80);
    const rows = lines.map((l) => l.split(','));
    const scores = (cls: string) => rows.filter((x) => x[0]!.startsWith(`${cls}/`)).map((x) => Number(x[1]));
    const flagged = (cls: string) => rows.filter((x) => x[0]!.startsWith(`${cls}/`) && x[2] === '1').length;
    expect(Math.min(...scores('blues'))).toBeGreaterThan(Math.max(...scores('reds')));
    expect(flagged('blues')).toBe(40);
    expect(flagged('reds')).toBeLessThanOrEqual(4); // the threshold lets 5 % of held-out normal images above it
    const here = cli(...args, '--workers', '0', '-q');
    expect(here.stderr).toBe('');
    expect(here.stdout).toBe(text);
    expectRefused(cli('detect', '--normal-data', imgs), /convae detect: --data is needed/);
  });

  it("features searches a normalised stack's images as the stack saw them in training (--normalize contrast)", async () => {
    const contrast = join(dir, 'contrast');
    const r = cli(
      ...['pretrain', '--data', imgs, '--size', '16x16', '--maps', '4,8', '--epochs', '1'],
      ...['--normalize', 'contrast', '--out', contrast, '-q'],
    );
    expect(r.status, r.stderr).toBe(0);
    const f = cli('features', '--model', contrast, '--data', imgs, '--block', '1', '--top', '4', '-q');
    expect(f.status, f.stderr).toBe(0);
    const meta = JSON.parse(readFileSync(join(contrast, 'features.json'), 'utf8'));
    const { stack: model, images } = await savedStackAndImages(contrast, imgs);
    try {
      const normalised = contrastNormalize(images);
      for (let feature = 0; feature < 4; feature++) {
        const p = projectFeature(model, normalised, { block: 0, feature, top: 4 });
        expect(meta.block1[feature].images).toEqual([...p.indices]);
        meta.block1[feature].activations.forEach((v: number, i: number) => {
          expect(v).toBeCloseTo(p.activations[i]!, 5);
        });
      }
    } finally {
      model.dispose();
    }
  });

  it('one image at the top level of a class folder: train and anomaly name it as why the folder has no labels', () => {
    const mixed = join(dir, 'mixed');
    cpSync(imgs, mixed, { recursive: true });
    copyFileSync(join(imgs, 'reds', '0.png'), join(mixed, 'stray.png'));
    const why =
      /has no labels:? \(?its top level holds image files \(stray\.png\), so its sub-folders are not read as classes/;
    expectRefused(cli('train', '--data', mixed, '--size', '16x16', '--out', join(dir, 'z')), why);
    expectRefused(cli('anomaly', '--data', mixed, '--size', '16x16', '--normal', 'reds', '--out', join(dir, 'z')), why);
  });

  it('encode --depth 1: the codes of the first block, as the API encodes them; a depth past the stack is refused', async () => {
    const out = join(dir, 'codes1');
    const r = cli(
      ...['encode', '--model', stack, '--data', imgs, '--depth', '1', '--out', out],
      ...['--workers', '0', '--build', BUILD],
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/codes\.safetensors \(\[80,4,6,6\]\)/); // 16×16 → conv 5 → 12 → pool 2 → 6, 4 maps
    const { tensors } = decodeSafetensors(readFileSync(join(out, 'codes.safetensors')), 'codes');
    expect(tensors.codes!.shape).toEqual([80, 4, 6, 6]);
    const { stack: model, images } = await savedStackAndImages(stack, imgs);
    try {
      const want = encode(model, images, { depth: 1 }).vectors;
      const got = tensors.codes!.data as Float32Array;
      expect(got.length).toBe(want.length);
      expect(got.every((v, i) => Object.is(v, want[i]))).toBe(true);
    } finally {
      model.dispose();
    }
    expectRefused(
      cli('encode', '--model', stack, '--data', imgs, '--depth', '3', '--out', out),
      /convae encode: --depth must be at most 2 \(the blocks of the stack/,
    );
  });

  it("a small folder trains with the few-labels recipe and for more epochs; --limit keeps the preset's", () => {
    const net = ['--size', '16x16', '--maps', '4,8', '--hidden', '16', '--workers', '0'];
    const small = join(dir, 'small');
    // 64 training images: the few-labels recipe (its epochs, those of 100 images, set to 1 here).
    const r = cli('train', '--data', imgs, ...net, '--pretrain-epochs', '1', '--epochs', '1', '--out', small);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /a small dataset \(under 5000 training images\), trained as with --labels: fine-tuning on all 64 training images, 1 epochs at learning rate 0\.02, head dropout 0\.5; pretraining .*untied decoders, first CAE k-sparse/,
    );
    expect(JSON.parse(readFileSync(join(small, 'run.json'), 'utf8')).flags).toMatchObject({
      noise: 0,
      sparsity: 0.05,
      decoder: 'untied',
    });
    const limited = join(dir, 'limited');
    const l = cli('train', '--data', imgs, ...net, '--limit', '64', '--epochs', '1', '--out', limited);
    expect(l.status, l.stderr).toBe(0);
    expect(l.stdout).not.toMatch(/a small dataset/);
    expect(JSON.parse(readFileSync(join(limited, 'run.json'), 'utf8')).flags).toMatchObject({
      pretrainEpochs: 1,
      noise: 0.3,
      sparsity: null,
      decoder: null,
    });
  });

  it('evaluate and predict match a test folder to the model by class name, not by sorted position', () => {
    const clf = join(dir, 'clf');
    const t = cli(
      ...['train', '--data', imgs, '--size', '16x16', '--maps', '4,8', '--hidden', '16', '--epochs', '2'],
      ...['--pretrain-epochs', '1', '--workers', '0', '--out', clf, '-q'],
    );
    expect(t.status, t.stderr).toBe(0);
    // Only reds/: sorted alone it is class 0, which the model (blues, reds) calls blues.
    const redsOnly = join(dir, 'reds-only');
    cpSync(join(imgs, 'reds'), join(redsOnly, 'reds'), { recursive: true });
    const report = join(dir, 'reds-only.json');
    const e = cli('evaluate', '--model', clf, '--data', redsOnly, '--out', report, '-q');
    expect(e.status, e.stderr).toBe(0);
    const r = JSON.parse(readFileSync(report, 'utf8'));
    expect(r.classes).toEqual(['blues', 'reds']);
    expect(r.confusion[0]).toEqual([0, 0]);
    expect(r.confusion[1][0] + r.confusion[1][1]).toBe(40);
    const p = cli('predict', '--model', clf, '--data', redsOnly);
    expect(p.status, p.stderr).toBe(0);
    const rows = p.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    expect(rows.every((x) => x[4] === '1')).toBe(true); // label: reds, the model's class 1
    expect(r.accuracy).toBeCloseTo(rows.filter((x) => x[2] === 'reds').length / 40, 10);
    // A class folder the model does not know: evaluate refuses, predict leaves the label column empty.
    cpSync(join(imgs, 'blues'), join(redsOnly, 'greens'), { recursive: true });
    expectRefused(
      cli('evaluate', '--model', clf, '--data', redsOnly),
      /class folder "greens" not among the classes the model was trained on \(blues, reds\)/,
    );
    const q = cli('predict', '--model', clf, '--data', redsOnly);
    expect(q.status, q.stderr).toBe(0);
    expect(q.stderr).toMatch(/\(greens\) not among the model's classes: the label column is empty/);
    expect(
      q.stdout
        .trim()
        .split('\n')
        .slice(1)
        .every((l) => l.endsWith(',')),
    ).toBe(true);
  });
});
