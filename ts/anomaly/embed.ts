/**
 * Embeddings: the codes of a CAE stack at any depth, flattened to one vector
 * per image (C·H·W floats, in the code's NCHW order), and nearest-neighbour
 * search over them with the wasm gemm (squared distances ‖q‖² + ‖r‖² − 2 q·r).
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/memory.js';
import { checkResultFloats, datasetArg, type ImageDataset } from '../data/dataset.js';
import { ArgumentError, DataError, quote } from '../errors.js';
import { MAX_NEIGHBOURS, MAX_TENSOR_ELEMENTS } from '../limits.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import { fittingBatch, footprintOf } from '../model/model.js';
import { gemm } from '../ops/dense.js';
import { numel } from '../shape.js';
import { Feeder } from '../train/feeder.js';
import { optionsOf } from '../util/options.js';

/** Row-major vectors: `n` rows of `dim` floats. */
export interface Embeddings {
  /** n·dim floats, vector i at [i·dim, (i + 1)·dim). */
  vectors: Float32Array;
  /** Number of vectors (images). */
  n: number;
  /** Floats per vector (a code's C·H·W). */
  dim: number;
}

/** Options of `encode`. */
export interface EncodeOptions {
  /** Blocks the images go through: 0 gives the pixels, the stack's length (default) its deepest code. */
  depth?: number;
  /** Images per forward pass, in [1, 65536]; default 256, or as many as fit when fewer do. */
  batchSize?: number;
}

export function checkDepth(op: string, stack: StackedConvAutoencoder, depth: unknown, min = 0): number {
  if ((stack as { kind?: unknown } | null)?.kind !== 'stack')
    throw new ArgumentError(op, 'stack', 'must be a CAE stack (StackedConvAutoencoder)');
  const n = stack.blocks.length;
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < min || depth > n)
    throw new ArgumentError(
      op,
      'depth',
      `must be an integer in [${min}, ${n}] (the stack has ${n} blocks), got ${quote(depth)}`,
    );
  return depth;
}

export function checkImages(op: string, model: { readonly inputShape: readonly number[] }, data: ImageDataset): void {
  datasetArg(op, data);
  const s = model.inputShape;
  if (data.shape.length !== s.length || data.shape.some((d, i) => d !== s[i]))
    throw new DataError(`${op}: the model reads images [${s.join(',')}], the dataset holds [${data.shape.join(',')}]`);
}

export function checkBatchSize(op: string, b: unknown): number {
  if (typeof b !== 'number' || !Number.isInteger(b) || b < 1 || b > 65536)
    throw new ArgumentError(op, 'batchSize', `must be an integer in [1, 65536], got ${quote(b)}`);
  return b;
}

/**
 * The batch of a pass of `n` images through the first `depth` blocks of `stack` (and back down through their
 * decoders when `decode`): `given`, checked, or by default 256 — fewer when 256 images' layer outputs would not
 * fit (`largestBatch`). Before, a large model's default batch failed at its first forward with a ShapeError
 * naming no option.
 */
export function stackBatch(
  op: string,
  stack: StackedConvAutoencoder,
  depth: number,
  n: number,
  given: unknown,
  decode = false,
): number {
  const layers = stack.blocks
    .slice(0, depth)
    .flatMap((b) => (decode ? [...b.encoder.layers, ...b.decoder.layers] : b.encoder.layers));
  const checked = given === undefined ? undefined : checkBatchSize(op, given);
  const f = footprintOf(numel(stack.inputShape), layers);
  return fittingBatch(op, f, n, checked, 256, `through ${depth} block(s) of this stack`);
}

/** Runs `fn` on every batch of images [start, end) of `data` (default: all) as a wasm tensor (reused: copy what you keep). */
export function forEachBatch(
  be: Backend,
  data: ImageDataset,
  batchSize: number,
  fn: (x: Tensor, start: number, size: number) => void,
  start = 0,
  end = data.length,
): void {
  const feeder = new Feeder(be, data);
  try {
    for (let s = start; s < end; s += batchSize) {
      const e = Math.min(end, s + batchSize);
      fn(feeder.feed(null, s, e, false).x, s, e - s);
    }
  } finally {
    feeder.dispose();
  }
}

