/**
 * `convae similar --model DIR --data DIR [--query DIR]`: image search by code distance. Every image of `--data`
 * (and of `--query`, when given) goes through the saved stack to `--depth`; each query's `--k` nearest images of
 * `--data` by Euclidean distance between codes are written as CSV (query, rank, file, distance) or JSON, nearest
 * first. Without `--query` the queries are the images of `--data` themselves, each left out of its own list: near
 * duplicates are the rows of smallest distance. `--picture` draws `--rows` queries (as `--limit` takes images), each
 * followed by its neighbours.
 */
import { dirname } from 'node:path';
import { checkNeighbourSizes, codeSize } from '../anomaly/embed.js';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { ArgumentError } from '../errors.js';
import { writeOutput, makeDirs } from '../io/files.js';
import { MAX_RASTER_PIXELS } from '../limits.js';
import type { Runner } from '../train/runner.js';
import { writePng } from '../viz/png.js';
import { gridSize, imageGrid } from '../viz/raster.js';
import { defaultWorkers } from '../worker/pool.js';
import { createRunner } from '../worker/runner.js';
import { csvField, stackDepth } from './apply.js';
import { type AllData, type DataSpec, imagesHeld, limitIndices, resolveAllData } from './data.js';
import { checkOutFile, checkOutsideData, sameFile } from './outdir.js';
import { checkOutNotModel, loadSaved } from './saved.js';

const OP = 'convae similar';

export interface SimilarArgs extends DataSpec {
  model: string;
  /** The images whose neighbours are found (any `--data` spec); default: every image of `data`, among the others. */
  query?: string;
  /** Neighbours per query. */
  k: number;
  /** Blocks the images go through: 0 (the pixels, to compare with) to the stack's length (default: all, the deepest code). */
  depth?: number;
  format: 'csv' | 'json';
  /** File written; stdout when absent. */
  out?: string;
  /** A PNG of `rows` queries (as `--limit` takes images: of a folder, a sample of its classes), each followed by its neighbours. */
  picture?: string;
  rows: number;
  scale: number;
  build: Build | 'auto';
  /** Workers that encode and search (default: the cores); 0 = this thread. Same results either way. */
  workers?: number;
  quiet: boolean;
}

/** One query's neighbours, nearest first. */
export interface SimilarRow {
  query: string;
  neighbours: { file: string; distance: number }[];
}

export async function similar(a: SimilarArgs): Promise<SimilarRow[]> {
  const log = (s: string) => a.quiet || console.error(s);
  if (a.picture !== undefined)
    await checkOutsideData(
      OP,
      [{ flag: '--picture', path: a.picture, folder: false }],
      [
        { flag: '--data', spec: a.data },
        { flag: '--query', spec: a.query },
      ],
    );
  await checkOutNotModel(OP, '--out', a.out, a.model);
  await checkOutNotModel(OP, '--picture', a.picture, a.model);
  const be = await loadBackend({ build: a.build });
  const saved = await loadSaved(be, a.model, 'stack');
  let runner: Runner | undefined;
  try {
    const stack = saved.stack!;
    const depth = stackDepth(OP, a.depth, stack, a.model, true);
    const spec = { ...a, ...saved.input, keepRaw: a.picture !== undefined };
    const data = await resolveAllData(spec, saved.inputShape);
    const query =
      a.query !== undefined
        ? await resolveAllData({ ...spec, data: a.query, flag: '--query' }, saved.inputShape)
        : null;
    // Everything that can be refused is refused before an image is encoded.
    const self = query === null;
    const refs = data.data.length - (self ? 1 : 0);
    if (a.k > refs)
      throw new ArgumentError(
        OP,
        '--k',
        `${a.k} needs ${a.k} images to choose from; ${imagesHeld(a.limit, data.data.length).held}${self ? `, each query among the other ${refs}` : ''}: ${refs >= 1 ? `give --k ${refs} or fewer` : `${imagesHeld(a.limit, data.data.length).more}, or the images to find neighbours of as --query`}`,
      );
    const queries = query ?? data;
    checkNeighbourSizes(OP, queries.data.length, data.data.length, codeSize(stack, depth), a.k);
    checkOutputSize(queries.names, data.names, a.k);
    if (a.out) await checkOutFile(a.out);
    if (a.picture) {
      await checkOutFile(a.picture, '--picture');
      if (a.out && (await sameFile(a.out, a.picture)))
        throw new ArgumentError(
          OP,
          '--picture',
          `${a.picture.slice(0, 160)} is also --out: the PNG would replace the neighbours; give two files`,
        );
      checkPicture(a, queries, data);
    }

    log(
      `${OP}: ${queries.data.length} ${self ? 'images of' : `queries (${queries.name.slice(0, 120)}) among`} ${data.name.slice(0, 120)}${self ? ', each among the others' : ` (${data.data.length} images)`}; ${depth === 0 ? 'their pixels' : `codes of block ${depth}`} (${codeSize(stack, depth)} floats)`,
    );
    runner = await createRunner(be, { workers: a.workers ?? (await defaultWorkers()) });
    const reference = await runner.encode(stack, data.data, { depth });
    const q = query ? await runner.encode(stack, query.data, { depth }) : reference;
    const nn = await runner.nearestNeighbours(reference, q, a.k, { skipSelf: self });
    const rows: SimilarRow[] = queries.names.map((name, i) => ({
      query: name,
      neighbours: Array.from({ length: a.k }, (_, r) => ({
        file: data.names[nn.indices[i * a.k + r]!]!,
        distance: nn.distances[i * a.k + r]!,
      })),
    }));
    const text =
      a.format === 'json'
        ? `${JSON.stringify(rows, null, 1)}\n`
        : `${[
            'query,rank,file,distance',
            ...rows.flatMap((row) =>
              row.neighbours.map((n, r) =>
                [csvField(row.query), r + 1, csvField(n.file), n.distance.toPrecision(6)].join(','),
              ),
            ),
          ].join('\n')}\n`;
    if (a.out) await writeOutput(a.out, text);
    else process.stdout.write(text);
    if (a.picture) await drawPicture(a, queries, data, nn.indices);
    log(
      `${OP}: ${a.k} neighbour(s) of each of ${rows.length} image(s)${a.out ? `; wrote ${a.out}` : ''}${a.picture ? `; drew ${a.picture}` : ''}`,
    );
    return rows;
  } finally {
    await runner?.dispose();
    saved.dispose();
  }
}

