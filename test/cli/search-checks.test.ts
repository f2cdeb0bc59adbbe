/**
 * `convae search` refuses what would make every candidate fail before a worker starts: too few images to hold out
 * validation ones (the library's split error named no flag), filter sizes none of which fit the images (the search
 * trained nothing and exited 0 with an empty table). A search whose every candidate fails in training exits 1 (it
 * exited 0), its search.md listing why. A folder's search names the folder, not "mnist".
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliAsync(120_000);

describe.runIf(BUILD === 'simd')('convae search: refusals before training, and the data named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-search-'));
  const imgs = join(dir, 'imgs');
  beforeAll(() => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('too few images for a validation share: a usage error naming --limit (mnist) or --data (a folder)', async () => {
    const runs = await Promise.all([
      cli(['search', '--limit', '4', '--maps', '2', '--kernels', '3', '--out', join(dir, 'a')]),
      cli(['search', '--data', join(imgs, 'reds'), '--size', '16x16', '--limit', '4', '--out', join(dir, 'b')]),
    ]);
    expect(runs[0].status).toBe(1);
    expect(runs[0].stderr).toMatch(/^convae search: --limit gives 4 image\(s\); .* needs at least 5\n$/);
    expect(runs[1].status).toBe(1);
    expect(runs[1].stderr).toMatch(/convae search: --limit gives 4 image/);
    for (const d of ['a', 'b']) expect(existsSync(join(dir, d, 'search.md'))).toBe(false);
  }, 120_000);

  it('a folder too small once its test fifth is held out: its own count and the folder size that is enough', async () => {
    // 5 images: 1 held out for testing, 4 to train on, round(0.4) = 0 to validate on. 6: 5 to train on, 1 to validate.
    const files = readdirSync(join(imgs, 'reds')).slice(0, 6);
    for (const n of [5, 6]) {
      mkdirSync(join(dir, `f${n}`));
      for (const f of files.slice(0, n)) copyFileSync(join(imgs, 'reds', f), join(dir, `f${n}`, f));
    }
    const args = (n: number) => [
      'search',
      '--data',
      join(dir, `f${n}`),
      '--size',
      '8x8',
      '--maps',
      '2',
      '--kernels',
      '3',
      '--noise',
      '0',
      '-q',
      '--out',
      join(dir, `o${n}`),
    ];
    const [five, six] = await Promise.all([cli(args(5)), cli(args(6))]);
    expect(five.status).toBe(1);
    expect(five.stderr).toMatch(
      /^convae search: --data holds 5 image\(s\), 4 to train on .* needs at least 5: give a folder of at least 6\n$/,
    );
    // Refused before anything is written: not even the --out folder is made.
    expect(existsSync(join(dir, 'o5'))).toBe(false);
    expect(six.status, six.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'o6', 'search.json'), 'utf8')).images).toBe(5);
  }, 120_000);

  it('folder images too small for even a 1×1 filter: refused naming --size and a size that works', async () => {
    const args = (size: string, out: string) => [
      'search',
      '--data',
      imgs,
      '--size',
      size,
      '--limit',
      '20',
      '--maps',
      '2',
      '--kernels',
      '3,5',
      '--noise',
      '0',
      '-q',
      '--out',
      join(dir, out),
    ];
    const small = await cli(args('1x1', 'e'));
    expect(small.status).toBe(1);
    const m = /^convae search: --size 1x1: .* give --size (\d+)x\1 or larger \(for filter size 3\)\n$/.exec(
      small.stderr,
    );
    expect(m, small.stderr).not.toBeNull();
    expect(existsSync(join(dir, 'e'))).toBe(false);
    // The size it names trains the 3×3 filter (and not the 5×5 one, which it does not fit).
    const named = await cli(args(`${m![1]}x${m![1]}`, 'f'));
    expect(named.status, named.stderr).toBe(0);
    expect(
      JSON.parse(readFileSync(join(dir, 'f', 'search.json'), 'utf8')).ranked.map(
        (r: { filterSize: number }) => r.filterSize,
      ),
    ).toEqual([3]);
  }, 120_000);

  it('no filter size fits the images: refused naming the largest that does, nothing written', async () => {
    // 28 leaves a 1×1 map, which the 2×2 pooling cannot take: 27 leaves 2×2.
    const r = await cli(['search', '--limit', '50', '--maps', '2', '--kernels', '28', '--out', join(dir, 'c')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--kernels 28: no filter size fits 28×28 images .* the largest that does is 27/);
    expect(existsSync(join(dir, 'c', 'search.md'))).toBe(false);
    const ok = await cli([
      'search',
      '--limit',
      '50',
      '--maps',
      '2',
      '--kernels',
      '27',
      '--noise',
      '0',
      '-q',
      '--out',
      join(dir, 'd'),
    ]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'd', 'search.json'), 'utf8')).ranked).toHaveLength(1);
  }, 120_000);

  it('every candidate failing in training (a diverging rate) exits 1, and search.md says why each failed', async () => {
    const out = join(dir, 'f');
    const r = await cli([
      'search',
      '--limit',
      '200',
      '--maps',
      '4',
      '--kernels',
      '3',
      '--noise',
      '0',
      '--activations',
      'relu',
      '--lr',
      '1e30',
      '-q',
      '--out',
      out,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/convae search: no candidate finished/);
    expect(readFileSync(join(out, 'search.md'), 'utf8')).toMatch(
      /Not ranked .*\n\n- maps 4 filter 3 relu lr 1e\+30 noise 0 tied: fit: loss holds NaN/,
    );
    expect(JSON.parse(readFileSync(join(out, 'search.json'), 'utf8')).best).toBe(null);
  }, 120_000);

  it('a folder search names the folder in search.md and search.json', async () => {
    const folder = join(imgs, 'reds');
    const r = await cli([
      'search',
      '--data',
      folder,
      '--size',
      '16x16',
      '--maps',
      '2',
      '--kernels',
      '3',
      '--noise',
      '0',
      '-q',
      '--out',
      join(dir, 'e'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'e', 'search.md'), 'utf8')).toContain(`# convae search — ${folder},`);
    expect(JSON.parse(readFileSync(join(dir, 'e', 'search.json'), 'utf8')).dataset).toBe(folder);
  }, 120_000);
});