/** Length of one code vector after `depth` blocks. */
export function codeSize(stack: StackedConvAutoencoder, depth: number): number {
  return numel(depth === 0 ? stack.inputShape : stack.blocks[depth - 1].codeShape);
}

/**
 * @internal The codes of images [start, end) after `depth` blocks (checked
 * arguments), batches of `batchSize` from `start`: what `encode` and each worker run.
 */
export function encodeRange(
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  depth: number,
  batchSize: number,
  start: number,
  end: number,
): Float32Array {
  const dim = codeSize(stack, depth);
  const vectors = new Float32Array((end - start) * dim);
  forEachBatch(
    stack.be,
    data,
    batchSize,
    (x, s) => vectors.set(stack.encodeThrough(depth, x).data, (s - start) * dim),
    start,
    end,
  );
  return vectors;
}

/** Checks `encode`'s arguments; returns the depth and batch size. */
export function checkEncode(
  op: string,
  stack: StackedConvAutoencoder,
  data: ImageDataset,
  options: EncodeOptions | null | undefined,
): { depth: number; batchSize: number } {
  const opts = optionsOf(op, options);
  // The default read through `?.`: checkDepth refuses a non-stack, which must not throw a TypeError first.
  const depth = checkDepth(op, stack, opts.depth ?? (stack as { blocks?: unknown[] } | null)?.blocks?.length);
  checkImages(op, stack, data);
  const batchSize = stackBatch(op, stack, depth, data.length, opts.batchSize);
  checkResultFloats(op, 'depth', data.length, codeSize(stack, depth), 'codes');
  return { depth, batchSize };
}

/** The codes of every image after `depth` blocks, one flat vector per image; equal to the stack's encode. */
export function encode(stack: StackedConvAutoencoder, data: ImageDataset, opts?: EncodeOptions): Embeddings {
  const { depth, batchSize } = checkEncode('encode', stack, data, opts);
  return {
    vectors: encodeRange(stack, data, depth, batchSize, 0, data.length),
    n: data.length,
    dim: codeSize(stack, depth),
  };
}

export function checkEmbeddings(op: string, arg: string, e: Embeddings): void {
  if (
    !e ||
    !(e.vectors instanceof Float32Array) ||
    !Number.isInteger(e.n) ||
    !Number.isInteger(e.dim) ||
    e.n < 1 ||
    e.dim < 1
  )
    throw new ArgumentError(op, arg, 'must be { vectors: Float32Array, n ≥ 1, dim ≥ 1 }');
  if (e.vectors.length !== e.n * e.dim)
    throw new ArgumentError(op, arg, `holds ${e.vectors.length} floats, not n·dim = ${e.n * e.dim}`);
}

/**
 * Every value of `e` finite, else an ArgumentError naming the first that is not. A NaN or infinity makes every
 * distance to its vector NaN, which no ranking orders (a neighbour search kept or dropped it by position), and
 * standardises a probe's whole feature to NaN (the probe returned 0.5 on two balanced classes without a word).
 */
export function checkFiniteEmbeddings(op: string, arg: string, e: Embeddings): void {
  const v = e.vectors;
  for (let i = 0; i < v.length; i++)
    if (!Number.isFinite(v[i]))
      throw new ArgumentError(
        op,
        arg,
        `vector ${Math.floor(i / e.dim)}, feature ${i % e.dim} is ${v[i]}: finite values needed`,
      );
}

/** The k nearest reference vectors of each query, [query, rank] row-major. */
export interface Neighbours {
  /** [query, rank] → index into the reference set, nearest first. */
  indices: Int32Array;
  /** [query, rank] → Euclidean distance. */
  distances: Float32Array;
  /** Neighbours per query (the row length). */
  k: number;
}

/**
 * The `k` nearest reference vectors of every query vector (Euclidean), as a float64 search ranks them: nearest
 * first, equal distances in index order. A float32 gemm narrows the search and the few vectors that can be among the
 * `k` are measured in float64, so copies are at 0 and near-ties, codes far from the origin or of 1e30 rank as exact
 * distances say. `skipSelf`: the queries are the reference set itself; each query's own row is left out.
 */
