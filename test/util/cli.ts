/** The `convae` command line run from the sources (tsx) in the repository, as a user's shell would run it. */
import { spawnSync } from 'node:child_process';

const root = new URL('../..', import.meta.url).pathname;

/** A runner of `convae ...args` that waits for the exit (at most `timeout` ms) and returns status, stdout and stderr. */
export const cliRunner =
  (timeout: number) =>
  (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'ts/cli/main.ts', ...args], {
      cwd: root,
      encoding: 'utf8',
      timeout,
    });
