/**
 * Node built-ins for the code paths of the browser-safe modules that run only
 * in Node. A literal `import('node:fs')` there breaks browser bundles: esbuild
 * refuses to bundle it for the browser and webpack 5 has no loader for the
 * `node:` scheme. A specifier built at run time is left alone by every bundler
 * (the comments silence Vite's and webpack's notices about it), and a browser
 * never evaluates it.
 */
interface NodeBuiltins {
  fs: typeof import('node:fs');
  'fs/promises': typeof import('node:fs/promises');
  os: typeof import('node:os');
  worker_threads: typeof import('node:worker_threads');
}

export function importNode<K extends keyof NodeBuiltins>(name: K): Promise<NodeBuiltins[K]> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ `node:${name}`);
}
