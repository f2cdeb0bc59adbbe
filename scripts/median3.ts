/** The 3×3 median filter the denoising measurements compare against (scripts/denoise-measure.ts, photo-denoise.ts). */

/** 3×3 median of each pixel of each of `n` planes of h × w (a colour image: its channels), the edges replicated. */
export function median3(images: Float32Array, n: number, h: number, w: number): Float32Array {
  const out = new Float32Array(images.length);
  const win = new Float32Array(9);
  for (let i = 0; i < n; i++) {
    const base = i * h * w;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let k = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = Math.min(h - 1, Math.max(0, y + dy)),
              xx = Math.min(w - 1, Math.max(0, x + dx));
            win[k++] = images[base + yy * w + xx]!;
          }
        win.sort();
        out[base + y * w + x] = win[4]!;
      }
  }
  return out;
}
