/**
 * An anomaly detector: a CAE stack trained on normal images, a score, and a
 * threshold fitted on normal validation images. `detect` flags the images
 * scoring above the threshold. The `…On(runner, …)` forms make the same passes
 * on a runner (`createRunner(be, { workers })`: in workers), with the same results.
 * `save` and `AnomalyDetector.load` keep it in two files (ts/anomaly/detectorfile.ts):
 * trained once, it scores new images later with the same scores.
 */
import type { Backend } from '../backend/backend.js';
import { datasetArg, type ImageDataset } from '../data/dataset.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import type { Runner } from '../train/runner.js';
import { type DetectorJson, type DetectorLoadOptions, detectorFiles, readDetectorFiles } from './detectorfile.js';
import { checkDepth, checkImages, encode, type Embeddings } from './embed.js';
import { checkScoreSpec, type ScoreSpec, scoreOn, scoreWith } from './oneclass.js';
import { reconstructionScores } from './score.js';
import { fitThreshold, type ThresholdSpec, thresholdRate } from './threshold.js';
import { optionsOf } from '../util/options.js';

/** How an AnomalyDetector scores images and fits its threshold. */
export interface DetectorOptions {
  /**
   * Default: the mean distance to the 5 nearest normal training codes at the stack's deepest code
   * (`{ type: 'neighbours', depth: stack.blocks.length, k: 5 }`), what validation chose and the CLI's `--k 5`
   * (docs/anomaly.md). With fewer than 5 normal images the default k is their number; a k given here that is
   * larger than the normal images is refused.
   */
  score?: ScoreSpec;
  /** Default { fpr: 0.05 }. */
  threshold?: ThresholdSpec;
}

/**
 * Neighbours averaged by the default score. Capped at the normal images rather than refused: the caller did not ask
 * for 5, and a detector from 3 images is still a ranking; an explicit k above them is refused.
 */
export const DEFAULT_K = 5;

/** Per-image flags and scores from an AnomalyDetector, with the threshold used. */
export interface Detection {
  /** 1 where the score is above the threshold. */
  flags: Uint8Array;
  /** Each image's anomaly score (higher: more unusual), in dataset order. */
  scores: Float64Array;
  /** The detector's threshold: images scoring strictly above it are flagged. */
  threshold: number;
}

/** Everything `fit` is given, checked before the normal images are encoded: the score, the threshold and both datasets. */
function checkFit(
  op: string,
  stack: StackedConvAutoencoder,
  normal: ImageDataset,
  validation: ImageDataset,
  options: DetectorOptions | null | undefined,
): { spec: ScoreSpec; threshold: ThresholdSpec } {
  const opts = optionsOf(op, options);
  checkDepth(op, stack, 0); // refuses a non-stack before its blocks are read below
  checkImages(op, stack, datasetArg(op, normal, 'normal'));
  checkImages(op, stack, datasetArg(op, validation, 'validation'));
  const spec = checkScoreSpec(
    op,
    'score',
    opts.score ?? { type: 'neighbours', depth: stack.blocks.length, k: Math.min(DEFAULT_K, normal.length) },
    stack.blocks.length,
    normal.length,
  );
  const threshold = opts.threshold ?? { fpr: 0.05 };
  thresholdRate(op, threshold, 'threshold');
  return { spec, threshold };
}

function flag(scores: Float64Array, threshold: number): Detection {
  const flags = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) flags[i] = scores[i] > threshold ? 1 : 0;
  return { flags, scores, threshold };
}

/** A trained stack with a score and a threshold fitted on normal images; flags anomalous images. */
export class AnomalyDetector {
  private constructor(
    /** The trained stack the scores come from (the detector does not own it: dispose it yourself). */
    readonly stack: StackedConvAutoencoder,
    /** How it scores images: `DetectorOptions.score`, or the default. */
    readonly spec: ScoreSpec,
    /** Codes of the normal training images (neighbour scores only). */
    readonly reference: Embeddings | null,
    /** Fitted on the normal validation scores: images scoring strictly above it are flagged. */
    readonly threshold: number,
  ) {}

