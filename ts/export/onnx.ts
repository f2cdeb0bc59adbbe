/**
 * Export to ONNX (opset 13, NCHW, float32, dynamic batch dimension `N`): the
 * classifier's logits (`model.onnx`) and the encoder's codes (`encoder.onnx`:
 * the conv blocks; a stack's only file). Dropout is left out (inference).
 * The protobuf is written by `onnx-proto`, imported only when this runs, so
 * it stays out of bundles that never export.
 */
import { ModelError } from '../errors.js';
import type { Model } from '../model/model.js';
import { type Arch, type Op, resolveArchitecture } from './arch.js';

type OnnxNs = typeof import('onnx-proto').onnx;

async function onnxNs(): Promise<OnnxNs> {
  const mod = (await import('onnx-proto')) as { default?: { onnx: OnnxNs }; onnx?: OnnxNs };
  return (mod.onnx ?? mod.default?.onnx) as OnnxNs;
}

interface Node {
  opType: string;
  input: string[];
  output: string[];
  attribute?: object[];
}

function graphNodes(onnx: OnnxNs, ops: Op[], input: string): { nodes: Node[]; output: string; weights: string[] } {
  const INT = onnx.AttributeProto.AttributeType.INT,
    INTS = onnx.AttributeProto.AttributeType.INTS,
    FLOAT = onnx.AttributeProto.AttributeType.FLOAT;
  const ints = (name: string, v: number[]) => ({ name, type: INTS, ints: v });
  const nodes: Node[] = [];
  const weights: string[] = [];
  let x = input;
  const add = (opType: string, name: string, inputs: string[], attribute: object[] = []) => {
    const y = `${name}.out`;
    nodes.push({ opType, input: [x, ...inputs], output: [y], attribute });
    x = y;
  };
  for (const o of ops) {
    switch (o.op) {
      case 'conv':
        weights.push(`${o.name}.weight`, `${o.name}.bias`);
        add(
          'Conv',
          o.name,
          [`${o.name}.weight`, `${o.name}.bias`],
          [
            ints('kernel_shape', o.kernel),
            ints('strides', o.stride),
            ints('pads', [o.padding[0], o.padding[1], o.padding[0], o.padding[1]]),
          ],
        );
        break;
      case 'act':
        if (o.kind === 'relu') add('Relu', o.name, []);
        else if (o.kind === 'tanh') add('Tanh', o.name, []);
        else if (o.kind === 'sigmoid') add('Sigmoid', o.name, []);
        else if (o.kind === 'leakyRelu') add('LeakyRelu', o.name, [], [{ name: 'alpha', type: FLOAT, f: o.alpha }]);
        break;
      case 'pool':
        add('MaxPool', o.name, [], [ints('kernel_shape', o.kernel), ints('strides', o.stride)]);
        break;
      case 'flatten':
        add('Flatten', o.name, [], [{ name: 'axis', type: INT, i: 1 }]);
        break;
      case 'dropout':
        break;
      case 'dense':
        weights.push(`${o.name}.weight`, `${o.name}.bias`);
        add('Gemm', o.name, [`${o.name}.weight`, `${o.name}.bias`], [{ name: 'transB', type: INT, i: 1 }]);
        break;
      default:
        throw new ModelError(o.name, `${o.op} has no ONNX export`);
    }
  }
  return { nodes, output: x, weights };
}

function encodeModel(
  onnx: OnnxNs,
  arch: Arch,
  params: Map<string, { shape: number[]; data: Float32Array }>,
  ops: Op[],
  outName: string,
  outShape: readonly number[],
): Uint8Array {
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const valueInfo = (name: string, dims: readonly number[]) => ({
    name,
    type: {
      tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, ...dims.map((d) => ({ dimValue: d }))] } },
    },
  });
  const g = graphNodes(onnx, ops, 'x');
  // The last node writes the graph output under its public name.
  g.nodes[g.nodes.length - 1].output = [outName];
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'convae',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: `convae-${arch.kind}-${outName}`,
      node: g.nodes,
      initializer: g.weights.map((name) => {
        const p = params.get(name);
        if (!p) throw new ModelError(name, 'parameter missing from the model');
        return { name, dims: p.shape, dataType: FLOAT, rawData: new Uint8Array(p.data.slice().buffer) };
      }),
      input: [valueInfo('x', arch.inputShape)],
      output: [valueInfo(outName, outShape)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * ONNX files of a model: `model.onnx` (input `x`, output `logits`) for a
 * classifier, and `encoder.onnx` (input `x`, output `codes`: the last conv
 * block's output) for both kinds.
 */
export async function exportOnnx(model: Model): Promise<Record<string, Uint8Array>> {
  const onnx = await onnxNs();
  const arch = resolveArchitecture(model);
  const params = new Map(model.params().map((p) => [p.name, { shape: [...p.value.shape], data: p.value.toArray() }]));
  const encoder = arch.blocks.flatMap((b) => b.encoder);
  const last = arch.blocks[arch.blocks.length - 1];
  const files: Record<string, Uint8Array> = {
    'encoder.onnx': encodeModel(onnx, arch, params, encoder, 'codes', last.codeShape),
  };
  if (arch.kind === 'classifier')
    files['model.onnx'] = encodeModel(onnx, arch, params, [...encoder, ...arch.head], 'logits', arch.outputShape);
  return files;
}
