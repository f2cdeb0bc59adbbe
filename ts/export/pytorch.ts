/**
 * Export to PyTorch: `model.py`, an `nn.Module` whose parameter names are the
 * safetensors names (so `Model().load_state_dict(load_file('model.safetensors'))`
 * works as it is) with every layer and default written out, plus the weights
 * and a short README. Tied decoders share the conv's weight Parameter (the
 * transposed conv calls F.conv_transpose2d with it, exactly as convae's tied
 * ConvTranspose2D uses the OIHW weight unchanged as its IOHW weight); pooling
 * keeps its indices for max_unpool2d; dropout is nn.Dropout (identity in eval()).
 */
import type { Model } from '../model/model.js';
import { exportWeights } from '../model/serialize.js';
import { ArgumentError, quote } from '../errors.js';
import { type Arch, type BlockArch, checkExportable, type Op, resolveArchitecture } from './arch.js';

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

/** The text of model.py for an architecture. */
export function pytorchModule(arch: Arch): string {
  const stack = arch.kind === 'stack';
  const lines = [
    `"""A convae ${stack ? 'stacked convolutional autoencoder' : 'classifier'}, exported to PyTorch.`,
    '',
    `Input [N, ${arch.inputShape.join(', ')}] (NCHW, float32); ${stack ? `code [N, ${arch.outputShape.join(', ')}]` : `logits [N, ${arch.outputShape[0]}]`}.`,
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
  for (const b of arch.blocks) lines.push(...blockClass(b, stack), '');
  lines.push(
    'class Model(nn.Module):',
    '    def __init__(self):',
    '        super().__init__()',
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
      '        """The codes of x after the first `through` blocks (0: x itself)."""',
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

/**
 * What an exported network expects of its input when convae normalised its training images (`training.normalize`
 * of the model's JSON), or null for raw pixels in [0, 1]: the export holds the network alone, and raw pixels give it
 * other outputs than convae's.
 */
export function inputNote(normalize: unknown): string | null {
  const contrast = 'each image minus its mean, divided by √(its variance + 0.001), over all its values';
  if (normalize === 'contrast')
    return `the model was trained on contrast-normalised images (${contrast}): give the exported network its input so, not raw pixels`;
  if (normalize === 'whiten')
    return `the model was trained on contrast-normalised (${contrast}), then whitened images (the local ZCA in training.whitening of the model's JSON): give the exported network its input so, not raw pixels`;
  return null;
}

/** `training.normalize` of a model's JSON text, undefined when the text says none (or is not JSON: the loader judges it). */
function normalizeOf(modelJsonText: string): unknown {
  try {
    return (JSON.parse(modelJsonText) as { training?: { normalize?: unknown } } | null)?.training?.normalize;
  } catch {
    return undefined;
  }
}

function readme(arch: Arch, normalize: unknown): string {
  const stack = arch.kind === 'stack';
  const note = inputNote(normalize);
  return `# convae model for PyTorch

A convae ${stack ? 'stacked convolutional autoencoder' : 'classifier'} (input \`[N, ${arch.inputShape.join(', ')}]\`),
exported by \`convae export --format pytorch\`.

- \`model.py\`: the network as an \`nn.Module\`, every layer and default written out.
- \`model.safetensors\`: the weights; their names are the module's parameter names.
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

/** The files of a PyTorch export, by name (write them into one folder). */
export interface PyTorchExport {
  /** File name → contents: model.py, README.md, model.safetensors, model.json. */
  files: Record<string, string | Uint8Array>;
}

/** The PyTorch export of a model; `modelJson` (the convae description) is copied for `convae import`. */
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
  return {
    files: {
      'model.py': pytorchModule(arch),
      'README.md': readme(arch, normalizeOf(modelJsonText)),
      'model.safetensors': exportWeights(model.params()),
      'model.json': modelJsonText,
    },
  };
}
