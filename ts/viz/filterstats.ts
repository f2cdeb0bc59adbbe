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
 * - peak: the largest share of the energy at one pixel position (all
 *   channels): 1 for a single-pixel filter, ≈ 3/k² spread out;
 * - moved: 1 − |cos| between the filter and its initial value.
 */

/** What one filter looks like, as numbers. */
export interface FilterStat {
  roughness: number;
  coherence: number;
  chroma: number;
  peak: number;
  /** 1 − |cosine| to the initial filter (NaN when none was given). */
  moved: number;
  kind: FilterKind;
}

/** How a filter is counted (FILTER_THRESHOLDS): a single pixel, an oriented edge or grating, a smooth blob, or none of these (noise, mixtures). */
export type FilterKind = 'point' | 'edge' | 'blob' | 'other';

/**
 * How filters are counted, in this order: a point has half or more of its
 * energy at one pixel position; an edge (or grating, sharp or smooth) has
 * coherence ≥ 0.5 — 90 % of white-noise filters of 7×7×3 stay below 0.26; a
 * blob has roughness ≤ 0.5 (smooth) and is not coherent; the rest is 'other'.
 */
export const FILTER_THRESHOLDS = { peak: 0.5, coherence: 0.5, blobRoughness: 0.5 } as const;

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
    let chroma = 0,
      peak = 0;
    for (let t = 0; t < plane; t++) {
      let m = 0,
        at = 0;
      for (let c = 0; c < cIn; c++) at += w[c * plane + t] ** 2;
      peak = Math.max(peak, at);
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
    peak = e > 0 ? peak / e : 0;
    const kind: FilterKind =
      peak >= t.peak ? 'point' : coherence >= t.coherence ? 'edge' : roughness <= t.blobRoughness ? 'blob' : 'other';
    out.push({ roughness, coherence, chroma: e > 0 ? chroma / e : 0, peak, moved, kind });
  }
  return out;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : Number.NaN;
};

/** Medians and counts over a layer's filters (colour: chroma ≥ 0.2 among the edges and blobs). */
export function summariseFilterStats(s: FilterStat[]): {
  filters: number;
  edges: number;
  blobs: number;
  points: number;
  other: number;
  colour: number;
  roughness: number;
  coherence: number;
  chroma: number;
  moved: number;
} {
  const count = (k: FilterKind) => s.filter((f) => f.kind === k).length;
  return {
    filters: s.length,
    edges: count('edge'),
    blobs: count('blob'),
    points: count('point'),
    other: count('other'),
    colour: s.filter((f) => (f.kind === 'edge' || f.kind === 'blob') && f.chroma >= 0.2).length,
    roughness: median(s.map((f) => f.roughness)),
    coherence: median(s.map((f) => f.coherence)),
    chroma: median(s.map((f) => f.chroma)),
    moved: median(s.map((f) => f.moved)),
  };
}
