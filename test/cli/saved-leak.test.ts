/**
 * `loadSaved` refusing a model folder after a model was loaded from it (an
 * unknown `training.normalize`, the two models disagreeing on normalisation or
 * image shape, two models of one kind) frees every tensor it allocated: the
 * backend's live tensors are what they were before the call.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSaved } from '../../ts/cli/saved.js';
import { DataError } from '../../ts/errors.js';
import * as cv from '../../ts/index.js';
import { BUILD, backendUnderTest } from '../util/backend.js';

const dir = mkdtempSync(join(tmpdir(), 'convae-saved-leak-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const classifier = (be: cv.Backend, shape: [number, number, number]) =>
  cv.Classifier.fromBlocks(be, [{ convs: [{ filters: 4, kernel: 5 }], pool: { kernel: 2 } }], shape, {
    hidden: [16],
    classes: 10,
  });
const stack = (be: cv.Backend, shape: [number, number, number]) =>
  new cv.StackedConvAutoencoder(be, [{ convs: [{ filters: 3, kernel: 5 }] }], shape, 2);

/** Saves `model` as `folder/name.json` + `.safetensors` with `training` metadata, then frees it. */
function save(folder: string, name: string, model: cv.Model, training: unknown) {
  const s = cv.saveModel(model, training);
  model.dispose();
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, `${name}.json`), s.json);
  writeFileSync(join(folder, `${name}.safetensors`), s.weights);
}

describe.runIf(BUILD === 'simd')('loadSaved refusing a model frees it', () => {
  const cases: [string, (be: cv.Backend, folder: string) => void, RegExp][] = [
    [
      'an unknown training.normalize',
      (be, f) => save(f, 'classifier', classifier(be, [1, 28, 28]), { normalize: 'bogus' }),
      /training\.normalize must be/,
    ],
    [
      'the second model trained on another normalisation',
      (be, f) => {
        save(f, 'classifier', classifier(be, [1, 28, 28]), { normalize: 'none' });
        save(f, 'stack', stack(be, [1, 28, 28]), { normalize: 'contrast' });
      },
      /was trained on 'contrast' input/,
    ],
    [
      'the second model taking other images',
      (be, f) => {
        save(f, 'classifier', classifier(be, [1, 28, 28]), {});
        save(f, 'stack', stack(be, [1, 20, 20]), {});
      },
      /takes \[1,20,20\] images/,
    ],
    [
      'two stacks (classifier.json holding one)',
      (be, f) => {
        save(f, 'classifier', stack(be, [1, 28, 28]), {});
        save(f, 'stack', stack(be, [1, 28, 28]), {});
      },
      /holds a second stack/,
    ],
  ];
  it.each(cases)('%s', async (name, make, message) => {
    const be = await backendUnderTest();
    const folder = join(dir, name.replace(/\W+/g, '-'));
    make(be, folder);
    const live = be.mem.live.tensors;
    const e = await loadSaved(be, folder, 'any').then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(DataError);
    expect((e as Error).message).toMatch(message);
    expect(be.mem.live.tensors).toBe(live);
  });

  it('an accepted folder keeps both models until disposed', async () => {
    const be = await backendUnderTest();
    const folder = join(dir, 'good');
    save(folder, 'classifier', classifier(be, [1, 28, 28]), { normalize: 'contrast' });
    save(folder, 'stack', stack(be, [1, 28, 28]), { normalize: 'contrast' });
    const live = be.mem.live.tensors;
    const s = await loadSaved(be, folder, 'any');
    expect(s.classifier && s.stack).toBeTruthy();
    expect(be.mem.live.tensors).toBeGreaterThan(live);
    s.dispose();
    expect(be.mem.live.tensors).toBe(live);
  });
});
