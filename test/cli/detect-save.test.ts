/**
 * `convae detect --save DIR` keeps the detector it trained; `convae detect --detector DIR` scores with it, nothing
 * trained: the same CSV as the training run, bit for bit, its images resized (and normalised) as the training
 * images were. The flags of a training run are refused with --detector; a missing or damaged detector folder is
 * one typed line; a failed save keeps the detector already in the folder byte for byte.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AnomalyDetector } from '../../ts/anomaly/detector.js';
import { encode } from '../../ts/anomaly/embed.js';
import { detect } from '../../ts/cli/detect.js';
import { decodeSafetensors } from '../../ts/io/safetensors.js';
import { contrastNormalize } from '../../ts/data/normalize.js';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { ArgumentError, OutputError } from '../../ts/errors.js';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

/** Writes to a path matching `re` stop after half their bytes with EFBIG (the spawned CLI runs are not affected). */
const inject = vi.hoisted(() => ({ re: null as RegExp | null }));
vi.mock('node:fs/promises', async (importOriginal) =>
  (await import('../util/efbig.js')).efbigFs(importOriginal, inject),
);
afterEach(() => {
  inject.re = null;
});

const root = new URL('../..', import.meta.url).pathname;
const cli = cliAsync(120_000);
const TRAINS = /normal images train the stack \(/;

describe.runIf(BUILD === 'simd')('convae detect --save, then --detector', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-detect-save-'));
  const imgs = join(dir, 'imgs'); // 40 reds/, 40 blues/, 20×20 RGB
  const det = join(dir, 'det');
  const files = (folder: string) =>
    Object.fromEntries(readdirSync(folder).map((f) => [f, readFileSync(join(folder, f))]));
  let trained = '';
  beforeAll(async () => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    // Grey 16×20, not the default size or channels: --detector must read --data as the stack's input.
    const r = await cli([
      ...['detect', '--normal-data', join(imgs, 'reds'), '--data', imgs, '--size', '16x20', '--channels', '1'],
      ...['--epochs', '2', '--k', '3', '--workers', '0', '--save', det, '--out', join(dir, 'trained.csv')],
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(TRAINS);
    expect(r.stderr).toContain(`saved the detector in ${det}`);
    trained = readFileSync(join(dir, 'trained.csv'), 'utf8');
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the folder holds detector.json and detector.safetensors, nothing else', () => {
    expect(Object.keys(files(det)).sort()).toEqual(['detector.json', 'detector.safetensors']);
    const j = JSON.parse(readFileSync(join(det, 'detector.json'), 'utf8'));
    expect(j.format).toBe('convae-detector');
    expect(j.stack.inputShape).toEqual([1, 16, 20]);
    expect(j.score).toEqual({ type: 'neighbours', depth: 2, k: 3 });
    expect(j.training).toMatchObject({ normalize: 'none', trainImages: 32, heldOutImages: 8, epochs: 2, fpr: 0.05 });
  });

  it("the commands that need a CAE stack read a detector folder's (encode: the library's codes bit for bit); predict refuses it", async () => {
    const codes = join(dir, 'codes');
    const feats = join(dir, 'features');
    const [enc, pred, feat] = await Promise.all([
      cli(['encode', '--model', det, '--data', imgs, '--out', codes, '--workers', '0', '--build', 'simd', '-q']),
      cli(['predict', '--model', det, '--data', imgs]),
      cli(['features', '--model', det, '--data', imgs, '--top', '2', '--out', feats]),
    ]);
    expect(enc.status, enc.stderr).toBe(0);
    expect(feat.status, feat.stderr).toBe(0);
    expect(Object.keys(files(feats)).filter((f) => f.endsWith('.png')).length).toBeGreaterThanOrEqual(2);
    const be = await backendUnderTest();
    const { detector } = AnomalyDetector.load(
      be,
      readFileSync(join(det, 'detector.json'), 'utf8'),
      readFileSync(join(det, 'detector.safetensors')),
    );
    const ds = (await loadImageFolder(imgs, { size: [16, 20], channels: 1 })).dataset;
    const want = encode(detector.stack, ds).vectors;
    const got = decodeSafetensors(readFileSync(join(codes, 'codes.safetensors')), 'codes').tensors.codes!
      .data as Float32Array;
    expect(got.length).toBe(want.length);
    expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer))).toBe(true);
    detector.stack.dispose();
    expect(pred.status).toBe(1);
    expect(pred.stderr).toMatch(
      /holds an anomaly detector \(detector\.json\), not a classifier: score images with `convae detect --detector/,
    );
  }, 120_000);

  it('--detector scores --data as the training run did: the same CSV, in workers and on this thread', async () => {
    const [two, zero, json] = await Promise.all([
      cli(['detect', '--detector', det, '--data', imgs, '--workers', '2']),
      cli(['detect', '--detector', det, '--data', imgs, '--workers', '0']),
      cli(['detect', '--detector', det, '--data', imgs, '--workers', '0', '--format', 'json', '-q']),
    ]);
    for (const r of [two, zero]) {
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(TRAINS);
      expect(r.stderr).toMatch(
        /the detector of .*det \(knn3@2, threshold [\d.e-]+\) scores 80 images; nothing is trained/,
      );
      expect(r.stdout).toBe(trained);
    }
    expect(trained.split('\n')).toHaveLength(82); // header, 80 rows, the final newline
    const saved = JSON.parse(readFileSync(join(det, 'detector.json'), 'utf8'));
    expect(JSON.parse(json.stdout).threshold).toBe(saved.threshold);
  }, 120_000);

  it('the flags of a training run are refused with --detector, before anything is read', async () => {
    const flags: [string, string][] = [
      ['--normal-data', imgs],
      ['--save', join(dir, 'other')],
      ['--epochs', '3'],
      ['--batch', '8'],
      ['--k', '5'],
      ['--fpr', '0.1'],
      ['--seed', '2'],
      ['--size', '16x20'],
      ['--channels', '1'],
    ];
    const rs = await Promise.all(
      flags.map(([flag, v]) => cli(['detect', '--detector', join(dir, 'nothing'), '--data', imgs, flag, v])),
    );
    rs.forEach((r, i) => {
      const flag = flags[i][0];
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^convae detect: --detector cannot be combined with ${flag}: `));
      expect(r.stderr.split('\n')).toHaveLength(2);
    });
    expect(rs[0].stderr).toMatch(/--normal-data trains a new detector, --detector scores with a saved one: give one/);
    expect(rs[4].stderr).toMatch(
      /only applies when a detector is trained \(--normal-data\); a saved one keeps its own/,
    );
  }, 120_000);

  // A FIFO blocked the read forever; a link to /dev/zero read 2 GB before the size limit refused it.
  it.runIf(existsSync('/dev/zero'))(
    'a FIFO or a device in the --detector folder: one line saying it is not a regular file, at once',
    async () => {
      const fifo = join(dir, 'fifo'),
        zero = join(dir, 'zero');
      const good = files(det);
      mkdirSync(fifo);
      expect(spawnSync('mkfifo', [join(fifo, 'detector.json')]).status).toBe(0);
      writeFileSync(join(fifo, 'detector.safetensors'), good['detector.safetensors']);
      mkdirSync(zero);
      writeFileSync(join(zero, 'detector.json'), good['detector.json']);
      symlinkSync('/dev/zero', join(zero, 'detector.safetensors'));
      const quick = cliAsync(20_000);
      const rs = await Promise.all([fifo, zero].map((d) => quick(['detect', '--detector', d, '--data', imgs])));
      for (const [r, file] of [
        [rs[0], 'fifo/detector.json'],
        [rs[1], 'zero/detector.safetensors'],
      ] as const) {
        expect(r.status, r.stderr).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`^convae: .*${file} is not a regular file: --detector must be a folder`));
        expect(r.stderr.split('\n')).toHaveLength(2);
      }
    },
    60_000,
  );

  it('no --normal-data and no --detector, a missing folder, a damaged file: one line each, nothing trained', async () => {
    const damaged = join(dir, 'damaged');
    mkdirSync(damaged);
    const good = files(det);
    writeFileSync(join(damaged, 'detector.json'), good['detector.json']);
    writeFileSync(join(damaged, 'detector.safetensors'), good['detector.safetensors'].subarray(0, 100));
    const nan = join(dir, 'nan');
    mkdirSync(nan);
    writeFileSync(
      join(nan, 'detector.json'),
      String(good['detector.json']).replace(/"threshold": [^,]+,/, '"threshold": null,'),
    );
    writeFileSync(join(nan, 'detector.safetensors'), good['detector.safetensors']);
    const clash = join(dir, 'clash');
    mkdirSync(clash);
    writeFileSync(join(clash, 'detector.json'), good['detector.json']);
    const inUse = join(dir, 'in-use');
    mkdirSync(inUse);
    writeFileSync(join(inUse, 'detector.json'), good['detector.json']);
    writeFileSync(join(inUse, 'detector.safetensors'), good['detector.safetensors']);
    const [none, missing, cut, nanThreshold, saveProc, outIsDetector, outIsUsed] = await Promise.all([
      cli(['detect', '--data', imgs]),
      cli(['detect', '--detector', join(dir, 'nothing'), '--data', imgs]),
      cli(['detect', '--detector', damaged, '--data', imgs]),
      cli(['detect', '--detector', nan, '--data', imgs]),
      cli(['detect', '--normal-data', imgs, '--data', imgs, '--size', '16x16', '--save', '/proc/convae-det']),
      // --out naming the detector.json --save writes: the CSV replaced the detector just saved, and exit 0.
      cli([
        ...['detect', '--normal-data', imgs, '--data', imgs, '--size', '16x16', '--save', clash],
        ...['--out', join(clash, '.', 'detector.json')],
      ]),
      // --out naming a file of the detector --detector reads: the CSV replaced it.
      cli(['detect', '--detector', inUse, '--data', imgs, '--out', join(inUse, 'detector.safetensors')]),
    ]);
    const one = (r: { status: number | null; stderr: string }, m: RegExp) => {
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(m);
      expect(r.stderr).not.toMatch(TRAINS);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr.split('\n')).toHaveLength(2);
    };
    one(none, /^convae detect: --normal-data is needed: .*\(or --detector DIR: a detector saved with --save\)/);
    one(
      missing,
      /^convae: .*nothing\/detector\.json cannot be read: --detector must be a folder written by `convae detect --save`/,
    );
    one(cut, /^convae: .*damaged\/detector\.safetensors: /);
    one(nanThreshold, /^convae: .*nan\/detector\.json: threshold: must be a finite number, got null/);
    one(saveProc, /^convae: cannot write to --save "\/proc\/convae-det": a kernel file system/);
    one(
      outIsDetector,
      /^convae detect: --out .*detector\.json is the detector\.json that --save writes: .*give another --out$/m,
    );
    expect(readFileSync(join(clash, 'detector.json'))).toEqual(good['detector.json']);
    one(
      outIsUsed,
      /^convae detect: --out .*detector\.safetensors is the detector\.safetensors that --detector reads: .*give another --out$/m,
    );
    expect(files(inUse)).toEqual({
      'detector.json': good['detector.json'],
      'detector.safetensors': good['detector.safetensors'],
    });
  }, 120_000);
});

