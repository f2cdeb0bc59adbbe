/**
 * The model loaders on hostile input: `importPyTorch` checks the weights file
 * against the plan of the architecture before it allocates anything (wasm
 * memory never shrinks, so a refused file must not grow it), and both
 * `importPyTorch` and `loadModel` refuse an over-long or deeply nested model
 * description before `JSON.parse` builds it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as cv from '../../ts/index.js';
import { importPyTorch } from '../../ts/export/index.js';
import { MAX_MESSAGE_CHARS, MAX_MODEL_JSON_CHARS } from '../../ts/limits.js';
import { backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();
const f32 = (shape: number[]) =>
  ({ dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }) as const;

// 1024→1024 3×3 convs: ~38 MB of weights (plus as much for gradients), more than the heap holds at the start.
const convs = [
  { filters: 1024, kernel: 3, padding: 1 },
  { filters: 1024, kernel: 3, padding: 1 },
];
const arch = (kind: 'stack' | 'classifier') =>
  JSON.stringify({
    format: 'convae-model',
    version: 1,
    kind,
    inputShape: [1, 8, 8],
    blocks: [{ convs, pool: null }],
    ...(kind === 'classifier' ? { head: { hidden: [], classes: 10 } } : {}),
    seed: 1,
  });

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Runs `f`, which must throw `cls` matching `re`, with no tensor allocated on
 * the way and memory as it was; `soon` checks what must hold whatever was thrown.
 */
function refusedBeforeAllocating(
  f: () => unknown,
  cls: new (...a: never[]) => Error,
  re: RegExp,
  soon = () => {},
): Error {
  const before = { ...be.mem.live, memory: be.memoryBytes };
  const alloc = vi.spyOn(be.mem, 'alloc');
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  soon();
  expect(err).toBeInstanceOf(cls);
  expect((err as Error).message).toMatch(re);
  expect((err as Error).message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  expect(alloc).not.toHaveBeenCalled();
  expect({ ...be.mem.live, memory: be.memoryBytes }).toEqual(before);
  return err as Error;
}

describe('importPyTorch: a weights file that does not fit the architecture allocates nothing', () => {
  it('a big stack and a file with one unrelated tensor', () => {
    refusedBeforeAllocating(
      () => importPyTorch(be, arch('stack'), cv.encodeSafetensors({ junk: f32([1]) }), 'w.safetensors'),
      cv.FormatError,
      /^w\.safetensors: tensors not in the architecture: 'junk' \(it has block0\.conv0\.weight/,
    );
  });
  it('a big stack and a file with the right names, each of one element', () => {
    const names = ['block0.conv0.weight', 'block0.conv0.bias', 'block0.conv1.weight', 'block0.conv1.bias'];
    const file = cv.encodeSafetensors(Object.fromEntries(names.map((n) => [n, f32([1])])));
    refusedBeforeAllocating(
      () => importPyTorch(be, arch('stack'), file, 'w.safetensors'),
      cv.FormatError,
      /tensor 'block0\.conv[01]\.(weight|bias)' has shape \[1\], the architecture needs \[1024[,\]]/,
    );
  });
  it('a big classifier and an nn.Sequential with one module too few', () => {
    const file = cv.encodeSafetensors({ '0.weight': f32([1]), '2.weight': f32([1]) });
    refusedBeforeAllocating(
      () => importPyTorch(be, arch('classifier'), file, 'w.safetensors'),
      cv.FormatError,
      /2 modules with parameters \(0, 2\); the architecture has 3 \(block0\.conv0, block0\.conv1, logits\)/,
    );
  });
});

/** `{…, "training": [[[…]]]}`: a valid model description but for its nesting. */
const deep = (depth: number) => arch('stack').replace(/}$/, `,"training":${'['.repeat(depth)}${']'.repeat(depth)}}`);

/** Whether JSON.parse was handed `text` (the header of a weights file is parsed too). */
const parsed = (spy: { mock: { calls: unknown[][] } }, text: string) => spy.mock.calls.some(([t]) => t === text);

describe('model descriptions: length and nesting are checked on the text, before JSON.parse', () => {
  const depth = 200_000;
  const text = deep(depth);
  const weights = cv.encodeSafetensors({});

  it('loadModel: nesting deeper than the limit', () => {
    const parse = vi.spyOn(JSON, 'parse');
    refusedBeforeAllocating(
      () => cv.loadModel(be, text, weights, 'evil'),
      cv.FormatError,
      /^evil\.json: model description nests deeper than 64 levels \(at character \d+\)$/,
      () => expect(parsed(parse, text), 'JSON.parse ran on the text').toBe(false),
    );
  });

  it('importPyTorch: nesting deeper than the limit', () => {
    const parse = vi.spyOn(JSON, 'parse');
    refusedBeforeAllocating(
      () => importPyTorch(be, text, weights, 'w.safetensors', 'arch.json'),
      cv.FormatError,
      /^arch\.json: model description nests deeper than 64 levels \(at character \d+\)$/,
      () => expect(parsed(parse, text), 'JSON.parse ran on the text').toBe(false),
    );
  });

  it('importPyTorch: a description longer than MAX_MODEL_JSON_CHARS, however valid', () => {
    const long = arch('stack') + ' '.repeat(MAX_MODEL_JSON_CHARS);
    const parse = vi.spyOn(JSON, 'parse');
    refusedBeforeAllocating(
      () => importPyTorch(be, long, weights, 'w.safetensors', 'arch.json'),
      cv.FormatError,
      new RegExp(`^arch\\.json: ${long.length} characters, more than the ${MAX_MODEL_JSON_CHARS} a model description`),
      () => expect(parsed(parse, long), 'JSON.parse ran on the text').toBe(false),
    );
  });

  it('importPyTorch: a description that is not a string', () => {
    refusedBeforeAllocating(
      () => importPyTorch(be, 42 as unknown as string, weights, 'w.safetensors', 'arch.json'),
      cv.FormatError,
      /^arch\.json: the model description must be a string of JSON$/,
    );
  });
});
