/**
 * The W4 network as an ONNX model, built in memory from the shared weights
 * (spec.ts) with onnx-proto: Conv → Tanh → MaxPool → Conv → Tanh → MaxPool →
 * Flatten → Gemm (transB) → Relu → Gemm (transB), NCHW, opset 13. No binary is
 * committed; `npm run bench` builds it at run time.
 */
import onnxProto from 'onnx-proto';
import { BATCH, W4_PARAMS, w4Weights } from './spec.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT = onnx.AttributeProto.AttributeType.INT;
const INTS = onnx.AttributeProto.AttributeType.INTS;

const ints = (name: string, v: number[]) => ({ name, type: INTS, ints: v });
const int = (name: string, v: number) => ({ name, type: INT, i: v });
const valueInfo = (name: string, dims: number[]) => ({
  name,
  type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});

export function w4OnnxModel(batch = BATCH.W4, weights = w4Weights()): Uint8Array {
  const conv = (x: string, k: number, y: string) => ({
    opType: 'Conv',
    input: [x, `block${k}.conv0.weight`, `block${k}.conv0.bias`],
    output: [y],
    attribute: [ints('kernel_shape', [5, 5]), ints('strides', [1, 1]), ints('pads', [0, 0, 0, 0])],
  });
  const pool = (x: string, y: string) => ({
    opType: 'MaxPool',
    input: [x],
    output: [y],
    attribute: [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])],
  });
  const gemm = (x: string, name: string, y: string) => ({
    opType: 'Gemm',
    input: [x, `${name}.weight`, `${name}.bias`],
    output: [y],
    attribute: [int('transB', 1)],
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'convae bench',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'cnn',
      node: [
        conv('x', 0, 'c1'),
        { opType: 'Tanh', input: ['c1'], output: ['t1'] },
        pool('t1', 'p1'),
        conv('p1', 1, 'c2'),
        { opType: 'Tanh', input: ['c2'], output: ['t2'] },
        pool('t2', 'p2'),
        { opType: 'Flatten', input: ['p2'], output: ['f'], attribute: [int('axis', 1)] },
        gemm('f', 'dense0', 'd1'),
        { opType: 'Relu', input: ['d1'], output: ['r1'] },
        gemm('r1', 'logits', 'y'),
      ],
      initializer: W4_PARAMS.map((p) => ({
        name: p.name,
        dims: p.shape,
        dataType: FLOAT,
        rawData: new Uint8Array(weights[p.name].slice().buffer),
      })),
      input: [valueInfo('x', [batch, 1, 28, 28])],
      output: [valueInfo('y', [batch, 10])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
