/**
 * A fixed number of workers running the caller's build (sharing its compiled
 * wasm module, or each loading the same native addon). Workers start on
 * first use; a worker that dies is dropped and a fresh one takes its place at
 * the next job. `dispose()` terminates them all.
 */
import type { Build, LoadOptions } from '../backend/loader.js';
import { checkKernelThreads } from '../backend/threads.js';
import { ArgumentError, quote, WorkerError } from '../errors.js';
import { MAX_KERNEL_THREADS, MAX_POOL_THREADS, MAX_WORKERS } from '../limits.js';
import { importNode } from '../util/nodeimport.js';
import { spawnWorker, type WorkerHandle } from './spawn.js';
import type { SpawnOptions } from './spawnopts.js';

/** Options of a worker pool: its size, each worker's kernel threads, and how each worker is spawned. */
export interface PoolOptions extends SpawnOptions {
  /** Number of workers (default: the machine's cores). */
  size?: number;
  /**
   * Kernel threads of each worker (`Backend.setThreads` in the worker; default
   * 1). Native only: a wasm build runs one thread (BackendError for more).
   */
  threads?: number;
}

/** The number of logical cores (Node: os.availableParallelism; browsers: navigator.hardwareConcurrency), at most MAX_WORKERS. */
export async function defaultWorkers(): Promise<number> {
  return Math.min(await logicalCores(), MAX_WORKERS);
}

async function logicalCores(): Promise<number> {
  if (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) return navigator.hardwareConcurrency;
  try {
    const os = await importNode('os');
    return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    return 1;
  }
}

/** The workers behind a `Trainer`: started on demand, replaced when one dies, terminated by `dispose()`. */
export class WorkerPool {
  private readonly slots: (WorkerHandle | null)[];
  private readonly busy: boolean[];
  private disposed = false;
  private waiting: (() => void)[] = [];

  private constructor(
    /** What each worker passes to `loadBackend` (`Backend.workerOptions`). */
    readonly backend: Readonly<LoadOptions> & { build: Build },
    /** Number of workers (started on first use). */
    readonly size: number,
    /** Kernel threads of each worker. */
    readonly threads: number,
    private readonly spawnOptions: SpawnOptions,
  ) {
    this.slots = new Array(size).fill(null);
    this.busy = new Array(size).fill(false);
  }

  /**
   * A pool of `opts.size` workers (default: the machine's cores) that each load `backend` (`Backend.workerOptions`).
   * Starts none yet; throws ArgumentError for a bad size or more than MAX_POOL_THREADS kernel threads in all,
   * BackendError for `threads > 1` on a wasm build.
   */
  static async create(backend: Readonly<LoadOptions> & { build: Build }, opts: PoolOptions = {}): Promise<WorkerPool> {
    const size = opts.size ?? (await defaultWorkers());
    if (!Number.isInteger(size) || size < 1 || size > MAX_WORKERS)
      throw new ArgumentError(
        'WorkerPool',
        'size',
        `must be an integer in [1, ${MAX_WORKERS}] (MAX_WORKERS), got ${quote(size)}`,
      );
    const threads = opts.threads ?? 1;
    checkKernelThreads('WorkerPool', backend.build, threads, MAX_KERNEL_THREADS, ' per worker');
    if (size * threads > MAX_POOL_THREADS)
      throw new ArgumentError(
        'WorkerPool',
        'threads',
        `${threads} per worker × ${size} workers = ${size * threads} kernel threads, more than ${MAX_POOL_THREADS} (MAX_POOL_THREADS)`,
      );
    return new WorkerPool(backend, size, threads, opts);
  }

  /** The build the workers run. */
  get build(): Build {
    return this.backend.build;
  }

  /** Workers alive now (for tests and diagnostics). */
  get live(): number {
    return this.slots.filter((s) => s && !s.dead).length;
  }

  /** @internal The started workers, for tests that make one fail. */
  handles(): WorkerHandle[] {
    return this.slots.filter((s): s is WorkerHandle => !!s && !s.dead);
  }

  private async start(i: number): Promise<WorkerHandle> {
    const h = await spawnWorker(this.spawnOptions);
    try {
      await h.call(() => h.api.init({ ...this.backend }, this.threads));
    } catch (e) {
      await h.terminate();
      throw e instanceof WorkerError ? new WorkerError(e.failure, `could not start: ${e.message}`, e.exitCode) : e;
    }
    this.slots[i] = h;
    return h;
  }

  /**
   * @internal Takes `n` idle workers (waiting for busy ones), starting or replacing as needed. Their handles
   * speak the workers' protocol through comlink, whose declarations need the DOM lib.
   */
  async acquire(n: number): Promise<{ workers: WorkerHandle[]; release: () => void }> {
    if (this.disposed) throw new WorkerError('terminated', 'the pool was disposed');
    if (!Number.isInteger(n) || n < 1 || n > this.size)
      throw new ArgumentError('WorkerPool.acquire', 'n', `must be in [1, ${this.size}], got ${n}`);
    let idx: number[];
    for (;;) {
      idx = this.busy.flatMap((b, i) => (b ? [] : [i])).slice(0, n);
      if (idx.length === n) break;
      await new Promise<void>((ok) => this.waiting.push(ok));
      if (this.disposed) throw new WorkerError('terminated', 'the pool was disposed');
    }
    for (const i of idx) this.busy[i] = true;
    const release = () => {
      for (const i of idx) this.busy[i] = false;
      const w = this.waiting;
      this.waiting = [];
      w.forEach((f) => f());
    };
    try {
      const workers = await Promise.all(
        idx.map((i) => {
          const h = this.slots[i];
          return h && !h.dead ? h : this.start(i);
        }),
      );
      return { workers, release };
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Terminates every worker; running calls and jobs waiting for a worker reject with WorkerError('terminated'). */
  async dispose(): Promise<void> {
    this.disposed = true;
    const w = this.waiting;
    this.waiting = [];
    w.forEach((f) => f());
    await Promise.all(this.slots.map((s) => s?.terminate()));
    this.slots.fill(null);
  }
}
