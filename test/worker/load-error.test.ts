/** A worker script that cannot load is named by its URL in the WorkerError (Node: a missing file). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WorkerError } from '../../ts/errors.js';
import { Trainer } from '../../ts/worker/trainer.js';
import { BUILD } from '../util/backend.js';
import { be, classifierOf, data } from './setup.js';

describe.runIf(BUILD === 'simd')('worker scripts that fail to load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-worker-url-'));
  for (const [what, file, body] of [
    ['missing', 'no-such-worker.js', null],
    ['broken', 'broken-worker.mjs', 'import "./no-such-module.mjs";\n'],
  ] as const) {
    it(`a ${what} script: the WorkerError names its URL`, async () => {
      const url = pathToFileURL(join(dir, file));
      if (body) writeFileSync(join(dir, file), body);
      const err = await (async () => {
        const trainer = await Trainer.create(be, { size: 1, workerUrl: url });
        try {
          await trainer.fit(classifierOf(1), data, { epochs: 1, batchSize: 30, optimizer: { type: 'sgd', lr: 0.01 } });
        } finally {
          await trainer.dispose();
        }
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerError);
      expect((err as WorkerError).message).toContain(url.href);
    }, 30_000);
  }
  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});
