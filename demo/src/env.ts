/**
 * The page's runtime: which wasm build runs on the main thread (and so in the
 * workers: they get its compiled module), whether the page is cross-origin
 * isolated (shared memory: the fast all-reduce; otherwise data-parallel workers
 * average their gradients through messages), and the worker pool.
 *
 * URL parameters: `?build=scalar|simd|relaxed` forces a build (default: the
 * best this browser validates); `?workers=N` sizes the pool.
 */
import { Trainer, canShareMemory, loadBackend, type Backend, type Build } from 'convae';
// The bundled worker script of the package, as a URL Vite serves (dev) or copies with a hash (build).
import workerUrl from 'convae/worker.js?url';

export interface Env {
  be: Backend;
  trainer: Trainer;
  /** SharedArrayBuffer is usable: workers average gradients in shared memory (else through messages). */
  shared: boolean;
  /** The most workers one job may use. */
  maxWorkers: number;
}

export async function createEnv(params: URLSearchParams): Promise<Env> {
  const asked = params.get('build');
  const build = asked === 'scalar' || asked === 'simd' || asked === 'relaxed' ? (asked as Build) : 'auto';
  const be = await loadBackend({ build });
  const cores = Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 8));
  const size = Math.max(1, Math.min(Number(params.get('workers')) || cores, 8));
  const trainer = await Trainer.create(be, { size, workerUrl: new URL(workerUrl, location.href) });
  const shared = canShareMemory();
  return { be, trainer, shared, maxWorkers: size };
}
