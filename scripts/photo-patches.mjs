// Cuts square patches from the sample photographs the scikit-image wheel ships
// (skimage/data: astronaut, coffee, chelsea, rocket, …, all public domain or CC0
// per skimage/data/README) into a folder of PNGs for `convae pretrain --data`.
// Usage: node scripts/photo-patches.mjs PHOTO_DIR OUT_DIR [patches per photo] [side]
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const [src, out, perArg = '400', sideArg = '32'] = process.argv.slice(2);
const per = Number(perArg),
  side = Number(sideArg);
mkdirSync(out, { recursive: true });
let seed = 12345;
// A fixed LCG (32-bit arithmetic), so the same patches come out every time.
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};
let n = 0;
for (const f of readdirSync(src)
  .filter((f) => /\.(png|jpe?g)$/i.test(f))
  .sort()) {
  const img = sharp(join(src, f)).removeAlpha().toColourspace('srgb');
  const { width, height, channels } = await img.metadata();
  if (channels < 3 || width < 4 * side || height < 4 * side) continue; // colour photographs only
  for (let i = 0; i < per; i++) {
    const left = Math.floor(rand() * (width - side)),
      top = Math.floor(rand() * (height - side));
    await sharp(join(src, f))
      .removeAlpha()
      .extract({ left, top, width: side, height: side })
      .png()
      .toFile(join(out, `${f.replace(/\.\w+$/, '')}-${i}.png`));
    n++;
  }
  console.log(f, `${width}×${height}`);
}
console.log(`${n} patches of ${side}×${side} in ${out}`);
