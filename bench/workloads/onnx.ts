/**
 * The W4 network as an ONNX model, written by the library's exporter
 * (`exportOnnx`, ts/export/onnx.ts) from a convae Classifier holding the shared
 * weights (spec.ts): Conv → Tanh → MaxPool → Conv → Tanh → MaxPool → Flatten →
 * Gemm → Relu → Gemm, NCHW, opset 13, input `x`, output `logits`, dynamic batch.
 * No binary is committed; `npm run bench` builds it at run time. `cv` is the
 * convae module of the caller (the source in Node, the built package in the
 * browser page), so the model and the exporter come from the same copy.
 */
import type * as Convae from '../../ts/index.js';
import { W3_BLOCKS, W3_HEAD } from './convae-net.js';
import { INPUT_SHAPE, w4Weights } from './spec.js';

export async function w4OnnxModel(cv: typeof Convae, weights = w4Weights()): Promise<Uint8Array> {
  const be = await cv.loadBackend();
  const clf = cv.Classifier.fromBlocks(be, W3_BLOCKS, INPUT_SHAPE.W4, W3_HEAD, 1);
  try {
    for (const p of clf.params()) p.value.set(weights[p.name]);
    return (await cv.exportOnnx(clf))['model.onnx'];
  } finally {
    clf.dispose();
  }
}
