/**
 * A picture written inside an input image folder would be read back by the next run on that folder (a training
 * image, a query, a new class): every command that draws pictures refuses such an output before it reads, trains or
 * writes anything. The rule is checked here against the folder walk itself (`loadImageFolder`) after the write the
 * commands make (`writePng`): a place is refused exactly when a picture written there is among the folder's images.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOutsideData } from '../../ts/cli/outdir.js';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { writePng } from '../../ts/viz/png.js';
import { ArgumentError } from '../../ts/errors.js';

const tiny = (file: string) =>
  sharp(Buffer.alloc(4 * 4 * 3, 90), { raw: { width: 4, height: 4, channels: 3 } })
    .png()
    .toFile(file);

describe('checkOutsideData: refused exactly where the folder walk would read the picture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-outin-'));
  const photos = join(dir, 'photos');
  const elsewhere = join(dir, 'elsewhere');
  const linkedPng = join(photos, 'cats', 'linked.png');
  beforeAll(async () => {
    mkdirSync(join(photos, 'cats'), { recursive: true });
    mkdirSync(elsewhere);
    await tiny(join(photos, 'cats', 'a.png'));
    symlinkSync(photos, join(dir, 'link')); // the folder under another name
    symlinkSync(elsewhere, join(photos, 'away')); // a folder link, which the walk does not follow
    mkdirSync(join(dir, 'cifar'));
    writeFileSync(join(dir, 'cifar', 'test_batch.bin'), '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const refused = async (path: string, folder: boolean, spec = photos) => {
    try {
      await checkOutsideData('convae x', [{ flag: '--out', path, folder }], [{ flag: '--data', spec }]);
      return null;
    } catch (e) {
      expect(e).toBeInstanceOf(ArgumentError);
      return (e as Error).message;
    }
  };

  const walk = async () => (await loadImageFolder(photos, { size: [4, 4], channels: 3, labels: 'none' })).files;

  /** Whether the next walk of photos reads a picture written at `file` as the commands write theirs (removed again). */
  async function walkReads(file: string): Promise<boolean> {
    const before = await walk();
    await writePng(file, { width: 1, height: 1, data: new Uint8Array(4) });
    try {
      return (await walk()).length > before.length;
    } finally {
      rmSync(file);
    }
  }

  // [path below dir, a folder of pictures?]: the folder cases write their picture inside the folder.
  const cases: [string, boolean][] = [
    ['photos/x.png', false],
    ['photos/cats/new/deeper/x.PNG', false],
    ['photos/../photos/x.jpg', false],
    ['link/x.webp', false],
    ['photos2/x.png', false],
    ['photos/x.csv', false],
    ['photos/x.png.json', false],
    ['photos/.x.png', false],
    ['photos/.hidden/x.png', false],
    ['photos/away/x.png', false],
    ['elsewhere/x.png', false],
    ['photos', true],
    ['photos/run', true],
    ['photos/cats/run/deeper', true],
    ['link/run', true],
    ['photos2', true],
    ['photos2/run', true],
    ['photos/.convae-out', true],
    ['photos/away/run', true],
    ['.', true],
  ];
  const READ = ['photos/x.png', 'photos/cats/new/deeper/x.PNG', 'photos/../photos/x.jpg', 'link/x.webp'];
  for (const [f, folder] of cases)
    it(`${folder ? 'a folder of pictures' : 'a picture'} at ${f}: refused when the walk reads it`, async () => {
      const path = join(dir, f);
      const reads = await walkReads(folder ? join(path, 'pic.png') : path);
      expect(reads).toBe(folder ? !/photos2|\.convae-out|away|^\.$/.test(f) : READ.includes(f));
      const m = await refused(path, folder);
      expect(m).toEqual(reads ? expect.stringContaining(' lies inside --data ') : null);
    });

  it('a link in the picture’s own place is replaced by the write, not followed: refused', async () => {
    symlinkSync(join(elsewhere, 'p.png'), linkedPng);
    expect(await walkReads(linkedPng)).toBe(true);
    symlinkSync(join(elsewhere, 'p.png'), linkedPng);
    expect(await refused(linkedPng, false)).toMatch(/ lies inside --data /);
    rmSync(linkedPng);
  });

  it('the folder named through a link, as folder:DIR, or by a relative path: refused alike', async () => {
    expect(await refused(join(photos, 'run'), true, join(dir, 'link'))).toMatch(/ lies inside --data /);
    expect(await refused(join(photos, 'run'), true, `folder:${photos}`)).toMatch(/ lies inside --data /);
    expect(await refused(relative(process.cwd(), join(photos, 'run')), true)).toMatch(/ lies inside --data /);
    expect(await refused(join(photos, 'run'), true, relative(process.cwd(), photos))).toMatch(/ lies inside --data /);
  });

  it('inputs that are not image folders are not checked', async () => {
    const specs = ['mnist', 'fashion', `idx:${photos}`, `cifar10:${photos}`, join(dir, 'cifar'), join(dir, 'none')];
    for (const spec of [...specs, join(photos, 'cats', 'a.png')])
      expect(await refused(join(photos, 'run'), true, spec)).toBeNull();
    expect(await refused(join(dir, 'cifar', 'x.png'), false, join(dir, 'cifar'))).toBeNull();
  });

  it('the message names both flags, says why and what to do, and stays short for long paths', async () => {
    const m = await refused(join(photos, 'recon.png'), false);
    expect(m).toBe(
      `convae x: --out ${join(photos, 'recon.png')} lies inside --data ${photos}: the next run on ${photos} would read it as an image; give --out a file outside ${photos} (or a name starting with '.', which is not read)`,
    );
    const long = join(photos, `${'d'.repeat(200)}/`.repeat(20), 'x.png');
    const m2 = await refused(long, false);
    expect(m2).toMatch(/^convae x: --out .* lies inside --data /);
    expect(m2!.length).toBeLessThan(800);
    const errs: string[] = [];
    await checkOutsideData(
      'convae y',
      [{ flag: '--picture', path: join(photos, 'p.png'), folder: false }],
      [
        { flag: '--data', spec: elsewhere },
        { flag: '--query', spec: photos },
      ],
    ).catch((e: Error) => errs.push(e.message));
    expect(errs).toEqual([
      expect.stringMatching(
        /^convae y: --picture .*p\.png lies inside --query .*photos: .* give --picture a file outside /,
      ),
    ]);
  });
});
