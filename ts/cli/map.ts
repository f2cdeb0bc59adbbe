/**
 * `convae map --model DIR --data SPEC`: a 2-D map of the images by their codes. Every image goes through the saved
 * stack to `--depth` (0: the pixels, for comparison); `mapCodes` (UMAP) lays the codes out in two dimensions, keeping
 * each image near its `--neighbours` nearest codes. Writes map.csv (file, x, y and the true class when the data has
 * labels), map.png (one dot per image, coloured by class) and map-images.png (`--thumbnails` of the images drawn at
 * their places). The exact nearest neighbours UMAP starts from are
 * found by the runner (in workers, with the kernels), not by umap-js's approximate search; with labels, the share
 * of those neighbours that have the image's class is said for the codes and for the map: how much of the codes'
 * neighbourhoods the map keeps.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkNeighbourSizes, codeSize } from '../anomaly/embed.js';
import { MAX_MAP_NEIGHBOURS, mapCodes } from '../anomaly/map.js';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { ArgumentError } from '../errors.js';
import { makeDirs, writeAtomic } from '../io/files.js';
import type { Runner } from '../train/runner.js';
import { imageGrid, shrink } from '../viz/raster.js';
import { loadRenderer, pngDataUrl, scatterChart } from '../viz/render.js';
import { defaultWorkers } from '../worker/pool.js';
import { createRunner } from '../worker/runner.js';
import { csvField, labelCells, stackDepth } from './apply.js';
import { type AllData, type DataSpec, imagesHeld, limitIndices, resolveAllData } from './data.js';
import { checkMapNeighbours, checkNotAllSame, distinctCodes, distinctImages } from './distinct.js';
import { checkOutDir, checkOutFile, checkOutsideData } from './outdir.js';
import { loadSaved } from './saved.js';

const OP = 'convae map';

/**
 * Most images one map takes: UMAP's layout runs on this thread. Measured (scratch, random codes of 50 floats, the
 * neighbours on this thread): 10 000 codes in 22 s and 0.35 GB more, 50 000 in 159 s and 1.15 GB, a heap of 0.94 GB.
 */
export const MAX_MAP_IMAGES = 50_000;
/** Most images drawn in map-images.png: more would cover the map (and each is a PNG inside the SVG). */
export const MAX_THUMBNAILS = 2_000;

export interface MapArgs extends DataSpec {
  model: string;
  /** Blocks the images go through: 0 (the pixels) to the stack's length (default: all, the deepest code). */
  depth?: number;
  /** Neighbours UMAP keeps each image near (its n_neighbors; the image itself counts as one). */
  neighbours: number;
  /** UMAP's min_dist: how tightly the map may pack images, 0 to 1. */
  minDist: number;
  seed: number;
  /** Images drawn at their place in map-images.png, chosen as `--limit` chooses; 0: no such picture. */
  thumbnails: number;
  /** Folder of map.csv, map.png and map-images.png. */
  out: string;
  build: Build | 'auto';
  /** Workers that encode and find the neighbours (default: the cores); 0 = this thread. Same map either way. */
  workers?: number;
  quiet: boolean;
}

/** What `map` computed: one point per image, and with labels the neighbour agreement in the codes and in the map. */
export interface MapResult {
  files: string[];
  /** x0, y0, x1, y1, … in the order of `files`. */
  xy: Float32Array;
  /** Share of each image's `neighbours` nearest others that have its class, averaged (null without labels). */
  agreement: { codes: number; map: number } | null;
}

