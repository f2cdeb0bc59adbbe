/**
 * A file a command writes is never a file of its --model: `predict --out run/classifier.json` replaced the model
 * with the predictions, `evaluate --out run/stack.safetensors` the stack's weights with the report. Each such
 * --out (or --picture) is refused before the model is read, and the model's files stay as they were.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const cli = cliAsync(60_000);
const dir = mkdtempSync(join(tmpdir(), 'convae-out-not-model-'));
const run = join(dir, 'run');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILES = ['classifier.json', 'classifier.safetensors', 'stack.json', 'stack.safetensors'];
const contents = () => FILES.map((f) => readFileSync(join(run, f)));

beforeAll(async () => {
  const be = await backendUnderTest();
  const blocks: cv.BlockSpec[] = [{ convs: [{ filters: 2, kernel: 5 }], pool: { kernel: 2 } }];
  const stack = new cv.StackedConvAutoencoder(be, blocks, [1, 28, 28], 1);
  const clf = cv.Classifier.fromStack(stack, { hidden: [4], classes: 10 }, 1);
  mkdirSync(run, { recursive: true });
  for (const [name, m] of [
    ['stack', stack],
    ['classifier', clf],
  ] as const) {
    const s = cv.saveModel(m, {});
    writeFileSync(join(run, `${name}.json`), s.json);
    writeFileSync(join(run, `${name}.safetensors`), s.weights);
  }
  clf.dispose();
  stack.dispose();
  symlinkSync(join(run, 'classifier.json'), join(dir, 'link.csv'));
});

describe.runIf(BUILD === 'simd')('an output that is a file of --model is refused', () => {
  const data = ['--data', 'mnist', '--limit', '2'];
  const cases: [string, string[], RegExp][] = [
    [
      'predict --out classifier.json',
      ['predict', '--model', run, ...data, '--out', join(run, 'classifier.json')],
      /^convae predict: --out .* is classifier\.json of --model .*: writing it would destroy the model; give another --out/,
    ],
    [
      'predict --out a link to classifier.json',
      ['predict', '--model', run, ...data, '--out', join(dir, 'link.csv')],
      /^convae predict: --out .*link\.csv is classifier\.json of --model/,
    ],
    [
      'evaluate --out stack.safetensors (by another path, --model the JSON)',
      ['evaluate', '--model', join(run, 'stack.json'), ...data, '--out', join(run, '..', 'run', 'stack.safetensors')],
      /^convae evaluate: --out .* is stack\.safetensors of --model/,
    ],
    [
      'similar --picture stack.json',
      ['similar', '--model', run, ...data, '--k', '1', '--workers', '0', '--picture', join(run, 'stack.json')],
      /^convae similar: --picture .* is stack\.json of --model/,
    ],
    [
      'reconstruct --out classifier.safetensors',
      [
        'reconstruct',
        '--model',
        run,
        ...data.slice(0, 2),
        '--count',
        '2',
        '--out',
        join(run, 'classifier.safetensors'),
      ],
      /^convae reconstruct: --out .* is classifier\.safetensors of --model/,
    ],
  ];
  it.each(cases)('%s', async (_, args, message) => {
    const before = contents();
    const r = await cli(args);
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(1);
    expect(contents()).toEqual(before);
  });

  it('an --out beside the model is written', async () => {
    const out = join(run, 'predictions.csv');
    const r = await cli(['predict', '--model', run, ...data, '--out', out, '-q']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('file,class_index,class,probability,label,label_name');
  });
});
