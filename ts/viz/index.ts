/**
 * Pictures of a CAE (filters, reconstructions, loss curves, maps of codes), DOM-free so they
 * run in Node and in browsers. PNG encoding lives apart in ./png.js because
 * pngjs needs Node's zlib; in a browser draw a raster through ImageData.
 */
export {
  AXIS_COLOR,
  GRID_COLOR,
  NAN_COLOR,
  PAD_COLOR,
  filterGrid,
  imageGrid,
  lossCurve,
  reconstructionGrid,
  type FilterGridOptions,
  type GridOptions,
  type ImageGridOptions,
  type LossCurveOptions,
  type Raster,
} from './raster.js';
export { lossCurveSvg, type LossCurveSvgOptions } from './svg.js';
export { scatterSvg, type ScatterImage, type ScatterSvgOptions } from './scatter.js';
export {
  PALETTE,
  formatTick,
  logTicks,
  niceTicks,
  plotFrame,
  type LossSeries,
  type Margins,
  type PlotFrame,
  type Rgb,
} from './plot.js';
export { figureSvg, wrapText, type EmbeddedImage, type FigureOptions, type ScaleBar } from './figure.js';
