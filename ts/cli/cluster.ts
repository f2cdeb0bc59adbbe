/**
 * `convae cluster --model DIR --data SPEC`: the images grouped by their codes. Every image goes through the saved
 * stack to `--depth` (0: the pixels, for comparison); `mapCodes` lays the codes out in `--umap` dimensions (UMAP,
 * min_dist 0: packed tight, as clustering wants), and `clusterCodes` runs k-means on that map with `--restarts`
 * k-means++ starts and keeps the best; `--umap 0` runs k-means on the codes themselves. The map is the default
 * because it pays: on the MNIST test images it lifts NMI from 0.55 to 0.85 (docs/anomaly.md), since k-means wants
 * round clusters of one spread and codes trained for reconstruction are neither; UMAP keeps each image near its
 * nearest codes and little else. Writes clusters.csv (file, cluster, distance to its centre and the true class when
 * the data has labels), clusters.png (a row per cluster: its `--per-cluster` images nearest the centre) and
 * clusters.json (k, depth, inertia, sizes, scores). With labels, the clusters' accuracy, NMI and ARI against the
 * classes are said in one line. Copies of an image share its point of the map and its cluster (`mapCodes` lays out
 * distinct codes once), so k is counted against the distinct images (cli/distinct.ts).
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clustering, clusterCodes, MAX_CLUSTERS, MAX_RESTARTS } from '../anomaly/cluster.js';
import { type ClusterCountRow, chooseClusterCount, MAX_K_CANDIDATES } from '../anomaly/clustercount.js';
import { defaultSilhouetteSample } from '../anomaly/silhouette.js';
import { checkNeighbourSizes, codeSize } from '../anomaly/embed.js';
import { MAX_MAP_DIMS, MAX_MAP_NEIGHBOURS, mapCodes } from '../anomaly/map.js';
import { loadBackend } from '../backend/backend.js';
import type { Build } from '../backend/loader.js';
import { ArgumentError, quote } from '../errors.js';
import { makeDirs, writeAtomicAll } from '../io/files.js';
import { MAX_RASTER_PIXELS } from '../limits.js';
import type { Runner } from '../train/runner.js';
import { figureSvg } from '../viz/figure.js';
import { gridSize, imageGrid, shrink } from '../viz/raster.js';
import { loadRenderer, pngDataUrl, svgToPng } from '../viz/render.js';
import { defaultWorkers } from '../worker/pool.js';
import { createRunner } from '../worker/runner.js';
import { csvField, labelCells, stackDepth } from './apply.js';
import { type AllData, type DataSpec, imagesHeld, resolveAllData } from './data.js';
import {
  checkMapNeighbours,
  checkNotAllSame,
  type Distinct,
  distinctCodes,
  distinctImages,
  heldDistinct,
} from './distinct.js';
import { MAX_MAP_IMAGES } from './map.js';
import { checkOutDir, checkOutFile, checkOutsideData } from './outdir.js';
import { readFileHead } from './readfile.js';
import { loadSaved } from './saved.js';

const OP = 'convae cluster';

/** Most images a row of clusters.png shows. */
export const MAX_PER_CLUSTER = 50;

export interface ClusterArgs extends DataSpec {
  model: string;
  /** Clusters, 2 to MAX_CLUSTERS; or a range of k to choose from by the highest mean silhouette (`chooseClusterCount`). */
  k: KChoice;
  /** Blocks the images go through: 0 (the pixels) to the stack's length (default: all, the deepest code). */
  depth?: number;
  /** k-means++ starts; the one of lowest inertia is kept. */
  restarts: number;
  /** Dimensions of the UMAP map the codes are clustered in; 0: k-means on the codes themselves. */
  umap: number;
  /** With `umap`: neighbours UMAP keeps each image near. */
  neighbours: number;
  seed: number;
  /** Images drawn in each cluster's row of clusters.png, those nearest its centre. */
  perCluster: number;
  /** Folder of clusters.csv, clusters.png and clusters.json. */
  out: string;
  build: Build | 'auto';
  /** Workers that encode and assign (default: the cores); 0 = this thread. Same clusters either way. */
  workers?: number;
  quiet: boolean;
}

