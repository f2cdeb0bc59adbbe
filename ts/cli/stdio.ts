/**
 * A reader that stops early (`convae predict … | head -1`) closes the pipe: the next write to it fails with EPIPE,
 * emitted as an 'error' event nobody listened to, and the process died with Node's stack trace, after the files it
 * had written or before those it had still to write. Output nobody reads is dropped now, and the command finishes as
 * it would have: its files written, its exit status its own.
 */
export function ignoreClosedPipes(): void {
  for (const s of [process.stdout, process.stderr])
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
      throw e;
    });
}
