/**
 * Interleaved 8-bit pixels (what decoders hand out: RGB, RGBA or grey, row-major)
 * into the NCHW planes an `ImageDataset` stores. Shared by the Node image-folder
 * loader and the browser file loader, so both make the same grey from the same colours.
 * Browser-safe.
 */

/** Grey from colour as `ImageDataset.fromImageData` makes it: ITU-R BT.601 luma, as PIL's "L", rounded to a byte. */
export function luma(r: number, g: number, b: number): number {
  return Math.round(0.299 * r + 0.587 * g + 0.114 * b);
}

/**
 * Writes one image of `width × height` pixels with `inChannels` interleaved
 * bytes each (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; alpha is ignored — composite
 * it before) into `out` at `offset` as `outChannels` planes (1: luma, 3: R, G, B;
 * grey input is repeated into all three).
 */
export function interleavedToPlanes(
  src: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  inChannels: number,
  outChannels: 1 | 3,
  out: Uint8Array,
  offset: number,
): void {
  const plane = width * height;
  const colour = inChannels >= 3;
  for (let p = 0; p < plane; p++) {
    const q = p * inChannels;
    const r = src[q],
      g = colour ? src[q + 1] : r,
      b = colour ? src[q + 2] : r;
    if (outChannels === 1) out[offset + p] = colour ? luma(r, g, b) : r;
    else {
      out[offset + p] = r;
      out[offset + plane + p] = g;
      out[offset + 2 * plane + p] = b;
    }
  }
}

/**
 * The centred source rectangle that, scaled to `dstW × dstH`, covers it with no
 * bars and keeps the aspect ratio (CSS `object-fit: cover`, sharp's `fit: 'cover'`).
 */
export function coverRect(
  srcW: number,
  srcH: number,
  dstW: number,
  dstH: number,
): { x: number; y: number; w: number; h: number } {
  const s = Math.max(dstW / srcW, dstH / srcH);
  const w = Math.min(srcW, dstW / s),
    h = Math.min(srcH, dstH / s);
  return { x: (srcW - w) / 2, y: (srcH - h) / 2, w, h };
}

/** The size of a `width × height` image scaled by `scale` (`ImagePatches.scale`): each side rounded, at least 1 pixel. */
export function scaledSize(width: number, height: number, scale: number): { width: number; height: number } {
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