/** `--k`: a number of clusters, or the range `--k auto` or `--k a-b` chooses from. */
export type KChoice = number | 'auto' | { from: number; to: number };

/**
 * The range `--k auto` tries: the silhouette is computed for each, and twenty covers the class counts of the
 * usual sets. With fewer images it ends at one fewer than the images.
 */
export const AUTO_K = { from: 2, to: 20 } as const;

/** What `cluster` computed: the clustering of the images, in the order of `files`. */
export interface ClusterResult extends Clustering {
  files: string[];
  /** With a range of k: each k tried, its inertia, silhouette (and NMI with labels). */
  kRows?: ClusterCountRow[];
}

const FILES = ['clusters.csv', 'clusters.png', 'clusters.json'];
/** Written beside them when k is chosen from a range. */
const K_SCORES = 'k-scores.csv';
/** The start of its first line, which `removeStaleKScores` knows it by. */
const K_SCORES_HEADER = 'k,silhouette,inertia';

export async function cluster(a: ClusterArgs): Promise<ClusterResult> {
  const log = (s: string) => a.quiet || console.error(s);
  checkClusterOptions(a);
  loadRenderer(); // the pictures are drawn through SVG: without a renderer, stop before anything is read
  // clusters.png inside the folder would be read as an image by the next run on it.
  await checkOutsideData(OP, [{ flag: '--out', path: a.out, folder: true }], [{ flag: '--data', spec: a.data }]);
  // Before the images are read when --out exists (a folder of 60 000 took its minutes to be refused for a file in
  // the way): then these checks create nothing. A new folder is made by them below, after every other refusal, so
  // a refused run leaves none behind.
  if (await stat(a.out).catch(() => null)) await checkOutputs(a);
  const be = await loadBackend({ build: a.build });
  const saved = await loadSaved(be, a.model, 'stack');
  let runner: Runner | undefined;
  try {
    const stack = saved.stack!;
    const depth = stackDepth(OP, a.depth, stack, a.model, true);
    const d = await resolveAllData({ ...a, ...saved.input, keepRaw: true }, saved.inputShape);
    const n = d.data.length;
    // Everything that can be refused is refused before an image is encoded. Copies of an image (equal pixels as the
    // stack reads them) have one code and are one point to the map and to k-means: k counts distinct images.
    const dim = codeSize(stack, depth);
    const images = distinctImages(d.data, depth);
    let { range, k: kMax } = kPlan(a, n, images, a.umap > 0 ? a.umap : dim);
    checkNeighbourSizes(OP, n, kMax, dim, 2);
    if (a.umap > 0) checkMapSizes(a, n, dim);
    pictureLayout(a, d, kMax);
    await checkOutputs(a);
    log(
      `${OP}: ${n} images${images.distinct < n ? ` (${images.distinct} distinct)` : ''} of ${d.name.slice(0, 120)}, ${depth === 0 ? `their pixels (${dim} floats)` : `codes of block ${depth} (${dim} floats)`}; ${a.umap > 0 ? `a ${a.umap}-D UMAP map of them (${a.neighbours} neighbours), ` : ''}k-means, ${range ? `k of ${range.from}-${range.to} by the highest mean silhouette${a.k === 'auto' && range.to === images.distinct - 1 && images.distinct < n ? ` (below the ${images.distinct} distinct images)` : ''}` : `${kMax} clusters`}, the best of ${a.restarts} k-means++ start(s)${range ? ' each' : ''}`,
    );
    runner = await createRunner(be, { workers: a.workers ?? (await defaultWorkers()) });
    const codes = await runner.encode(stack, d.data, { depth });
    // Different images can still share a code (a stack that maps them alike): refused or narrowed as above, before
    // anything is written.
    const inCodes = distinctCodes(codes, images);
    if (inCodes.distinct < images.distinct) {
      const was = range;
      ({ range, k: kMax } = kPlan(a, n, inCodes, a.umap > 0 ? a.umap : dim));
      if (range && range.to < was!.to)
        log(`${OP}: the codes hold ${inCodes.distinct} distinct vectors: k of ${range.from}-${range.to}`);
    }
    const labels = d.data.labels;
    const space =
      a.umap > 0
        ? await mapCodes(runner, codes, { dims: a.umap, neighbours: a.neighbours, minDist: 0, seed: a.seed })
        : null;
    const points = space ? { vectors: space.points, n, dim: space.dims } : codes;
    const opts = { seed: a.seed, restarts: a.restarts, ...(labels ? { labels } : {}) };
    const chosen = range
      ? await chooseClusterCount(runner, points, {
          ...{ ...opts, ...range },
          onK: (r) =>
            log(
              `${OP}: k ${r.k}: silhouette ${Number.isNaN(r.silhouette) ? 'undefined (the codes it is computed on fell in one cluster)' : r.silhouette.toFixed(4)}, inertia ${r.inertia.toPrecision(6)}`,
            ),
        }).catch((e: unknown) => {
          // Copies of one code so many that the silhouette's sample holds nothing else: the images are the user's,
          // so the refusal is said in their terms (the library's names its own argument).
          if (e instanceof ArgumentError && e.op === 'chooseClusterCount' && e.arg === 'codes')
            throw new ArgumentError(
              OP,
              '--data',
              `${a.data.slice(0, 120)}: at every k of ${range!.from}-${range!.to} the codes the silhouette is computed on fall in one cluster (all but a few images have one code): no k to choose between; give --k`,
            );
          throw e;
        })
      : null;
    const c = chosen ? chosen.clustering : await clusterCodes(runner, points, { k: kMax, ...opts });
    const k = chosen ? chosen.k : kMax;
    const lines = ['file,cluster,distance,label,label_name'];
    for (let i = 0; i < n; i++)
      lines.push(`${csvField(d.names[i]!)},${c.assignments[i]},${c.distances[i]!.toPrecision(6)},${labelCells(d, i)}`);
    const png = drawClusters(a, d, c, k, depth);
    const summary = {
      data: d.name,
      images: n,
      depth,
      dim,
      k,
      // With a range: how k was chosen, and each k's scores (k-scores.csv).
      ...(chosen ? { kChosen: { from: range!.from, to: range!.to, by: 'silhouette', rows: chosen.rows } } : {}),
      seed: a.seed,
      restarts: a.restarts,
      // What k-means ran on: the distances and inertia are in this space.
      space: space ? { umap: space.dims, neighbours: a.neighbours, minDist: 0 } : 'codes',
      inertia: c.inertia,
      iterations: c.iterations,
      converged: c.converged,
      sizes: Array.from(c.sizes),
      scores: c.scores,
    };
    // As one: a full disk (or an interrupt) part way left an earlier run's clusters beside this run's k-scores.csv
    // and clusters.csv.
    await makeDirs(a.out);
    await writeAtomicAll([
      ...(chosen ? [[join(a.out, K_SCORES), kScoresCsv(chosen.rows)] as const] : []),
      [join(a.out, 'clusters.csv'), `${lines.join('\n')}\n`],
      [join(a.out, 'clusters.png'), png],
      [join(a.out, 'clusters.json'), `${JSON.stringify(summary, null, 1)}\n`],
    ]);
    if (!chosen && (await removeStaleKScores(a.out)))
      log(`${OP}: removed the ${K_SCORES} of an earlier run with a range of k`);
    log(
      `${OP}: inertia ${c.inertia.toPrecision(6)} after ${c.iterations} iteration(s)${c.converged ? '' : ' (not converged: the most a start runs)'}; sizes ${sizesText(c.sizes)}`,
    );
    if (c.scores)
      log(
        `${OP}: accuracy ${c.scores.accuracy.toFixed(4)}, NMI ${c.scores.nmi.toFixed(4)}, ARI ${c.scores.ari.toFixed(4)} (purity ${c.scores.purity.toFixed(4)})`,
      );
    if (chosen)
      log(
        `${OP}: chose k ${k}, the highest mean silhouette (${chosen.rows.find((r) => r.k === k)!.silhouette.toFixed(4)}) of k ${range!.from}-${range!.to}`,
      );
    log(`${OP}: wrote ${join(a.out, 'clusters.csv')}, clusters.png, clusters.json${chosen ? ` and ${K_SCORES}` : ''}`);
    return { ...c, files: d.names, ...(chosen ? { kRows: chosen.rows } : {}) };
  } finally {
    await runner?.dispose();
    saved.dispose();
  }
}

