/**
 * `convae detect --normalize contrast|whiten`: the detector trains on the normalised normal images, scores --data
 * normalised alike (the whitening fitted on the normal images), and `--save` records both, so that `--detector`
 * repeats the scores. The property the flag is for: an image's brightness no longer counts (nor, up to the variance's
 * eps, its contrast), so a brighter copy of an image scores as the image does; without the flag it does not.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const cli = cliAsync(120_000);
const SIDE = 16;

/** 40 grey 16×16 images of stripes and blobs (pixels 20 to 199), and their copies 56 levels brighter. */
async function writeFolders(normal: string, copies: string): Promise<void> {
  mkdirSync(normal, { recursive: true });
  mkdirSync(copies, { recursive: true });
  for (let i = 0; i < 40; i++) {
    const px = Buffer.alloc(SIDE * SIDE);
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++) {
        const stripe = ((x + (i % 5) * y) >> 1) % 2 ? 120 : 20;
        const blob = (x - (i % 7) - 4) ** 2 + (y - (i % 9) - 4) ** 2 < 9 ? 40 : 0;
        px[y * SIDE + x] = stripe + blob + i;
      }
    const bright = Buffer.from(px.map((v) => v + 56));
    const name = `${String(i).padStart(2, '0')}.png`;
    await sharp(px, { raw: { width: SIDE, height: SIDE, channels: 1 } })
      .png()
      .toFile(join(normal, name));
    await sharp(bright, { raw: { width: SIDE, height: SIDE, channels: 1 } })
      .png()
      .toFile(join(copies, name));
  }
}

/** The CSV's scores by file name. */
const scoresOf = (csv: string) =>
  new Map(
    csv
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','))
      .map(([file, score]) => [file!, Number(score)]),
  );

describe.runIf(BUILD === 'simd')('convae detect --normalize', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-detect-normalize-'));
  const data = join(dir, 'data'); // data/normal/NN.png and data/bright/NN.png
  const normal = join(data, 'normal');
  beforeAll(() => writeFolders(normal, join(data, 'bright')), 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (normalize: string, extra: string[] = []) =>
    cli([
      ...['detect', '--normal-data', normal, '--data', data, '--size', `${SIDE}x${SIDE}`, '--channels', '1'],
      ...['--epochs', '2', '--k', '3', '--workers', '0', '--normalize', normalize, ...extra],
    ]);

  it.each(['contrast', 'whiten'])(
    '--normalize %s: a brighter copy scores as its image; --save records it and --detector repeats the CSV',
    async (how) => {
      const det = join(dir, `det-${how}`);
      const r = await run(how, ['--save', det]);
      expect(r.status, r.stderr).toBe(0);
      const scores = scoresOf(r.stdout);
      expect(scores.size).toBe(80);
      for (let i = 0; i < 40; i++) {
        const name = `${String(i).padStart(2, '0')}.png`;
        const a = scores.get(`normal/${name}`)!;
        // The CSV's 6 digits, and float32 sums in another order.
        expect(Math.abs(scores.get(`bright/${name}`)! - a)).toBeLessThanOrEqual(1e-4 * a);
      }
      const j = JSON.parse(readFileSync(join(det, 'detector.json'), 'utf8'));
      expect(j.training.normalize).toBe(how);
      expect(j.training.whitening !== undefined).toBe(how === 'whiten');
      // Normalised pixels are not in [0, 1]: the first block reconstructs them linearly.
      expect(j.stack.blocks[0].outputActivation).toBe('identity');
      const again = await cli(['detect', '--detector', det, '--data', data, '--workers', '0']);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stdout).toBe(r.stdout);
    },
    120_000,
  );

  it('without --normalize (none) the copies score otherwise: the property above is the flag’s', async () => {
    const r = await run('none');
    expect(r.status, r.stderr).toBe(0);
    const scores = scoresOf(r.stdout);
    let differ = 0;
    for (let i = 0; i < 40; i++) {
      const name = `${String(i).padStart(2, '0')}.png`;
      const a = scores.get(`normal/${name}`)!;
      if (Math.abs(scores.get(`bright/${name}`)! - a) > 0.1 * a) differ++;
    }
    expect(differ).toBeGreaterThan(30);
  }, 120_000);

  it('--normalize is a training flag: refused with --detector', async () => {
    const r = await cli(['detect', '--detector', join(dir, 'nothing'), '--data', data, '--normalize', 'contrast']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^convae detect: --detector cannot be combined with --normalize: /);
  });
});
