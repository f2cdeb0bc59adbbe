/**
 * The linear probe of a Trainer: one worker runs the whole probe, the same
 * deterministic f64 loop as `linearProbeAccuracy`, so the accuracy is the same
 * bit for bit and the caller's thread stays free.
 */
import * as Comlink from 'comlink';
import type { Embeddings } from '../anomaly/embed.js';
import { checkLinearProbe, type ProbeOptions } from '../anomaly/probe.js';
import { throwIfAborted } from '../util/eventloop.js';
import type { WorkerPool } from './pool.js';
import type { LinearProbeJob } from './protocol.js';

/** @internal `linearProbeAccuracy` in one worker of `pool`, as job `id` (which its abort names). */
export async function linearProbePass(
  pool: WorkerPool,
  id: number,
  train: Embeddings,
  trainLabels: ArrayLike<number>,
  test: Embeddings,
  testLabels: ArrayLike<number>,
  options: ProbeOptions | undefined,
): Promise<number> {
  const op = 'Trainer.linearProbeAccuracy';
  const { spec, signal } = checkLinearProbe(op, train, trainLabels, test, testLabels, options);
  throwIfAborted(signal);
  const { workers, release } = await pool.acquire(1);
  const w = workers[0];
  const stop = () => void w.call(() => w.api.abort(id)).catch(() => {});
  try {
    // It may have been aborted while every worker was busy.
    throwIfAborted(signal);
    // Copies the worker owns: the caller's arrays are neither detached nor read after this.
    const job: LinearProbeJob = {
      train: { vectors: train.vectors.slice(), n: train.n, dim: train.dim },
      trainLabels: Uint8Array.from(trainLabels),
      test: { vectors: test.vectors.slice(), n: test.n, dim: test.dim },
      testLabels: Uint8Array.from(testLabels),
      spec,
    };
    const moved = [job.train.vectors, job.trainLabels, job.test.vectors, job.testLabels].map((a) => a.buffer);
    signal?.addEventListener('abort', stop);
    return await w.call(() => w.api.linearProbe(id, Comlink.transfer(job, moved)));
  } catch (e) {
    // The worker stopped at the abort (its rejection carries a copy of its own reason): the caller's reason.
    throwIfAborted(signal);
    throw e;
  } finally {
    release(); // first: nothing a caller's signal does may keep the worker from its pool
    signal?.removeEventListener('abort', stop);
  }
}
