/**
 * The CLI's one interrupt handler (ts/cli/interrupt.ts), in a child process that signals itself: a write in flight
 * finishes before the exit, a write that hangs past the wait has its `.tmp` removed (a FIFO as the `.tmp`: its open
 * blocks until a reader comes, so the write is still in flight whatever the timing), one line and one exit whatever
 * context a command set, and nothing installed by importing the library.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const HANDLER = join(root, 'ts/cli/interrupt.ts');
const FILES = join(root, 'ts/io/files.ts');
const WHOLE =
  /^convae: interrupted \(SIGTERM\)\. The files already written are whole; half-written ones were removed\.$/;

const childArgs = (code: string) => [
  ...['--import', 'tsx', '--input-type=module', '-e'],
  `import * as h from ${JSON.stringify(HANDLER)}; import { writeAtomic } from ${JSON.stringify(FILES)};\n${code}`,
];

/** Runs `code` (an ES module, after the imports of the handler and writeAtomic) in a child; its exit and output. */
function child(code: string) {
  const r = spawnSync(process.execPath, childArgs(code), { cwd: root, encoding: 'utf8', timeout: 60_000 });
  // The line starts on a line of its own (after a progress bar).
  return { status: r.status, signal: r.signal, stdout: r.stdout, lines: r.stderr.split('\n').filter(Boolean) };
}

describe('the interrupt handler', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-interrupt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lets a write in flight finish, then says so in one line and exits 143', () => {
    const f = join(dir, 'big.bin');
    writeFileSync(f, 'old');
    const r = child(`
      h.installInterruptHandler();
      void writeAtomic(${JSON.stringify(f)}, new Uint8Array(32 << 20).fill(7));
      process.kill(process.pid, 'SIGTERM');
      setTimeout(() => {}, 30000);`);
    expect([r.status, r.signal], r.lines.join('\n')).toEqual([143, null]);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(WHOLE);
    expect(statSync(f).size).toBe(32 << 20);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  // A FIFO as the .tmp, opened here for reading and never read: the write fills the pipe and blocks, in flight
  // whatever the timing. Closing it after the line lets the blocked write fail, so the child can exit.
  it.runIf(process.platform === 'linux')(
    'removes the .tmp of a write that hangs past the wait (and no one else’s), the old file kept',
    async () => {
      const f = join(dir, 'hangs.csv');
      writeFileSync(f, 'old');
      writeFileSync(join(dir, 'notes.tmp'), 'mine');
      expect(spawnSync('mkfifo', [`${f}.tmp`]).status).toBe(0);
      const reader = openSync(`${f}.tmp`, constants.O_RDONLY | constants.O_NONBLOCK);
      const t0 = performance.now();
      const p = spawn(
        process.execPath,
        childArgs(`
        h.installInterruptHandler();
        void writeAtomic(${JSON.stringify(f)}, new Uint8Array(1 << 20));
        process.kill(process.pid, 'SIGTERM');
        setTimeout(() => {}, 30000);`),
        { cwd: root },
      );
      let stderr = '';
      p.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('interrupted')) closeSync(reader);
      });
      const [status, signal] = await new Promise<[number | null, string | null]>((ok) =>
        p.on('close', (c, sig) => ok([c, sig])),
      );
      const lines = stderr.split('\n').filter(Boolean);
      expect([status, signal], stderr).toEqual([143, null]);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(WHOLE);
      expect(performance.now() - t0).toBeGreaterThan(4000);
      expect(readFileSync(f, 'utf8')).toBe('old');
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual(['notes.tmp']);
      expect(readFileSync(join(dir, 'notes.tmp'), 'utf8')).toBe('mine');
    },
    30_000,
  );

  it("says the line of the command's context (the last one not yet restored), once, and exits 130 for SIGINT", () => {
    const r = child(`
      h.installInterruptHandler();
      h.setInterruptLine((s) => 'first ' + s);
      const restore = h.setInterruptLine((s) => 'second ' + s);
      restore();
      process.kill(process.pid, 'SIGINT');
      setTimeout(() => {}, 30000);`);
    expect([r.status, r.signal]).toEqual([130, null]);
    expect(r.lines).toEqual(['first SIGINT']);
  });

  it('hands the first signal to a command that stops by itself; a second one tidies up and exits', () => {
    const r = child(`
      h.installInterruptHandler();
      h.setInterruptStop((s) => {
        console.error('stopping on ' + s);
        setTimeout(() => process.kill(process.pid, 'SIGTERM'), 50);
      });
      process.kill(process.pid, 'SIGTERM');
      setTimeout(() => {}, 30000);`);
    expect([r.status, r.signal]).toEqual([143, null]);
    expect(r.lines[0]).toBe('stopping on SIGTERM');
    expect(r.lines.slice(1)).toHaveLength(1);
    expect(r.lines[1]).toMatch(WHOLE);
  });

  it('a stopped command that ends by itself sets its own exit status: no line, no exit of the handler', () => {
    const r = child(`
      h.installInterruptHandler();
      const working = setTimeout(() => {}, 30000);
      const restore = h.setInterruptStop((s) => {
        setTimeout(() => { restore(); console.error('finished the batch'); process.exitCode = 143; clearTimeout(working); }, 50);
      });
      process.kill(process.pid, 'SIGTERM');`);
    expect([r.status, r.signal]).toEqual([143, null]);
    expect(r.lines).toEqual(['finished the batch']);
  });

  it('is not installed by importing the library, nor by importing the module', () => {
    const r = child(`
      await import(${JSON.stringify(join(root, 'ts/index.ts'))});
      h.setInterruptLine(() => 'set, not installed');
      console.log(process.listenerCount('SIGINT'), process.listenerCount('SIGTERM'));`);
    expect(r.stdout.trim()).toBe('0 0');
  });
});
