/**
 * The `convae detect --normalize` table of docs/anomaly.md: `npx tsx scripts/detect-normalize.ts DIR [seeds]`.
 * Writes DIR/{plain,lit}/normal (1 000 MNIST training zeros) and DIR/{plain,lit}/test/<digit>/ (100 test images
 * per digit); "lit" puts every image at a random exposure a·v + b (a in [0.3, 1], b in [0, 1 − a]), as photographs
 * under changing light. Then runs `convae detect` on each, once per normalisation and seed, and prints the AUROC
 * of zero (normal) against the other digits (anomalies) from the CSV.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadMnist } from '../ts/data/mnist.js';
import { Rng } from '../ts/util/rng.js';
import { auroc } from '../ts/train/metrics.js';

const [dir, seedsArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: npx tsx scripts/detect-normalize.ts DIR [seeds]');
const seeds = Number(seedsArg ?? 3);
const rng = new Rng(12345);
const SIDE = 28;

async function writePng(path: string, img: Float32Array, lit: boolean): Promise<void> {
  const a = 0.3 + 0.7 * rng.next();
  const b = (1 - a) * rng.next();
  const buf = Buffer.alloc(SIDE * SIDE);
  for (let j = 0; j < buf.length; j++) buf[j] = Math.round((lit ? a * img[j]! + b : img[j]!) * 255);
  await sharp(buf, { raw: { width: SIDE, height: SIDE, channels: 1 } })
    .png()
    .toFile(path);
}

for (const [split, perClass] of [
  ['train', 1000],
  ['test', 100],
] as const) {
  const d = await loadMnist({ split });
  const count = new Array<number>(10).fill(0);
  for (let i = 0; i < d.length; i++) {
    const l = d.labels![i]!;
    if (count[l]! >= perClass || (split === 'train' && l !== 0)) continue;
    const img = d.readImages(i, i + 1);
    for (const v of ['plain', 'lit']) {
      const folder = split === 'train' ? join(dir, v, 'normal') : join(dir, v, 'test', String(l));
      mkdirSync(folder, { recursive: true });
      await writePng(join(folder, `${i}.png`), img, v === 'lit');
    }
    count[l]!++;
  }
}

const cli = new URL('../ts/cli/main.ts', import.meta.url).pathname;
console.log('| images | seed | none | contrast | whiten |\n|---|---|---|---|---|');
for (const v of ['plain', 'lit'])
  for (let seed = 1; seed <= seeds; seed++) {
    const row: string[] = [];
    for (const normalize of ['none', 'contrast', 'whiten']) {
      const out = join(dir, `${v}-${normalize}-${seed}.csv`);
      const r = spawnSync(
        process.execPath,
        [
          ...[
            '--import',
            'tsx',
            cli,
            'detect',
            '--normal-data',
            join(dir, v, 'normal'),
            '--data',
            join(dir, v, 'test'),
          ],
          ...['--channels', '1', '--size', `${SIDE}x${SIDE}`, '--normalize', normalize, '--seed', String(seed)],
          ...['-q', '--out', out],
        ],
        { stdio: 'inherit' },
      );
      if (r.status !== 0) throw new Error(`convae detect failed (${normalize}, seed ${seed})`);
      const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1);
      const scores = rows.map((l) => Number(l.split(',')[1]));
      const anomalous = rows.map((l) => (l.startsWith('0/') ? 0 : 1));
      row.push(auroc(scores, anomalous).toFixed(4));
    }
    console.log(`| ${v} | ${seed} | ${row.join(' | ')} |`);
  }
