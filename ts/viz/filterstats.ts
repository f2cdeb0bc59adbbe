/**
 * Numbers that say what a conv layer's filters look like, so that "they are
 * edges" or "they are noise" is measured and not only seen:
 *
 * - roughness: mean squared difference of horizontally and vertically
 *   adjacent weights (per channel) over twice the mean squared weight:
 *   ≈ 1 for white noise, → 0 for smooth filters, 2 for a checkerboard;
 * - coherence of the summed per-channel structure tensor (Di Zenzo):
 *   (λ₁ − λ₂)/(λ₁ + λ₂), 1 for a straight edge or grating (one orientation),
 *   ≈ 0 for an isotropic blob;
 * - chroma: the share of the energy that is not common to the input channels
 *   (0 for a grey filter, 2/3 for a filter on one channel only);
 * - moved: 1 − |cos| between the filter and its initial value.
 */

/** What one filter looks like, as numbers. */
export interface FilterStat {
  roughness: number;
  coherence: number;
  chroma: number;
  /** 1 − |cosine| to the initial filter (NaN when none was given). */
  moved: number;
  kind: 'noisy' | 'edge' | 'blob';
}

/**
 * How filters are counted: an edge (or grating) has coherence ≥ 0.5 and roughness ≤ 0.8 (a fine
 * grating is rough but coherent; 90 % of white-noise filters of 7×7 have coherence < 0.26);
 * a blob has roughness ≤ 0.5 and coherence < 0.5; anything else is noisy.
 */
export const FILTER_THRESHOLDS = { coherence: 0.5, edgeRoughness: 0.8, blobRoughness: 0.5 } as const;

/** Statistics of each filter of a conv weight [cOut, cIn, kh, kw] (optionally against its initial value). */
export function filterStats(
  weights: Float32Array,
  shape: readonly [number, number, number, number],
  initial?: Float32Array,
): FilterStat[] {
  const [cOut, cIn, kh, kw] = shape;
  const per = cIn * kh * kw,
    plane = kh * kw;
  const out: FilterStat[] = [];
  for (let o = 0; o < cOut; o++) {
    const w = weights.subarray(o * per, (o + 1) * per);
    let e = 0;
    for (const v of w) e += v * v;
    let diff = 0,
      pairs = 0,
      jxx = 0,
      jyy = 0,
      jxy = 0;
    for (let c = 0; c < cIn; c++) {
      const p = w.subarray(c * plane, (c + 1) * plane);
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) {
          if (x + 1 < kw) {
            diff += (p[y * kw + x + 1] - p[y * kw + x]) ** 2;
            pairs++;
          }
          if (y + 1 < kh) {
            diff += (p[(y + 1) * kw + x] - p[y * kw + x]) ** 2;
            pairs++;
          }
          if (x + 1 < kw && y + 1 < kh) {
            const a = p[y * kw + x],
              b = p[y * kw + x + 1],
              c2 = p[(y + 1) * kw + x],
              d = p[(y + 1) * kw + x + 1];
            const gx = (b - a + d - c2) / 2,
              gy = (c2 - a + d - b) / 2;
            jxx += gx * gx;
            jyy += gy * gy;
            jxy += gx * gy;
          }
        }
    }
    let chroma = 0;
    for (let t = 0; t < plane; t++) {
      let m = 0;
      for (let c = 0; c < cIn; c++) m += w[c * plane + t];
      m /= cIn;
      for (let c = 0; c < cIn; c++) chroma += (w[c * plane + t] - m) ** 2;
    }
    let moved = Number.NaN;
    if (initial) {
      const w0 = initial.subarray(o * per, (o + 1) * per);
      let d = 0,
        e0 = 0;
      for (let t = 0; t < per; t++) {
        d += w[t] * w0[t];
        e0 += w0[t] * w0[t];
      }
      moved = 1 - Math.abs(d) / Math.sqrt(e * e0 || 1);
    }
    const roughness = e > 0 && pairs > 0 ? diff / pairs / ((2 * e) / per) : 0;
    const tr = jxx + jyy;
    const coherence = tr > 0 ? Math.sqrt((jxx - jyy) ** 2 + 4 * jxy * jxy) / tr : 0;
    const t = FILTER_THRESHOLDS;
    const kind =
      coherence >= t.coherence && roughness <= t.edgeRoughness
        ? 'edge'
        : coherence < t.coherence && roughness <= t.blobRoughness
          ? 'blob'
          : 'noisy';
    out.push({ roughness, coherence, chroma: e > 0 ? chroma / e : 0, moved, kind });
  }
  return out;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : Number.NaN;
};

/** Medians and counts over a layer's filters (colour: chroma ≥ 0.2 among the smooth ones). */
export function summariseFilterStats(s: FilterStat[]): {
  filters: number;
  edges: number;
  blobs: number;
  noisy: number;
  colour: number;
  roughness: number;
  coherence: number;
  chroma: number;
  moved: number;
} {
  return {
    filters: s.length,
    edges: s.filter((f) => f.kind === 'edge').length,
    blobs: s.filter((f) => f.kind === 'blob').length,
    noisy: s.filter((f) => f.kind === 'noisy').length,
    colour: s.filter((f) => f.kind !== 'noisy' && f.chroma >= 0.2).length,
    roughness: median(s.map((f) => f.roughness)),
    coherence: median(s.map((f) => f.coherence)),
    chroma: median(s.map((f) => f.chroma)),
    moved: median(s.map((f) => f.moved)),
  };
}