/** The --out folder and the files in it, writable. */
async function checkOutputs(a: ClusterArgs): Promise<void> {
  await checkOutDir(a.out);
  for (const file of typeof a.k === 'number' ? FILES : [...FILES, K_SCORES])
    await checkOutFile(join(a.out, file), '--out');
}

/**
 * The range of k to choose from (null for one k) and the largest k, refused when the images cannot give it: k
 * clusters need k distinct images (copies are one point), a silhouette of k more than k, and `--umap` more distinct
 * images than `--neighbours`. `auto` is AUTO_K cut below the distinct images and the silhouette's sample of codes of
 * `dim` floats, as a demanding user expects of "choose for me"; a k or a range the user gave is refused instead,
 * naming the number that fits, since clusters.csv with fewer clusters than asked would answer another question.
 */
function kPlan(
  a: ClusterArgs,
  n: number,
  c: Distinct,
  dim: number,
): { range: { from: number; to: number } | null; k: number } {
  const m = c.distinct;
  const holds = heldDistinct(a.limit, n, c);
  checkNotAllSame(OP, a.data, a.limit, n, c, 'cluster');
  const range = kRange(a, n, c, holds, dim);
  const k = range ? range.to : (a.k as number);
  if (k > m)
    throw new ArgumentError(
      OP,
      '--k',
      `${k} clusters need at least ${k} ${m < n ? `distinct ${c.of}` : 'images'}; ${holds}: ${m >= 2 ? `give --k ${m} or fewer` : more(a, n)}`,
    );
  // With every image distinct, checkMapSizes says it in images.
  if (a.umap > 0 && m < n) checkMapNeighbours(OP, a.neighbours, a.limit, n, c, ', or --umap 0');
  return { range, k };
}

