/**
 * Every JSON and weights file the CLI reads is refused by its size before it is
 * read: a 3 GB file (sparse, so it costs no disk) gives a FormatError naming the
 * file and the limit at once, not Node's untyped ERR_FS_FILE_TOO_LARGE or
 * ERR_STRING_TOO_LONG after the memory is gone.
 */
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportCommand, importCommand } from '../../ts/cli/export.js';
import { loadStackDir } from '../../ts/cli/model-dir.js';
import { MAX_RUN_FILE_BYTES, MAX_WEIGHTS_FILE_BYTES, readJsonText } from '../../ts/cli/readfile.js';
import { changedFlags } from '../../ts/cli/resume.js';
import { loadSaved } from '../../ts/cli/saved.js';
import { readSearchBest } from '../../ts/cli/search.js';
import { DataError, FormatError } from '../../ts/errors.js';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { saveModel } from '../../ts/model/serialize.js';
import { MAX_MESSAGE_CHARS, MAX_MODEL_JSON_CHARS } from '../../ts/limits.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { cliAsync, SMALL_RUN_FLAGS } from '../util/cli.js';

const GB3 = 3 * 2 ** 30;
const dir = mkdtempSync(join(tmpdir(), 'convae-json-size-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file of `size` zero bytes that takes no disk (open + ftruncate). */
function sparse(name: string, size = GB3): string {
  const f = join(dir, name);
  mkdirSync(dirname(f), { recursive: true });
  const fd = openSync(f, 'w');
  ftruncateSync(fd, size);
  closeSync(fd);
  return f;
}

/** `run` rejects within a second with a bounded FormatError naming `file` and `limit`. */
async function expectTooLarge(run: () => Promise<unknown>, file: string, limit: number) {
  const t0 = performance.now();
  const e = await run().then(
    () => null,
    (x: unknown) => x,
  );
  const ms = performance.now() - t0;
  expect(e, String(e)).toBeInstanceOf(FormatError);
  const msg = (e as Error).message;
  expect(msg).toContain(JSON.stringify(file));
  expect(msg).toContain(`the limit of ${limit} bytes`);
  expect(msg.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  expect(ms).toBeLessThan(1000);
}

const flags = SMALL_RUN_FLAGS;

describe.runIf(BUILD === 'simd')('JSON files larger than their limit', () => {
  it('readJsonText: a 3 GB file, and a device that reports no size, refused without being read', async () => {
    const f = sparse('big.json');
    await expectTooLarge(() => readJsonText(f, 1000), f, 1000);
    await expectTooLarge(() => readJsonText('/dev/zero', 1000), '/dev/zero', 1000);
    const ok = join(dir, 'ok.json');
    writeFileSync(ok, '{"a":"é"}');
    expect(await readJsonText(ok, 10)).toBe('{"a":"é"}');
    await expectTooLarge(() => readJsonText(ok, 9), ok, 9);
  });

  it('train --from-search: search.json', async () => {
    const f = sparse('search.json');
    await expectTooLarge(() => readSearchBest(f), f, MAX_RUN_FILE_BYTES);
  });

  it('train --resume: run.json', async () => {
    const f = sparse('resume/run.json');
    await expectTooLarge(() => changedFlags(dirname(f), flags), f, MAX_RUN_FILE_BYTES);
  });

  it('the model folders of predict, evaluate, anomaly, … (loadSaved) and of --stack (loadStackDir)', async () => {
    const be = await backendUnderTest();
    const c = sparse('saved/classifier.json');
    await expectTooLarge(() => loadSaved(be, dirname(c), 'any'), c, MAX_MODEL_JSON_CHARS);
    const s = sparse('stackdir/stack.json');
    await expectTooLarge(() => loadStackDir(be, dirname(s)), s, MAX_MODEL_JSON_CHARS);
  });

  it('convae export --model and convae import --arch', async () => {
    const m = sparse('export/classifier.json');
    await expectTooLarge(
      () => exportCommand({ model: m, format: 'pytorch', out: join(dir, 'export-out'), quiet: true }),
      m,
      MAX_MODEL_JSON_CHARS,
    );
    const arch = sparse('import/model.json');
    const from = join(dir, 'import/model.safetensors');
    writeFileSync(from, new Uint8Array(16));
    await expectTooLarge(
      () => importCommand({ from, arch, out: join(dir, 'import-out'), quiet: true }),
      arch,
      MAX_MODEL_JSON_CHARS,
    );
  });

  it('weights files: the model folders, export --model and import --from', async () => {
    const be = await backendUnderTest();
    const stack = new StackedConvAutoencoder(be, [{ convs: [{ filters: 2, kernel: 3 }] }], [1, 8, 8], 1);
    const { json } = saveModel(stack);
    stack.dispose();
    const folder = (name: string) => {
      const w = sparse(`${name}/stack.safetensors`);
      writeFileSync(join(dirname(w), 'stack.json'), json);
      return w;
    };
    const a = folder('weights-saved');
    await expectTooLarge(() => loadSaved(be, dirname(a), 'any'), a, MAX_WEIGHTS_FILE_BYTES);
    const b = folder('weights-stackdir');
    await expectTooLarge(() => loadStackDir(be, dirname(b)), b, MAX_WEIGHTS_FILE_BYTES);
    const c = folder('weights-export');
    await expectTooLarge(
      () =>
        exportCommand({
          model: join(dirname(c), 'stack.json'),
          format: 'pytorch',
          out: join(dir, 'weights-export-out'),
          quiet: true,
        }),
      c,
      MAX_WEIGHTS_FILE_BYTES,
    );
    const from = sparse('weights-import/model.safetensors');
    const arch = join(dirname(from), 'model.json');
    writeFileSync(arch, json);
    await expectTooLarge(
      () => importCommand({ from, arch, out: join(dir, 'weights-import-out'), quiet: true }),
      from,
      MAX_WEIGHTS_FILE_BYTES,
    );
  });

  it('train --resume: a run.json that is there but cannot be read stops the resume (only a missing one means none)', async () => {
    const out = join(dir, 'unreadable-run');
    mkdirSync(join(out, 'run.json'), { recursive: true });
    const e = await changedFlags(out, flags).catch((x: unknown) => x);
    expect(e, String(e)).toBeInstanceOf(DataError);
    expect((e as Error).message).toMatch(/cannot read ".*run\.json": is a directory/);
    expect(await changedFlags(join(dir, 'no-run-here'), flags)).toBeNull();
  });

  it('paper --resume: paper-runs.json and stack-seedN.json, refused before any data is loaded', async () => {
    const cli = cliAsync(60_000);
    const tiny = ['--sizes', '100', '--seeds', '1', '--lrs', '0.05', '--epochs', '100:1', '--epoch-factors', '1'];
    const more = ['--dropouts', '0', '--unlabelled', '200', '--limit', '600', '--workers', '0', '--build', 'simd'];
    const cases: [string, number][] = [
      ['paper-runs/paper-runs.json', MAX_RUN_FILE_BYTES],
      ['paper-stack/stack-seed1.json', MAX_MODEL_JSON_CHARS],
    ];
    const results = await Promise.all(
      cases.map(([name]) => cli(['paper', ...tiny, ...more, '--resume', '--out', dirname(sparse(name))])),
    );
    results.forEach((r, i) => {
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^convae(?: [a-z-]+)?: /); // "convae: …", or a command's own "convae detect: …"
      expect(r.stderr).toContain(`${cases[i][0].split('/')[1]}": the file is ${GB3} bytes`);
      expect(r.stderr).toContain(`the limit of ${cases[i][1]} bytes`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    });
  }, 120_000);
});
