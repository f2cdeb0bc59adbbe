/**
 * The page's analysis worker: what would block the main thread for a tenth of
 * a second or more runs here, on a copy of the model (its saved form, posted
 * after each training or load) and of the validation and test images:
 *
 * - the anomaly threshold: reconstruction scores of the validation images
 *   (convae's `reconstructionScores`) and the threshold that flags 5 % of them
 *   (`fitThreshold`);
 * - what a feature responds to: the test images whose strongest activation of
 *   a block-0 feature map is largest, and that activation projected back to
 *   pixels through the switches and transposed convolutions (`projectFeature`,
 *   the deconvnet).
 */
import * as Comlink from 'comlink';
import {
  type Backend,
  featureStrengths,
  fitThreshold,
  ImageDataset,
  type ImageShape,
  loadBackend,
  type LoadOptions,
  loadModel,
  projectFeature,
  reconstructionScores,
  type StackedConvAutoencoder,
} from 'convae';

let be: Backend | null = null;
let validation: ImageDataset | null = null;
let test: ImageDataset | null = null;
let stack: StackedConvAutoencoder | null = null;
/** featureStrengths of the test set for the current model (block 0), computed on the first click. */
let strengths: Float64Array | null = null;

/** Fraction of the (normal) validation images the threshold flags. */
export const FPR = 0.05;

const api = {
  /** Runs the page's build: `options` is the page backend's `workerOptions` (its compiled module). */
  async init(options: LoadOptions): Promise<string> {
    be = await loadBackend(options);
    return be.build;
  },

  setData(shape: ImageShape, val: Float32Array, tst: Float32Array): void {
    validation = ImageDataset.fromFloat32(val, shape);
    test = ImageDataset.fromFloat32(tst, shape);
    strengths = null;
  },

  /** Loads the model (a CAE stack in its saved form) and fits the threshold of reconstruction through `depth` blocks. */
  setModel(json: string, weights: Uint8Array, depth: number): { threshold: number; median: number; n: number } {
    if (!be || !validation) throw new Error('analysis worker: init and setData first');
    stack?.dispose();
    stack = null;
    strengths = null;
    stack = loadModel(be, json, weights, { kind: 'stack', source: 'the page’s model' }).model;
    const scores = reconstructionScores(stack, validation, { depth }).scores;
    const sorted = Float64Array.from(scores).sort();
    return { threshold: fitThreshold(scores, { fpr: FPR }), median: sorted[sorted.length >> 1], n: scores.length };
  },

  /** The `top` test images that activate block-0 feature `feature` most, with their projections to pixels. */
  project(feature: number, top: number) {
    if (!stack || !test) throw new Error('analysis worker: no model yet');
    strengths ??= featureStrengths(stack, test, 0);
    const k = Math.min(top, test.length);
    const r = projectFeature(stack, test, { block: 0, feature, top: k }, strengths);
    const images = test.subset(r.indices).images;
    return Comlink.transfer({ ...r, images }, [r.projections.buffer, images.buffer]);
  },
};

export type AnalysisApi = typeof api;
Comlink.expose(api);
