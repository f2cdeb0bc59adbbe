/**
 * Fuzzing the image-folder loader (sharp in Node) with damaged files: valid PNG,
 * JPEG and WebP files are cut, flipped, given other magic bytes or a header that
 * claims a huge size, and each is loaded from a class folder of its own. A case
 * must end in a typed error (FormatError naming the file) or a dataset of the
 * asked shape; `onError: 'skip'` must list what it skipped instead of throwing. With `patches` (each file decoded
 * whole at its own size, perhaps scaled, and cut into windows) the same files must give the same: typed errors, or
 * perImage windows of the asked shape per file kept, each with its place.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { DAMAGE_KINDS, damagedImage, type Format, picture } from './damage.js';
import { expectClean, fuzzCase, Gen, report, snapshot } from './harness.js';

const before = snapshot(null);
const root = mkdtempSync(join(tmpdir(), 'convae-fuzz-img-'));
afterAll(() => {
  report('images', null, before);
  rmSync(root, { recursive: true, force: true });
});

/**
 * A folder of two classes: `a/x.<format>` holds the damaged bytes, `b/y.png` a sound picture drawn from `g`, which
 * keeps the folder valid when the damaged file is skipped. Returns the damaged file's relative name.
 */
async function damagedFolder(g: Gen, dir: string, format: Format, bytes: Uint8Array): Promise<string> {
  mkdirSync(join(dir, 'a'), { recursive: true });
  mkdirSync(join(dir, 'b'), { recursive: true });
  const file = `a/x.${format === 'jpeg' ? 'jpg' : format}`;
  writeFileSync(join(dir, file), bytes);
  writeFileSync(join(dir, 'b/y.png'), await picture(g, 'png', 3));
  return file;
}

describe('fuzz: image files', () => {
  it('400 damaged PNG, JPEG and WebP files through loadImageFolder', async () => {
    const g = new Gen(31);
    const formats: Format[] = ['png', 'jpeg', 'webp'];
    for (let i = 0; i < 400; i++) {
      const format = formats[i % 3];
      const { bytes, label, exp } = await damagedImage(g, format, i % DAMAGE_KINDS);
      const dir = join(root, String(i));
      const file = await damagedFolder(g, dir, format, bytes);
      const size: [number, number] = [g.int(1, 12), g.int(1, 12)];
      const out = g.pick([1, 3] as const);
      const skip = g.bool(0.3);
      await fuzzCase(
        null,
        'image files',
        `#${i} ${format} ${label}${skip ? ' (skip)' : ''}`,
        skip ? 'valid' : exp,
        async () => {
          const r = await loadImageFolder(dir, { size, channels: out, onError: skip ? 'skip' : 'throw' });
          return () => {
            const n = r.dataset.length;
            expect(r.dataset.shape).toEqual([out, ...size]);
            expect(r.dataset.bytes!.length).toBe(n * out * size[0] * size[1]);
            expect(r.files.length + r.skipped.length).toBe(2);
            expect(r.files).toContain('b/y.png');
            if (r.skipped.length) {
              expect(r.skipped[0].file).toBe(file);
              expect(r.skipped[0].reason.length).toBeLessThan(1000);
            }
            if (exp === 'invalid') expect(r.skipped.map((s) => s.file)).toEqual([file]);
          };
        },
      );
      rmSync(dir, { recursive: true, force: true });
    }
    expectClean('image files');
  }, 120_000);

  it('200 damaged files through loadImageFolder with patches', async () => {
    const g = new Gen(32);
    const formats: Format[] = ['png', 'jpeg', 'webp'];
    for (let i = 0; i < 200; i++) {
      const format = formats[i % 3];
      const { bytes, label, exp } = await damagedImage(g, format, i % DAMAGE_KINDS);
      const dir = join(root, `p${i}`);
      await damagedFolder(g, dir, format, bytes);
      const size: [number, number] = [g.int(1, 12), g.int(1, 12)];
      const out = g.pick([1, 3] as const);
      const skip = g.bool(0.3);
      const patches = { perImage: g.int(1, 5), seed: g.int(0, 9), scale: g.pick([1, 1, 0.5, 0.01]) };
      // The sound file may be smaller than a patch: refused or skipped as a file that holds none.
      await fuzzCase(
        null,
        'image patches',
        `#${i} ${format} ${label}${skip ? ' (skip)' : ''} ${JSON.stringify(patches)}`,
        exp === 'invalid' && !skip ? 'invalid' : 'either',
        async () => {
          const r = await loadImageFolder(dir, { size, channels: out, onError: skip ? 'skip' : 'throw', patches });
          return () => {
            const kept = new Set(r.files);
            expect(r.dataset.shape).toEqual([out, ...size]);
            expect(r.dataset.length).toBe(kept.size * patches.perImage);
            expect(r.files.length).toBe(r.dataset.length);
            expect(kept.size + r.skipped.length).toBe(2);
            for (const s of r.skipped) expect(s.reason.length).toBeLessThan(1000);
            expect(r.patchOrigins!.x.length).toBe(r.dataset.length);
          };
        },
      );
      rmSync(dir, { recursive: true, force: true });
    }
    expectClean('image patches');
  }, 120_000);
});
