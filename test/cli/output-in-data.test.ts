/**
 * A picture written inside an input image folder would be read back by the next run on that folder (a training
 * image, a query, a new class): every command that draws pictures refuses such an output before it reads, trains or
 * writes anything. The rule is checked here against the folder walk itself (`loadImageFolder`) after the write the
 * commands make (`writePng`): a place is refused exactly when a picture written there is among the folder's images.
 * Then every command that draws pictures, through the CLI: refused inside its image folders (under any name of the
 * folder) with nothing logged, read or written (a --model that does not exist is not even opened), and accepted in the
 * sibling folder whose name starts alike, with a CSV inside the data.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOutsideData } from '../../ts/cli/outdir.js';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { writePng } from '../../ts/viz/png.js';
import { ArgumentError } from '../../ts/errors.js';
import { BUILD } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;

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
    symlinkSync(join(photos, 'cats'), join(dir, 'in')); // from outside into the folder
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
    ['photos/away/../x.png', false],
    ['in/../x.png', false],
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
  const READ = ['photos/x.png', 'photos/cats/new/deeper/x.PNG', 'photos/../photos/x.jpg', 'link/x.webp', 'in/../x.png'];
  for (const [f, folder] of cases)
    it(`${folder ? 'a folder of pictures' : 'a picture'} at ${f}: refused when the walk reads it`, async () => {
      const path = `${dir}/${f}`; // not normalised: `link/..` is where the link leads, then up
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

/** Every entry below `dir` with its size: what a refused run leaves as it was. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => {
      const st = statSync(join(dir, f), { throwIfNoEntry: false });
      return `${f}:${st?.isFile() ? st.size : 'other'}`;
    })
    .sort();
}

describe.runIf(BUILD === 'simd')('every command that draws pictures, through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-outin-cli-'));
  const photos = join(dir, 'photos'); // 80 20×20 RGB images in reds/ and blues/
  const beside = join(dir, 'photos2');
  const link = join(dir, 'link');
  const stack = join(beside, 'stack');
  const cli = cliAsync(120_000);
  const small = ['--size', '16x16', '--maps', '2,2', '--kernel', '3'];
  beforeAll(async () => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', photos], { cwd: root }).status).toBe(0);
    symlinkSync(photos, link);
    const r = await cli(['pretrain', '--data', photos, ...small, '--epochs', '1', '--out', stack, '-q']);
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Each command's line, drawing to `out` (a folder, or for reconstruct and similar a PNG) from --data `data` and --model `model`. */
  const COMMANDS: Record<string, { folder: boolean; line: (out: string, data: string, model: string) => string[] }> = {
    pretrain: { folder: true, line: (o, d) => ['pretrain', '--data', d, ...small, '--epochs', '1', '--out', o] },
    train: {
      folder: true,
      line: (o, d) =>
        ['train', '--data', d, ...small, '--hidden', '4', '--pretrain-epochs', '1', '--epochs', '1'].concat([
          '--workers',
          '0',
          '--out',
          o,
        ]),
    },
    reconstruct: {
      folder: false,
      line: (o, d, m) => ['reconstruct', '--model', m, '--data', d, '--count', '4', '--out', o],
    },
    similar: {
      folder: false,
      line: (o, d, m) =>
        ['similar', '--model', m, '--data', d, '--k', '1', '--rows', '2', '--workers', '0'].concat([
          '--picture',
          o,
          '--out',
          join(photos, 'neighbours.csv'),
        ]),
    },
    map: {
      folder: true,
      line: (o, d, m) => ['map', '--model', m, '--data', d, '--neighbours', '5', '--thumbnails', '4', '--out', o],
    },
    cluster: {
      folder: true,
      line: (o, d, m) => ['cluster', '--model', m, '--data', d, '--k', '2', '--per-cluster', '2', '--out', o],
    },
    denoise: {
      folder: true,
      line: (o, d, m) => [
        'denoise',
        '--model',
        m,
        '--data',
        d,
        '--add-noise',
        'masking:0.5',
        '--workers',
        '0',
        '--out',
        o,
      ],
    },
    features: {
      folder: true,
      line: (o, d, m) => ['features', '--model', m, '--data', d, '--top', '2', '--limit', '20', '--out', o],
    },
    anomaly: {
      folder: true,
      line: (o, d) =>
        ['anomaly', '--data', d, '--size', '16x16', '--normal', 'reds', '--seeds', '1', '--epochs', '1'].concat([
          '--workers',
          '0',
          '--out',
          o,
        ]),
    },
    'filters-figure': {
      folder: true,
      line: (o, d) =>
        ['filters-figure', '--data', d, '--epochs', '1', '--maps', '2', '--kernel', '3', '--limit', '20'].concat([
          '--out',
          o,
        ]),
    },
  };
  const name = (cmd: string) => (COMMANDS[cmd]!.folder ? cmd : `${cmd}.png`);
  const outFlag = (cmd: string) => (cmd === 'similar' ? '--picture' : '--out');

  /** The refusal as the task states it: both flags, why, and what to do. */
  const refusal = (cmd: string, flag: string, out: string, dataFlag: string, data: string) => {
    const folder = COMMANDS[cmd]!.folder;
    const what = folder ? 'the pictures written there as images' : 'it as an image';
    return `convae ${cmd}: ${flag} ${out} lies inside ${dataFlag} ${data}: the next run on ${data} would read ${what}; give ${outFlag(cmd)} a ${folder ? 'folder' : 'file'} outside ${data} (or a name starting with '.', which is not read)`;
  };

  it('inside --data, under any of its names: refused, with nothing logged, read or written', async () => {
    const missing = join(dir, 'no-model'); // read first without the check: a model error instead of the refusal
    const cases = Object.keys(COMMANDS).flatMap((cmd) => [
      { cmd, out: join(photos, name(cmd)), data: photos },
      // The folder through a link, the output through `..` into a folder not made yet.
      { cmd, out: `${photos}/../photos/new/${name(cmd)}`, data: link },
    ]);
    const before = tree(dir);
    const runs = await Promise.all(cases.map((c) => cli(COMMANDS[c.cmd]!.line(c.out, c.data, missing))));
    const got = runs.map((r) => `${r.status} ${r.stdout}${r.stderr.trim()}`);
    expect(got).toEqual(cases.map((c) => `1 ${refusal(c.cmd, outFlag(c.cmd), c.out, '--data', c.data)}`));
    expect(tree(dir)).toEqual(before);
  }, 120_000);

  it('similar: a --picture inside --query is refused; features: its default --out, the --model folder, too', async () => {
    const picture = join(photos, 'similar.png');
    const model = join(photos, 'stack'); // not there: the check comes first
    const [q, f] = await Promise.all([
      cli(['similar', '--model', stack, '--data', beside, '--query', photos, '--picture', picture]),
      cli(['features', '--model', model, '--data', photos]),
    ]);
    expect([q.status, q.stderr.trim()]).toEqual([1, refusal('similar', '--picture', picture, '--query', photos)]);
    expect([f.status, f.stderr.trim()]).toEqual([
      1,
      refusal('features', '--out (by default the --model folder)', model, '--data', photos),
    ]);
    expect(existsSync(picture) || existsSync(model)).toBe(false);
  }, 120_000);

  it('in the sibling folder whose name starts alike: accepted, and a CSV inside --data too', async () => {
    const before = tree(photos);
    const cmds = Object.keys(COMMANDS);
    const runs = await Promise.all(
      cmds.map((cmd) => cli([...COMMANDS[cmd]!.line(join(beside, name(cmd)), photos, stack), '-q'])),
    );
    expect(runs.map((r) => `${r.status} ${r.stderr}`)).toEqual(cmds.map(() => '0 '));
    for (const cmd of cmds) {
      const out = join(beside, name(cmd));
      const pngs = COMMANDS[cmd]!.folder ? readdirSync(out).filter((f) => f.endsWith('.png')) : [out];
      expect(pngs.length, cmd).toBeGreaterThan(0);
    }
    expect(tree(photos)).toEqual([...before, `neighbours.csv:${statSync(join(photos, 'neighbours.csv')).size}`].sort());
    expect(readFileSync(join(photos, 'neighbours.csv'), 'utf8')).toMatch(/^query,rank,file,distance\n/);
  }, 120_000);
});