export function nearestNeighbours(
  be: Backend,
  reference: Embeddings,
  query: Embeddings,
  k: number,
  options?: NeighbourOptions,
): Neighbours {
  const opts = optionsOf('nearestNeighbours', options);
  const { batchSize } = checkNeighbours('nearestNeighbours', reference, query, k, opts);
  return neighbourRows(be, reference, query.vectors, k, opts.skipSelf === true ? 0 : -1, batchSize);
}

/** Options of `nearestNeighbours`. */
export interface NeighbourOptions {
  /** The queries are the reference set itself: leave each query's own row out. */
  skipSelf?: boolean;
  /** Queries per gemm (default 256). */
  batchSize?: number;
}

/** Checks `nearestNeighbours`' arguments; returns the batch size. */
export function checkNeighbours(
  op: string,
  reference: Embeddings,
  query: Embeddings,
  k: number,
  opts: NeighbourOptions,
): { batchSize: number } {
  checkEmbeddings(op, 'reference', reference);
  checkEmbeddings(op, 'query', query);
  if (query.dim !== reference.dim)
    throw new ArgumentError(op, 'query', `has ${query.dim} features per vector, the reference ${reference.dim}`);
  const skipSelf = opts.skipSelf === true;
  if (skipSelf && query.vectors !== reference.vectors)
    throw new ArgumentError(op, 'skipSelf', 'needs the query to be the reference set itself');
  const avail = reference.n - (skipSelf ? 1 : 0);
  const most = Math.min(avail, MAX_NEIGHBOURS);
  if (!Number.isInteger(k) || k < 1 || k > most)
    throw new ArgumentError(
      op,
      'k',
      `must be an integer in [1, ${most}] (${avail < MAX_NEIGHBOURS ? 'the reference vectors' : 'MAX_NEIGHBOURS'}), got ${quote(k)}`,
    );
  const batchSize = checkBatchSize(op, opts.batchSize ?? 256);
  checkNeighbourSizes(op, query.n, reference.n, reference.dim, k, batchSize);
  checkFiniteEmbeddings(op, 'reference', reference);
  if (query.vectors !== reference.vectors) checkFiniteEmbeddings(op, 'query', query);
  return { batchSize };
}

/**
 * What a neighbour search of `queries` among `references` vectors of `dim` features allocates, each bounded by
 * MAX_TENSOR_ELEMENTS: the results, the references and one batch's dot products. Sizes alone, so a command can
 * check them from a planned stack before it trains one.
 */
export function checkNeighbourSizes(
  op: string,
  queries: number,
  references: number,
  dim: number,
  k: number,
  batchSize = 256,
): void {
  const sizes: [string, number, number, string][] = [
    ['k', queries, k, 'queries × k results'],
    ['reference', references, dim, 'reference vectors × features'],
    ['batchSize', Math.min(batchSize, queries), references, 'queries per batch × reference vectors'],
  ];
  for (const [arg, a, b, what] of sizes)
    if (a * b > MAX_TENSOR_ELEMENTS)
      throw new ArgumentError(
        op,
        arg,
        `${what} = ${a} × ${b} is more than ${MAX_TENSOR_ELEMENTS} (MAX_TENSOR_ELEMENTS)`,
      );
}

/**
 * @internal The k nearest reference rows of each query row in `queries` (checked
 * arguments), in gemms of `batchSize` queries from the first. `selfOffset` ≥ 0:
 * query row i is reference row selfOffset + i, left out. What
 * `nearestNeighbours` and each worker run. `counts`, when given, gets the number
 * of rows measured in float64 added to its `measured` (for tests).
 */
