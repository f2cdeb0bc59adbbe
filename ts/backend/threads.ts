/** The one check of a kernel-thread count, shared by `Backend.setThreads` and the workers' `threads`. */
import { ArgumentError, BackendError, quote } from '../errors.js';
import { MAX_KERNEL_THREADS } from '../limits.js';
import type { Build } from './loader.js';

/**
 * Throws unless `n` threads can run each kernel call of `build`: an
 * ArgumentError for a count that is not an integer in [1, max], a
 * BackendError for more than one on a wasm build (its kernels run one thread:
 * a silent no-op would hide that nothing runs in parallel). `where` says whose
 * count it is ("per worker").
 */
export function checkKernelThreads(op: string, build: Build, n: number, max = MAX_KERNEL_THREADS, where = ''): void {
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(op, 'threads', `must be an integer ≥ 1, got ${quote(n)}`);
  if (build !== 'native' && n > 1)
    throw new BackendError(
      `convae: the ${build} wasm build runs its kernels on one thread (asked for ${n}${where}); train on several cores with Trainer workers, or load the native build`,
    );
  if (n > max) throw new ArgumentError(op, 'threads', `must be at most ${max}, got ${n}`);
}
