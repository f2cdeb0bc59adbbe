/**
 * Workers that die: exit mid-epoch, an uncaught error, running out of memory.
 * The call rejects with a WorkerError naming the cause, the caller's model and
 * its last checkpoint are intact, the pool replaces the worker, and a Node
 * process using a Trainer exits on its own after dispose() (and even without it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WorkerError } from '../../ts/errors.js';
import type { Checkpoint } from '../../ts/train/checkpoint.js';
import { Trainer } from '../../ts/worker/trainer.js';
import { BUILD } from '../util/backend.js';
import { be, bitEqual, classifierOf, data, weights } from './setup.js';

const sgd = { type: 'sgd', lr: 0.02, momentum: 0.9 } as const;
const root = new URL('../..', import.meta.url).pathname;

describe(`worker failures (${BUILD})`, () => {
  for (const [how, failure] of [
    ['exit', 'exited'],
    ['uncaught', 'crashed'],
  ] as const) {
    for (const [n, allReduce] of [
      [1, 'shared'],
      [2, 'shared'],
      [2, 'messages'],
    ] as const) {
      it(`a worker that dies (${how}) mid-epoch of a ${n}-worker job${n > 1 ? ` (all-reduce: ${allReduce})` : ''}: WorkerError('${failure}'), model and checkpoint intact, the pool replaces it`, async () => {
        const trainer = await Trainer.create(be, { size: 2 });
        try {
          const m = classifierOf(2);
          const saved: Checkpoint[] = [];
          // The last worker dies in the second epoch of a long job, after the first was checkpointed.
          await trainer.fit(m, data, { epochs: 1, batchSize: 30, optimizer: sgd, workers: n });
          const before = weights(m);
          const victim = trainer.pool.handles()[n - 1];
          const err = await trainer
            .fit(m, data, {
              epochs: 40,
              batchSize: 30,
              optimizer: sgd,
              workers: n,
              allReduce,
              checkpoint: { save: (c) => void saved.push(c) },
              onBatch: (i) => i.epoch === 1 && i.batch === 2 && void victim.api.fail(how),
            })
            .catch((e) => e);
          expect(err).toBeInstanceOf(WorkerError);
          expect((err as WorkerError).failure).toBe(failure);
          if (how === 'exit') expect((err as WorkerError).exitCode).toBe(3);
          expect(bitEqual(before, weights(m))).toBe(true);
          // The failure is noticed a few steps after it is asked for (the worker reads messages between steps):
          // whatever epochs completed before were checkpointed, in order, and the job never finished.
          expect(saved.length).toBeGreaterThanOrEqual(1);
          expect(saved.length).toBeLessThan(40);
          saved.forEach((c, i) => expect(c.epoch).toBe(i + 1));
          expect(victim.dead).toBe(true);
          // A fresh worker takes its place.
          const r = await trainer.fit(m, data, {
            epochs: 1,
            batchSize: 30,
            optimizer: sgd,
            workers: n,
            resumeFrom: undefined,
          });
          expect(r.history.steps).toBe(20);
          expect(trainer.pool.live).toBe(n === 2 ? 2 : trainer.pool.live);
          m.dispose();
        } finally {
          await trainer.dispose();
        }
        expect(trainer.pool.live).toBe(0);
      }, 60_000);
    }
  }

  it("dispose() during a job: the call rejects with WorkerError('terminated') and the model is untouched", async () => {
    const trainer = await Trainer.create(be, { size: 2 });
    const m = classifierOf(5),
      before = weights(m);
    const err = await trainer
      .fit(m, data, {
        epochs: 50,
        batchSize: 30,
        optimizer: sgd,
        workers: 2,
        onBatch: (i) => i.batch === 3 && void trainer.dispose(),
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as WorkerError).failure).toBe('terminated');
    expect(bitEqual(before, weights(m))).toBe(true);
    expect(trainer.pool.live).toBe(0);
    await expect(trainer.fit(m, data, { epochs: 1, batchSize: 30, optimizer: sgd })).rejects.toThrow(
      /the pool was disposed/,
    );
    m.dispose();
  }, 60_000);

  it("out of memory (a heap limit of 48 MB): WorkerError('out-of-memory')", async () => {
    const trainer = await Trainer.create(be, { size: 1, resourceLimits: { maxOldGenerationSizeMb: 48 } });
    try {
      const m = classifierOf(3),
        before = weights(m);
      let victim: ReturnType<typeof trainer.pool.handles>[number] | undefined;
      const err = await trainer
        .fit(m, data, {
          epochs: 100,
          batchSize: 30,
          optimizer: sgd,
          onBatch: (i) => {
            if (i.batch !== 2 || victim) return;
            victim = trainer.pool.handles()[0];
            void victim.api.fail('oom');
          },
        })
        .catch((e) => e);
      expect(err).toBeInstanceOf(WorkerError);
      expect((err as WorkerError).failure).toBe('out-of-memory');
      expect(bitEqual(before, weights(m))).toBe(true);
      m.dispose();
    } finally {
      await trainer.dispose();
    }
  }, 60_000);

  it('a Node process with a Trainer exits on its own: after dispose(), and even when dispose() is forgotten', () => {
    if (!existsSync(`${root}dist/index.js`))
      throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    for (const dispose of [true, false]) {
      const script = `
        import * as cv from './dist/index.js';
        const be = await cv.loadBackend({ build: 'simd' });
        const n = 64, x = new Float32Array(n * 784).map((_, i) => (i % 7) / 7);
        const ds = cv.ImageDataset.fromFloat32(x, [1, 28, 28], new Uint8Array(n).map((_, i) => i % 10));
        const clf = cv.Classifier.fromBlocks(be, [{ convs: [{ filters: 4, kernel: 5 }] }], [1, 28, 28], { hidden: [8], classes: 10 }, 1);
        const t = await cv.Trainer.create(be, { size: 2 });
        const r = await t.fit(clf, ds, { epochs: 1, batchSize: 16, optimizer: { type: 'sgd', lr: 0.01 }, onBatch: () => {} });
        console.log('steps', r.history.steps);
        ${dispose ? 'await t.dispose();' : ''}
      `;
      const t0 = Date.now();
      const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: root,
        timeout: 30_000,
        encoding: 'utf8',
      });
      expect(out.stderr).toBe('');
      expect(out.status).toBe(0);
      expect(out.stdout.trim()).toBe('steps 4');
      expect(Date.now() - t0).toBeLessThan(15_000);
    }
  }, 60_000);
});
