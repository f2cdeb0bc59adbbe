/** Node-only helpers: dataset files on disk and PNG files (`import … from 'convae/node'`). */
export { loadFashionMnist, loadMnist, type FashionMnistOptions, type MnistOptions, type Split } from './data/mnist.js';
export { encodePng, writePng } from './viz/png.js';
export { evaluateClassifier } from './cli/evaluate.js';
export { loadImageFolder, IMAGE_EXTENSIONS, type ImageFolder, type ImageFolderOptions } from './data/imagefolder.js';
export { loadCifar10, type Cifar10Options } from './data/cifarfiles.js';
