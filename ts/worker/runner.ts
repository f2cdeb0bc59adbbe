/** The runner for a number of workers and kernel threads: 0 workers trains on this thread, N > 0 in N data-parallel workers. */
import type { Backend } from '../backend/backend.js';
import { ArgumentError, quote } from '../errors.js';
import { MAX_WORKERS } from '../limits.js';
import { type Runner, threadRunner } from '../train/runner.js';
import { defaultWorkers } from './pool.js';
import { Trainer, type TrainerOptions } from './trainer.js';

/** Where training runs: `workers` data-parallel workers (0: this thread), each call of the kernels on `threads` threads. */
export interface Parallelism {
  /** Data-parallel workers; 0 trains on this thread. */
  workers: number;
  /** Kernel threads per call (of each worker), ≥ 1; more than 1 on the native build only. */
  threads: number;
}

/**
 * How training uses the cores by default (`createRunner` without `workers`,
 * `convae train` without `--workers`/`--threads`): one data-parallel worker
 * per core, one kernel thread each, on every build. Measured on 2 cores
 * (docs/BENCHMARKS.md, "Threads or workers"): on the native build, 2 workers
 * scale W2/W3 better than 2 intra-op threads on this thread.
 */
export async function defaultParallelism(_be: Backend): Promise<Parallelism> {
  return { workers: await defaultWorkers(), threads: 1 };
}

/**
 * A runner on `workers` Web Workers (0: this thread) whose kernels use
 * `threads` threads each (native only; default 1; see `Backend.setThreads`).
 * Without `workers`: `defaultParallelism`. Throws ArgumentError for a bad
 * count, BackendError for `threads > 1` on a wasm build.
 */
export async function createRunner(
  be: Backend,
  opts: { workers?: number; threads?: number } & Omit<TrainerOptions, 'size' | 'threads'> = {},
): Promise<Runner> {
  const { workers: w, threads: t, ...pool } = opts;
  const d = await defaultParallelism(be);
  const workers = w ?? d.workers;
  const threads = t ?? d.threads;
  if (!Number.isInteger(workers) || workers < 0 || workers > MAX_WORKERS)
    throw new ArgumentError(
      'createRunner',
      'workers',
      `must be an integer in [0, ${MAX_WORKERS}] (MAX_WORKERS), got ${quote(workers)}`,
    );
  be.checkThreads(threads);
  return workers === 0 ? threadRunner(be, threads) : Trainer.create(be, { ...pool, size: workers, threads });
}
