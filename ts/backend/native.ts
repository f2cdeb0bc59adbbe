/**
 * Node-only: finds and loads the native addon (crates/convae-node). Reached
 * only by a dynamic import whose specifier is computed at run time
 * (loader.ts), so browsers and bundlers never see this module or the addon.
 * It imports nothing from the package (the worker bundle loads its own copy,
 * dist/worker-native.js) and throws plain Errors: the caller turns them into
 * a typed BackendError or a fallback notice.
 *
 * Where the binary is looked for, first hit wins:
 * 1. `addon`, the path the caller names (a worker gets the main thread's);
 * 2. `CONVAE_NATIVE=<path of a .node file>`; `CONVAE_NATIVE=0` turns native off;
 * 3. the per-platform package `@convae/native-<platform>` (e.g.
 *    `@convae/native-linux-x64-gnu`, an optional dependency carrying
 *    `convae.linux-x64-gnu.node`);
 * 4. `npm/<platform>/convae.<platform>.node` of this package: in a clone,
 *    where `npm run build:native` puts it; in an installed package, the
 *    copy `npm pack` took in (package.json `files`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The loaded addon: its exports (checked by the caller) and the file they came from. */
export interface NativeAddon {
  path: string;
  exports: Record<string, unknown>;
}

/** Why native is off or absent, without it being an error: `CONVAE_NATIVE=0`. */
export class NativeDisabled extends Error {}

/** The napi-rs platform name of this process: `linux-x64-gnu`, `linux-arm64-musl`, `darwin-arm64`, `win32-x64-msvc`… */
export function platformName(): string {
  const { platform, arch } = process;
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

function isMusl(): boolean {
  // glibc's dynamic loader reports its version in the process report; musl's does not.
  try {
    const report = (process as { report?: { getReport(): unknown } }).report?.getReport() as
      | { header?: { glibcVersionRuntime?: string } }
      | undefined;
    if (report?.header) return !report.header.glibcVersionRuntime;
  } catch {}
  try {
    return readFileSync('/usr/bin/ldd', 'latin1').includes('musl');
  } catch {
    return false;
  }
}

/** The npm package that carries this platform's binary. */
export function platformPackage(): string {
  return `@convae/native-${platformName()}`;
}

/** Candidate files, best first, for a load without an explicit path. */
function candidates(require: NodeJS.Require): string[] {
  const name = platformName();
  const out: string[] = [];
  try {
    out.push(require.resolve(platformPackage()));
  } catch {}
  // From ts/backend/native.ts or dist/backend/native.js, in a clone or an installed package. From the worker
  // bundle dist/worker-native.js it would miss by one folder: workers are given the main thread's file.
  out.push(fileURLToPath(new URL(`../../npm/${name}/convae.${name}.node`, import.meta.url)));
  return out;
}

/** Loads the addon from `addon`, or finds it (see the module doc). Throws when it is absent or fails to load. */
export function loadAddon(addon?: string): NativeAddon {
  const require = createRequire(import.meta.url);
  const env = process.env.CONVAE_NATIVE;
  let files: string[];
  if (addon) files = [addon];
  else if (env === '0' || env === 'off' || env === 'false') throw new NativeDisabled('CONVAE_NATIVE=0');
  else if (env) files = [env];
  else files = candidates(require);
  const file = files.find((f) => existsSync(f));
  if (!file) {
    throw new Error(
      addon || env
        ? `no native binary at ${files[0]}`
        : `no native binary for ${platformName()} (${platformPackage()} is not installed; a clone builds it with npm run build:native; CONVAE_NATIVE=0 skips native)`,
    );
  }
  return { path: file, exports: require(file) as Record<string, unknown> };
}