export async function map(a: MapArgs): Promise<MapResult> {
  const log = (s: string) => a.quiet || console.error(s);
  checkUmapOptions(a);
  loadRenderer(); // the pictures are drawn through SVG: without a renderer, stop before anything is read
  // map.png and map-images.png inside the folder would be read as images by the next run on it.
  await checkOutsideData(OP, [{ flag: '--out', path: a.out, folder: true }], [{ flag: '--data', spec: a.data }]);
  // Before the images are read when --out exists (then the checks create nothing): a folder named map.png was
  // refused only after every image had been read. A new --out is made below, after every other refusal.
  if (await stat(a.out).catch(() => null)) await checkOutputs(a);
  const be = await loadBackend({ build: a.build });
  const saved = await loadSaved(be, a.model, 'stack');
  let runner: Runner | undefined;
  try {
    const stack = saved.stack!;
    const depth = stackDepth(OP, a.depth, stack, a.model, true);
    const d = await resolveAllData({ ...a, ...saved.input, keepRaw: a.thumbnails > 0 }, saved.inputShape);
    const n = d.data.length;
    // Everything that can be refused is refused before an image is encoded.
    if (n > MAX_MAP_IMAGES)
      throw new ArgumentError(
        OP,
        '--data',
        `${d.name.slice(0, 120)} holds ${n} images; a map takes at most ${MAX_MAP_IMAGES}: give --limit ${MAX_MAP_IMAGES} or fewer`,
      );
    if (a.neighbours >= n)
      throw new ArgumentError(
        OP,
        '--neighbours',
        `${a.neighbours} needs at least ${a.neighbours + 1} images; ${imagesHeld(a.limit, n).held}: ${n >= 3 ? `give --neighbours ${n - 1} or fewer` : imagesHeld(a.limit, n).more}`,
      );
    const dim = codeSize(stack, depth);
    checkNeighbourSizes(OP, n, n, dim, a.neighbours);
    // Copies of an image have one code, laid out once (mapCodes): UMAP needs more distinct ones than neighbours.
    const images = distinctImages(d.data, depth);
    checkNotAllSame(OP, a.data, a.limit, n, images, 'map');
    checkMapNeighbours(OP, a.neighbours, a.limit, n, images);
    await checkOutputs(a);
    log(
      `${OP}: ${n} images${images.distinct < n ? ` (${images.distinct} distinct: each copy drawn at its original's place)` : ''} of ${d.name.slice(0, 120)}, ${depth === 0 ? `their pixels (${dim} floats)` : `codes of block ${depth} (${dim} floats)`}; UMAP with ${a.neighbours} neighbours, min_dist ${a.minDist}`,
    );
    runner = await createRunner(be, { workers: a.workers ?? (await defaultWorkers()) });
    const codes = await runner.encode(stack, d.data, { depth });
    const distinct = distinctCodes(codes, images);
    checkNotAllSame(OP, a.data, a.limit, n, distinct, 'map');
    checkMapNeighbours(OP, a.neighbours, a.limit, n, distinct);
    const labels = d.data.labels;
    const { points: xy, agreement } = await mapCodes(runner, codes, {
      neighbours: a.neighbours,
      minDist: a.minDist,
      seed: a.seed,
      ...(labels ? { labels } : {}),
    });
    await makeDirs(a.out);
    const lines = ['file,x,y,label,label_name'];
    for (let i = 0; i < n; i++)
      lines.push(
        `${csvField(d.names[i]!)},${xy[2 * i]!.toPrecision(6)},${xy[2 * i + 1]!.toPrecision(6)},${labelCells(d, i)}`,
      );
    await writeAtomic(join(a.out, 'map.csv'), `${lines.join('\n')}\n`);
    const chart = scatterChart(xy, labels, {
      title: `${d.name.slice(0, 60)}: ${depth === 0 ? 'pixels' : `block ${depth} codes`}, UMAP (${n} images)`,
      names: d.classes ?? null,
    });
    await writeAtomic(join(a.out, 'map.png'), chart.png);
    if (a.thumbnails > 0) await drawThumbnails(a, d, xy, depth);
    if (agreement)
      log(
        `${OP}: of each image's ${a.neighbours} nearest others, ${pct(agreement.codes)} share its class in the ${depth === 0 ? 'pixels' : 'codes'}, ${pct(agreement.map)} in the map`,
      );
    log(`${OP}: wrote ${join(a.out, 'map.csv')}, map.png${a.thumbnails > 0 ? ' and map-images.png' : ''}`);
    return { files: d.names, xy, agreement };
  } finally {
    await runner?.dispose();
    saved.dispose();
  }
}

/** The output folder, and no folder (or kernel file) named like an output: its write would fail after the layout. */
async function checkOutputs(a: MapArgs): Promise<void> {
  await checkOutDir(a.out);
  for (const file of ['map.csv', 'map.png', ...(a.thumbnails > 0 ? ['map-images.png'] : [])])
    await checkOutFile(join(a.out, file), '--out');
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

/** Side a thumbnail is drawn at, about: small images are scaled up by whole pixels. */
const THUMB_PX = 40;

/**
 * map-images.png: the map's dots, and over them `--thumbnails` images at their places (as `--limit` takes images: of a
 * folder, a seeded sample of its classes), so that an unlabelled folder's map shows what lies where.
 */
async function drawThumbnails(a: MapArgs, d: AllData, xy: Float32Array, depth: number): Promise<void> {
  // The images as read, not as normalised for the stack: a whitened photograph is a purple blur.
  const shown = d.raw ?? d.data;
  const [c, h0, w0] = shown.shape;
  // Images larger than a thumbnail are shrunk (an average over step × step pixels): drawn whole, 1 000-pixel images
  // would cover the map, and the picture refuses any over 1 024.
  const step = Math.max(1, Math.floor(Math.max(h0, w0) / THUMB_PX));
  const [h, w] = [Math.ceil(h0 / step), Math.ceil(w0 / step)];
  const scale = Math.max(1, Math.round(THUMB_PX / Math.max(h, w)));
  const chosen = limitIndices(d.data, d.name, Math.min(a.thumbnails, d.data.length), 1);
  const images = Array.from(chosen, (i) => {
    const r = imageGrid(shrink(shown.readImages(i, i + 1), c, h0, w0, step), [1, c, h, w], {
      columns: 1,
      scale,
      pad: 0,
      range: [0, 1],
    });
    return { point: i, href: pngDataUrl(r), width: r.width, height: r.height };
  });
  const chart = scatterChart(xy, d.data.labels, {
    title: `${d.name.slice(0, 60)}: ${depth === 0 ? 'pixels' : `block ${depth} codes`}, UMAP, ${images.length} images shown`,
    names: d.classes ?? null,
    images,
  });
  await writeAtomic(join(a.out, 'map-images.png'), chart.png);
}

/** `--neighbours`, `--min-dist` and `--thumbnails` as UMAP and the picture take them, before anything is read. */
function checkUmapOptions(a: MapArgs): void {
  if (!(Number.isInteger(a.thumbnails) && a.thumbnails >= 0 && a.thumbnails <= MAX_THUMBNAILS))
    throw new ArgumentError(OP, '--thumbnails', `must be an integer in [0, ${MAX_THUMBNAILS}], got ${a.thumbnails}`);
  if (!(Number.isInteger(a.neighbours) && a.neighbours >= 2 && a.neighbours <= MAX_MAP_NEIGHBOURS))
    throw new ArgumentError(
      OP,
      '--neighbours',
      `must be an integer in [2, ${MAX_MAP_NEIGHBOURS}], got ${a.neighbours}`,
    );
  if (!(a.minDist >= 0 && a.minDist <= 1))
    throw new ArgumentError(OP, '--min-dist', `must be in [0, 1], got ${a.minDist}`);
}
