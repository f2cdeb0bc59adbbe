/**
 * `convae anomaly`, `convae embeddings` and `convae features` end to end on
 * small runs: each writes its table / pictures, the numbers in them are
 * sensible (AUROC in [0, 1] and well above chance for the kNN score), and bad
 * arguments give a one-line error, no stack trace.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { loadModel, saveModel } from '../../ts/model/serialize.js';
import { encode } from '../../ts/anomaly/embed.js';
import { knnAccuracy } from '../../ts/anomaly/probe.js';
import { loadMnist } from '../../ts/data/mnist.js';
import { contrastNormalize } from '../../ts/data/normalize.js';
import { Rng } from '../../ts/util/rng.js';
import { PNG } from 'pngjs';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { cliRunner } from '../util/cli.js';

const cli = cliRunner(300_000);

describe.runIf(BUILD === 'simd')('anomaly / embeddings / features CLI', () => {
  const out = mkdtempSync(join(tmpdir(), 'convae-anomaly-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  for (const [args, message] of [
    [['anomaly'], /--normal is needed/],
    [['anomaly', '--normal', '12'], /--normal must be a class of mnist \(an index 0–9 or a name: 0, 1/],
    [
      ['anomaly', '--dataset', 'fashion', '--data', 'mnist', '--normal', '1'],
      /--dataset and --data name the data twice/,
    ],
    [['anomaly', '--normal', '1', '--workers', '-1'], /--workers must be an integer in \[0, 256\]/],
    [['anomaly', '--normal', '1', '--fpr', '2'], /--fpr must be in \(0, 1\)/],
    [['features'], /required option '--model <dir>'/],
    [['features', '--model', '/nonexistent-convae'], /stack.json cannot be read/],
  ] as const) {
    it(`${args.join(' ')} → a one-line error and a non-zero exit`, () => {
      const r = cli(...args);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('anomaly --normal 1 --seeds 2 --limit 200: the table, the runs and the pictures', () => {
    const dir = join(out, 'anomaly');
    const r = cli('anomaly', '--normal', '1', '--seeds', '2', '--limit', '200', '--out', dir, '-q');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const table = readFileSync(join(dir, 'anomaly.md'), 'utf8');
    expect(table).toMatch(/\| 1 \| \d+\.\d ± \d+\.\d \| 99\.7 \|/);
    const j = JSON.parse(readFileSync(join(dir, 'anomaly.json'), 'utf8'));
    expect(j.runs).toHaveLength(2);
    for (const run of j.runs) {
      // Ones against everything else is easy even for a 180-image model: far above chance.
      expect(run.auroc).toBeGreaterThan(0.9);
      expect(run.auroc).toBeLessThanOrEqual(1);
      expect(run.evaluated.normal + run.evaluated.anomalous).toBe(2000);
    }
    for (const f of ['highest.png', 'lowest.png']) {
      const png = PNG.sync.read(readFileSync(join(dir, f)));
      expect(png.width).toBeGreaterThan(100);
    }
    const highest = JSON.parse(readFileSync(join(dir, 'highest.json'), 'utf8'));
    const lowest = JSON.parse(readFileSync(join(dir, 'lowest.json'), 'utf8'));
    expect(highest[0].score).toBeGreaterThanOrEqual(highest[15].score);
    expect(highest[15].score).toBeGreaterThan(lowest[0].score);
  });

  it('anomaly --dataset fashion --normal Sneaker (a class name): one row, far above chance', () => {
    const dir = join(out, 'fashion');
    const r = cli(
      'anomaly',
      '--dataset',
      'fashion',
      '--normal',
      'sneaker',
      '--seeds',
      '1',
      '--limit',
      '200',
      '--out',
      dir,
      '-q',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(readFileSync(join(dir, 'anomaly.json'), 'utf8'));
    expect(j.runs.map((x: { normal: number; class: string }) => [x.normal, x.class])).toEqual([[7, 'Sneaker']]);
    expect(j.runs[0].auroc).toBeGreaterThan(0.85);
    expect(readFileSync(join(dir, 'anomaly.md'), 'utf8')).toMatch(/\| 7 Sneaker \| \d+\.\d ± 0\.0 \|/);
  }, 120_000);

  it('anomaly --evaluate validation: every candidate score has a column', () => {
    const dir = join(out, 'validation');
    const r = cli(
      'anomaly',
      '--normal',
      '0',
      '--seeds',
      '1',
      '--limit',
      '150',
      '--evaluate',
      'validation',
      '--out',
      dir,
      '-q',
    );
    expect(r.status).toBe(0);
    const table = readFileSync(join(dir, 'anomaly.md'), 'utf8');
    for (const c of ['recon@1', 'recon@2', 'knn1@0', 'knn5@2']) expect(table).toContain(c);
    expect(table).not.toContain('Deep SVDD');
  }, 120_000);

  it('embeddings on a small run: a row per code and depth, accuracies in [0, 1]', () => {
    const dir = join(out, 'embeddings');
    const r = cli('embeddings', '--labels', '100', '--unlabelled', '300', '--test-limit', '200', '--out', dir, '-q');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(readFileSync(join(dir, 'embeddings.json'), 'utf8'));
    expect(j.rows.map((x: { code: string; depth: number }) => `${x.code}@${x.depth}`)).toEqual([
      'raw pixels@0',
      'random encoder@1',
      'random encoder@2',
      'trained CAE stack@1',
      'trained CAE stack@2',
    ]);
    // 1-NN on pixels from 100 labels is far above the 10 % of chance.
    expect(j.rows[0].knn).toBeGreaterThan(0.4);
    for (const row of j.rows) expect(row.linear).toBeLessThanOrEqual(1);
    expect(existsSync(join(dir, 'stack.safetensors'))).toBe(true);
  }, 300_000);

  it('embeddings --model on a contrast-normalised stack encodes the images as the stack saw them in training', async () => {
    const dir = join(out, 'contrast-stack');
    const p = cli(
      ...['pretrain', '--limit', '600', '--epochs', '1', '--maps', '4,8', '--normalize', 'contrast'],
      ...['--out', dir, '-q'],
    );
    expect(p.status, p.stderr).toBe(0);
    const emb = join(out, 'contrast-embeddings');
    const args = ['--model', dir, '--labels', '100', '--test-limit', '200', '--workers', '0', '--out', emb, '-q'];
    const r = cli('embeddings', ...args);
    expect(r.status, r.stderr).toBe(0);
    const rows: { code: string; depth: number; knn: number }[] = JSON.parse(
      readFileSync(join(emb, 'embeddings.json'), 'utf8'),
    ).rows;
    // The same 1-NN accuracies from the library: the seeded labelled subset, contrast-normalised, through the stack.
    const be = await backendUnderTest();
    const stack = loadModel(
      be,
      readFileSync(join(dir, 'stack.json'), 'utf8'),
      readFileSync(join(dir, 'stack.safetensors')),
    ).model as StackedConvAutoencoder;
    try {
      const train = await loadMnist({ split: 'train' }),
        test = await loadMnist({ split: 'test', limit: 200 });
      const pick = Array.from(new Rng(1).permutation(train.length).subarray(0, 100)).sort((x, y) => x - y);
      const labelled = train.subset(pick);
      for (const depth of [1, 2]) {
        const tr = encode(stack, contrastNormalize(labelled), { depth }),
          te = encode(stack, contrastNormalize(test), { depth });
        const knn = knnAccuracy(be, tr, labelled.labels!, te, test.labels!, { k: 1 });
        expect(rows.find((x) => x.code === 'trained CAE stack' && x.depth === depth)!.knn).toBe(knn);
      }
    } finally {
      stack.dispose();
    }
  }, 300_000);

  it('features --model on a saved 2-block stack: one PNG per block, a row per feature', async () => {
    const be = await backendUnderTest();
    const stack = new StackedConvAutoencoder(
      be,
      [
        { convs: [{ filters: 4, kernel: 5 }], pool: { kernel: 2 } },
        { convs: [{ filters: 3, kernel: 5 }], pool: { kernel: 2 } },
      ],
      [1, 28, 28],
      2,
    );
    const dir = join(out, 'model');
    const saved = saveModel(stack);
    stack.dispose();
    rmSync(dir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'stack.json'), saved.json);
    writeFileSync(join(dir, 'stack.safetensors'), saved.weights);
    const r = cli('features', '--model', dir, '--limit', '100', '--top', '4', '-q');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const b1 = PNG.sync.read(readFileSync(join(dir, 'features-block1.png')));
    const b2 = PNG.sync.read(readFileSync(join(dir, 'features-block2.png')));
    // 8 tiles of 28·3 px + 9 px of padding per row; 4 and 3 rows.
    expect(b1.width).toBe(8 * 84 + 9);
    expect(b1.height).toBe(4 * 84 + 5);
    expect(b2.height).toBe(3 * 84 + 4);
    const meta = JSON.parse(readFileSync(join(dir, 'features.json'), 'utf8'));
    expect(meta.block1).toHaveLength(4);
    expect(meta.block2[0].activations[0]).toBeGreaterThanOrEqual(meta.block2[0].activations[3]);
  });
});

/** Three classes of 24×24 RGB images anyone can tell apart: horizontal stripes, vertical stripes, dots; random phase, colour and noise. */
async function makeFolder(root: string): Promise<void> {
  const sharp = (await import('sharp')).default;
  const { mkdirSync } = await import('node:fs');
  let seed = 7;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const side = 24;
  const pattern: Record<string, (x: number, y: number, p: number) => number> = {
    hstripes: (_x, y, p) => (Math.floor((y + p) / 3) % 2 ? 1 : 0),
    vstripes: (x, _y, p) => (Math.floor((x + p) / 3) % 2 ? 1 : 0),
    dots: (x, y, p) => ((x + p) % 6 < 2 && (y + p) % 6 < 2 ? 1 : 0),
  };
  for (const [cls, f] of Object.entries(pattern)) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < 30; i++) {
      const px = Buffer.alloc(side * side * 3);
      const p = Math.floor(rand() * 6),
        tint = [rand(), rand(), rand()];
      for (let y = 0; y < side; y++)
        for (let x = 0; x < side; x++)
          for (let c = 0; c < 3; c++)
            px[(y * side + x) * 3 + c] = Math.max(
              0,
              Math.min(255, Math.round(255 * (0.2 + 0.6 * f(x, y, p) * (0.5 + 0.5 * tint[c]) + 0.1 * rand()))),
            );
      await sharp(px, { raw: { width: side, height: side, channels: 3 } })
        .png()
        .toFile(join(root, cls, `${i}.png`));
    }
  }
}

