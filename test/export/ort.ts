/** Runs an exported ONNX file with onnxruntime-web (wasm, one thread) in Node. */
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1;

/** Output `output` of the ONNX file on `x`, [n, 1, 28, 28]. */
export async function runOrt(file: Uint8Array, x: Float32Array, n: number, output: string): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(file, { executionProviders: ['wasm'] });
  try {
    const out = await s.run({ x: new ort.Tensor('float32', x, [n, 1, 28, 28]) });
    return out[output].data as Float32Array;
  } finally {
    await s.release();
  }
}
