/**
 * Export to ONNX (opset 13, NCHW, float32, dynamic batch dimension `N`): the
 * classifier's logits (`model.onnx`) and the encoder's codes (`encoder.onnx`:
 * the conv blocks; a stack's only file). Dropout is left out (inference).
 * The protobuf is written by `@bufbuild/protobuf` with ONNX's schema from
 * `onnx-buf`, both imported only when this runs, so they stay out of bundles
 * that never export.
 */
import { ModelError } from '../errors.js';
import type { Model } from '../model/model.js';
import { type Arch, checkExportable, type Op, resolveArchitecture } from './arch.js';

type Protobuf = typeof import('@bufbuild/protobuf');
type OnnxSchema = typeof import('onnx-buf');
type NodeInit = import('@bufbuild/protobuf').MessageInitShape<OnnxSchema['NodeProtoSchema']>;
type AttributeInit = import('@bufbuild/protobuf').MessageInitShape<OnnxSchema['AttributeProtoSchema']>;

interface Onnx {
  pb: Protobuf;
  schema: OnnxSchema;
}

async function loadOnnx(): Promise<Onnx> {
  const [pb, schema] = await Promise.all([import('@bufbuild/protobuf'), import('onnx-buf')]);
  return { pb, schema };
}

function graphNodes(
  { schema }: Onnx,
  ops: Op[],
  input: string,
): { nodes: NodeInit[]; output: string; weights: string[] } {
  const { INT, INTS, FLOAT } = schema.AttributeProto_AttributeType;
  // ONNX's integer attributes are int64: bigint in @bufbuild/protobuf.
  const int = (name: string, v: number): AttributeInit => ({ name, type: INT, i: BigInt(v) });
  const ints = (name: string, v: number[]): AttributeInit => ({ name, type: INTS, ints: v.map(BigInt) });
  const nodes: NodeInit[] = [];
  const weights: string[] = [];
  let x = input;
  const add = (opType: string, name: string, inputs: string[], attribute: AttributeInit[] = []) => {
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
        add('Flatten', o.name, [], [int('axis', 1)]);
        break;
      case 'dropout':
        break;
      case 'dense':
        weights.push(`${o.name}.weight`, `${o.name}.bias`);
        add('Gemm', o.name, [`${o.name}.weight`, `${o.name}.bias`], [int('transB', 1)]);
        break;
      default:
        throw new ModelError(o.name, `${o.op} has no ONNX export`);
    }
  }
  return { nodes, output: x, weights };
}

function encodeModel(
  onnx: Onnx,
  arch: Arch,
  params: Map<string, { shape: number[]; data: Float32Array }>,
  ops: Op[],
  outName: string,
  outShape: readonly number[],
): Uint8Array {
  const { pb, schema } = onnx;
  const FLOAT = schema.TensorProto_DataType.FLOAT;
  const valueInfo = (name: string, dims: readonly number[]) => ({
    name,
    type: {
      value: {
        case: 'tensorType' as const,
        value: {
          elemType: FLOAT,
          shape: {
            dim: [
              { value: { case: 'dimParam' as const, value: 'N' } },
              ...dims.map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })),
            ],
          },
        },
      },
    },
  });
  const g = graphNodes(onnx, ops, 'x');
  // The last node writes the graph output under its public name.
  g.nodes[g.nodes.length - 1].output = [outName];
  const model = pb.create(schema.ModelProtoSchema, {
    irVersion: 7n,
    producerName: 'convae',
    opsetImport: [{ domain: '', version: 13n }],
    graph: {
      name: `convae-${arch.kind}-${outName}`,
      node: g.nodes,
      initializer: g.weights.map((name) => {
        const p = params.get(name);
        if (!p) throw new ModelError(name, 'parameter missing from the model');
        return { name, dims: p.shape.map(BigInt), dataType: FLOAT, rawData: new Uint8Array(p.data.slice().buffer) };
      }),
      input: [valueInfo('x', arch.inputShape)],
      output: [valueInfo(outName, outShape)],
    },
  });
  return pb.toBinary(schema.ModelProtoSchema, model);
}

/**
 * ONNX files of a model: `model.onnx` (input `x`, output `logits`) for a
 * classifier, and `encoder.onnx` (input `x`, output `codes`: the last conv
 * block's output) for both kinds.
 */
export async function exportOnnx(model: Model): Promise<Record<string, Uint8Array>> {
  checkExportable('exportOnnx', model);
  const onnx = await loadOnnx();
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
