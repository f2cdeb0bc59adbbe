/**
 * Saving a model as two files (architecture JSON + safetensors weights, the
 * package's format: PyTorch names and layouts) and loading such a pair back.
 */
import {
  loadModel,
  saveModel,
  type Backend,
  type BlockSpec,
  type Classifier,
  type ModelJson,
  type StackedConvAutoencoder,
} from 'convae';

function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * One file of a model: `<name>.safetensors` (the weights) or `<name>.json` (the
 * architecture). One download per click: browsers hold back a second automatic one.
 */
export function downloadModel(
  model: StackedConvAutoencoder | Classifier,
  name: string,
  part: 'safetensors' | 'json',
  training?: unknown,
): void {
  const { json, weights } = saveModel(model, training);
  if (part === 'safetensors')
    download(`${name}.safetensors`, weights as Uint8Array<ArrayBuffer>, 'application/octet-stream');
  else download(`${name}.json`, json, 'application/json');
}

/** A model from the files picked: one `.json` and one `.safetensors` (any names). */
export async function loadModelFiles(
  be: Backend,
  files: FileList | File[],
): Promise<{ model: StackedConvAutoencoder | Classifier; meta: ModelJson & { blocks: BlockSpec[] }; name: string }> {
  const list = [...files];
  const json = list.find((f) => f.name.endsWith('.json'));
  const weights = list.find((f) => f.name.endsWith('.safetensors'));
  if (!json || !weights) throw new Error('pick two files: the model’s .json and its .safetensors');
  const name = json.name.replace(/\.json$/, '');
  const { model, meta } = loadModel(be, await json.text(), new Uint8Array(await weights.arrayBuffer()), name);
  if (model.kind !== 'stack' && model.kind !== 'classifier') {
    model.dispose();
    throw new Error(`the demo shows CAE stacks and classifiers, not a model of kind '${model.kind}'`);
  }
  // Both kinds save their blocks (with every default written out).
  return {
    model: model as StackedConvAutoencoder | Classifier,
    meta: meta as ModelJson & { blocks: BlockSpec[] },
    name,
  };
}
