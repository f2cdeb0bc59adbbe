/**
 * A write that fails midway (a full disk, a file-size limit) must not destroy a
 * model already saved where the command writes: `convae import`, `convae export`
 * and `convae pretrain` leave the old files byte for byte, no `*.tmp` behind, and
 * fail with one OutputError naming the file. The failure is injected into
 * node:fs/promises (half the bytes written, then EFBIG), as `ulimit -f` would do,
 * which works as root, where a read-only folder would not stop the write.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, lstatSync, statSync, symlinkSync } from 'node:fs';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { exportCommand, importCommand } from '../../ts/cli/export.js';
import { writeAtomicAll, writeOutput } from '../../ts/io/files.js';
import { assess } from '../../ts/cli/assess.js';
import { predict } from '../../ts/cli/predict.js';
import { pretrain } from '../../ts/cli/pretrain.js';
import { OutputError } from '../../ts/errors.js';
import { exportPyTorch } from '../../ts/export/pytorch.js';
import { MAX_MESSAGE_CHARS } from '../../ts/limits.js';
import * as cv from '../../ts/index.js';
import { BUILD, backendUnderTest } from '../util/backend.js';

/** Writes to a path matching `re` stop after half their bytes with EFBIG. */
const inject = vi.hoisted(() => ({ re: null as RegExp | null }));

vi.mock('node:fs/promises', async (importOriginal) =>
  (await import('../util/efbig.js')).efbigFs(importOriginal, inject),
);

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'convae-atomic-save-'));
afterEach(() => {
  inject.re = null;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every file of a folder and its bytes. */
const snapshot = (folder: string) =>
  Object.fromEntries(readdirSync(folder).map((f) => [f, readFileSync(join(folder, f)).toString('base64')]));

/** How `p` rejects (null if it does not). */
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => err,
  );

/** The rejection a failed write must be: an OutputError, bounded, naming the file and the reason. */
function expectWriteError(e: unknown, file: string) {
  expect(e).toBeInstanceOf(OutputError);
  const msg = (e as Error).message;
  expect(msg).toContain(JSON.stringify(file));
  expect(msg).toMatch(/file too large/);
  expect(msg.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
}

const classifier = (be: cv.Backend, hidden: number, seed: number) =>
  cv.Classifier.fromBlocks(
    be,
    [{ convs: [{ filters: 4, kernel: 5 }], pool: { kernel: 2 } }],
    [1, 28, 28],
    { hidden: [hidden], classes: 10 },
    seed,
  );

/** A model folder holding classifier.json + classifier.safetensors. */
function saveClassifier(be: cv.Backend, folder: string, hidden: number, seed: number) {
  const c = classifier(be, hidden, seed);
  const s = cv.saveModel(c);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'classifier.json'), s.json);
  writeFileSync(join(folder, 'classifier.safetensors'), s.weights);
  c.dispose();
}

