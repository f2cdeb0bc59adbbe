/**
 * The learned filters and the reconstructions of a fixed batch of test images,
 * drawn from a main-thread copy of the model (convae's filterGrid and
 * reconstructionGrid give RGBA rasters, in colour for RGB images and for the
 * filters of an RGB first layer; a canvas takes them as ImageData).
 * Each redraw is one small forward pass: 16 images through the trained block.
 */
import {
  filterGrid,
  reconstructionGrid,
  type Backend,
  type Classifier,
  type ImageDataset,
  type Raster,
  type StackedConvAutoencoder,
  type Tensor,
} from 'convae';

export function putRaster(canvas: HTMLCanvasElement, r: Raster): void {
  if (canvas.width !== r.width || canvas.height !== r.height) {
    canvas.width = r.width;
    canvas.height = r.height;
  }
  canvas.getContext('2d')!.putImageData(new ImageData(r.data, r.width, r.height), 0, 0);
}

/** The first convolution's weight `[cOut, cIn, kh, kw]` of a stack or a classifier. */
function firstConv(model: StackedConvAutoencoder | Classifier): {
  data: Float32Array;
  shape: [number, number, number, number];
} {
  const p = model.params().find((q) => q.name === 'block0.conv0.weight')!;
  return { data: p.value.toArray(), shape: p.value.shape as [number, number, number, number] };
}

/** How drawFilters laid out the tiles (for a click on a filter). */
export interface FilterLayout {
  count: number;
  kh: number;
  kw: number;
  columns: number;
  pad: number;
}

/** The first convolution's filters, one pixel per weight, in colour when it reads RGB (CSS scales the canvas up, pixelated). */
export function drawFilters(canvas: HTMLCanvasElement, model: StackedConvAutoencoder | Classifier): FilterLayout {
  const w = firstConv(model);
  const layout = { count: w.shape[0], kh: w.shape[2], kw: w.shape[3], columns: Math.min(w.shape[0], 8), pad: 1 };
  putRaster(canvas, filterGrid(w.data, w.shape, { scale: 1, columns: layout.columns, pad: layout.pad }));
  return layout;
}

/**
 * Reconstructions of `x` by the stack up to block `depth − 1`: encode through
 * blocks 0..depth−1, decode back down with each block's own switches.
 */
export function reconstruct(stack: StackedConvAutoencoder, x: Tensor, depth: number): Float32Array {
  let h = x;
  for (let k = 0; k < depth; k++) h = stack.blocks[k].encode(h);
  for (let k = depth - 1; k >= 0; k--) h = stack.blocks[k].decode(h);
  return h.toArray();
}

export class ReconstructionView {
  private readonly x: Tensor;
  private readonly originals: Float32Array;
  private readonly shape: [number, number, number, number];

  constructor(
    be: Backend,
    test: ImageDataset,
    private readonly canvas: HTMLCanvasElement,
    readonly count = 16,
  ) {
    const n = Math.min(count, test.length);
    this.originals = test.readImages(0, n, new Float32Array(n * test.imageSize));
    this.shape = [n, ...test.shape];
    this.x = be.fromArray(this.shape, this.originals);
  }

  draw(stack: StackedConvAutoencoder, depth = 1): Float32Array {
    const y = reconstruct(stack, this.x, depth);
    putRaster(
      this.canvas,
      reconstructionGrid(this.originals, y, this.shape, { scale: 1, columns: 8, pad: 1, range: [0, 1] }),
    );
    return y;
  }
}
