/**
 * Export to PyTorch: `model.py`, an `nn.Module` whose parameter names are the
 * safetensors names (so `Model().load_state_dict(load_file('model.safetensors'))`
 * works as it is) with every layer and default written out, plus the weights
 * and a short README. Tied decoders share the conv's weight Parameter (the
 * transposed conv calls F.conv_transpose2d with it, exactly as convae's tied
 * ConvTranspose2D uses the OIHW weight unchanged as its IOHW weight); pooling
 * keeps its indices for max_unpool2d; dropout is nn.Dropout (identity in eval()).
 */
import { CONTRAST_EPS, type TrainingInput } from '../data/normalize.js';
import { encodeSafetensors } from '../io/safetensors.js';
import type { Model } from '../model/model.js';
import { exportWeights, MODEL_FORMAT, paramTensors } from '../model/serialize.js';
import { ArgumentError, quote } from '../errors.js';
import { type Arch, type BlockArch, checkExportable, type Op, resolveArchitecture } from './arch.js';
import { exportedInput, normalizationStep, NORMALIZE_KERNEL } from './input.js';

const tup = (v: readonly number[]) => `(${v.join(', ')})`;
const attr = (name: string) => name.slice(name.lastIndexOf('.') + 1).replace(/[^A-Za-z0-9_]/g, '_');
const pyName = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');

function act(o: Extract<Op, { op: 'act' }>, v: string): string | null {
  switch (o.kind) {
    case 'identity':
      return null;
    case 'relu':
      return `F.relu(${v})`;
    case 'leakyRelu':
      return `F.leaky_relu(${v}, negative_slope=${o.alpha})`;
    case 'tanh':
      return `torch.tanh(${v})`;
    case 'sigmoid':
      return `torch.sigmoid(${v})`;
  }
}

/** `__init__` line of a layer with parameters (or a dropout), null for the others. */
function init(o: Op): string | null {
  switch (o.op) {
    case 'conv':
      return `self.${attr(o.name)} = nn.Conv2d(${o.inChannels}, ${o.filters}, kernel_size=${tup(o.kernel)}, stride=${tup(o.stride)}, padding=${tup(o.padding)})`;
    case 'deconv':
      return o.tiedTo
        ? `self.${attr(o.name)} = TiedBias(${o.filters})  # weight: ${o.tiedTo}.weight (tied)`
        : `self.${attr(o.name)} = nn.ConvTranspose2d(${o.inChannels}, ${o.filters}, kernel_size=${tup(o.kernel)}, stride=${tup(o.stride)}, padding=${tup(o.padding)}, output_padding=${tup(o.outputPadding)})`;
    case 'dense':
      return `self.${attr(o.name)} = nn.Linear(${o.inFeatures}, ${o.units})`;
    case 'dropout':
      return `self.${pyName(o.name)} = nn.Dropout(p=${o.rate})  # identity in eval(); inverted dropout in train(), as convae`;
    default:
      return null;
  }
}

/** Forward lines of one op on variable `v`. */
function step(o: Op, v: string, self: string, indices = true): string[] {
  switch (o.op) {
    case 'conv':
      return [`${v} = ${self}.${attr(o.name)}(${v})  # ${o.name}`];
    case 'deconv': {
      if (!o.tiedTo) return [`${v} = ${self}.${attr(o.name)}(${v})  # ${o.name}`];
      return [
        `# ${o.name}: tied to ${o.tiedTo}, whose OIHW weight is the transposed conv's IOHW weight as it is`,
        `${v} = F.conv_transpose2d(${v}, ${self}.${attr(o.tiedTo)}.weight, ${self}.${attr(o.name)}.bias, stride=${tup(o.stride)}, padding=${tup(o.padding)}, output_padding=${tup(o.outputPadding)})`,
      ];
    }
    case 'act': {
      const e = act(o, v);
      return e ? [`${v} = ${e}  # ${o.name}`] : [`# ${o.name}: identity`];
    }
    case 'pool':
      if (!indices)
        return [`${v} = F.max_pool2d(${v}, kernel_size=${tup(o.kernel)}, stride=${tup(o.stride)})  # ${o.name}`];
      return [
        `${v}, indices = F.max_pool2d(${v}, kernel_size=${tup(o.kernel)}, stride=${tup(o.stride)}, return_indices=True)  # ${o.name}`,
      ];
    case 'unpool':
      return [
        `${v} = F.max_unpool2d(${v}, indices, kernel_size=${tup(o.kernel)}, stride=${tup(o.stride)}, output_size=${tup(o.outputShape.slice(1))})  # ${o.name}`,
      ];
    case 'flatten':
      return [`${v} = torch.flatten(${v}, 1)  # ${o.name}: [N, ${o.features}]`];
    case 'dropout':
      return [`${v} = ${self}.${pyName(o.name)}(${v})`];
    case 'dense':
      return [`${v} = ${self}.${attr(o.name)}(${v})  # ${o.name}`];
  }
}

