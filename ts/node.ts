/** Node-only helpers: dataset files on disk and PNG files (`import … from 'convae/node'`). */
export { loadFashionMnist, loadMnist, type FashionMnistOptions, type MnistOptions, type Split } from './data/mnist.js';
export { encodePng, writePng, type EncodePngOptions, type RgbaImage } from './viz/png.js';
// Also in the browser-safe package index; kept here for code that imported it from convae/node.
export { evaluateClassifier } from './train/evaluate.js';
export {
  filterFigure,
  lossChart,
  reconstructionFigure,
  scatterChart,
  svgToPng,
  type FilterFigureOptions,
  type ReconstructionFigureOptions,
} from './viz/render.js';
export { loadImageFolder, IMAGE_EXTENSIONS, type ImageFolder, type ImageFolderOptions } from './data/imagefolder.js';
export { loadCifar10, type Cifar10Options } from './data/cifarfiles.js';