describe.runIf(BUILD === 'simd')('convae detect --detector and --save in this process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-detect-save-in-'));
  const imgs = join(dir, 'imgs');
  beforeAll(() => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = { batch: 16, k: 3, fpr: 0.05, seed: 1, format: 'csv', build: BUILD, workers: 0, quiet: true } as const;

  it("--detector normalises --data as the detector's training record says (contrast), as the library would", async () => {
    const be = await backendUnderTest();
    const raw = (await loadImageFolder(imgs, { size: [16, 16], channels: 1 })).dataset;
    const data = contrastNormalize(raw);
    const stack = new StackedConvAutoencoder(
      be,
      [{ convs: [{ filters: 2, kernel: 3 }], outputActivation: 'identity' }, { convs: [{ filters: 3, kernel: 3 }] }],
      [1, 16, 16],
      4,
    );
    const folder = join(dir, 'contrast');
    mkdirSync(folder);
    try {
      const d = AnomalyDetector.fit(stack, data.take(30), data.subset([30, 31, 32, 33, 34, 35, 36, 37]));
      const s = d.save({ normalize: 'contrast' });
      writeFileSync(join(folder, 'detector.json'), s.json);
      writeFileSync(join(folder, 'detector.safetensors'), s.weights);
      const want = d.detect(data);
      const got = await detect({ ...base, detector: folder, data: imgs, out: join(dir, 'contrast.csv') });
      expect(got.epochs).toBeUndefined();
      expect(got.threshold).toBe(d.threshold);
      expect(got.rows.map((r) => r.score)).toEqual(Array.from(want.scores));
      expect(got.rows.map((r) => r.anomalous)).toEqual(Array.from(want.flags));
      // Without the record's normalisation the scores would be those of the raw pixels.
      expect(got.rows.map((r) => r.score)).not.toEqual(Array.from(d.score(raw)));
    } finally {
      stack.dispose();
    }
  }, 60_000);

  it('--detector with --normal-data or --save given to detect(): ArgumentError', async () => {
    for (const extra of [{ normalData: imgs }, { save: join(dir, 'x') }]) {
      const e = await detect({ ...base, detector: join(dir, 'none'), data: imgs, ...extra }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ArgumentError);
      expect((e as Error).message).toMatch(/--detector cannot be combined with --(normal-data|save)/);
    }
  });

  it('a --save whose write fails keeps the detector already there byte for byte, no .tmp left', async () => {
    const out = join(dir, 'saved');
    const run = (seed: number) =>
      detect({
        ...base,
        seed,
        normalData: join(imgs, 'reds'),
        data: join(imgs, 'blues'),
        size: [16, 16],
        epochs: 1,
        save: out,
        out: join(dir, `scores-${seed}.csv`),
      });
    await run(1);
    const before = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f)).toString('base64')]));
    expect(Object.keys(before).sort()).toEqual(['detector.json', 'detector.safetensors']);
    inject.re = /detector\.safetensors(\.tmp)?$/;
    const e = await run(2).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OutputError);
    expect((e as Error).message).toMatch(/cannot write ".*detector\.safetensors": file too large/);
    const after = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f)).toString('base64')]));
    expect(after).toEqual(before);
    // Without the failure the same run replaces both files: the write above was the one that failed.
    inject.re = null;
    await run(2);
    const replaced = Object.fromEntries(
      readdirSync(out).map((f) => [f, readFileSync(join(out, f)).toString('base64')]),
    );
    expect(Object.keys(replaced).sort()).toEqual(['detector.json', 'detector.safetensors']);
    expect(replaced['detector.safetensors']).not.toEqual(before['detector.safetensors']);
  }, 120_000);

  // Without a handler a SIGTERM killed detect at once: between the two renames of a save that is a new
  // detector.json beside the old weights, and during a write a .tmp left in --save.
  it('a SIGTERM while a --save run trains: exit 143, one line, the detector already saved whole, no .tmp', async () => {
    const out = join(dir, 'interrupted');
    mkdirSync(out);
    writeFileSync(join(out, 'detector.json'), 'old json');
    writeFileSync(join(out, 'detector.safetensors'), 'old weights');
    const child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'ts/cli/main.ts', 'detect', '--normal-data', imgs, '--data', imgs],
        ...['--size', '32x32', '--epochs', '100', '--workers', '0', '--save', out],
      ],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (!sent && TRAINS.test(stderr)) sent = child.kill('SIGTERM');
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((ok) =>
      child.on('exit', (c, sig) => ok([c, sig])),
    );
    expect([code, signal], stderr).toEqual([143, null]);
    expect(stderr.trim().split('\n').at(-1)).toMatch(
      /^convae: interrupted \(SIGTERM\)\. The files already written to /,
    );
    expect(readdirSync(out).sort()).toEqual(['detector.json', 'detector.safetensors']);
    expect(readFileSync(join(out, 'detector.json'), 'utf8')).toBe('old json');
  }, 120_000);
});