const indent = (lines: string[], n: number) => lines.map((l) => (l ? ' '.repeat(n) + l : l));

function blockClass(b: BlockArch, stack: boolean): string[] {
  const cls = `Block${b.name.slice(5)}`;
  const hasPool = b.encoder.some((o) => o.op === 'pool');
  const out = [
    `class ${cls}(nn.Module):`,
    `    """${b.name}: [N, ${b.inputShape.join(', ')}] -> code [N, ${b.codeShape.join(', ')}]."""`,
    '',
    '    def __init__(self):',
    '        super().__init__()',
    ...indent(
      [...b.encoder, ...b.decoder].map(init).filter((l): l is string => l !== null),
      8,
    ),
    '',
  ];
  if (!stack) {
    out.push(
      '    def forward(self, x):',
      ...indent(
        b.encoder.flatMap((o) => step(o, 'x', 'self', false)),
        8,
      ),
      '        return x',
      '',
    );
    return out;
  }
  out.push(
    '    def encode(self, x):',
    `        """The code and the max-pool indices ${hasPool ? '' : '(None: no pooling) '}that decode needs."""`,
    ...(hasPool ? [] : ['        indices = None']),
    ...indent(
      b.encoder.flatMap((o) => step(o, 'x', 'self')),
      8,
    ),
    '        return x, indices',
    '',
    '    def decode(self, h, indices):',
    ...indent(
      b.decoder.flatMap((o) => step(o, 'h', 'self')),
      8,
    ),
    '        return h',
    '',
    '    def forward(self, x):',
    '        """The reconstruction of x."""',
    '        return self.decode(*self.encode(x))',
    '',
  );
  return out;
}

/**
 * The `Normalize` module: convae's input normalisation (`normalized` in ts/cli/data.ts). The whitening kernel is a
 * buffer, `normalize.kernel` in the state dict: saved with the weights, never trained.
 */
function normalizeClass(input: TrainingInput): string[] {
  const w = input.whitening;
  const r = w ? (w.window - 1) / 2 : 0;
  return [
    'class Normalize(nn.Module):',
    `    """convae's input normalisation of raw pixels in [0, 1]: ${pyText(normalizationStep(input))}."""`,
    '',
    ...(w
      ? [
          '    def __init__(self):',
          '        super().__init__()',
          `        self.register_buffer("kernel", torch.zeros(${w.channels}, ${w.channels}, ${w.window}, ${w.window}))`,
          '',
        ]
      : []),
    '    def forward(self, x):',
    '        x = x - x.mean(dim=(1, 2, 3), keepdim=True)',
    `        x = x / torch.sqrt((x * x).mean(dim=(1, 2, 3), keepdim=True) + ${CONTRAST_EPS})`,
    ...(w ? [`        x = F.conv2d(F.pad(x, (${r}, ${r}, ${r}, ${r}), mode="replicate"), self.kernel)`] : []),
    '        return x',
    '',
    '',
  ];
}

/** model.py is ASCII, as every line of it the exporter writes. */
const pyText = (t: string | null) => (t ?? '').replaceAll('√', 'sqrt').replaceAll('×', 'x');