  /**
   * `normal`: the images the stack was trained on (the reference set of a
   * neighbour score); `validation`: normal images it was not trained on, where
   * the threshold is fitted.
   */
  static fit(
    stack: StackedConvAutoencoder,
    normal: ImageDataset,
    validation: ImageDataset,
    opts?: DetectorOptions,
  ): AnomalyDetector {
    const { spec, threshold: t } = checkFit('AnomalyDetector.fit', stack, normal, validation, opts);
    const reference = spec.type === 'neighbours' ? encode(stack, normal, { depth: spec.depth }) : null;
    const det = new AnomalyDetector(stack, spec, reference, Number.NaN);
    const threshold = fitThreshold(det.score(validation), t);
    return new AnomalyDetector(stack, spec, reference, threshold);
  }

  /** `fit` with its passes (encoding the normal images, scoring the validation images) on `runner`. */
  static async fitOn(
    runner: Runner,
    stack: StackedConvAutoencoder,
    normal: ImageDataset,
    validation: ImageDataset,
    opts?: DetectorOptions,
  ): Promise<AnomalyDetector> {
    const { spec, threshold: t } = checkFit('AnomalyDetector.fitOn', stack, normal, validation, opts);
    const reference = spec.type === 'neighbours' ? await runner.encode(stack, normal, { depth: spec.depth }) : null;
    const det = new AnomalyDetector(stack, spec, reference, Number.NaN);
    const threshold = fitThreshold(await det.scoreOn(runner, validation), t);
    return new AnomalyDetector(stack, spec, reference, threshold);
  }

  /**
   * The detector as two files, as `saveModel` saves a model: JSON (format `convae-detector`, the score, the
   * threshold, the stack's architecture and `training`, free-form metadata such as how the images were prepared)
   * and safetensors bytes (the stack's weights and, for a neighbour score, the normal training codes as the tensor
   * `reference`). `AnomalyDetector.load` gives back a detector with the same scores and flags, bit for bit.
   * An ArgumentError for a threshold that is not finite (a rate of 1 fits −∞, which flags every image), and for
   * `training` that JSON cannot hold (a cycle, a BigInt) or that would make a file `load` refuses (nested deeper
   * than 64 levels, a JSON longer than MAX_MODEL_JSON_CHARS).
   */
  save(training?: unknown): { json: string; weights: Uint8Array } {
    return detectorFiles('AnomalyDetector.save', this, training);
  }

  /**
   * Rebuilds a detector from what `save` wrote. Both files are untrusted: the JSON is read through the strict
   * model schema, the score through the checks of `fit`, the threshold must be finite, the reference codes must
   * be [normal images ≥ k, the stack's code size at the score's depth] of finite values, the weights those of the
   * stack; anything else is a FormatError naming the file and field, before anything is allocated. Its stack is the
   * caller's to dispose (`detector.stack.dispose()`), as after `fit`; `meta` is the JSON as read, `training` included.
   */
  static load(
    be: Backend,
    json: string,
    weights: Uint8Array,
    opts?: DetectorLoadOptions,
  ): { detector: AnomalyDetector; meta: DetectorJson } {
    const r = readDetectorFiles(be, json, weights, opts);
    return { detector: new AnomalyDetector(r.stack, r.spec, r.reference, r.threshold), meta: r.meta };
  }

  /** The anomaly score of every image (higher: more unusual). */
  score(data: ImageDataset): Float64Array {
    return scoreWith(this.stack, this.spec, data, () => this.reference!);
  }

  /** `score` on `runner` (in workers: the same scores, bit for bit). */
  scoreOn(runner: Runner, data: ImageDataset): Promise<Float64Array> {
    return scoreOn(runner, this.stack, this.spec, data, async () => this.reference!);
  }

  /** Scores every image of `data` and flags those above the threshold. */
  detect(data: ImageDataset): Detection {
    return flag(this.score(data), this.threshold);
  }

  /** `detect` on `runner`. */
  async detectOn(runner: Runner, data: ImageDataset): Promise<Detection> {
    return flag(await this.scoreOn(runner, data), this.threshold);
  }

  /** Per-pixel squared reconstruction error through `depth` blocks (default: the score's depth, at least 1). */
  errorMaps(data: ImageDataset, depth = Math.max(1, this.spec.depth)): Float32Array {
    return reconstructionScores(this.stack, data, { depth, maps: true }).maps!;
  }

  /** `errorMaps` on `runner`. */
  async errorMapsOn(runner: Runner, data: ImageDataset, depth = Math.max(1, this.spec.depth)): Promise<Float32Array> {
    return (await runner.reconstructionScores(this.stack, data, { depth, maps: true })).maps!;
  }
}
