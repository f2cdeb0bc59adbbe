/**
 * `convae anomaly`, `convae embeddings` and `convae features` end to end on
 * small runs: each writes its table / pictures, the numbers in them are
 * sensible (AUROC in [0, 1] and well above chance for the kNN score), and bad
 * arguments give a one-line error, no stack trace.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { saveModel } from '../../ts/model/serialize.js';
import { PNG } from 'pngjs';
import { BUILD, backendUnderTest } from '../util/backend.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'ts/cli/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
  });

describe.runIf(BUILD === 'simd')('anomaly / embeddings / features CLI', () => {
  const out = mkdtempSync(join(tmpdir(), 'convae-anomaly-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  for (const [args, message] of [
    [['anomaly'], /--normal is needed/],
    [['anomaly', '--normal', '12'], /--normal must be a class 0–9/],
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