/**
 * The text of model.py for an architecture. With `input` of a model trained on normalised images, `Model` starts with
 * `Normalize`, convae's normalisation of raw pixels in [0, 1] (the whitening kernel: buffer `normalize.kernel`).
 */
export function pytorchModule(arch: Arch, input: TrainingInput = { normalize: 'none' }): string {
  const stack = arch.kind === 'stack';
  const normalize = input.normalize !== 'none';
  const lines = [
    `"""A convae ${stack ? 'stacked convolutional autoencoder' : 'classifier'}, exported to PyTorch.`,
    '',
    `Input [N, ${arch.inputShape.join(', ')}] (NCHW, float32); ${stack ? `code [N, ${arch.outputShape.join(', ')}]` : `logits [N, ${arch.outputShape[0]}]`}.`,
    ...(normalize
      ? [
          'The input is raw pixels in [0, 1], as `convae predict` reads image files: the first step, Normalize,',
          'is the normalisation the model was trained on.',
        ]
      : []),
    'Parameter names are those of model.safetensors, so',
    '    m = Model(); m.load_state_dict(safetensors.torch.load_file("model.safetensors"))',
    'works as it is (or `m = load()`). Generated by `convae export --format pytorch`.',
    '"""',
    'import torch',
    'import torch.nn.functional as F',
    'from torch import nn',
    '',
    `INPUT_SHAPE = ${tup(arch.inputShape)}`,
    '',
    '',
  ];
  if (stack && arch.blocks.some((b) => b.decoder.some((o) => o.op === 'deconv' && o.tiedTo))) {
    lines.push(
      'class TiedBias(nn.Module):',
      '    """The own bias of a tied transposed convolution; its weight is its conv\'s (one shared Parameter)."""',
      '',
      '    def __init__(self, channels):',
      '        super().__init__()',
      '        self.bias = nn.Parameter(torch.zeros(channels))',
      '',
      '',
    );
  }
  if (normalize) lines.push(...normalizeClass(input));
  for (const b of arch.blocks) lines.push(...blockClass(b, stack), '');
  lines.push(
    'class Model(nn.Module):',
    '    def __init__(self):',
    '        super().__init__()',
    ...(normalize ? ['        self.normalize = Normalize()'] : []),
    ...arch.blocks.map((b) => `        self.${b.name} = Block${b.name.slice(5)}()`),
    ...indent(
      arch.head.map(init).filter((l): l is string => l !== null),
      8,
    ),
    '',
  );
  const names = arch.blocks.map((b) => `self.${b.name}`).join(', ');
  if (stack) {
    lines.push(
      `    def encode(self, x, through=${arch.blocks.length}):`,
      normalize
        ? '        """The codes of x (raw pixels) after the first `through` blocks (0: x normalised)."""'
        : '        """The codes of x after the first `through` blocks (0: x itself)."""',
      ...(normalize ? ['        x = self.normalize(x)'] : []),
      `        for block in (${names},)[:through]:`,
      '            x, _ = block.encode(x)',
      '        return x',
      '',
      '    def reconstruct(self, x, block=0):',
      '        """Block `block`\'s reconstruction of its own input: the codes of the blocks before it, as in convae."""',
      `        return (${names},)[block](self.encode(x, block))`,
      '',
      '    def forward(self, x):',
      '        return self.encode(x)',
    );
  } else {
    lines.push(
      '    def encode(self, x):',
      '        """The output of the conv blocks (before flattening)."""',
      ...(normalize ? ['        x = self.normalize(x)'] : []),
      ...arch.blocks.map((b) => `        x = self.${b.name}(x)`),
      '        return x',
      '',
      '    def forward(self, x):',
      '        """Logits (no softmax)."""',
      '        x = self.encode(x)',
      ...indent(
        arch.head.flatMap((o) => step(o, 'x', 'self')),
        8,
      ),
      '        return x',
    );
  }
  lines.push(
    '',
    '',
    'def load(path="model.safetensors"):',
    '    """The model with the weights of `path`, in eval mode."""',
    '    from safetensors.torch import load_file',
    '',
    '    m = Model()',
    '    m.load_state_dict(load_file(path))',
    '    return m.eval()',
    '',
  );
  return lines.join('\n');
}

