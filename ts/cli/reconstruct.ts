/** `convae reconstruct`: a PNG of images next to their reconstructions by the first CAE of a saved stack. */
import { makeDirs } from '../io/files.js';
import { dirname } from 'node:path';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { writePng } from '../viz/png.js';
import { reconstructionGrid, reconstructionGridSize } from '../viz/raster.js';
import { ArgumentError } from '../errors.js';
import { MAX_RASTER_PIXELS } from '../limits.js';
import { reconstructThrough } from '../anomaly/score.js';
import { resolveAllData, type DataSpec } from './data.js';
import { checkOutsideData } from './outdir.js';
import { checkOutNotModel, loadSaved } from './saved.js';

export interface ReconstructArgs extends DataSpec {
  model: string;
  /** The PNG written. */
  out: string;
  /** Images shown (the first ones). */
  count: number;
  columns: number;
  scale: number;
  build: Build | 'auto';
}

export async function reconstruct(a: ReconstructArgs): Promise<{ mse: number; count: number }> {
  await checkOutsideData(
    'convae reconstruct',
    [{ flag: '--out', path: a.out, folder: false }],
    [{ flag: '--data', spec: a.data }],
  );
  await checkOutNotModel('convae reconstruct', '--out', a.out, a.model);
  const be = await loadBackend({ build: a.build });
  const saved = await loadSaved(be, a.model, 'stack');
  try {
    const d = await resolveAllData({ ...a, limit: a.count, ...saved.input }, saved.inputShape);
    const n = d.data.length;
    const grid = {
      scale: a.scale,
      columns: Math.min(a.columns, n),
      // Contrast-normalised images are centred on 0 with unit variance: grey is 0, ±3 the ends.
      range: (saved.input.normalize !== 'none' ? [-3, 3] : [0, 1]) as [number, number],
    };
    // The picture's size, before the images go through the CAE: --count × --scale² grows it fast.
    const [, h, w] = d.data.shape;
    const size = reconstructionGridSize('convae reconstruct', n, h, w, grid);
    if (size.width * size.height > MAX_RASTER_PIXELS)
      throw new ArgumentError(
        'convae reconstruct',
        '--count',
        `${n} at --scale ${a.scale} in ${grid.columns} columns makes a ${size.width}×${size.height} px picture, more than ${MAX_RASTER_PIXELS} pixels (MAX_RASTER_PIXELS): show fewer images or a smaller scale`,
      );
    const originals = d.data.readImages(0, n);
    // In batches that fit (reconstructThrough's default): --count images at once could pass the tensor limit.
    const y = reconstructThrough(saved.stack!, d.data, 1);
    let se = 0;
    for (let i = 0; i < y.length; i++) se += (y[i] - originals[i]) ** 2;
    await makeDirs(dirname(a.out));
    await writePng(
      a.out,
      reconstructionGrid(originals, y, [n, ...d.data.shape] as [number, number, number, number], grid),
    );
    // The CAE's own loss, 1/(2n) Σ (x − y)², as train, pretrain and evaluate report it (PyTorch's MSELoss is twice this).
    return { mse: se / (2 * y.length), count: n };
  } finally {
    saved.dispose();
  }
}
