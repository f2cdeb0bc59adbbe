/**
 * The W3/W4 network in TensorFlow.js (NHWC), and the layout conversions from
 * the PyTorch layouts of spec.ts. Used by the tfjs runner and by
 * test/bench.test.ts (W4 logits of convae vs TensorFlow.js on the same weights).
 */
import * as tf from '@tensorflow/tfjs';

/** NCHW → NHWC */
export const nhwc = (x: Float32Array, n: number, [c, h, w]: readonly number[]) =>
  tf.tensor4d(x, [n, c, h, w]).transpose([0, 2, 3, 1]);
/** OIHW → HWIO (also the conv2dTranspose filter layout [h, w, out, in] of the tied decoder) */
export const hwio = (w: Float32Array, shape: number[]) =>
  tf.tensor4d(w, shape as [number, number, number, number]).transpose([2, 3, 1, 0]);

export const glorot = (shape: number[], fanIn: number, fanOut: number, seed: number) =>
  tf.variable(
    tf.randomUniform(shape, -Math.sqrt(6 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut)), 'float32', seed),
  );

/** The W3 network's variables; from the shared W4 weights when given. */
export function cnnVars(weights?: Record<string, Float32Array>) {
  if (weights) {
    // dense0: [500, 800] over NCHW flatten (c·16 + h·4 + w) → [800, 500] over NHWC flatten ((h·4 + w)·50 + c).
    const d0 = weights['dense0.weight'],
      d0t = new Float32Array(800 * 500);
    for (let o = 0; o < 500; o++)
      for (let c = 0; c < 50; c++) for (let s = 0; s < 16; s++) d0t[(s * 50 + c) * 500 + o] = d0[o * 800 + c * 16 + s];
    return {
      w1: tf.variable(hwio(weights['block0.conv0.weight'], [20, 1, 5, 5])),
      b1: tf.variable(tf.tensor1d(weights['block0.conv0.bias'])),
      w2: tf.variable(hwio(weights['block1.conv0.weight'], [50, 20, 5, 5])),
      b2: tf.variable(tf.tensor1d(weights['block1.conv0.bias'])),
      w3: tf.variable(tf.tensor2d(d0t, [800, 500])),
      b3: tf.variable(tf.tensor1d(weights['dense0.bias'])),
      w4: tf.variable(tf.tensor2d(weights['logits.weight'], [10, 500]).transpose()),
      b4: tf.variable(tf.tensor1d(weights['logits.bias'])),
    };
  }
  return {
    w1: glorot([5, 5, 1, 20], 25, 500, 1),
    b1: tf.variable(tf.zeros([20])),
    w2: glorot([5, 5, 20, 50], 500, 1250, 2),
    b2: tf.variable(tf.zeros([50])),
    w3: glorot([800, 500], 800, 500, 3),
    b3: tf.variable(tf.zeros([500])),
    w4: glorot([500, 10], 500, 10, 4),
    b4: tf.variable(tf.zeros([10])),
  };
}
export type Vars = ReturnType<typeof cnnVars>;

export function cnnForward(v: Vars, x: tf.Tensor4D): tf.Tensor2D {
  const h1 = tf.maxPool(
    tf.tanh(tf.add(tf.conv2d(x, v.w1 as tf.Variable<tf.Rank.R4>, 1, 'valid'), v.b1)) as tf.Tensor4D,
    2,
    2,
    'valid',
  );
  const h2 = tf.maxPool(
    tf.tanh(tf.add(tf.conv2d(h1, v.w2 as tf.Variable<tf.Rank.R4>, 1, 'valid'), v.b2)) as tf.Tensor4D,
    2,
    2,
    'valid',
  );
  const d = tf.relu(tf.add(tf.matMul(tf.reshape(h2, [x.shape[0], 800]), v.w3), v.b3)) as tf.Tensor2D;
  return tf.add(tf.matMul(d, v.w4), v.b4) as tf.Tensor2D;
}

/** The logits of one batch, read back to the CPU (W4's unit of work). */
export function cnnLogits(v: Vars, x: tf.Tensor4D): Float32Array {
  const y = tf.tidy(() => cnnForward(v, x));
  const d = y.dataSync() as Float32Array;
  y.dispose();
  return d;
}