describe.runIf(BUILD === 'simd')('a failed model write keeps the model already saved there', () => {
  it.each(['classifier.json', 'classifier.safetensors'])('convae import, the write of %s failing', async (failing) => {
    const be = await backendUnderTest();
    const out = join(dir, `import-${failing}`);
    saveClassifier(be, out, 16, 1);
    // What is imported: another classifier, as a PyTorch export (model.safetensors + model.json).
    const c = classifier(be, 40, 2);
    const files = exportPyTorch(c, cv.saveModel(c).json).files;
    c.dispose();
    const src = join(dir, `import-src-${failing}`);
    mkdirSync(src);
    for (const f of ['model.safetensors', 'model.json']) writeFileSync(join(src, f), files[f]);
    const before = snapshot(out);
    inject.re = new RegExp(`${failing.replace('.', '\\.')}(\\.tmp)?$`);
    const e = await rejection(
      importCommand({ from: join(src, 'model.safetensors'), arch: join(src, 'model.json'), out, quiet: true }),
    );
    expect(snapshot(out)).toEqual(before);
    expectWriteError(e, join(out, failing));
    // Without the injected failure the same import replaces the pair: the test above did fail on the write.
    inject.re = null;
    await importCommand({ from: join(src, 'model.safetensors'), arch: join(src, 'model.json'), out, quiet: true });
    expect(snapshot(out)).not.toEqual(before);
    expect(Object.keys(snapshot(out)).sort()).toEqual(Object.keys(before).sort());
  });

  it('convae export --format pytorch over an earlier export', async () => {
    const be = await backendUnderTest();
    const a = join(dir, 'export-a'),
      b = join(dir, 'export-b'),
      out = join(dir, 'export-out');
    saveClassifier(be, a, 16, 1);
    saveClassifier(be, b, 40, 2);
    await exportCommand({ model: a, format: 'pytorch', out, quiet: true });
    const before = snapshot(out);
    inject.re = /model\.safetensors(\.tmp)?$/;
    const e = await rejection(exportCommand({ model: b, format: 'pytorch', out, quiet: true }));
    expect(snapshot(out)).toEqual(before);
    expectWriteError(e, join(out, 'model.safetensors'));
  });

  it('convae pretrain over a saved stack', async () => {
    const be = await backendUnderTest();
    const imgs = join(dir, 'imgs'),
      out = join(dir, 'pretrain-out');
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    const old = new cv.StackedConvAutoencoder(be, [{ convs: [{ filters: 3, kernel: 3 }] }], [3, 12, 12], 5);
    const s = cv.saveModel(old, { kind: 'pretrained stack' });
    old.dispose();
    mkdirSync(out);
    writeFileSync(join(out, 'stack.json'), s.json);
    writeFileSync(join(out, 'stack.safetensors'), s.weights);
    const before = snapshot(out);
    inject.re = /stack\.safetensors(\.tmp)?$/;
    const run = pretrain({
      data: imgs,
      size: [12, 12],
      epochs: 1,
      batch: 16,
      maps: [3, 3],
      layers: 1,
      kernel: 3,
      noise: 0,
      lr: 1e-3,
      seed: 1,
      out,
      build: BUILD,
      quiet: true,
    });
    const e = await rejection(run);
    expect(snapshot(out)).toEqual(before);
    expectWriteError(e, join(out, 'stack.safetensors'));
  }, 120_000);

  it('writeAtomicAll: every file is written before any is replaced', async () => {
    const out = join(dir, 'all');
    mkdirSync(out);
    writeFileSync(join(out, 'a'), 'old a');
    writeFileSync(join(out, 'b'), 'old b');
    inject.re = /\/b(\.tmp)?$/;
    const e = await rejection(
      writeAtomicAll([
        [join(out, 'a'), 'new a'],
        [join(out, 'b'), new Uint8Array(1000)],
      ]),
    );
    expect(snapshot(out)).toEqual({ a: btoa('old a'), b: btoa('old b') });
    expectWriteError(e, join(out, 'b'));
    inject.re = null;
    await writeAtomicAll([
      [join(out, 'a'), 'new a'],
      [join(out, 'b'), 'new b'],
    ]);
    expect(snapshot(out)).toEqual({ a: btoa('new a'), b: btoa('new b') });
  });
  it.each(['predict', 'assess'] as const)(
    'convae %s --out over an earlier result file',
    async (command) => {
      const be = await backendUnderTest();
      const model = join(dir, `${command}-model`),
        out = join(dir, `${command}-out`);
      saveClassifier(be, model, 16, 1);
      mkdirSync(out);
      const file = join(out, 'result.txt');
      writeFileSync(file, 'the results of an earlier run');
      const run = () =>
        command === 'predict'
          ? predict({ model, data: 'mnist', limit: 20, format: 'csv', out: file, build: BUILD, quiet: true })
          : assess({ model, data: 'mnist', limit: 20, out: file, build: BUILD, quiet: true });
      inject.re = /result\.txt(\.tmp)?$/;
      const e = await rejection(run());
      expect(snapshot(out)).toEqual({ 'result.txt': btoa('the results of an earlier run') });
      expectWriteError(e, file);
      inject.re = null;
      await run();
      expect(readFileSync(file, 'utf8')).toMatch(command === 'predict' ? /^file,class_index,class/ : /"accuracy"/);
    },
    60_000,
  );

  it('writeOutput writes into a pipe in place (a rename would replace it) and refuses a folder', async () => {
    const fifo = join(dir, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const read = new Promise<string>((ok, no) => {
      let text = '';
      createReadStream(fifo, 'utf8')
        .on('data', (d) => (text += d))
        .on('end', () => ok(text))
        .on('error', no);
    });
    await writeOutput(fifo, 'a,b\n1,2\n');
    expect(await read).toBe('a,b\n1,2\n');
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith('pipe'))).toEqual(['pipe']);
    // Through a symbolic link: the file it names gets the new contents, the link stays a link.
    writeFileSync(join(dir, 'real.csv'), 'old');
    symlinkSync(join(dir, 'real.csv'), join(dir, 'link.csv'));
    await writeOutput(join(dir, 'link.csv'), 'new');
    expect(lstatSync(join(dir, 'link.csv')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real.csv'), 'utf8')).toBe('new');
    const e = await rejection(writeOutput(dir, 'x'));
    expect(e).toBeInstanceOf(OutputError);
    expect((e as Error).message).toBe(`cannot write ${JSON.stringify(dir)}: is a directory`);
  });
});
