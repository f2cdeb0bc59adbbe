/**
 * The CLI and the file system: an unusable --out is one line before any data
 * loads (train and search), and a failed write leaves no `*.tmp` behind.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OutputError } from '../ts/errors.js';
import { checkOutDir } from '../ts/cli/outdir.js';
import { settleWrites, unfinishedTmpFiles, writeAtomic, writeProbe, writesInFlight } from '../ts/io/files.js';
import { BUILD } from './util/backend.js';
import { cliRunner } from './util/cli.js';

const cli = cliRunner(60_000);

describe.runIf(BUILD === 'simd')('--out and file writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-out-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');

  const bad: [string, RegExp][] = [
    [file, /it exists and is not a directory/],
    [join(file, 'sub'), /a part of the path is not a directory/],
    ['/proc/self/convae', /kernel file system/],
    ['/proc', /kernel file system/],
    ['/sys/kernel/x', /kernel file system/],
  ];
  for (const [out, why] of bad)
    it(`checkOutDir(${out}) → OutputError`, async () => {
      const e = await checkOutDir(out).then(
        () => null,
        (x) => x,
      );
      expect(e).toBeInstanceOf(OutputError);
      expect(e.message).toMatch(why);
      expect(e.message).toMatch(/^cannot write to --out /);
    });

  it('a new folder is created and left empty (the probe is removed)', async () => {
    const out = join(dir, 'new', 'deeper');
    await checkOutDir(out);
    expect(readdirSync(out)).toEqual([]);
  });

  it('writeAtomic: a failed rename removes the .tmp and says which file', async () => {
    const target = join(dir, 'occupied');
    mkdirSync(join(target, 'child'), { recursive: true });
    const e = await writeAtomic(target, 'data').then(
      () => null,
      (x) => x,
    );
    expect(e).toBeInstanceOf(OutputError);
    expect(e.message).toMatch(/cannot write ".*occupied"/);
    expect(existsSync(`${target}.tmp`)).toBe(false);
  });

  // An interrupt (ts/cli/interrupt.ts) waits on these before it removes *.tmp files: a write still in flight would create
  // its .tmp after the tidy-up (a SIGTERM test once found run.json.tmp left behind).
  it('writesInFlight from the call until the write settles, success or failure; settleWrites waits for them', async () => {
    expect(writesInFlight()).toBe(false);
    const ok = writeAtomic(join(dir, 'big.bin'), new Uint8Array(32 << 20));
    const bad = writeAtomic(join(dir, 'no-such-folder', 'x.json'), '{}').catch((e) => e);
    expect(writesInFlight()).toBe(true);
    await settleWrites(30_000);
    expect(writesInFlight()).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('big.bin'))).toEqual(['big.bin']);
    await ok;
    expect(await bad).toBeInstanceOf(OutputError);
    // A write that never settles does not hold the wait past its time.
    const t0 = performance.now();
    await settleWrites(0);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  // checkOutDir's and checkOutFile's probe: an interrupt during it waited for nothing and left the probe behind.
  it('writeProbe is a write in flight, its file one to remove, until it has removed the file', async () => {
    const probe = join(dir, '.convae-write-test.tmp');
    const probing = writeProbe(probe);
    expect(writesInFlight()).toBe(true);
    expect(unfinishedTmpFiles()).toContain(probe);
    await probing;
    expect(writesInFlight()).toBe(false);
    expect(unfinishedTmpFiles()).toEqual([]);
    expect(existsSync(probe)).toBe(false);
    const e = await writeProbe(join(dir, 'no-such-folder', 'p.tmp')).catch((x) => x);
    expect(e.code).toBe('ENOENT');
    expect([writesInFlight(), unfinishedTmpFiles()]).toEqual([false, []]);
  });

  it.runIf(existsSync('/dev/full'))(
    'writeAtomic: a write that fails with ENOSPC is one line and leaves no .tmp',
    async () => {
      // The .tmp is a symlink to /dev/full, which fails every write with ENOSPC; unlink removes the link only.
      const target = join(dir, 'model.safetensors');
      symlinkSync('/dev/full', `${target}.tmp`);
      const e = await writeAtomic(target, new Uint8Array(4096)).then(
        () => null,
        (x) => x,
      );
      expect(e).toBeInstanceOf(OutputError);
      expect(e.message).toMatch(/no space left on device/);
      expect(existsSync(`${target}.tmp`)).toBe(false);
      expect(existsSync(target)).toBe(false);
    },
  );

  for (const cmd of ['train', 'search'])
    it(`convae ${cmd} --out <a file> → one line, exit 1, before any data loads`, () => {
      const t0 = performance.now();
      const r = cli(cmd, '--out', file, '--limit', '100', '--dataset', 'fashion');
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(
        `convae: cannot write to --out ${JSON.stringify(file)}: it exists and is not a directory`,
      );
      expect(r.stdout).toBe('');
      expect(performance.now() - t0).toBeLessThan(30_000);
    });

  it('convae search over a space of more than 100 000 candidates → one line, exit 1, before any data loads', () => {
    const seq = (n: number) => Array.from({ length: n }, (_, i) => i + 1).join(',');
    // --data names no file: had it been read first, that would be the error.
    const r = cli(
      'search',
      '--maps',
      seq(1000),
      '--kernels',
      seq(28),
      '--lr',
      '1e-3,3e-3,1e-2,3e-2',
      '--data',
      join(dir, 'none'),
    );
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      'convae: searchCAE: options spans 224 000 candidates (featureMaps 1000 × filterSizes 28 × activations 1 × learningRates 4 × noise 2 × tied 1), at most 100 000: shorten a list',
    );
    expect(r.stdout).toBe('');
  });
});
