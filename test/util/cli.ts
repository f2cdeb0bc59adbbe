/** The `convae` command line run from the sources (tsx) in the repository, as a user's shell would run it. */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runFlags } from '../../ts/cli/resume.js';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import type { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { loadModel } from '../../ts/model/serialize.js';
import { backendUnderTest } from './backend.js';

const root = new URL('../..', import.meta.url).pathname;

/**
 * A runner of `convae ...args` that waits for the exit (at most `timeout` ms) and returns status, stdout and stderr.
 * `cwd`: the folder it runs in (default: the repository), where relative paths and default `--out`s land.
 */
export const cliRunner = (timeout: number, cwd = root) => {
  // Elsewhere than the repository, tsx and the command by absolute path (no node_modules there to resolve `tsx`).
  const head =
    cwd === root
      ? ['--import', 'tsx', 'ts/cli/main.ts']
      : ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, join(root, 'ts/cli/main.ts')];
  return (...args: string[]) => spawnSync(process.execPath, [...head, ...args], { cwd, encoding: 'utf8', timeout });
};

/**
 * The same, without blocking: the cases of one test run side by side. Resolves (never rejects) when the
 * process closes; killed after `timeout` ms (status null).
 */
export const cliAsync =
  (timeout: number) =>
  (args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((ok) => {
      const p = spawn(process.execPath, ['--import', 'tsx', 'ts/cli/main.ts', ...args], { cwd: root });
      let stdout = '',
        stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => p.kill('SIGKILL'), timeout);
      p.on('close', (status) => {
        clearTimeout(timer);
        ok({ status, stdout, stderr });
      });
    });

/** The flags of a small `convae train` run, for tests of run.json handling. */
export const SMALL_RUN_FLAGS = runFlags(
  {
    dataset: 'mnist',
    preset: 'default',
    batch: 64,
    maps: [4, 6],
    kernel: 5,
    hidden: 16,
    noise: 0.3,
    sparsity: 0,
    decoder: 'tied',
    seed: 1,
    pretrain: true,
    rescale: true,
  },
  1,
  1,
);

/**
 * The stack a CLI run saved in `out` (stack.json + stack.safetensors), loaded through the API, and the test
 * folder `imgs` (scripts/make-test-folder.mjs) read as the run read it: 16×16 RGB.
 */
export async function savedStackAndImages(out: string, imgs: string) {
  const be = await backendUnderTest();
  const { model } = loadModel(
    be,
    readFileSync(join(out, 'stack.json'), 'utf8'),
    readFileSync(join(out, 'stack.safetensors')),
  );
  const f = await loadImageFolder(imgs, { size: [16, 16], channels: 3 });
  return { be, stack: model as StackedConvAutoencoder, images: f.dataset };
}