describe.runIf(BUILD === 'simd')('anomaly --data <image folder>', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-anomaly-folder-'));
  const imgs = join(dir, 'imgs');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => cli('anomaly', '--data', imgs, '--size', '16x16', '--seeds', '1', '-q', ...args);

  it('--normal <sub-folder>: trains on that class, the others are the anomalies; workers score as this thread does', async () => {
    await makeFolder(imgs);
    const json = (name: string) => JSON.parse(readFileSync(join(dir, name, 'anomaly.json'), 'utf8'));
    for (const w of ['0', '2']) {
      const r = run('--normal', 'dots', '--workers', w, '--out', join(dir, `one-${w}`));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    const [a, b] = [json('one-0'), json('one-2')];
    expect(a.data).toBe(`folder:${imgs}`);
    expect(a.classes).toEqual(['dots', 'hstripes', 'vstripes']);
    expect(a.runs).toHaveLength(1);
    const run0 = a.runs[0];
    expect([run0.normal, run0.class]).toEqual([0, 'dots']);
    // 80 % of 90 images train (dots: 24 minus a held-out tenth), 20 % test (18 images, 6 or so of them dots).
    expect(run0.trainImages).toBeGreaterThan(15);
    expect(run0.evaluated.normal + run0.evaluated.anomalous).toBe(18);
    expect(run0.evaluated.normal).toBeGreaterThan(0);
    expect(run0.auroc).toBeGreaterThan(0.9);
    // Training is on this thread in both runs, so the workers must reproduce the scores exactly.
    expect(b.runs[0].auroc).toBe(run0.auroc);
    expect(b.runs[0].threshold).toBe(run0.threshold);
  }, 200_000);

  it('--all-classes: a row per sub-folder and their mean', () => {
    const r = run('--all-classes', '--out', join(dir, 'all'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const table = readFileSync(join(dir, 'all', 'anomaly.md'), 'utf8');
    for (const c of ['0 dots', '1 hstripes', '2 vstripes', '**mean**']) expect(table).toContain(`| ${c} |`);
    expect(table).not.toContain('Deep SVDD');
    const j = JSON.parse(readFileSync(join(dir, 'all', 'anomaly.json'), 'utf8'));
    for (const x of j.runs) expect(x.auroc).toBeGreaterThan(0.8);
  }, 200_000);

  it('typed one-line errors: an unknown class, a folder without labels, a single class', async () => {
    const { cpSync, mkdirSync } = await import('node:fs');
    const flat = join(dir, 'flat'),
      single = join(dir, 'single');
    mkdirSync(flat, { recursive: true });
    for (let i = 0; i < 5; i++) cpSync(join(imgs, 'dots', `${i}.png`), join(flat, `${i}.png`));
    cpSync(join(imgs, 'dots'), join(single, 'dots'), { recursive: true });
    for (const [args, message] of [
      [
        ['--data', imgs, '--normal', 'squares'],
        /--normal must be a class of folder:.*dots, hstripes, vstripes\), got 'squares'/,
      ],
      [['--data', imgs, '--normal', '3'], /an index 0–2/],
      [['--data', flat, '--normal', '0'], /has no labels: the one-class protocol needs classes/],
      [['--data', single, '--normal', 'dots'], /has a single class \(dots\)/],
    ] as const) {
      const r = cli('anomaly', ...args, '--size', '16x16', '-q', '--out', join(dir, 'err'));
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  }, 120_000);
});
