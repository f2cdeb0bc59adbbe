/**
 * `convae denoise`'s checks before any image is written: the bound on an image's tiles (MAX_DENOISE_TILES) with a
 * model of a tiny tile (the stride it offers is one the command takes, 1 to the tile's side, counted apart:
 * test/util/tiles.ts), and output names the file system can hold (the file system itself the reference).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, expect, it } from 'vitest';
import { folderFiles } from '../../ts/cli/data.js';
import { outputNames } from '../../ts/cli/denoise-files.js';
import { ownSizeFiles } from '../../ts/cli/denoise-own.js';
import { ArgumentError } from '../../ts/errors.js';
import { writeAtomic } from '../../ts/io/files.js';
import { MAX_DENOISE_TILES } from '../../ts/limits.js';
import { StackedConvAutoencoder } from '../../ts/model/autoencoder.js';
import { backendUnderTest } from '../util/backend.js';
import { tilesOf } from '../util/tiles.js';

const be = await backendUnderTest();
const dir = mkdtempSync(join(tmpdir(), 'convae-denoise-tiles-'));
const stacks: StackedConvAutoencoder[] = [];
afterAll(() => {
  for (const s of stacks) s.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** A folder of one PNG of `side²` pixels cut to its first half: its header reads, its pixels do not decode. */
async function headerOnly(name: string, side: number): Promise<string> {
  const folder = join(dir, name);
  mkdirSync(folder);
  const png = await sharp({ create: { width: side, height: side, channels: 3, background: { r: 9, g: 99, b: 9 } } })
    .png()
    .toBuffer();
  writeFileSync(join(folder, 'big.png'), png.subarray(0, png.length >> 1));
  return folder;
}

it('a tile of 1 or 2 pixels too many on an image says no stride fits, never a stride past the tile', async () => {
  for (const [tile, side, stride] of [
    [2, 2900, 2],
    [1, 2048, undefined],
  ] as const) {
    const stack = new StackedConvAutoencoder(
      be,
      [{ convs: [{ filters: 2, kernel: 1 }], pool: null }],
      [3, tile, tile],
      1,
    );
    stacks.push(stack);
    // Every stride the command takes lays too many: there is none to offer.
    const counts = Array.from({ length: tile }, (_, s) => tilesOf(side, side, tile, s + 1));
    expect(Math.min(...counts)).toBeGreaterThan(MAX_DENOISE_TILES);
    const given = stride ?? Math.ceil(tile / 2);
    const spec = { data: await headerOnly(`t${tile}`, side) };
    let err: unknown;
    try {
      await ownSizeFiles((await folderFiles(spec))!, spec, { stack, stride }, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    // Before, a stride past the tile was offered ("give --stride 3 or more (up to 2)").
    expect((err as Error).message).toBe(
      `convae denoise: --stride ${stride ?? 'not given (half the tile)'} lays ${tilesOf(side, side, tile, given)} tiles of ${tile}×${tile} on "big.png" (${side}×${side}), more than MAX_DENOISE_TILES (${MAX_DENOISE_TILES} an image, 6–13 minutes on 2 cores): even --stride ${tile} lays more: the image is too large for tiles of this model (--resize reads it resized)`,
    );
  }
}, 60_000);

it('an output name too long for the disk (a name shown escaped is three times its bytes) is refused before writing', async () => {
  // 90 bytes that are not UTF-8, shown as 270 characters (`%FF` each): listed, then given an output name.
  const folder = join(dir, 'long');
  mkdirSync(folder);
  const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: 1, g: 2, b: 3 } } })
    .png()
    .toBuffer();
  writeFileSync(Buffer.concat([Buffer.from(`${folder}/`), Buffer.alloc(90, 0xff), Buffer.from('.png')]), png);
  writeFileSync(join(folder, 'ok.png'), png);
  const listed = (await folderFiles({ data: folder }))!;
  expect(listed.files).toEqual([`${'%FF'.repeat(90)}.png`, 'ok.png']);
  const out = join(dir, 'long-out');
  mkdirSync(join(out, 'images'), { recursive: true });
  /** Whether `writeAtomic` (what denoise writes each image with) can write `output` under `out`. */
  const writes = (output: string) =>
    writeAtomic(join(out, output), 'x').then(
      () => true,
      () => false,
    );
  for (const [name, fits] of [
    [`${'%FF'.repeat(90)}.png`, false],
    [`${'x'.repeat(248)}.jpg`, false], // 252 bytes: no room for `.tmp`
    [`${'x'.repeat(247)}.jpg`, true],
    [`${'é'.repeat(124)}.png`, false], // 252 bytes in 128 characters
    [`${'d'.repeat(256)}/a.png`, false], // a folder
  ] as const) {
    const d = { name: `folder:${folder}`, names: ['ok.png', name] };
    // The disk is the reference: the name is refused exactly when writing it would fail.
    const target = `images/${name.replace(/\.jpg$/, '.png')}`;
    expect(await writes(target), name.slice(0, 20)).toBe(fits);
    if (fits) expect(outputNames(d)).toEqual(['images/ok.png', target]);
    else {
      expect(() => outputNames(d), name.slice(0, 20)).toThrow(ArgumentError);
      expect(() => outputNames(d)).toThrow(
        /^convae denoise: --data holds a file whose output name is too long to write/,
      );
    }
  }
});
