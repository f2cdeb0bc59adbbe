/**
 * Ranking metrics of anomaly scores (browser-safe, plain JS): the ROC curve,
 * its area (AUROC) and average precision. Convention: label 1 is the positive
 * class (an anomaly), and a higher score means "more anomalous".
 *
 * Ties: images with equal scores are one step of the curve (the threshold
 * cannot separate them), so the ROC curve moves diagonally across a tie and
 * AUROC counts a tied positive/negative pair as half — the Mann–Whitney U
 * statistic, as scikit-learn's roc_auc_score. Average precision is
 * scikit-learn's: Σ (Rₖ − Rₖ₋₁) Pₖ over the distinct thresholds, no interpolation.
 */
import { ArgumentError } from '../errors.js';

/** A receiver operating characteristic curve, one point per threshold. */
export interface RocCurve {
  /** False-positive rate at each threshold, from 0 to 1. */
  fpr: number[];
  /** True-positive rate at each threshold, from 0 to 1. */
  tpr: number[];
  /** Score thresholds: point i flags the images with score ≥ thresholds[i] (the first is +Infinity: nothing flagged). */
  thresholds: number[];
}

interface Ranked {
  /** Indices sorted by descending score. */
  order: Uint32Array;
  positives: number;
  negatives: number;
}

function rank(op: string, scores: ArrayLike<number>, labels: ArrayLike<number>): Ranked {
  if (!scores || typeof scores.length !== 'number')
    throw new ArgumentError(op, 'scores', 'must be an array of numbers');
  if (!labels || labels.length !== scores.length)
    throw new ArgumentError(op, 'labels', `must have one label per score (${scores.length}), got ${labels?.length}`);
  let positives = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (typeof s !== 'number' || !Number.isFinite(s))
      throw new ArgumentError(op, 'scores', `must be finite numbers; score ${i} is ${String(s)}`);
    const l = labels[i];
    if (l !== 0 && l !== 1) throw new ArgumentError(op, 'labels', `must be 0 or 1; label ${i} is ${String(l)}`);
    positives += l;
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0)
    throw new ArgumentError(op, 'labels', `need both classes; got ${positives} positives and ${negatives} negatives`);
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => scores[b] - scores[a]);
  return { order, positives, negatives };
}

/** The ROC curve: one point per distinct score, plus the origin. */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocCurve {
  const { order, positives, negatives } = rank('rocCurve', scores, labels);
  const fpr = [0],
    tpr = [0],
    thresholds = [Infinity];
  let tp = 0,
    fp = 0;
  for (let k = 0; k < order.length; ) {
    const s = scores[order[k]];
    while (k < order.length && scores[order[k]] === s) {
      if (labels[order[k]] === 1) tp++;
      else fp++;
      k++;
    }
    fpr.push(fp / negatives);
    tpr.push(tp / positives);
    thresholds.push(s);
  }
  return { fpr, tpr, thresholds };
}

/** Area under the ROC curve: the probability that a random positive scores above a random negative (ties ½). */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { fpr, tpr } = rocCurve(scores, labels);
  let area = 0;
  for (let i = 1; i < fpr.length; i++) area += ((fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1])) / 2;
  return area;
}

/** Average precision: Σ over distinct thresholds of (recall gained) × (precision there). */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { order, positives } = rank('averagePrecision', scores, labels);
  let tp = 0,
    seen = 0,
    ap = 0;
  for (let k = 0; k < order.length; ) {
    const s = scores[order[k]];
    let gained = 0;
    while (k < order.length && scores[order[k]] === s) {
      if (labels[order[k]] === 1) gained++;
      seen++;
      k++;
    }
    tp += gained;
    ap += (gained / positives) * (tp / seen);
  }
  return ap;
}