/** The range of k to choose from, or null for one k (`kPlan`; `holds` says what the images hold). */
function kRange(
  a: ClusterArgs,
  n: number,
  c: Distinct,
  holds: string,
  dim: number,
): { from: number; to: number } | null {
  if (typeof a.k === 'number') return null;
  const m = c.distinct;
  const top = Math.min(m - 1, defaultSilhouetteSample(dim) - 1);
  const images = m < n ? `distinct ${c.of}` : 'images';
  if (a.k === 'auto') {
    if (top <= AUTO_K.from)
      throw new ArgumentError(
        OP,
        '--k',
        `auto tries k ${AUTO_K.from} and up, and needs at least ${AUTO_K.from + 2} ${images}; ${holds}`,
      );
    return { from: AUTO_K.from, to: Math.min(AUTO_K.to, top) };
  }
  if (a.k.to > top)
    throw new ArgumentError(
      OP,
      '--k',
      `${a.k.from}-${a.k.to}: a silhouette of k clusters needs more than k ${images}${m - 1 > top ? ` (here, of the ${top + 1} its sample holds)` : ''}; ${holds}: give a range that ends at ${top} or below`,
    );
  return a.k;
}

/**
 * Removes the k-scores.csv an earlier `--k auto` or `--k a-b` run left in `out`, known by its header (a regular file
 * only): beside the clusters of one k it would say another k was chosen. True when one was removed.
 */
async function removeStaleKScores(out: string): Promise<boolean> {
  const path = join(out, K_SCORES);
  const head = await readFileHead(path, 32).catch(() => '');
  if (!head.startsWith(K_SCORES_HEADER)) return false;
  await rm(path);
  return true;
}

