/**
 * `convae train --labels` (fine-tune on a labelled subset, pretrain on every image) and
 * `--stack` (start from a saved stack): what reaches the model, the files and run.json,
 * and the refusals, each before anything is written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEW_LABELS, settingsFor, PRESETS } from '../../ts/cli/train.js';
import { loadBackend, loadModel, saveModel } from '../../ts/index.js';
import { BUILD } from '../util/backend.js';
import { cliRunner } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliRunner(180_000);
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('the defaults for a number of labels (settingsFor)', () => {
  // docs/paper-results.md: `convae paper`'s pretraining, and at 100–1 000 MNIST labels both arms chose 0.02 with head dropout 0.5.
  const paper = { pretrainEpochs: 3, noise: 0, sparsity: 0.05, decoder: 'untied' };
  const main = { pretrainEpochs: 1, noise: 0.3, sparsity: 0, decoder: 'tied' };
  it("under the few-labels bound: the paper's pretraining and tuned fine-tuning, about 150 000 images", () => {
    expect(settingsFor(PRESETS.default, {}, 300)).toEqual({ ...paper, epochs: 500, lr: 0.02, dropout: 0.5 });
    expect(settingsFor(PRESETS.default, {}, 1000)).toEqual({ ...paper, epochs: 150, lr: 0.02, dropout: 0.5 });
    expect(settingsFor(PRESETS.default, {}, 4999)).toMatchObject({ ...paper, lr: 0.02, dropout: 0.5 });
    expect(FEW_LABELS.below).toBe(5000);
  });
  it('a small dataset of its own: the same, with pretraining for about 60 000 images a CAE (at least 3 epochs)', () => {
    expect(settingsFor(PRESETS.default, {}, 400, 400)).toEqual({
      ...paper,
      pretrainEpochs: 150,
      epochs: 375,
      lr: 0.02,
      dropout: 0.5,
    });
    expect(settingsFor(PRESETS.default, {}, 4999, 4999)).toMatchObject({ ...paper, pretrainEpochs: 12, epochs: 30 });
    expect(settingsFor(PRESETS.default, {}, 100, 100)).toMatchObject({ pretrainEpochs: 600, epochs: 1500 });
    // Fewer than the fewest labels the recipe was tuned at (100): the epochs of 100, not 150 000 / n.
    for (const n of [1, 2, 3, 64, 99])
      expect(settingsFor(PRESETS.default, {}, n, n)).toMatchObject({ pretrainEpochs: 600, epochs: 1500 });
    expect(settingsFor(PRESETS.default, {}, 10)).toMatchObject({ epochs: 1500 }); // --labels 10
    // The flags still win.
    expect(settingsFor(PRESETS.default, { pretrainEpochs: 2, epochs: 5, lr: 0.1 }, 400, 400)).toMatchObject({
      pretrainEpochs: 2,
      epochs: 5,
      lr: 0.1,
    });
  });
  it("from the bound up, and without --labels: the main job's, never fewer epochs than the preset", () => {
    expect(settingsFor(PRESETS.default, {}, 5000)).toEqual({ ...main, epochs: 30, lr: 0.05, dropout: 0 });
    expect(settingsFor(PRESETS.default, {}, 50000)).toEqual({ ...main, epochs: 10, lr: 0.05, dropout: 0 });
    expect(settingsFor(PRESETS.long, {}, 50000)).toEqual({
      ...main,
      pretrainEpochs: 2,
      epochs: 20,
      lr: 0.05,
      dropout: 0.3,
    });
    expect(settingsFor(PRESETS.default, {})).toEqual({ ...main, epochs: 8, lr: 0.05, dropout: 0 });
  });
  it('flags win over every default', () => {
    const given = {
      pretrainEpochs: 2,
      noise: 0.1,
      sparsity: 0,
      decoder: 'tied',
      epochs: 7,
      lr: 0.1,
      dropout: 0,
    } as const;
    expect(settingsFor(PRESETS.default, given, 300)).toEqual(given);
  });
});

describe.runIf(BUILD === 'simd')('convae train --labels and --stack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-cli-labels-'));
  const imgs = join(dir, 'imgs');
  // 80 images, 64 of them for training (the folder's seeded 80/20 split); batch 8, so a step count tells the images.
  const net = ['--data', imgs, '--size', '16x16', '--maps', '4,8', '--hidden', '16', '--shift', '0'];
  const run = ['--batch', '8', '--epochs', '3', '--workers', '0', '-q'];
  const self = join(dir, 'self'),
    fromStack = join(dir, 'from-stack'),
    random = join(dir, 'random');
  beforeAll(() => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    for (const args of [
      ['train', ...net, '--pretrain-epochs', '1', '--labels', '20', ...run, '--out', self],
      [
        'train',
        '--data',
        imgs,
        '--shift',
        '0',
        '--hidden',
        '16',
        '--stack',
        self,
        '--labels',
        '20',
        ...run,
        '--out',
        fromStack,
      ],
      ['train', ...net, '--no-pretrain', '--labels', '20', ...run, '--out', random],
    ]) {
      const r = cli(...args);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  }, 200_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fine-tunes on the labelled subset only, pretrains on every training image', () => {
    const report = json(join(self, 'report.json'));
    // 20 images in batches of 8: 3 steps an epoch; 64 images: 8.
    expect(report.histories.classifier.steps).toBe(3 * Math.ceil(20 / 8));
    expect(report.histories.cae0.steps).toBe(1 * Math.ceil(64 / 8));
    expect(report.labels).toBe(20);
    // --labels 20 is under the few-labels bound: its rate and dropout, as recorded in the model.
    const training = json(join(self, 'classifier.json')).training;
    expect([training.optimizer.lr, training.dropout, training.labels]).toEqual([FEW_LABELS.lr, FEW_LABELS.dropout, 20]);
    const flags = json(join(self, 'run.json')).flags;
    expect([flags.labels, flags.stack, flags.lr, flags.dropout]).toEqual([20, null, null, null]);
    // …and the few-labels pretraining: a k-sparse first CAE without noise, untied decoders.
    expect([flags.noise, flags.sparsity, flags.decoder]).toEqual([0, 0.05, 'untied']);
    const blocks = json(join(self, 'stack.json')).blocks;
    expect(blocks.map((b: { tied: boolean }) => b.tied)).toEqual([false, false]);
    expect([blocks[0].sparsity, blocks[0].noise]).toEqual([{ keep: 0.05 }, null]);
  });

  it('--stack starts from the saved stack as it is: the same classifier, bit for bit, as the run that pretrained it', () => {
    const w = (d: string) => readFileSync(join(d, 'classifier.safetensors'));
    expect(w(fromStack).equals(w(self))).toBe(true);
    // …and not because every start gives it: random initialisation on the same subset does not.
    expect(w(random).equals(w(self))).toBe(false);
    expect(
      readFileSync(join(fromStack, 'stack.safetensors')).equals(readFileSync(join(self, 'stack.safetensors'))),
    ).toBe(true);
    const report = json(join(fromStack, 'report.json'));
    expect(report.histories.cae0).toBeUndefined(); // no pretraining here
    expect(report.stack).toBe(self);
    expect(json(join(fromStack, 'run.json')).flags.stack).toBe(self);
    expect(json(join(fromStack, 'stack.json')).training.from).toBe(self);
  });

  it('with --stack, the labelled images decide the fine-tuning defaults, as with --labels', () => {
    const out = join(dir, 'stack-all');
    const r = cli('train', '--data', imgs, '--stack', self, '--epochs', '1', '--workers', '0', '-q', '--out', out);
    expect(r.stderr).toBe('');
    const training = json(join(out, 'classifier.json')).training;
    // 64 labelled images, under the bound: its rate and dropout (the preset's are 0.05 and 0).
    expect([training.labels, training.optimizer.lr, training.dropout]).toEqual([64, FEW_LABELS.lr, FEW_LABELS.dropout]);
  });

  it('a saturated stack is scaled down before fine-tuning (rescaleConvs); --no-rescale keeps it as it is', async () => {
    // self's stack with every conv weight and bias ×50: nearly all its codes in tanh's flat tails.
    const be = await loadBackend({ build: 'simd' });
    const { model } = loadModel(
      be,
      readFileSync(join(self, 'stack.json'), 'utf8'),
      readFileSync(join(self, 'stack.safetensors')),
      {
        kind: 'stack',
      },
    );
    for (const p of model.params()) for (let j = 0; j < p.value.data.length; j++) p.value.data[j] *= 50;
    const hot = join(dir, 'hot');
    mkdirSync(hot);
    const saved = saveModel(model);
    writeFileSync(join(hot, 'stack.json'), saved.json);
    writeFileSync(join(hot, 'stack.safetensors'), saved.weights);
    model.dispose();
    const outs = [join(dir, 'hot-rescaled'), join(dir, 'hot-kept')];
    const base = ['train', '--data', imgs, '--shift', '0', '--hidden', '16', '--stack', hot, '--labels', '20'];
    const r = cli(...base, '--batch', '8', '--epochs', '1', '--workers', '0', '--out', outs[0]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /conv layers scaled to a pre-activation std of at most 1, since CAE 1 and 2 are saturated: block0\.conv0 ×0\.\d+, block1\.conv0 ×0\.\d+/,
    );
    const k = cli(...base, '--batch', '8', '--epochs', '1', '--workers', '0', '--no-rescale', '--out', outs[1]);
    expect(k.status).toBe(0);
    expect(k.stdout).not.toMatch(/scaled to a pre-activation std/);
    expect(k.stdout).toMatch(
      /CAE 2: reconstruction MSE .*; (9\d|100)\.\d % of its codes on the training images in tanh's flat tails/,
    );
    expect(outs.map((o) => json(join(o, 'run.json')).flags.rescale)).toEqual([null, false]);
    const w = (d: string) => readFileSync(join(d, 'classifier.safetensors'));
    expect(w(outs[0]).equals(w(outs[1]))).toBe(false);
    // The saved stack stays the one given: only the classifier's copy is scaled.
    expect(readFileSync(join(outs[0], 'stack.safetensors')).equals(readFileSync(join(hot, 'stack.safetensors')))).toBe(
      true,
    );
  });

  it('a resume with another --labels is refused', () => {
    const r = cli('train', ...net, '--pretrain-epochs', '1', '--labels', '30', ...run, '--out', self, '--resume');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--labels 20 → 30/);
  });

  it('refusals: flags the stack decides, a stack for other images, too many labels, a missing stack; no file written', () => {
    const out = join(dir, 'refused');
    const cases: [string[], RegExp][] = [
      [['--stack', self, '--maps', '2,2'], /--stack cannot be combined with --maps: the stack decides it/],
      [['--stack', self, '--decoder', 'untied'], /--stack cannot be combined with --decoder/],
      [['--stack', self, '--no-pretrain'], /--stack cannot be combined with --no-pretrain/],
      [['--data', 'mnist', '--limit', '100', '--stack', self], /takes \[3,16,16\] images; mnist has \[1,28,28\]/],
      [['--data', imgs, '--size', '16x16', '--labels', '65'], /--labels 65: .* has only 64 training images/],
      [['--stack', join(dir, 'nowhere')], /--stack .*nowhere.*: no classifier.json, stack.json or detector.json there/],
      [['--stack', join(self, 'classifier.json')], /--stack .*needs the CAE stack/],
    ];
    for (const [args, message] of cases) {
      const r = cli('train', ...args, '--workers', '0', '--out', out);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      // checkOutDir makes the folder up front (it proves it writable before any training): nothing in it.
      expect(existsSync(out) ? readdirSync(out) : [], args.join(' ')).toEqual([]);
    }
    for (const [flag, bad, message] of [
      ['--labels', '0', /--labels must be an integer/],
      ['--lr', '0', /--lr must be a number in \(0, 1\)/],
      ['--dropout', '1', /--dropout must be a fraction in \[0, 1\)/],
    ] as const) {
      const r = cli('train', flag, bad, '--out', out);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
  });
});
