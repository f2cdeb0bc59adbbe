/**
 * A click on a learned filter shows what its feature map responds to: the test
 * images that activate it most (right half of the row, convae's
 * `projectionGrid`) and, in the left half in the same order, its strongest
 * activation in each projected back to pixels through the switches and
 * transposed convolutions (`projectFeature`, computed in the analysis worker).
 */
import { projectionGrid, type Raster } from 'convae';
import type { Analysis } from './analysis.js';
import { putRaster } from './pictures.js';

/** Images shown per feature. */
export const TOP = 8;

/**
 * The filter under a click on the filters canvas, as drawFilters lays it out
 * (convae's grid: tiles of kw × kh pixels, `pad` pixels around and between,
 * `columns` per row), or null between tiles.
 */
export function filterAt(
  canvas: HTMLCanvasElement,
  e: MouseEvent,
  layout: { count: number; kh: number; kw: number; columns: number; pad: number },
): number | null {
  const r = canvas.getBoundingClientRect();
  const x = ((e.clientX - r.left) * canvas.width) / r.width,
    y = ((e.clientY - r.top) * canvas.height) / r.height;
  const { kh, kw, columns, pad } = layout;
  const col = Math.floor((x - pad) / (kw + pad)),
    row = Math.floor((y - pad) / (kh + pad));
  const inX = x - pad - col * (kw + pad),
    inY = y - pad - row * (kh + pad);
  if (col < 0 || row < 0 || col >= columns || inX >= kw || inY >= kh) return null;
  const f = row * columns + col;
  return f < layout.count ? f : null;
}

export class FeatureView {
  /** The feature shown, and how many images it was shown for (for the page's state). */
  shown: { feature: number; images: number; activations: number[] } | null = null;

  constructor(
    private readonly analysis: Analysis,
    private readonly canvas: HTMLCanvasElement,
    private readonly note: HTMLElement,
  ) {}

  clear(text = 'click a filter to see what it responds to'): void {
    this.shown = null;
    // An empty canvas would be stretched to the panel's width as a blank square.
    this.canvas.style.display = 'none';
    this.note.textContent = text;
  }

  async show(feature: number, shape: readonly [number, number, number], from: string): Promise<void> {
    this.note.textContent = `feature ${feature}: finding the test images that activate it most…`;
    const r = await this.analysis.project(feature, TOP);
    if (!r) return; // the model changed meanwhile
    const top = r.indices.length;
    const raster: Raster = projectionGrid([{ projections: r.projections, images: r.images }], top, shape, 1);
    putRaster(this.canvas, raster);
    this.canvas.style.display = '';
    this.shown = { feature, images: top, activations: r.activations };
    this.note.textContent =
      `feature ${feature} of block 0${from}: right, the ${top} test images that activate it most; left, in the same order, ` +
      `its strongest activation in each projected back to pixels (grey 0, light +, dark −); activations ${r.activations
        .slice(0, 3)
        .map((a) => a.toFixed(2))
        .join(', ')}…`;
  }
}
