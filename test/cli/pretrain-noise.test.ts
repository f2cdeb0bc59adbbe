/**
 * `convae pretrain --noise` and `convae train --noise`: a masking fraction as before (kept pixels rescaled), or
 * `masking:f`, the masking `--add-noise` draws (kept pixels as they are, on pixels), or `gaussian:σ`, a first CAE that learns to remove Gaussian noise (README "Denoising":
 * such a stack beats a 3×3 median filter on Gaussian noise). The saved stack records the noise it trained with, the
 * same block from either command; a bad value is a usage error before anything is read.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { trainNoiseArg } from '../../ts/cli/commands.js';
import { checkResumeFlags, writeRunFlags } from '../../ts/cli/resume.js';
import { DataError } from '../../ts/errors.js';
import { BUILD } from '../util/backend.js';
import { cliAsync, SMALL_RUN_FLAGS } from '../util/cli.js';

const cli = cliAsync(120_000);

describe('pretrain --noise', () => {
  it('takes a masking fraction or gaussian:σ, and nothing else', () => {
    expect(trainNoiseArg('0.3')).toBe(0.3);
    expect(trainNoiseArg('0')).toBe(0);
    expect(trainNoiseArg('gaussian:0.3')).toEqual({ type: 'gaussian', std: 0.3 });
    expect(trainNoiseArg('gaussian:10')).toEqual({ type: 'gaussian', std: 10 });
    expect(trainNoiseArg('masking:0.3')).toEqual({ type: 'masking', fraction: 0.3 });
    expect(trainNoiseArg('masking:0')).toBe(0);
    expect(trainNoiseArg('salt-pepper:0.2')).toEqual({ type: 'salt-pepper', fraction: 0.2 });
    for (const bad of [
      '1',
      '-0.1',
      '',
      ' ',
      '0x1',
      'gaussian:0',
      'gaussian:-1',
      'gaussian:11',
      'gaussian:',
      'gaussian:0x1',
      'masking:1',
      'masking:',
      'masking:gaussian:0.3',
      'salt-pepper:0',
      'salt-pepper:1',
      'salt-pepper:',
      'salt-pepper:0.2:0.1',
      'salt:0.2',
    ])
      expect(() => trainNoiseArg(bad), JSON.stringify(bad)).toThrow(InvalidArgumentError);
    expect(() => trainNoiseArg('salt:0.1')).toThrow(
      /--noise takes a masking fraction in \[0, 1\) \(or masking:f\), gaussian:σ or salt-pepper:f/,
    );
    expect(() => trainNoiseArg('salt-pepper:1')).toThrow(/--noise salt-pepper:f takes a fraction f in \(0, 1\)/);
    expect(() => trainNoiseArg('gaussian:20')).toThrow(/--noise gaussian:σ takes σ in \(0, 10\]/);
  });

  describe.runIf(BUILD === 'simd')('from the command line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'convae-pretrain-noise-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const line = (out: string, noise: string[]) => [
      ...['pretrain', '--data', 'mnist', '--limit', '200', '--epochs', '1', '--maps', '4,6', '--layers', '1'],
      ...noise,
      ...['--out', out, '-q'],
    ];
    const firstNoise = (out: string) =>
      (JSON.parse(readFileSync(join(out, 'stack.json'), 'utf8')) as { blocks: { noise: unknown }[] }).blocks[0]!.noise;

    it('the saved stack records the noise its first CAE trained with; a bad one is refused, nothing written', async () => {
      const [g, m, bad, sp, gn, spn, mk, mkn] = await Promise.all([
        cli(line(join(dir, 'g'), ['--noise', 'gaussian:0.3'])),
        cli(line(join(dir, 'm'), [])),
        cli(line(join(dir, 'bad'), ['--noise', 'gaussian:-1'])),
        cli(line(join(dir, 'sp'), ['--noise', 'salt-pepper:0.2'])),
        cli(line(join(dir, 'gn'), ['--noise', 'gaussian:0.3', '--normalize', 'contrast'])),
        cli(line(join(dir, 'spn'), ['--noise', 'salt-pepper:0.2', '--normalize', 'contrast'])),
        cli(line(join(dir, 'mk'), ['--noise', 'masking:0.5'])),
        cli(line(join(dir, 'mkn'), ['--noise', 'masking:0.5', '--normalize', 'contrast'])),
      ]);
      // masking:f on pixels is the corruption --add-noise draws: the kept pixels as they are. Normalised, rescaled.
      expect(mk.status, mk.stderr).toBe(0);
      expect(firstNoise(join(dir, 'mk'))).toEqual({ type: 'mask', fraction: 0.5, rescale: false });
      expect(mkn.status, mkn.stderr).toBe(0);
      expect(firstNoise(join(dir, 'mkn'))).toEqual({ type: 'mask', fraction: 0.5, rescale: true });
      // Normalised inputs are not pixels: Gaussian noise is not clipped to [0, 1], and 0 or 1 is no salt or pepper.
      expect(gn.status, gn.stderr).toBe(0);
      expect(firstNoise(join(dir, 'gn'))).toEqual({ type: 'gaussian', std: 0.3, clip: false });
      expect(spn.status).not.toBe(0);
      expect(spn.stderr).toMatch(/--noise salt-pepper sets values to 0 or 1, the pixel range; --normalize contrast/);
      expect(existsSync(join(dir, 'spn'))).toBe(false);
      expect(sp.status, sp.stderr).toBe(0);
      expect(firstNoise(join(dir, 'sp'))).toEqual({ type: 'salt-pepper', fraction: 0.2 });
      expect(g.status, g.stderr).toBe(0);
      // Clipped to the pixel range, as the noisy images it will be given are stored.
      expect(firstNoise(join(dir, 'g'))).toEqual({ type: 'gaussian', std: 0.3, clip: true });
      expect(m.status, m.stderr).toBe(0);
      expect(firstNoise(join(dir, 'm'))).toEqual({ type: 'mask', fraction: 0.3, rescale: true });
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/--noise gaussian:σ takes σ in \(0, 10\]/);
      expect(bad.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(dir, 'bad'))).toBe(false);
    }, 120_000);

    // train's --noise took a fraction only: a classifier on a Gaussian denoiser's stack could not be trained in one run.
    it('train --noise gaussian:σ and masking:f save the same first block as pretrain; a bare f is rescaled masking', async () => {
      const run = (out: string, noise: string) =>
        cli([
          ...['train', '--limit', '200', '--epochs', '1', '--pretrain-epochs', '1', '--maps', '4,6'],
          ...['--noise', noise, '--out', out, '-q'],
        ]);
      const [g, m, f] = await Promise.all([
        run(join(dir, 'tg'), 'gaussian:0.3'),
        run(join(dir, 'tm'), 'masking:0.2'),
        run(join(dir, 'tf'), '0.2'),
      ]);
      expect(g.status, g.stderr).toBe(0);
      expect(firstNoise(join(dir, 'tg'))).toEqual({ type: 'gaussian', std: 0.3, clip: true });
      expect(m.status, m.stderr).toBe(0);
      expect(firstNoise(join(dir, 'tm'))).toEqual({ type: 'mask', fraction: 0.2, rescale: false });
      expect(f.status, f.stderr).toBe(0);
      expect(firstNoise(join(dir, 'tf'))).toEqual({ type: 'mask', fraction: 0.2, rescale: true });
    }, 120_000);
  });
});

describe('train --resume --noise masking:f', () => {
  it('with a run.json from before masking:f left pixels unscaled (it recorded f): refused, saying --noise f resumes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'convae-resume-masking-'));
    try {
      // `train --noise masking:0.5` of the version before recorded 0.5: the kept pixels rescaled.
      await writeRunFlags(out, { ...SMALL_RUN_FLAGS, noise: 0.5 });
      const now = { ...SMALL_RUN_FLAGS, noise: trainNoiseArg('masking:0.5') };
      const err = await checkResumeFlags(out, now).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toMatch(
        /--noise 0\.5 → \{"type":"masking","fraction":0\.5\} \(the run's masking rescaled the kept pixels.*resume with --noise 0\.5\)/,
      );
      await expect(checkResumeFlags(out, { ...SMALL_RUN_FLAGS, noise: trainNoiseArg('0.5') })).resolves.toBeUndefined();
      // Another change of --noise gets no such note.
      const other = await checkResumeFlags(out, { ...SMALL_RUN_FLAGS, noise: trainNoiseArg('masking:0.4') }).catch(
        (e: unknown) => e,
      );
      expect((other as Error).message).not.toMatch(/rescaled/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
