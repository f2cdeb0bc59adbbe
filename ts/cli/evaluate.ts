/** The CLI's evaluation is the library's (ts/train/evaluate.ts). */
export { evaluateClassifier } from '../train/evaluate.js';
