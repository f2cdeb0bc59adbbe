/** A module Worker and how to stop it for good. */
export interface StartedWorker {
  worker: Worker;
  /** Terminates the worker and frees what started it. */
  stop(): void;
}

/**
 * Starts a browser module Worker from `url`. A script on another origin
 * (assets on a CDN, e.g. Next.js `assetPrefix`), which `new Worker` refuses
 * with a SecurityError, is started from a same-origin blob: module that
 * imports it (that origin must then allow CORS). Throws what `new URL` or
 * `new Worker` throw; the caller turns it into its own typed error.
 */
export function startModuleWorker(url: string | URL, name: string): StartedWorker {
  const here = globalThis.location;
  const href = new URL(url, here?.href);
  const crossOrigin = here !== undefined && /^https?:$/.test(href.protocol) && href.origin !== here.origin;
  const blob = crossOrigin
    ? URL.createObjectURL(new Blob([`import ${JSON.stringify(href.href)};`], { type: 'text/javascript' }))
    : undefined;
  const revoke = () => blob !== undefined && URL.revokeObjectURL(blob);
  let worker: Worker;
  try {
    worker = new Worker(blob ?? url, { type: 'module', name });
  } catch (e) {
    revoke();
    throw e;
  }
  return {
    worker,
    stop() {
      worker.terminate();
      revoke();
    },
  };
}
