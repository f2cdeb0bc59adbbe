/**
 * `convae cluster` writes its files as one: a write that fails part way (a full disk, injected into node:fs/promises
 * as in atomic-save.test.ts) leaves an earlier run's clusters.csv, clusters.png, clusters.json and k-scores.csv byte
 * for byte, never this run's k-scores.csv and clusters.csv beside the earlier clusters.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { cluster } from '../../ts/cli/cluster.js';
import { OutputError } from '../../ts/errors.js';
import { BUILD } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

/** Writes to a path matching `re` stop after half their bytes with EFBIG. */
const inject = vi.hoisted(() => ({ re: null as RegExp | null }));

vi.mock('node:fs/promises', async (importOriginal) =>
  (await import('../util/efbig.js')).efbigFs(importOriginal, inject),
);

const root = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'convae-cluster-save-'));
afterEach(() => {
  inject.re = null;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const snapshot = (folder: string) =>
  Object.fromEntries(readdirSync(folder).map((f) => [f, readFileSync(join(folder, f)).toString('base64')]));

describe.runIf(BUILD === 'simd')('convae cluster, a failed write', () => {
  it('leaves the earlier run’s four files as they were, and no .tmp', async () => {
    const imgs = join(dir, 'imgs'),
      stack = join(dir, 'stack'),
      out = join(dir, 'out');
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    const r = await cliAsync(120_000)(['pretrain', '--data', imgs, '--size', '16x16', '--epochs', '1', '--out', stack]);
    expect(r.status, r.stderr).toBe(0);
    const base = { model: stack, data: imgs, umap: 0, neighbours: 12, restarts: 1, perCluster: 2, out, workers: 0 };
    const args = { ...base, build: BUILD, quiet: true };
    await cluster({ ...args, k: { from: 2, to: 4 }, seed: 1 });
    const before = snapshot(out);
    expect(Object.keys(before).sort()).toEqual(['clusters.csv', 'clusters.json', 'clusters.png', 'k-scores.csv']);
    for (const [file, k] of [
      ['clusters.png', { from: 3, to: 5 }],
      ['clusters.json', 5],
    ] as const) {
      inject.re = new RegExp(`${file.replace('.', '\\.')}\\.`);
      const err = await cluster({ ...args, k, seed: 2 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutputError);
      expect((err as Error).message).toContain(file);
      expect(snapshot(out)).toEqual(before);
    }
  }, 120_000);
});