export function neighbourRows(
  be: Backend,
  reference: Embeddings,
  queries: Float32Array,
  k: number,
  selfOffset: number,
  batchSize: number,
  counts?: { measured: number },
): Neighbours {
  const { n: m, dim } = reference;
  const nq = queries.length / dim;
  const indices = new Int32Array(nq * k).fill(-1);
  const distances = new Float32Array(nq * k).fill(Infinity);
  const chosen = new Int32Array(k);
  const exact = new Float64Array(k);
  const rows = new Int32Array(m);
  const lows = new Float64Array(m);
  const mean = meanRow(reference);
  const r = be.empty([m, dim]);
  let q: Tensor | null = null,
    c: Tensor | null = null;
  try {
    // The gemm runs on the vectors minus the reference's mean: distances do not change, and its error bound, relative
    // to ‖q‖² + ‖r‖², is then relative to the vectors' spread. Uncentred, codes or pixels near 0.9 with a spread of
    // 0.02 (784 features) had every row within the bound of the k-th: all measured, 47 times the time.
    centreRows(reference.vectors, mean, r.data);
    const bounds = referenceBounds(r.data, m, dim);
    let measured = 0;
    for (let start = 0; start < nq; start += batchSize) {
      const b = Math.min(batchSize, nq - start);
      if (!q || q.shape[0] !== b) {
        q?.dispose();
        c?.dispose();
        q = be.empty([b, dim]);
        c = be.empty([b, m]);
      }
      const qv = queries.subarray(start * dim, (start + b) * dim);
      centreRows(qv, mean, q.data);
      gemm(q, r, c!, { transB: true });
      // Views taken after the last allocation (a grown memory detaches older ones).
      const dots = c!.data.subarray(0, b * m),
        centred = q.data;
      for (let i = 0; i < b; i++) {
        const self = selfOffset >= 0 ? selfOffset + start + i : -1;
        const query = qv.subarray(i * dim, (i + 1) * dim);
        const row = (start + i) * k;
        measured += nearestOf(
          reference,
          bounds,
          query,
          centred.subarray(i * dim, (i + 1) * dim),
          dots.subarray(i * m, (i + 1) * m),
          self,
          k,
          chosen,
          exact,
          rows,
          lows,
        );
        for (let p = 0; p < k; p++) {
          indices[row + p] = chosen[p]!;
          distances[row + p] = Math.sqrt(exact[p]!);
        }
      }
    }
    if (counts) counts.measured += measured;
  } finally {
    r.dispose();
    q?.dispose();
    c?.dispose();
  }
  return { indices, distances, k };
}

/** The mean of the rows of `e`, in float64. */
function meanRow({ n, dim, vectors: v }: Embeddings): Float64Array {
  const mean = new Float64Array(dim);
  for (let j = 0; j < n; j++) for (let t = 0; t < dim; t++) mean[t] += v[j * dim + t]!;
  for (let t = 0; t < dim; t++) mean[t] /= n;
  return mean;
}

/** Each row of `src` minus `mean`, rounded to float32, into `dst` (as long as `src`). */
function centreRows(src: Float32Array, mean: Float64Array, dst: Float32Array): void {
  const dim = mean.length;
  for (let i = 0; i < src.length; i++) dst[i] = src[i]! - mean[i % dim]!;
}

/** What `nearestOf` needs of the (centred) reference set, computed once a search. */
interface ReferenceBounds {
  /** ‖r‖² of each centred row, in float64. */
  norms: Float64Array;
  /** (1 − rel)·‖r‖² of each row: its part of a lower bound. */
  lowParts: Float64Array;
  /** The largest ‖r‖². */
  most: number;
  /** The gemm's error bound relative to ‖q‖² + ‖r‖². */
  rel: number;
  /** Its absolute part, for products that underflow. */
  abs: number;
}

function referenceBounds(v: Float32Array, m: number, dim: number): ReferenceBounds {
  // The gemm's bound doubled (2·dim for the two dot products' worth of rounding), room for the norms' own (16), and
  // for the centring's rounding (16): each centred value is within 2⁻²⁴ of its own size of the exact difference, which
  // moves a squared distance by at most 4·2⁻²⁴(‖q‖² + ‖r‖²) of the centred vectors.
  const rel = (2 * dim + 32) * 2 ** -24;
  const norms = new Float64Array(m),
    lowParts = new Float64Array(m);
  let most = 0;
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let t = j * dim; t < (j + 1) * dim; t++) s += v[t]! * v[t]!;
    norms[j] = s;
    lowParts[j] = (1 - rel) * s;
    most = Math.max(most, s);
  }
  return { norms, lowParts, most, rel, abs: dim * 2 ** -144 };
}

