/**
 * Without resvg's per-platform binary (what `npm install --omit=optional`, or a platform resvg does not build
 * for, leaves): `convae/node` still loads, the commands without pictures with text still run, and the ones that
 * draw them (`train`, `filters-figure`) stop at once with one line naming the renderer, before training.
 * A preload script makes Node's resolver refuse `@resvg/resvg-js-<platform>`, as a missing package does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD } from '../util/backend.js';

const root = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'convae-no-renderer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const preload = join(dir, 'no-resvg.cjs');
writeFileSync(
  preload,
  `const Module = require('node:module');
   const resolve = Module._resolveFilename;
   Module._resolveFilename = function (request, ...rest) {
     if (/^@resvg\\/resvg-js-/.test(request)) {
       const e = new Error("Cannot find module '" + request + "'");
       e.code = 'MODULE_NOT_FOUND';
       throw e;
     }
     return resolve.call(this, request, ...rest);
   };`,
);
/** A failure's first lines: a whole Node stack trace in an assertion message trips vitest's source-map parser. */
const firstLines = (s: string) => s.split('\n').slice(0, 5).join('\n');
const run = (args: string[], timeout = 120_000) =>
  spawnSync(process.execPath, ['--require', preload, '--import', 'tsx', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout,
  });

// The CLI picks its build itself; one project is enough.
describe.runIf(BUILD === 'simd')('without the chart renderer', () => {
  it('convae/node loads; a chart throws a BackendError naming @resvg/resvg-js', () => {
    const r = run([
      '-e',
      `const node = await import('./ts/node.ts');
       try { node.lossChart([{ name: 'loss', values: [1, 0.5, 0.25] }]); console.log('drawn'); }
       catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message })); }`,
    ]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
    expect(out.name).toBe('BackendError');
    expect(out.message).toContain('@resvg/resvg-js');
    expect(out.message.length).toBeLessThan(600);
  });

  it('train and filters-figure stop before training, with one line; nothing is written', () => {
    for (const [cmd, extra] of [
      ['train', ['--limit', '600', '--epochs', '1']],
      ['filters-figure', ['--limit', '600', '--epochs', '1']],
    ] as const) {
      const out = join(dir, cmd);
      const t0 = performance.now();
      const r = run(['ts/cli/main.ts', cmd, ...extra, '--out', out]);
      expect(r.status, firstLines(r.stderr)).toBe(1);
      expect(r.stderr).toContain('drawing pictures with text needs @resvg/resvg-js');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
      expect(performance.now() - t0).toBeLessThan(30_000);
    }
  });

  it('pretrain, which draws no text, runs and saves its stack', () => {
    const out = join(dir, 'pretrain');
    const r = run(['ts/cli/main.ts', 'pretrain', '--limit', '300', '--epochs', '1', '--out', out]);
    expect(r.status, firstLines(r.stderr)).toBe(0);
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['stack.json', 'stack.safetensors']));
  });

  // They wrote their CSV, then failed at the picture (map.csv beside no map.png).
  it('map, cluster and denoise --add-noise, whose pictures have text, stop before reading anything', () => {
    const stack = join(dir, 'pretrain');
    for (const [cmd, extra] of [
      ['map', []],
      ['cluster', []],
      ['denoise', ['--add-noise', 'masking:0.5']],
    ] as const) {
      const out = join(dir, `${cmd}-out`);
      const r = run([
        'ts/cli/main.ts',
        cmd,
        '--model',
        stack,
        '--data',
        'mnist',
        '--limit',
        '300',
        ...extra,
        '--out',
        out,
      ]);
      expect(r.status, firstLines(r.stderr)).toBe(1);
      expect(r.stderr).toContain('drawing pictures with text needs @resvg/resvg-js');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    }
    // Without --add-noise denoise draws nothing, and runs.
    const plain = run([
      'ts/cli/main.ts',
      'denoise',
      '--model',
      stack,
      '--data',
      'mnist',
      '--limit',
      '50',
      '--out',
      join(dir, 'dn'),
    ]);
    expect(plain.status, firstLines(plain.stderr)).toBe(0);
  });
});
