/**
 * An --out under /proc: mkdir answers ENOENT there under a folder that exists, and Node's recursive mkdir retried
 * forever, so `convae export --out /proc/x` (predict, evaluate, encode, features, … alike) hung at 100 % CPU. It is
 * an OutputError at once now, through a link into /proc too.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDirs } from '../../ts/io/files.js';
import { OutputError } from '../../ts/errors.js';
import * as cv from '../../ts/index.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const cli = cliAsync(30_000);
const dir = mkdtempSync(join(tmpdir(), 'convae-proc-out-'));
const run = join(dir, 'run');
const link = join(dir, 'proc');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const be = await backendUnderTest();
  const clf = cv.Classifier.fromBlocks(be, [{ convs: [{ filters: 2, kernel: 5 }] }], [1, 28, 28], {
    hidden: [4],
    classes: 10,
  });
  const s = cv.saveModel(clf);
  clf.dispose();
  mkdirSync(run);
  writeFileSync(join(run, 'classifier.json'), s.json);
  writeFileSync(join(run, 'classifier.safetensors'), s.weights);
  symlinkSync('/proc', link);
});

describe.runIf(BUILD === 'simd' && existsSync('/proc/self'))('an output folder under /proc', () => {
  it.each([['/proc/convae-x/y'], ['/proc'], [join(link, 'x')]])('makeDirs(%s) is an OutputError', async (p) => {
    await expect(makeDirs(p)).rejects.toThrow(OutputError);
    await expect(makeDirs(p)).rejects.toThrow(/is under \/proc, a kernel file system, not a place for files/);
  });

  it('makeDirs makes the folders elsewhere', async () => {
    await makeDirs(join(dir, 'a', 'b'));
    expect(existsSync(join(dir, 'a', 'b'))).toBe(true);
  });

  const cases: [string, string[]][] = [
    ['export --out /proc/x', ['export', '--model', run, '--format', 'onnx', '--out', '/proc/convae-x']],
    ['export --out a link into /proc', ['export', '--model', run, '--format', 'pytorch', '--out', join(link, 'x')]],
    [
      'predict --out /proc/x/p.csv',
      ['predict', '--model', run, '--data', 'mnist', '--limit', '2', '--out', '/proc/convae-x/p.csv'],
    ],
  ];
  it.each(cases)('%s: exit 1 at once, one line', async (_, args) => {
    const r = await cli(args);
    expect(r.status).toBe(1);
    // export names its flag (checkOutDir); predict's --out file names the folder it cannot make.
    expect(r.stderr).toMatch(
      /^convae: cannot (write to --out|make the folder) "[^"]*": [^\n]*(is under \/proc|a kernel file system)[^\n]*\n$/,
    );
  });
});
