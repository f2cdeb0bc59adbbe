/**
 * Ctrl-C (SIGINT) and SIGTERM (`timeout`, a job scheduler, `docker stop`) in the `convae` command line: one handler
 * for the whole process, installed by main.ts before any command runs and never by the library, which leaves a
 * program's signals to the program. It lets the atomic writes in flight finish, removes the `.tmp` files this
 * process started and has not renamed, prints one line and exits 128 + the signal's number (130, 143), as a shell
 * reports it. Without it a signal killed a command at once, an `F.tmp` of its `--out` left behind without a word.
 *
 * A command may say what the line says while it runs (`setInterruptLine`: what it kept, how to resume), or take the
 * signal itself (`setInterruptStop`: `search` stops after its batch and still ranks what it finished); one listener
 * either way, so one line and one exit.
 */
import { unlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { settleWrites, unfinishedTmpFiles, writesInFlight } from '../io/files.js';

export type InterruptSignal = 'SIGINT' | 'SIGTERM';

type Context = { line: (signal: InterruptSignal) => string } | { stop: (signal: InterruptSignal) => void };

/** A write that has not settled by then (a full NFS mount, a pipe) is given up: its `.tmp` is removed all the same. */
const SETTLE_MS = 5000;

// Names no file or folder: a command that has not said more may have written anywhere (`similar --picture`).
const WHOLE: Context = {
  line: (signal) =>
    `\nconvae: interrupted (${signal}). The files already written are whole; half-written ones were removed.`,
};

let context: Context = WHOLE;
let installed = false;

/** Installs the handler (once; main.ts does, before the command runs). */
export function installInterruptHandler(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Until the returned function is called, an interrupt ends with `line(signal)` instead of the general one. */
export const setInterruptLine = (line: (signal: InterruptSignal) => string): (() => void) => setContext({ line });

/**
 * Until the returned function is called, the first interrupt calls `stop` and nothing else: the command winds
 * down and sets the exit status itself. A second one tidies up and exits as usual.
 */
export const setInterruptStop = (stop: (signal: InterruptSignal) => void): (() => void) => setContext({ stop });

function setContext(c: Context): () => void {
  const before = context;
  context = c;
  return () => {
    // Only its own: a context the handler has already used up, or one set since, stays.
    if (context === c) context = before;
  };
}

function onSignal(signal: InterruptSignal): void {
  const c = context;
  if ('stop' in c) {
    context = WHOLE;
    c.stop(signal);
    return;
  }
  // A second Ctrl-C ends the process where it stands, as without a handler: the way out of a write that hangs.
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  void tidyUpAndExit(signal, c.line);
}

async function tidyUpAndExit(signal: InterruptSignal, line: (signal: InterruptSignal) => string): Promise<void> {
  // A write in flight creates its .tmp a moment later: let it finish (or fail) first. The last check, the tidy-up
  // and the exit run in one go, so no write can start between them.
  const end = performance.now() + SETTLE_MS;
  while (writesInFlight() && performance.now() < end) await settleWrites(end - performance.now());
  removeUnfinishedTmpFiles();
  console.error(line(signal));
  process.exit(128 + constants.signals[signal]);
}

/**
 * Removes the `.tmp` files this process's atomic writes started and have not renamed (anywhere: `similar --picture`
 * writes outside `--out`), and no others: a user's own `notes.tmp` in an output folder is not convae's to delete.
 */
function removeUnfinishedTmpFiles(): void {
  for (const t of unfinishedTmpFiles())
    try {
      unlinkSync(t);
    } catch {
      // Already renamed or removed.
    }
}
