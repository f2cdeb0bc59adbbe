/**
 * Export to ONNX (opset 13, NCHW, float32, dynamic batch dimension `N`): the
 * classifier's logits (`model.onnx`) and the encoder's codes (`encoder.onnx`:
 * the conv blocks; a stack's only file). Dropout is left out (inference).
 * The protobuf is written by `@bufbuild/protobuf` with ONNX's schema from
 * `onnx-buf`, both imported only when this runs, so they stay out of bundles
 * that never export.
 */
import { CONTRAST_EPS, type TrainingInput } from '../data/normalize.js';
import { ModelError } from '../errors.js';
import type { Model } from '../model/model.js';
import { type Arch, checkExportable, type Op, resolveArchitecture } from './arch.js';
import { exportedInput, NORMALIZE_KERNEL } from './input.js';

type Protobuf = typeof import('@bufbuild/protobuf');
type OnnxSchema = typeof import('onnx-buf');
type NodeInit = import('@bufbuild/protobuf').MessageInitShape<OnnxSchema['NodeProtoSchema']>;
type AttributeInit = import('@bufbuild/protobuf').MessageInitShape<OnnxSchema['AttributeProtoSchema']>;
type TensorInit = import('@bufbuild/protobuf').MessageInitShape<OnnxSchema['TensorProtoSchema']>;

interface Onnx {
  pb: Protobuf;
  schema: OnnxSchema;
}

async function loadOnnx(): Promise<Onnx> {
  const [pb, schema] = await Promise.all([import('@bufbuild/protobuf'), import('onnx-buf')]);
  return { pb, schema };
}

/**
 * The nodes of convae's input normalisation (`normalized` in ts/cli/data.ts) from `input` on, and the initializers
 * they read: `contrastNormalize` over each image's values, then for 'whiten' `whiten`'s convolution on the image
 * with its edge rows and columns repeated. None for 'none'.
 */
function normalizationNodes(
  { schema }: Onnx,
  norm: TrainingInput,
  input: string,
): { nodes: NodeInit[]; output: string; initializers: TensorInit[] } {
  if (norm.normalize === 'none') return { nodes: [], output: input, initializers: [] };
  const { INTS, STRING } = schema.AttributeProto_AttributeType;
  const { FLOAT, INT64 } = schema.TensorProto_DataType;
  const nodes: NodeInit[] = [];
  const node = (opType: string, inputs: string[], out: string, attribute: AttributeInit[] = []) => {
    const y = `normalize.${out}`;
    nodes.push({ opType, input: inputs, output: [y], attribute });
    return y;
  };
  // ONNX's integer attributes are int64: bigint in @bufbuild/protobuf.
  const overImage = (): AttributeInit[] => [{ name: 'axes', type: INTS, ints: [1n, 2n, 3n] }];
  const eps = 'normalize.eps';
  const initializers: TensorInit[] = [
    { name: eps, dims: [], dataType: FLOAT, rawData: new Uint8Array(Float32Array.of(CONTRAST_EPS).buffer) },
  ];
  const mean = node('ReduceMean', [input], 'mean', overImage());
  const centred = node('Sub', [input, mean], 'centred');
  const squares = node('Mul', [centred, centred], 'squares');
  const variance = node('ReduceMean', [squares], 'variance', overImage());
  const std = node('Sqrt', [node('Add', [variance, eps], 'variance_eps')], 'std');
  const contrast = node('Div', [centred, std], 'contrast');
  if (norm.normalize === 'contrast') return { nodes, output: contrast, initializers };
  const w = norm.whitening!;
  const r = BigInt((w.window - 1) / 2);
  initializers.push(
    {
      name: 'normalize.pads',
      dims: [8n],
      dataType: INT64,
      // [N, C, H, W] begins, then ends: only H and W are padded.
      rawData: new Uint8Array(BigInt64Array.of(0n, 0n, r, r, 0n, 0n, r, r).buffer),
    },
    {
      name: NORMALIZE_KERNEL,
      dims: [w.channels, w.channels, w.window, w.window].map(BigInt),
      dataType: FLOAT,
      rawData: new Uint8Array(w.kernel.slice().buffer),
    },
  );
  const edge: AttributeInit = { name: 'mode', type: STRING, s: new TextEncoder().encode('edge') };
  const padded = node('Pad', [contrast, 'normalize.pads'], 'padded', [edge]);
  const kernelShape: AttributeInit = { name: 'kernel_shape', type: INTS, ints: [w.window, w.window].map(BigInt) };
  const whitened = node('Conv', [padded, NORMALIZE_KERNEL], 'whitened', [kernelShape]);
  return { nodes, output: whitened, initializers };
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
  norm: TrainingInput,
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
  const n = normalizationNodes(onnx, norm, 'x');
  const g = graphNodes(onnx, ops, n.output);
  // The last node writes the graph output under its public name.
  g.nodes[g.nodes.length - 1].output = [outName];
  const model = pb.create(schema.ModelProtoSchema, {
    irVersion: 7n,
    producerName: 'convae',
    opsetImport: [{ domain: '', version: 13n }],
    graph: {
      name: `convae-${arch.kind}-${outName}`,
      node: [...n.nodes, ...g.nodes],
      initializer: [
        ...n.initializers,
        ...g.weights.map((name) => {
          const p = params.get(name);
          if (!p) throw new ModelError(name, 'parameter missing from the model');
          return { name, dims: p.shape.map(BigInt), dataType: FLOAT, rawData: new Uint8Array(p.data.slice().buffer) };
        }),
      ],
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
 *
 * With `modelJsonText` (the model's JSON, `saveModel(model, training).json`), both graphs start with the input
 * normalisation its `training` record names ('contrast' or 'whiten', as `convae train --normalize` writes it), so
 * they take raw pixels in [0, 1], as `convae predict` does, and give its outputs. Without it (or with no such
 * record), the graphs hold the network alone and take its input as it is.
 */
export async function exportOnnx(model: Model, modelJsonText?: string): Promise<Record<string, Uint8Array>> {
  checkExportable('exportOnnx', model);
  const arch = resolveArchitecture(model);
  const norm: TrainingInput =
    modelJsonText === undefined
      ? { normalize: 'none' }
      : exportedInput('exportOnnx', modelJsonText, arch.inputShape[0]);
  const onnx = await loadOnnx();
  const params = new Map(model.params().map((p) => [p.name, { shape: [...p.value.shape], data: p.value.toArray() }]));
  const encoder = arch.blocks.flatMap((b) => b.encoder);
  const last = arch.blocks[arch.blocks.length - 1];
  const files: Record<string, Uint8Array> = {
    'encoder.onnx': encodeModel(onnx, arch, params, encoder, 'codes', last.codeShape, norm),
  };
  if (arch.kind === 'classifier')
    files['model.onnx'] = encodeModel(onnx, arch, params, [...encoder, ...arch.head], 'logits', arch.outputShape, norm);
  return files;
}
