/**
 * The folder `convae detect --save DIR` writes and `convae detect --detector DIR` reads: detector.json and
 * detector.safetensors (`AnomalyDetector.save`), written together so that a failed write keeps the detector
 * already there whole. `training.normalize` (and `training.whitening`) says how the images were prepared, read as
 * a model folder's are (`inputOf`).
 */
import { join } from 'node:path';
import { AnomalyDetector } from '../anomaly/detector.js';
import type { DetectorJson } from '../anomaly/detectorfile.js';
import type { Backend } from '../backend/backend.js';
import { writeModelFiles } from '../io/files.js';
import { MAX_TENSOR_ELEMENTS } from '../limits.js';
import { MAX_WEIGHTS_FILE_BYTES, readSavedPair } from './readfile.js';
import { inputOf, type Saved } from './saved.js';

/** The files' name in the folder: `detector.json`, `detector.safetensors`. */
export const DETECTOR_BASE = 'detector';

/** The largest detector.safetensors read: a model's weights file and the largest reference codes (F32). */
export const MAX_DETECTOR_FILE_BYTES = MAX_WEIGHTS_FILE_BYTES + 4 * MAX_TENSOR_ELEMENTS;

/** Writes the detector's two files into `dir` (made beforehand: `checkOutDir`), both or neither. */
export function saveDetectorDir(dir: string, detector: AnomalyDetector, training: unknown): Promise<void> {
  return writeModelFiles(join(dir, DETECTOR_BASE), detector.save(training));
}

/** A saved detector, and how its images were prepared in training; the caller disposes `detector.stack`. */
export async function loadDetectorDir(
  be: Backend,
  dir: string,
  /** The flag that named `dir`, for the messages. */
  flag = '--detector',
): Promise<{ detector: AnomalyDetector; meta: DetectorJson; input: Saved['input'] }> {
  const base = join(dir, DETECTOR_BASE);
  const { json, weights } = await readSavedPair(
    base,
    MAX_DETECTOR_FILE_BYTES,
    `${flag} must be a folder written by \`convae detect --save\` (detector.json, detector.safetensors)`,
  );
  const { detector, meta } = AnomalyDetector.load(be, json, weights, { source: base });
  try {
    return { detector, meta, input: inputOf(meta.training, `${base}.json`) };
  } catch (e) {
    detector.stack.dispose();
    throw e;
  }
}
