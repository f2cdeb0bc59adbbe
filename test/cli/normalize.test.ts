/**
 * `--normalize contrast` end to end: `convae pretrain` records it in the
 * saved stack (linear reconstruction, relu, 'same' padding as asked), and the
 * commands that apply the model normalise their input the same way: the codes
 * `convae encode` writes equal the API's on contrast-normalised images. A
 * saved model naming an unknown normalisation is refused in one line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../ts/anomaly/embed.js';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { contrastNormalize } from '../../ts/data/normalize.js';
import { whiten, whiteningOf } from '../../ts/data/whiten.js';
import { decodeSafetensors } from '../../ts/io/safetensors.js';
import type { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { loadModel } from '../../ts/model/serialize.js';
import { BUILD, backendUnderTest } from '../util/backend.js';
import { cliRunner, savedStackAndImages } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliRunner(180_000);

describe.runIf(BUILD === 'simd')('--normalize contrast', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-cli-normalize-'));
  const imgs = join(dir, 'imgs'),
    out = join(dir, 'out');
  beforeAll(() => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    const r = cli(
      'pretrain',
      '--data',
      imgs,
      '--size',
      '16x16',
      '--layers',
      '1',
      '--maps',
      '6,6',
      '--kernel',
      '5',
      '--padding',
      'same',
      '--activation',
      'relu',
      '--normalize',
      'contrast',
      '--epochs',
      '1',
      '--sparsity',
      '0.1',
      '--decoder',
      'untied',
      '--out',
      out,
      '-q',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 200_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pretrain records the normalisation and builds the block asked for', () => {
    const meta = JSON.parse(readFileSync(join(out, 'stack.json'), 'utf8'));
    expect(meta.training.normalize).toBe('contrast');
    const b = meta.blocks[0];
    expect(b.activation).toBe('relu');
    expect(b.outputActivation).toBe('identity');
    expect(b.convs[0].padding).toBe(2);
    expect(b.sparsity).toEqual({ keep: 0.1 });
    expect(b.tied).toBe(false);
    expect(meta.training.saturatedCodes).toEqual([null]); // relu has no flat tails
  });

  it('encode normalises its input as the model was trained: the codes equal the API on contrast-normalised images', async () => {
    const codes = join(dir, 'codes');
    const r = cli('encode', '--model', out, '--data', imgs, '--out', codes, '--workers', '0', '--build', BUILD);
    expect(r.stderr).toBe('');
    const st = decodeSafetensors(readFileSync(join(codes, 'codes.safetensors')), 'codes');
    const { stack: model, images } = await savedStackAndImages(out, imgs);
    const want = encode(model, contrastNormalize(images)).vectors;
    const raw = encode(model, images).vectors;
    const got = st.tensors.codes.data as Float32Array;
    expect(got.every((v, i) => Object.is(v, want[i]))).toBe(true);
    expect(got.some((v, i) => v !== raw[i])).toBe(true);
    model.dispose();
  });

  it('a saved model with an unknown training.normalize is refused in one line', () => {
    const bad = join(dir, 'bad');
    const meta = JSON.parse(readFileSync(join(out, 'stack.json'), 'utf8'));
    meta.training.normalize = 'zca';
    rmSync(bad, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', bad]);
    writeFileSync(join(bad, 'stack.json'), JSON.stringify(meta));
    writeFileSync(join(bad, 'stack.safetensors'), readFileSync(join(out, 'stack.safetensors')));
    const r = cli('encode', '--model', bad, '--data', imgs, '--out', join(dir, 'c2'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/training\.normalize must be 'none', 'contrast' or 'whiten', got "zca"/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--normalize whiten: the fitted whitening is saved with the model, and encode applies it', async () => {
    const wout = join(dir, 'wout');
    const r = cli(
      'pretrain',
      '--data',
      imgs,
      '--size',
      '16x16',
      '--layers',
      '1',
      '--maps',
      '4,4',
      '--kernel',
      '5',
      '--padding',
      'same',
      '--activation',
      'relu',
      '--normalize',
      'whiten',
      '--epochs',
      '1',
      '--out',
      wout,
      '-q',
    );
    expect(r.stderr).toBe('');
    const meta = JSON.parse(readFileSync(join(wout, 'stack.json'), 'utf8'));
    expect(meta.training.normalize).toBe('whiten');
    expect(meta.training.whitening.kernel).toHaveLength(3 * 3 * 9 * 9);
    const w = whiteningOf(meta.training.whitening, 'test');
    const codes = join(dir, 'wcodes');
    expect(
      cli('encode', '--model', wout, '--data', imgs, '--out', codes, '--workers', '0', '--build', BUILD).stderr,
    ).toBe('');
    const got = decodeSafetensors(readFileSync(join(codes, 'codes.safetensors')), 'codes').tensors.codes
      .data as Float32Array;
    const be = await backendUnderTest();
    const { model } = loadModel(be, JSON.stringify(meta), readFileSync(join(wout, 'stack.safetensors')));
    const f = await loadImageFolder(imgs, { size: [16, 16], channels: 3 });
    const want = encode(model as StackedConvAutoencoder, whiten(contrastNormalize(f.dataset), w)).vectors;
    expect(got.every((v, i) => Object.is(v, want[i]))).toBe(true);
    model.dispose();
    // A saved whitening of the wrong size is refused in one line.
    meta.training.whitening.kernel.pop();
    writeFileSync(join(wout, 'stack.json'), JSON.stringify(meta));
    const bad = cli('encode', '--model', wout, '--data', imgs, '--out', codes);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/training: whitening kernel must be an array of 729 numbers/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    // A whitening beside 'contrast' (an edited record): refused, not read as contrast with the whitening ignored.
    meta.training.normalize = 'contrast';
    writeFileSync(join(wout, 'stack.json'), JSON.stringify(meta));
    const mixed = cli('encode', '--model', wout, '--data', imgs, '--out', codes);
    expect(mixed.status).toBe(1);
    expect(mixed.stderr).toMatch(
      /stack\.json: training\.whitening is given, but training\.normalize is "contrast": the whitening would be ignored/,
    );
    expect(mixed.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--normalize takes none, contrast or whiten only', () => {
    const r = cli('pretrain', '--data', imgs, '--normalize', 'zca', '--out', join(dir, 'x'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--normalize/);
  });
});
