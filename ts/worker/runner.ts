/** The runner for a number of workers: 0 trains on this thread, N > 0 in N data-parallel workers. */
import type { Backend } from '../backend/backend.js';
import { ArgumentError } from '../errors.js';
import { type Runner, threadRunner } from '../train/runner.js';
import { Trainer, type TrainerOptions } from './trainer.js';

/** A runner on `workers` Web Workers (0: this thread); throws ArgumentError for a bad count. */
export async function createRunner(
  be: Backend,
  opts: { workers: number } & Omit<TrainerOptions, 'size'>,
): Promise<Runner> {
  const { workers, ...pool } = opts;
  if (!Number.isInteger(workers) || workers < 0)
    throw new ArgumentError('createRunner', 'workers', `must be an integer ≥ 0, got ${workers}`);
  return workers === 0 ? threadRunner(be) : Trainer.create(be, { ...pool, size: workers });
}
