// Builds the native addon (crates/convae-node) from source with cargo and puts
// it where the loader finds it in a clone: npm/<platform>/convae.<platform>.node,
// the file the per-platform npm package @convae/native-<platform> carries.
// Run by `npm run build:native`, and so by `build`, `train`, `test`, `bench`.
//
// cargo decides what is stale: when nothing changed this costs well under a
// second. Without cargo, or when the build fails, it prints one notice line,
// removes any older binary (a stale addon must not be loaded against newer
// TypeScript) and exits 0: convae then runs on wasm. `--require` (CI) makes
// both fatal. CONVAE_NATIVE=0 skips the build.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.argv.includes('--require');
const env = process.env.CONVAE_NATIVE;
if (env === '0' || env === 'off' || env === 'false') process.exit(0);

// The napi-rs platform name (ts/backend/native.ts platformName() computes the same at run time).
function platformName() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const glibc = process.report?.getReport()?.header?.glibcVersionRuntime;
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}
const name = platformName();
const out = join(root, 'npm', name, `convae.${name}.node`);
// The cdylib cargo writes, by platform convention.
const lib = { win32: 'convae_node.dll', darwin: 'libconvae_node.dylib' }[process.platform] ?? 'libconvae_node.so';
const built = join(root, 'target', 'release', lib);

function giveUp(why) {
  rmSync(out, { force: true });
  const line = `convae: native addon not built (${why}); convae runs on wasm`;
  if (required) {
    console.error(line);
    process.exit(1);
  }
  console.warn(line);
  process.exit(0);
}

const cargo = process.env.CARGO ?? 'cargo';
if (spawnSync(cargo, ['--version'], { stdio: 'ignore' }).status !== 0) giveUp('cargo not found');

const stale = !existsSync(out);
if (stale) console.warn(`convae: building the native addon for ${name} (cargo build --release -p convae-node, once)…`);
const t0 = Date.now();
const r = spawnSync(cargo, ['build', '--release', '--quiet', '-p', 'convae-node'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) giveUp(`cargo build failed${r.error ? `: ${r.error.message}` : ''}`);
if (!existsSync(built)) giveUp(`cargo wrote no ${lib}`);

// Replace by rename, never in place: a running process that loaded the old file keeps its mapping.
const same =
  existsSync(out) && statSync(out).size === statSync(built).size && readFileSync(out).equals(readFileSync(built));
if (!same) {
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  copyFileSync(built, tmp);
  renameSync(tmp, out);
}
if (stale) console.warn(`convae: native addon built in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${out}`);
