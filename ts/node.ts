/** Node-only helpers: dataset files on disk and PNG files (`import … from 'convae/node'`). */
export { loadFashionMnist, loadMnist, type FashionMnistOptions, type MnistOptions, type Split } from './data/mnist.js';
export { encodePng, writePng } from './viz/png.js';
export { evaluateClassifier } from './cli/evaluate.js';