/** Squared length past which a float32 dot product may overflow (|q·r| ≤ (‖q‖² + ‖r‖²)/2 < 2¹²⁸). */
const OVERFLOW = 2 ** 126;

/**
 * One query's k nearest reference rows by float64 squared distances Σ(q − r)², ties to the lower index: their
 * indices into `chosen`, their squared distances into `exact`. The gemm's float32 ‖q‖² + ‖r‖² − 2q·r cancels (an
 * image and its exact copy came out 0.005 apart in 800 features, the next image 6.7 away) and, near a tie at the
 * k-th place, ranks by its rounding: it only bounds each distance. Its error is at most about dim·2⁻²⁴·(‖q‖² + ‖r‖²)
 * of the centred vectors (plus underflow's dim·2⁻¹⁴⁹), so every row whose lower bound is within the k-th smallest
 * upper bound is a candidate and is measured in float64, from `query` and the reference as given — k and a few more
 * a query as a rule, against m·dim for the gemm. Rows whose dot product may overflow float32 (codes of 1e30) have no
 * bound and are always measured. `centred`: the query minus the reference's mean, as the gemm had it; `dots`: its
 * products with the centred rows. `chosen` and `exact` hold k; `rows` and `lows` (scratch) hold m. Returns the
 * number of rows measured.
 */
function nearestOf(
  reference: Embeddings,
  { norms: rNorm, lowParts: rLow, most: rMost, rel, abs }: ReferenceBounds,
  query: Float32Array,
  centred: Float32Array,
  dots: Float32Array,
  self: number,
  k: number,
  chosen: Int32Array,
  exact: Float64Array,
  rows: Int32Array,
  lows: Float64Array,
): number {
  const { n: m, dim, vectors: ref } = reference;
  let qn = 0;
  for (let t = 0; t < dim; t++) qn += centred[t]! * centred[t]!;
  // One pass: the k smallest upper bounds so far, and every row whose lower bound is within the k-th of them when
  // it is seen. The k-th only falls, so the rows that can be among the k are all listed (k·log m a query, in
  // random order), in index order.
  exact.fill(Infinity);
  let listed = 0;
  // Far from overflow (as a rule) each row costs an add and a compare: low = (1 − rel)(‖q‖² + ‖r‖²) − 2q·r − abs.
  const safe = qn + rMost < OVERFLOW;
  const qLow = (1 - rel) * qn - abs;
  for (let j = 0; j < m; j++) {
    if (j === self) continue;
    let low = qLow + rLow[j]! - 2 * dots[j]!;
    if (!safe && (qn + rNorm[j]! >= OVERFLOW || Number.isNaN(low))) low = -Infinity;
    if (low > exact[k - 1]!) continue;
    rows[listed] = j;
    lows[listed++] = low;
    const up = low === -Infinity ? Infinity : low + 2 * (rel * (qn + rNorm[j]!) + abs);
    if (up >= exact[k - 1]!) continue;
    let p = k - 1;
    while (p > 0 && exact[p - 1]! > up) {
      exact[p] = exact[p - 1]!;
      p--;
    }
    exact[p] = up;
  }
  const bound = exact[k - 1]!;
  // The listed rows measured in float64; strict comparisons in index order keep ties at the lower index.
  exact.fill(Infinity);
  chosen.fill(-1);
  let measured = 0;
  for (let l = 0; l < listed; l++) {
    if (lows[l]! > bound) continue;
    measured++;
    const j = rows[l]!;
    let s = 0;
    for (let u = 0, o = j * dim; u < dim; u++) s += (query[u]! - ref[o + u]!) ** 2;
    if (s >= exact[k - 1]!) continue;
    let p = k - 1;
    while (p > 0 && exact[p - 1]! > s) {
      exact[p] = exact[p - 1]!;
      chosen[p] = chosen[p - 1]!;
      p--;
    }
    exact[p] = s;
    chosen[p] = j;
  }
  return measured;
}
