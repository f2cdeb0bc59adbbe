/**
 * How a worker is started. Apart from spawn.ts so that the public declarations
 * (Trainer, WorkerPool) do not reach the worker handle's, which carry comlink's
 * types and through them the DOM lib's.
 */

/** How a worker is started: the URL of the bundled worker script and, in Node, its resource limits. */
export interface SpawnOptions {
  /** The bundled worker script (default: dist/worker.js beside this package's modules). */
  workerUrl?: string | URL;
  /** Node only: limits of the worker's JS heap (worker_threads resourceLimits). */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
}
