/**
 * Copies among a command's images, for `map` and `cluster`: copies (equal pixels as the stack reads them, so equal
 * codes) are one point of the map and of k-means, so what a run can give is counted in distinct images before they
 * are encoded, and in distinct codes after (a stack may map different images alike), and said in those terms.
 */
import { codeCopies, findCopies } from '../anomaly/copies.js';
import type { Embeddings } from '../anomaly/embed.js';
import type { ImageDataset } from '../data/dataset.js';
import { ArgumentError } from '../errors.js';
import { imagesHeld } from './data.js';

/** How many of a run's images are distinct, by their pixels or by their codes at `depth`. */
export interface Distinct {
  distinct: number;
  of: 'images' | 'codes';
  depth: number;
}

/** The distinct images of `data`. */
export function distinctImages(data: ImageDataset, depth: number): Distinct {
  return { distinct: findCopies(data.length, data.imageSize, (i) => data.image(i)).first.length, of: 'images', depth };
}

/** The distinct codes (at depth 0 the codes are the images, counted already). */
export function distinctCodes(codes: Embeddings, images: Distinct): Distinct {
  if (images.depth === 0) return images;
  return { distinct: codeCopies(codes).first.length, of: 'codes', depth: images.depth };
}

/** "--data holds 60" (or "--limit 60 leaves 60"), with ", 12 distinct (…)" when some are copies. */
export function heldDistinct(limit: number | undefined, n: number, c: Distinct): string {
  const held = imagesHeld(limit, n).held;
  if (c.distinct === n) return held;
  return `${held}, ${c.of === 'images' ? `${c.distinct} distinct (the others exact copies of them)` : `whose codes at block ${c.depth} hold ${c.distinct} distinct vectors`}`;
}

/** Refuses `n` ≥ 2 images that are one image, or have one code, naming `--data` as the user gave it. */
export function checkNotAllSame(
  op: string,
  data: string,
  limit: number | undefined,
  n: number,
  c: Distinct,
  to: string,
) {
  if (n < 2 || c.distinct > 1) return;
  const which = limit !== undefined && n >= limit ? `the ${n} images --limit ${limit} leaves` : `its ${n} images`;
  throw new ArgumentError(
    op,
    '--data',
    `${data.slice(0, 120)}: ${which} ${c.of === 'images' ? 'are all the same image (equal pixels as the stack reads them)' : `all have the same code at block ${c.depth}`}: nothing to ${to}`,
  );
}

/** Refuses `--neighbours` that UMAP cannot keep: it lays out each distinct image (code) once. */
export function checkMapNeighbours(
  op: string,
  neighbours: number,
  limit: number | undefined,
  n: number,
  c: Distinct,
  alt = '',
) {
  if (neighbours < c.distinct) return;
  throw new ArgumentError(
    op,
    '--neighbours',
    `${neighbours}: the map lays out each distinct ${c.of === 'images' ? 'image' : 'code'} once and needs more of them than neighbours; ${heldDistinct(limit, n, c)}: give --neighbours ${c.distinct - 1} or fewer${alt}`,
  );
}