/** Characters of the CSV or JSON text at most (a JavaScript string holds about 2^29). */
export const MAX_SIMILAR_CHARS = 2 ** 28;

/**
 * The output's size before anything is encoded: queries × k rows, each at most the longest query name, the longest
 * file name and about 60 characters of rank, distance and JSON punctuation. `--k 1000` on 60 000 images is 60 million
 * rows, gigabytes of text that no string holds (a RangeError after the whole search).
 */
export function checkOutputSize(queryNames: readonly string[], fileNames: readonly string[], k: number): void {
  const longest = (names: readonly string[]) => names.reduce((m, n) => Math.max(m, n.length), 0);
  const rows = queryNames.length * k;
  const chars = rows * (longest(queryNames) + longest(fileNames) + 60);
  if (chars > MAX_SIMILAR_CHARS)
    throw new ArgumentError(
      OP,
      '--k',
      `${k} for ${queryNames.length} queries makes ${rows} rows, up to ${chars} characters of output, more than ${MAX_SIMILAR_CHARS}: give a smaller --k, or fewer queries (--limit, --query)`,
    );
}

/** The picture's size, from the shapes alone: --rows × (--k + 1) tiles at --scale can outgrow MAX_RASTER_PIXELS. */
function checkPicture(a: SimilarArgs, queries: AllData, data: AllData): { rows: number } {
  const rows = Math.min(a.rows, queries.data.length);
  const [, h, w] = data.data.shape;
  const g = gridSize(OP, rows * (a.k + 1), h * a.scale, w * a.scale, { columns: a.k + 1 });
  if (g.width * g.height > MAX_RASTER_PIXELS)
    throw new ArgumentError(
      OP,
      '--picture',
      `of ${rows} rows of ${a.k + 1} images at --scale ${a.scale} would be ${g.width}×${g.height} px, more than ${MAX_RASTER_PIXELS} pixels (MAX_RASTER_PIXELS): give fewer --rows, a smaller --k or --scale`,
    );
  return { rows };
}

/** The images as read, not as normalised for the stack (a whitened photograph is a purple blur). */
const shownOf = (d: AllData) => d.raw ?? d.data;

/** Each of `rows` queries (`limitIndices`): the query, then its neighbours nearest first, as read. */
async function drawPicture(a: SimilarArgs, queries: AllData, data: AllData, indices: Int32Array): Promise<void> {
  const { rows } = checkPicture(a, queries, data);
  const [c, h, w] = data.data.shape;
  const per = c * h * w;
  const tiles = new Float32Array(rows * (a.k + 1) * per);
  // The queries drawn as --limit takes images: of a folder, in class order, a sample of its classes.
  const drawn = limitIndices(queries.data, queries.name, rows, 1);
  for (const [t, i] of drawn.entries()) {
    tiles.set(shownOf(queries).readImages(i, i + 1), t * (a.k + 1) * per);
    for (let r = 0; r < a.k; r++)
      tiles.set(
        shownOf(data).readImages(indices[i * a.k + r]!, indices[i * a.k + r]! + 1),
        (t * (a.k + 1) + r + 1) * per,
      );
  }
  await makeDirs(dirname(a.picture!));
  await writePng(
    a.picture!,
    imageGrid(tiles, [rows * (a.k + 1), c, h, w], {
      columns: a.k + 1,
      scale: a.scale,
      range: [0, 1],
    }),
  );
}
