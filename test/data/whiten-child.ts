/**
 * Run by whiten.test.ts in a child process (`node --import tsx`, killed after a timeout): fits a whitening on
 * 4 random images of C channels, 16×16, and prints the class and message of what it threw, or "fitted". A fit
 * that would run for hours cannot hang the test runner.
 */
import { ImageDataset } from '../../ts/data/dataset.js';
import { fitWhitening } from '../../ts/data/whiten.js';
import { Rng } from '../../ts/util/rng.js';

const [channels, window, samples] = process.argv.slice(2).map(Number);
const rng = new Rng(1);
const data = ImageDataset.fromFloat32(
  Float32Array.from({ length: 4 * channels * 256 }, () => rng.next()),
  [channels, 16, 16],
);
try {
  fitWhitening(data, { window, samples });
  console.log('fitted');
} catch (e) {
  console.log(`${(e as Error).name}: ${(e as Error).message}`);
}