/** k-scores.csv: each k tried, with its silhouette, inertia and (with labels) NMI. */
function kScoresCsv(rows: ClusterCountRow[]): string {
  const nmi = rows.some((r) => r.nmi !== undefined);
  const lines = [`${K_SCORES_HEADER}${nmi ? ',nmi' : ''}`];
  for (const r of rows)
    lines.push(`${r.k},${r.silhouette.toFixed(6)},${r.inertia.toPrecision(8)}${nmi ? `,${r.nmi!.toFixed(6)}` : ''}`);
  return `${lines.join('\n')}\n`;
}

/** Side a tile of clusters.png is drawn at, about: small images are scaled up by whole pixels, large ones shrunk. */
const TILE_PX = 56;

/** The tiles of clusters.png: how much each image is shrunk, its size then and its scale; the grid's size checked. */
function pictureLayout(a: ClusterArgs, d: AllData, k: number) {
  const [c, h0, w0] = d.data.shape;
  const step = Math.max(1, Math.ceil(Math.max(h0, w0) / TILE_PX));
  const [h, w] = [Math.ceil(h0 / step), Math.ceil(w0 / step)];
  const scale = Math.max(1, Math.round(TILE_PX / Math.max(h, w)));
  const g = gridSize(OP, k * a.perCluster, h * scale, w * scale, { columns: a.perCluster, pad: 2 });
  if (g.width > 16384 || g.height > 16384 || g.width * g.height > MAX_RASTER_PIXELS)
    throw new ArgumentError(
      OP,
      '--per-cluster',
      `${k} rows of ${a.perCluster} images would be ${g.width}×${g.height} px, more than clusters.png can hold: give a smaller --per-cluster or --k`,
    );
  return { c, h0, w0, step, h, w, scale, g };
}

/**
 * clusters.png: a row per cluster, its images nearest the centre (ties to the earlier image), as read (not as
 * normalised for the stack: a whitened photograph is a purple blur), beside the cluster's number, size and, with
 * labels, its most common class.
 */
function drawClusters(a: ClusterArgs, d: AllData, c: Clustering, k: number, depth: number): Uint8Array {
  const { c: ch, h0, w0, step, h, w, scale, g } = pictureLayout(a, d, k);
  const shown = d.raw ?? d.data;
  const per = a.perCluster;
  const tile = ch * h * w;
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < c.assignments.length; i++) members[c.assignments[i]!]!.push(i);
  const tiles = new Float32Array(k * per * tile);
  const rowLabels: { y: number; text: string }[] = [];
  const labels = d.data.labels;
  for (const [j, m] of members.entries()) {
    m.sort((x, y) => c.distances[x]! - c.distances[y]! || x - y);
    for (const [t, i] of m.slice(0, per).entries())
      tiles.set(shrink(shown.readImages(i, i + 1), ch, h0, w0, step), (j * per + t) * tile);
    let text = `cluster ${j} (${m.length})`;
    if (labels && m.length) {
      const counts = new Map<number, number>();
      for (const i of m) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
      const [top, count] = [...counts].reduce((b, e) => (e[1] > b[1] || (e[1] === b[1] && e[0] < b[0]) ? e : b));
      const name = d.classes?.[top] ?? String(top);
      text += `: ${Math.round((100 * count) / m.length)} % ${name.slice(0, 24)}`;
    }
    rowLabels.push({ y: g.pad + j * (h * scale + g.pad) + (h * scale) / 2, text });
  }
  const r = imageGrid(tiles, [k * per, ch, h, w], { columns: per, scale, pad: g.pad, range: [0, 1] });
  // A cluster smaller than a row leaves its last tiles blank (white), not black images.
  for (const [j, m] of members.entries())
    for (let t = m.length; t < per; t++)
      for (let y = 0; y < h * scale; y++) {
        const y0 = g.pad + j * (h * scale + g.pad) + y;
        const x0 = g.pad + t * (w * scale + g.pad);
        r.data.fill(255, (y0 * r.width + x0) * 4, (y0 * r.width + x0 + w * scale) * 4);
      }
  const what = depth === 0 ? 'pixels' : `block ${depth} codes`;
  const svg = figureSvg(
    { href: pngDataUrl(r), width: r.width, height: r.height },
    {
      title: `${d.name.slice(0, 60)}: ${k} clusters of ${what} (${a.umap > 0 ? `k-means in a ${a.umap}-D UMAP map` : 'k-means'})`,
      caption: `${c.assignments.length} images; each row a cluster, ${per === 1 ? 'its image nearest the centre' : `its ${per} images nearest the centre, nearest first`}. Beside it: the cluster's number and size${labels ? ', and the share of its most common class' : ''}.${c.scores ? ` Against the classes: accuracy ${c.scores.accuracy.toFixed(3)}, NMI ${c.scores.nmi.toFixed(3)}, ARI ${c.scores.ari.toFixed(3)}.` : ''}`,
      rowLabels,
    },
  );
  return svgToPng(svg);
}

