/**
 * Starting one worker, in Node (worker_threads) or a browser (module Worker),
 * and noticing when it dies: every call to it is raced against its death, so a
 * crash rejects the call with a WorkerError instead of leaving it pending.
 */
import * as Comlink from 'comlink';
import { truncate, WorkerError } from '../errors.js';
import { importNode } from '../util/nodeimport.js';
import { type StartedWorker, startModuleWorker } from '../util/workerscript.js';
import type { WorkerApi } from './protocol.js';
import type { SpawnOptions } from './spawnopts.js';
import './wire.js';

export interface WorkerHandle {
  readonly api: Comlink.Remote<WorkerApi>;
  /** Rejects with a WorkerError when the worker dies (never resolves). */
  readonly died: Promise<never>;
  readonly dead: boolean;
  /** Runs `call` unless the worker dies first. */
  call<T>(call: () => Promise<T>): Promise<T>;
  terminate(): Promise<void>;
}

const isNode =
  typeof process !== 'undefined' &&
  !!process.versions?.node &&
  typeof window === 'undefined' &&
  typeof WorkerGlobalScope === 'undefined';
declare const WorkerGlobalScope: unknown;

/** Where the bundled worker sits: dist/worker.js next to dist/worker/spawn.js; from the sources (tsx, vitest), the repo's dist/. */
async function defaultUrl(): Promise<URL> {
  const url = new URL('../worker.js', import.meta.url);
  if (isNode && url.protocol === 'file:') {
    const { existsSync } = await importNode('fs');
    if (existsSync(url)) return url;
    // Only the sources have it there: webpack must not copy it into a bundle as a second asset.
    const dev = new URL(/* webpackIgnore: true */ '../../dist/worker.js', import.meta.url);
    if (existsSync(dev)) return dev;
    // From the sources the bundle to build is the repository's dist/worker.js, not ../worker.js beside them.
    const fromSources = /\/ts\/worker\/spawn\.ts$/.test(new URL(import.meta.url).pathname);
    throw new WorkerError(
      'unavailable',
      fromSources
        ? `the bundled worker is missing (${dev.pathname}); run \`npm run bundle:worker\` (or \`npm run build\`)`
        : `the bundled worker is missing (${url.pathname}); run \`npm run build\``,
    );
  }
  return url;
}

export async function spawnWorker(opts: SpawnOptions = {}): Promise<WorkerHandle> {
  const url = opts.workerUrl ?? (await defaultUrl());
  let fail!: (e: WorkerError) => void;
  let dead = false,
    terminating = false;
  const died = new Promise<never>(
    (_, reject) =>
      (fail = (e) => {
        if (dead) return;
        dead = true;
        reject(e);
      }),
  );
  died.catch(() => {});
  let api: Comlink.Remote<WorkerApi>, stop: () => Promise<void>;
  // Node: an idle worker does not keep the process alive (a forgotten dispose() must not hang a script); a busy one does.
  let setRef: (on: boolean) => void = () => {};
  let busy = 0;
  if (isNode) {
    const { Worker } = await importNode('worker_threads');
    const nodeEndpoint = (await import('comlink/dist/esm/node-adapter.mjs')).default;
    // Workers inherit the process's flags, except those that describe the main script (`node --input-type=module -e …`
    // would make the worker fail to start). V8 flags such as relaxed SIMD are process-wide and refused in an explicit list.
    const script = /^--(input-type|eval|print)\b|^-[ep]$/;
    const execArgv = process.execArgv.some((a) => script.test(a))
      ? process.execArgv.filter(
          (a) => !script.test(a) && !/^--(no-)?(experimental-)?wasm|^--max-|^--stack-size/.test(a),
        )
      : undefined;
    let w: InstanceType<typeof Worker>;
    try {
      w = new Worker(url, { resourceLimits: opts.resourceLimits, execArgv });
    } catch (e) {
      throw new WorkerError('unavailable', `cannot start the worker script ${String(url)}: ${(e as Error).message}`);
    }
    w.on('error', (e: Error & { code?: string }) =>
      fail(
        e.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new WorkerError('out-of-memory', e.message)
          : new WorkerError('crashed', `${e.message} (worker script ${String(url)})`),
      ),
    );
    w.on('exit', (code: number) =>
      fail(
        terminating
          ? new WorkerError('terminated', 'the worker was terminated')
          : new WorkerError('exited', `the worker exited with code ${code}`, code),
      ),
    );
    api = Comlink.wrap<WorkerApi>(nodeEndpoint(w));
    setRef = (on) => (on ? w.ref() : w.unref());
    w.unref();
    stop = async () => {
      terminating = true;
      await w.terminate();
    };
  } else {
    let started: StartedWorker;
    try {
      started = startModuleWorker(url, 'convae');
    } catch (e) {
      throw new WorkerError(
        'unavailable',
        `cannot start the worker script ${truncate(String(url), 300)}: ${truncate((e as Error).message, 300)}`,
      );
    }
    const w = started.worker;
    w.addEventListener('error', (ev) => {
      ev.preventDefault();
      // A script that fails to load gives an error event with no message: the URL is what a user needs to see,
      // and where the default URL is wrong (a bundler that does not copy dist/worker.js: esbuild), what to pass.
      const reason = ev.message || 'the worker failed (no message; e.g. its script could not load)';
      const hint =
        opts.workerUrl === undefined ? '; if a bundler left it out, pass its URL as workerUrl (Trainer.create)' : '';
      fail(new WorkerError('crashed', `${reason} (worker script ${truncate(String(url), 300)}${hint})`));
      started.stop();
    });
    w.addEventListener('messageerror', () =>
      fail(new WorkerError('crashed', 'a message from the worker could not be read')),
    );
    api = Comlink.wrap<WorkerApi>(w);
    stop = async () => {
      terminating = true;
      started.stop();
      fail(new WorkerError('terminated', 'the worker was terminated'));
    };
  }
  return {
    api,
    died,
    get dead() {
      return dead;
    },
    call: async <T>(f: () => Promise<T>) => {
      if (busy++ === 0) setRef(true);
      try {
        return await Promise.race([f(), died]);
      } finally {
        if (--busy === 0 && !dead) setRef(false);
      }
    },
    terminate: async () => {
      if (!dead) await stop();
    },
  };
}
