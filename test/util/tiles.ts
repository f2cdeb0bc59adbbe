/**
 * The tiles `reconstructTiled` lays along an axis, written apart from it (test/anomaly/tiled.test.ts's reference and
 * the tile counts `convae denoise` is checked against): one centred tile for an axis no longer than the tile, else
 * from −(tile − stride) by stride until the end is covered with tile − stride past it.
 */
export function tileStarts(len: number, tile: number, stride: number): number[] {
  if (len <= tile) return [-Math.floor((tile - len) / 2)];
  const out: number[] = [];
  for (let x = -(tile - stride); ; x += stride) {
    out.push(x);
    if (x + tile >= len + (tile - stride)) return out;
  }
}

/** Tiles of an `h × w` image with square tiles of `tile` at `stride`: the product of the two axes'. */
export function tilesOf(h: number, w: number, tile: number, stride: number): number {
  return tileStarts(h, tile, stride).length * tileStarts(w, tile, stride).length;
}