const held = (a: ClusterArgs, n: number) => imagesHeld(a.limit, n).held;
const more = (a: ClusterArgs, n: number) => imagesHeld(a.limit, n).more;

/** The clusters' sizes for the log: each of up to 20, else the range (at --k 200 the list was a 450-character line). */
function sizesText(sizes: Int32Array): string {
  if (sizes.length <= 20) return Array.from(sizes).join(' ');
  const v = Array.from(sizes);
  return `${Math.min(...v)} to ${Math.max(...v)} (each in clusters.json)`;
}

/** With `--umap`: the map's limits (mapCodes' own), refused before an image is encoded. */
function checkMapSizes(a: ClusterArgs, n: number, dim: number): void {
  if (n > MAX_MAP_IMAGES)
    throw new ArgumentError(
      OP,
      '--umap',
      `${a.umap}: a UMAP map takes at most ${MAX_MAP_IMAGES} images, --data holds ${n}: give --limit ${MAX_MAP_IMAGES} or fewer, or --umap 0 (k-means on the codes)`,
    );
  if (a.neighbours >= n)
    throw new ArgumentError(
      OP,
      '--neighbours',
      `${a.neighbours} needs at least ${a.neighbours + 1} images; ${held(a, n)}: ${n >= 3 ? `give --neighbours ${n - 1} or fewer, or --umap 0` : more(a, n)}`,
    );
  checkNeighbourSizes(OP, n, n, dim, a.neighbours);
}

/** `--k`, `--restarts`, `--umap`, `--neighbours`, `--per-cluster` and `--seed` as the library and the picture take them, before anything is read. */
function checkClusterOptions(a: ClusterArgs): void {
  const ranges: [string, number, number, number][] = [
    ['--restarts', a.restarts, 1, MAX_RESTARTS],
    ['--umap', a.umap, 0, MAX_MAP_DIMS],
    ['--neighbours', a.neighbours, 2, MAX_MAP_NEIGHBOURS],
    ['--per-cluster', a.perCluster, 1, MAX_PER_CLUSTER],
    ['--seed', a.seed, 0, 2 ** 32 - 1],
  ];
  for (const [flag, v, lo, hi] of ranges)
    if (!(Number.isInteger(v) && v >= lo && v <= hi))
      throw new ArgumentError(OP, flag, `must be an integer in [${lo}, ${hi}], got ${v}`);
  const k = a.k;
  const ok =
    typeof k === 'number'
      ? Number.isInteger(k) && k >= 2 && k <= MAX_CLUSTERS
      : k === 'auto' ||
        (typeof k === 'object' &&
          k !== null &&
          Number.isInteger(k.from) &&
          Number.isInteger(k.to) &&
          k.from >= 2 &&
          k.to > k.from &&
          k.to <= MAX_CLUSTERS &&
          k.to - k.from < MAX_K_CANDIDATES);
  if (!ok)
    throw new ArgumentError(
      OP,
      '--k',
      `must be an integer in [2, ${MAX_CLUSTERS}], 'auto', or { from, to } with 2 ≤ from < to ≤ ${MAX_CLUSTERS} and at most ${MAX_K_CANDIDATES} values, got ${quote(k)}`,
    );
}
