/**
 * reconstructions.png of large images: `reconstructionLayout` keeps the picture of small images as it was (16 at 8
 * columns, the command's scale) and draws fewer, at scale 1, where a fixed layout made a picture no renderer takes;
 * `convae pretrain --size 400x400` wrote its stack and then failed on a 12 809 × 6 406 px picture.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { reconstructionLayout } from '../../ts/cli/pictures.js';
import { MAX_RASTER_PIXELS } from '../../ts/limits.js';
import { reconstructionGridSize } from '../../ts/viz/raster.js';
import { BUILD } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliAsync(120_000);

describe('reconstructionLayout', () => {
  it('small images as before: 16 in 8 columns at the command’s scale (fewer when the test set is small)', () => {
    expect(reconstructionLayout(10_000, 28, 28, 4)).toEqual({ count: 16, columns: 8, scale: 4 });
    expect(reconstructionLayout(10_000, 32, 32, 3)).toEqual({ count: 16, columns: 8, scale: 3 });
    expect(reconstructionLayout(5, 28, 28, 4)).toEqual({ count: 5, columns: 5, scale: 4 });
  });

  it('large images: scale 1 and as many as fit, the grid within the renderers’ limits; none when one does not fit', () => {
    for (const [h, w] of [
      [400, 400],
      [800, 800],
      [1100, 1100],
      [16, 4000],
      [3000, 2000],
    ] as const) {
      const l = reconstructionLayout(64, h, w, 4)!;
      expect(l, `${h}×${w}`).not.toBeNull();
      expect(l.scale).toBe(1);
      const g = reconstructionGridSize('test', l.count, h, w, { scale: l.scale, columns: l.columns, pad: 2 });
      expect(g.width, `${h}×${w}`).toBeLessThanOrEqual(16_384);
      expect(g.height, `${h}×${w}`).toBeLessThanOrEqual(16_384);
      expect(g.width * g.height, `${h}×${w}`).toBeLessThanOrEqual(MAX_RASTER_PIXELS / 2);
    }
    expect(reconstructionLayout(64, 400, 400, 4)!.count).toBe(16);
    expect(reconstructionLayout(64, 10_000, 10_000, 4)).toBeNull();
  });
});

describe.runIf(BUILD === 'simd')('convae pretrain on 400×400 images', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-big-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('writes its stack and a reconstructions.png of 16 images at scale 1, exit 0', async () => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', join(dir, 'imgs')], { cwd: root }).status).toBe(
      0,
    );
    const out = join(dir, 'out');
    const r = await cli([
      'pretrain',
      '--data',
      join(dir, 'imgs'),
      '--size',
      '400x400',
      '--maps',
      '2,2',
      '--epochs',
      '1',
      '--out',
      out,
      '-q',
    ]);
    expect([r.status, r.stderr]).toEqual([0, '']);
    const png = PNG.sync.read(readFileSync(join(out, 'reconstructions.png')));
    // 8 columns of 400 px tiles and 2 pairs of rows (reconstructionGrid's 1 px padding).
    expect([png.width, png.height]).toEqual([1 + 8 * 401, 1 + 4 * 401 + 1]);
  }, 120_000);
});