function readme(arch: Arch, input: TrainingInput): string {
  const stack = arch.kind === 'stack';
  const step = normalizationStep(input);
  const note =
    step &&
    `raw pixels in [0, 1], as \`convae predict\` reads image files. \`Model\` first applies \`Normalize\`, the normalisation the model was trained on: ${step}${stack ? '. Block 0 reconstructs the normalised image' : ''}`;
  return `# convae model for PyTorch

A convae ${stack ? 'stacked convolutional autoencoder' : 'classifier'} (input \`[N, ${arch.inputShape.join(', ')}]\`),
exported by \`convae export --format pytorch\`.

- \`model.py\`: the network as an \`nn.Module\`, every layer and default written out.
- \`model.safetensors\`: the weights; their names are the module's parameter names${input.whitening ? ` (and \`${NORMALIZE_KERNEL}\`, the whitening: a buffer, never trained)` : ''}.
${note ? `\n**Input**: ${note}.\n` : ''}
\`\`\`python
import torch
from safetensors.torch import load_file
from model import Model

m = Model()
m.load_state_dict(load_file("model.safetensors"))
m.eval()
x = torch.rand(8, ${arch.inputShape.join(', ')})
${stack ? "codes = m.encode(x)          # the last block's code\ny = m.reconstruct(x, block=0)  # block 0's reconstruction" : 'logits = m(x)'}
\`\`\`

${stack ? "Tied decoders share their conv's weight Parameter (one tensor in the state dict); the\ndecoders unpool with the encoder's max-pool indices." : 'Dropout layers are identity in `eval()` and inverted dropout in `train()`, as in convae.'}
Weights trained further in PyTorch go back with
\`convae import --from model.safetensors --arch model.json --out DIR\`.
`;
}

/** The model's parameters, and the whitening kernel as the buffer `Normalize` registers. */
function weights(model: Model, input: TrainingInput): Uint8Array {
  const w = input.whitening;
  if (!w) return exportWeights(model.params());
  const kernel = { dtype: 'F32' as const, shape: [w.channels, w.channels, w.window, w.window], data: w.kernel.slice() };
  return encodeSafetensors({ ...paramTensors(model.params()), [NORMALIZE_KERNEL]: kernel }, { format: MODEL_FORMAT });
}

/** The files of a PyTorch export, by name (write them into one folder). */
export interface PyTorchExport {
  /** File name → contents: model.py, README.md, model.safetensors, model.json. */
  files: Record<string, string | Uint8Array>;
}

/**
 * The PyTorch export of a model; `modelJsonText` (the convae description) is copied for `convae import`. When its
 * `training` record names an input normalisation ('contrast' or 'whiten', as `convae train --normalize` writes it),
 * `Model` starts with it (`Normalize`; the whitening kernel is buffer `normalize.kernel` of model.safetensors), so
 * it takes raw pixels in [0, 1], as `convae predict` does, and gives its outputs.
 */
export function exportPyTorch(model: Model, modelJsonText: string): PyTorchExport {
  checkExportable('exportPyTorch', model);
  // Without it, files['model.json'] was undefined: a folder `convae import` cannot read, or a TypeError on writing.
  if (typeof modelJsonText !== 'string')
    throw new ArgumentError(
      'exportPyTorch',
      'modelJsonText',
      `must be the model's JSON text (saveModel(model).json), got ${quote(modelJsonText)}`,
    );
  const arch = resolveArchitecture(model);
  const input = exportedInput('exportPyTorch', modelJsonText, arch.inputShape[0]);
  return {
    files: {
      'model.py': pytorchModule(arch, input),
      'README.md': readme(arch, input),
      'model.safetensors': weights(model, input),
      'model.json': modelJsonText,
    },
  };
}
