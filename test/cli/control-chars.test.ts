/**
 * An error naming a path or value that holds control characters is still one line: a newline, a carriage return or
 * an escape sequence in `--data` is written as its escape (\n, \r, \u001b), so the terminal shows one line that says
 * what was given, not two half-lines or a recoloured screen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const cli = cliAsync(60_000);

describe.runIf(BUILD === 'simd')('control characters in an error message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-control-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('--data with a newline, a tab, an escape and DEL: one line, each written as its escape', async () => {
    const data = 'no\nsuch\tfolder\r\x1b[31m\x7f';
    const runs = await Promise.all([
      cli(['search', '--data', data, '--out', join(dir, 'search')]),
      cli(['pretrain', '--data', data, '--out', join(dir, 'pretrain')]),
    ]);
    for (const r of runs) {
      expect(r.status).toBe(1);
      expect(r.stderr.endsWith('\n')).toBe(true);
      const line = r.stderr.slice(0, -1);
      // Nothing below a space and no DEL: the whole message on the line it starts.
      expect([...line].filter((c) => c < ' ' || c === '\x7f')).toEqual([]);
      expect(line).toContain(String.raw`no\nsuch\tfolder\r\u001b[31m\u007f`);
    }
  }, 60_000);

  // Commander's own usage errors quote the value given; they wrote it raw.
  it('a usage error quoting a value with a newline and an escape: its error line is one line, then the usage', async () => {
    const r = await cli(['train', '--noise', 'a\nb\x1b[31m', '--out', join(dir, 'train')]);
    expect(r.status).not.toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^error: option '--noise <fraction>' argument 'a\\nb\\u001b\[31m' is invalid\. /);
    expect(lines.slice(1)).toEqual(['Usage: convae train [options]', '(convae train --help lists the options)']);
    expect([...r.stderr].filter((c) => (c < ' ' && c !== '\n') || c === '\x7f')).toEqual([]);
  }, 60_000);
});
