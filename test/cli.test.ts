/** The `convae` command line: argument errors give usage, not a stack trace; a tiny run writes a loadable model and pictures. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../ts/model/serialize.js';
import { Classifier } from '../ts/model/classifier.js';
import { BUILD, backendUnderTest } from './util/backend.js';
import { cliRunner } from './util/cli.js';

const cli = cliRunner(120_000);

describe.runIf(BUILD === 'simd')('convae CLI', () => {
  const out = mkdtempSync(join(tmpdir(), 'convae-cli-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  for (const [args, message] of [
    [['train', '--batch', '0'], /--batch must be an integer in \[1, /],
    [['train', '--dataset', 'cifar'], /Allowed choices are mnist, fashion/],
    [['train', '--maps', '20'], /--maps takes two integers/],
    [['train', '--frobnicate'], /unknown option '--frobnicate'/],
    [['fly'], /unknown command 'fly'/],
    [['paper', '--sizes', '5'], /--sizes takes integers in \[10, 60000\]/],
    [['paper', '--lrs', '0.05,-1'], /--lrs takes a comma-separated list: numbers in \(0, 10\)/],
    [['paper', '--conv-factors', '0'], /--conv-factors takes a comma-separated list: numbers in \(0, 1\]/],
    [['paper', '--arch', 'vgg'], /Allowed choices are small, small-relu, masci/],
    [['paper', '--first-cae', 'sparse'], /Allowed choices are ksparse, noise/],
    [['paper', '--validation', '1'], /--validation must be a fraction in \(0, 1\)/],
    [['paper', '--seed-offset', '-1'], /--seed-offset must be an integer in \[0, /],
    [['paper', '--shift', '9'], /--shift must be an integer in \[0, 8\]/],
    [['paper', '--epochs', '1000:0'], /--epochs takes size:epochs pairs/],
    [['paper', '--dropouts', '1'], /--dropouts takes a comma-separated list: fractions in \[0, 1\)/],
    [['filters-figure', '--kernel', '0'], /--kernel must be an integer in \[1, 28\]/],
    [['search', '--kernels', '3,x'], /--kernels takes a comma-separated list/],
    [['search', '--maps', '8,8'], /--maps lists 8 twice: give each value once/],
    [['paper', '--sizes', '1000,1000'], /--sizes lists 1000 twice/],
    [['paper', '--epochs', '1000:3,1000:4'], /--epochs lists 1000 twice/],
    [['paper', '--epochs', '1000:3:4'], /--epochs takes size:epochs pairs/],
    [['search', '--activations', 'swish'], /--activations takes a comma-separated list: tanh, relu/],
    [['train', '--workers', '-1'], /--workers must be an integer in \[0, 256\]/],
    [['train', '--maps', '1000000000,2'], /--maps takes two integers in \[1, 4096\]/],
    [['train', '--hidden', '2000000'], /--hidden must be an integer in \[1, 65536\]/],
    [['pretrain', '--lr', 'abc'], /--lr must be a number in \(0, 1\)/],
  ] as const) {
    it(`${args.join(' ')} → usage and a non-zero exit, no stack trace`, () => {
      const r = cli(...args);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/Usage: convae/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('a tiny run writes the model, filters, reconstructions and loss curves; the model loads', async () => {
    const r = cli(
      'train',
      '--limit',
      '600',
      '--epochs',
      '1',
      '--pretrain-epochs',
      '1',
      '--maps',
      '4,6',
      '--hidden',
      '16',
      '--out',
      out,
      '--build',
      'simd',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/CAE 1: reconstruction MSE on the test images \d\.\d+/);
    expect(r.stdout).toMatch(/test error \d+\.\d+ % on 1000 test images/);
    for (const f of [
      'classifier.json',
      'classifier.safetensors',
      'stack.json',
      'stack.safetensors',
      'filters-block1.png',
      'filters-block2.png',
      'reconstructions.png',
      'loss.png',
      'loss.svg',
      'report.json',
      'finetune-checkpoint.safetensors',
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const be = await backendUnderTest();
    const { model } = loadModel(
      be,
      readFileSync(join(out, 'classifier.json'), 'utf8'),
      readFileSync(join(out, 'classifier.safetensors')),
      'cli',
    );
    expect(model).toBeInstanceOf(Classifier);
    model.dispose();
  }, 120_000);

  it('--resume continues from the saved stack and fine-tuning checkpoint; without them it says so', () => {
    const r = cli(
      'train',
      '--limit',
      '600',
      '--epochs',
      '2',
      '--pretrain-epochs',
      '1',
      '--maps',
      '4,6',
      '--hidden',
      '16',
      '--out',
      out,
      '--build',
      'simd',
      '--resume',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/resuming: pretrained stack from .*, fine-tuning from epoch 2/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.histories.classifier.epochs.length).toBe(2);
    const empty = mkdtempSync(join(tmpdir(), 'convae-empty-'));
    const bad = cli('train', '--out', empty, '--resume', '--limit', '600');
    rmSync(empty, { recursive: true, force: true });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/convae: nothing to resume in .*stack.json cannot be read/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('paper: a tiny run tunes both initialisations on validation splits, prints the paired table, writes paper.md/json; --resume reuses every run', () => {
    const dir = join(out, 'paper');
    const args = [
      'paper',
      '--sizes',
      '100,200',
      '--seeds',
      '2',
      '--seed-offset',
      '7',
      '--lrs',
      '0.05',
      '--epochs',
      '100:4,200:2',
      '--epoch-factors',
      '1',
      '--dropouts',
      '0,0.5',
      '--conv-factors',
      '1,0.5',
      '--unlabelled',
      '300',
      '--limit',
      '1200',
      '--pretrain-epochs',
      '1',
      '--shift',
      '1',
      '--out',
      dir,
      '--build',
      'simd',
    ];
    const r = cli(...args, '-q');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /\| 100 \| \d+\.\d\d ± \d+\.\d\d \| \d+\.\d\d ± \d+\.\d\d \| -?\d+\.\d\d ± \d+\.\d\d \| \d of 2 \| (yes \(> 2 std\)|within 2 std|no difference|worse) \|/,
    );
    expect(r.stdout).toMatch(/on the 1000 test images, mean ± std over 2 seeds \(7…8\)/);
    const json = JSON.parse(readFileSync(join(dir, 'paper.json'), 'utf8'));
    expect(json.seeds).toEqual([7, 8]);
    // The grid: 1 rate × 2 dropouts × 2 conv factors, for both initialisations alike.
    expect(json.tuning['100'].random.length).toBe(4);
    expect(json.tuning['100'].pretrained.map((t: { setting: unknown }) => t.setting)).toEqual(
      json.tuning['100'].random.map((t: { setting: unknown }) => t.setting),
    );
    expect(json.errors['200'].pretrained.length).toBe(2);
    expect(readFileSync(join(dir, 'paper.md'), 'utf8')).toMatch(/\| 200 \| (random|pretrained) \| /);
    // Resumed: every run and stack is reused, so the table is the same and nothing is trained.
    const again = cli(...args, '--resume');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/pretrained 2 CAEs/);
    expect(JSON.parse(readFileSync(join(dir, 'paper.json'), 'utf8')).errors).toEqual(json.errors);
  }, 240_000);

  it('paper: arguments that contradict each other are ArgumentErrors before anything is trained', () => {
    for (const [args, message] of [
      [['--seeds', '2', '--tune-seeds', '3'], /--tune-seeds.*is 3, more than --seeds 2/],
      [['--sizes', '100', '--validation', '0.05'], /--validation.*0.05 of 100 labelled images leaves fewer than 10/],
      [['--sizes', '70000'], /--sizes takes integers in \[10, 60000\]/],
    ] as const) {
      const r = cli('paper', ...args, '--out', join(out, 'paper-bad'), '--build', 'simd');
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).not.toMatch(/tune|pretrained/);
    }
  });

  it('filters-figure: four CAEs trained on a few images, one picture with a panel each', async () => {
    const dir = join(out, 'ff');
    const r = cli('filters-figure', '--limit', '300', '--epochs', '1', '--maps', '6', '--out', dir, '--build', 'simd');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/reconstruction MSE on test images 0\.\d+/g)?.length).toBeGreaterThanOrEqual(4);
    const { PNG } = await import('pngjs');
    const png = PNG.sync.read(readFileSync(join(dir, 'filters-figure.png')));
    expect(png.width).toBeGreaterThan(300);
    const svg = readFileSync(join(dir, 'filters-figure.svg'), 'utf8');
    for (const label of ['plain', '50 % noise', 'max-pool 2×2', 'max-pool + 30 % noise']) expect(svg).toContain(label);
  }, 120_000);

  it('search: ranks a small grid trained in workers, writes search.md and search.json; train --from-search uses the best block', () => {
    const dir = join(out, 'search');
    const r = cli(
      'search',
      '--limit',
      '800',
      '--maps',
      '2,6',
      '--kernels',
      '3,5',
      '--noise',
      '0',
      '--workers',
      '2',
      '--out',
      dir,
      '--build',
      'simd',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[4\/4\] maps \d filter \d tanh/);
    expect(r.stdout).toMatch(/\| 1 \| \d \| \d×\d \| tanh \| 0\.003 \| 0 \| tied \| 0\.\d{5} \|/);
    const j = JSON.parse(readFileSync(join(dir, 'search.json'), 'utf8'));
    expect(j.ranked).toHaveLength(4);
    expect(j.best).toEqual(j.ranked[0].block);
    expect(readFileSync(join(dir, 'search.md'), 'utf8')).toMatch(/Ranked by validation reconstruction MSE/);
    const t = cli(
      'train',
      '--limit',
      '600',
      '--epochs',
      '1',
      '--maps',
      '4,6',
      '--hidden',
      '16',
      '--out',
      join(out, 'from-search'),
      '--build',
      'simd',
      '--from-search',
      join(dir, 'search.json'),
      '--workers',
      '0',
    );
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toContain(`first CAE block from ${join(dir, 'search.json')}: ${JSON.stringify(j.best)}`);
    expect(t.stdout).toMatch(/this thread/);
    const bad = cli('train', '--limit', '600', '--out', join(out, 'x'), '--from-search', join(dir, 'search.md'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/search\.md: not JSON/);
  }, 120_000);
});
