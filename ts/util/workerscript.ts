/**
 * What a browser's module Worker is started from: the script's URL, or, for a
 * script on another origin (assets on a CDN, e.g. Next.js `assetPrefix`),
 * which `new Worker` refuses with a SecurityError, a same-origin blob: module
 * that imports it (that origin must then allow CORS). `revoke()` frees the
 * blob's URL once the worker is done with it.
 */
export function workerScript(url: string | URL): { script: string | URL; revoke(): void } {
  const here = globalThis.location;
  const href = new URL(url, here?.href);
  if (here === undefined || !/^https?:$/.test(href.protocol) || href.origin === here.origin)
    return { script: url, revoke: () => {} };
  const script = URL.createObjectURL(new Blob([`import ${JSON.stringify(href.href)};`], { type: 'text/javascript' }));
  return { script, revoke: () => URL.revokeObjectURL(script) };
}
