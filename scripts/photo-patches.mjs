// Cuts random square patches from the sample photographs the scikit-image and
// scikit-learn wheels ship into a folder of PNGs for `convae pretrain --data`.
// The photographs are scenes and objects under free licences: scikit-image's
// astronaut (NASA, public domain), chelsea (a cat) and coffee (CC0), rocket
// (SpaceX, public domain), and scikit-learn's china (a temple) and flower
// (CC BY 2.0, danielbuechele / vultilion on Flickr; sklearn/datasets/images/README.txt).
// Not the telescope, microscope and retina images, the Middlebury stereo pair
// (research terms) nor the synthetic ones (chessboards, logo, phantom, text).
// Each patch: a photo drawn at random (each as likely), scaled by SCALE
// (Lanczos), a random place; a fixed LCG, so the same patches come out every time.
// Usage: node scripts/photo-patches.mjs ROOT OUT_DIR [count] [side] [scale] [left-out,…]
//   ROOT holds skimage/data/ and sklearn/datasets/images/ (scripts/photo-run.sh unzips them there).
//   left-out: photos (names without extension, e.g. flower) no patch is cut from, to measure on them unseen
//   (scripts/photo-denoise.sh).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

export const PHOTOS = [
  'skimage/data/astronaut.png',
  'skimage/data/chelsea.png',
  'skimage/data/coffee.png',
  'skimage/data/rocket.jpg',
  'sklearn/datasets/images/china.jpg',
  'sklearn/datasets/images/flower.jpg',
];

const [root, out, countArg = '7500', sideArg = '16', scaleArg = '0.5', leftOutArg = ''] = process.argv.slice(2);
if (!root || !out) {
  console.error('usage: node scripts/photo-patches.mjs ROOT OUT_DIR [count] [side] [scale] [left-out,…]');
  process.exit(2);
}
const leftOut = leftOutArg ? leftOutArg.split(',') : [];
const stem = (f) => f.replace(/^.*\//, '').replace(/\.\w+$/, '');
for (const name of leftOut)
  if (!PHOTOS.some((f) => stem(f) === name)) {
    console.error(`photo-patches: no photo named ${name} (${PHOTOS.map(stem).join(', ')})`);
    process.exit(2);
  }
const count = Number(countArg),
  side = Number(sideArg),
  scale = Number(scaleArg);
mkdirSync(out, { recursive: true });
let seed = 12345;
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};
const photos = [];
for (const f of PHOTOS.filter((f) => !leftOut.includes(stem(f)))) {
  const m = await sharp(join(root, f)).metadata();
  const w = Math.round(m.width * scale),
    h = Math.round(m.height * scale);
  const { data } = await sharp(join(root, f))
    .removeAlpha()
    .toColourspace('srgb')
    .resize(w, h, { kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  photos.push({ data, w, h, name: stem(f) });
  console.log(`${f}: ${m.width}×${m.height} → ${w}×${h}`);
}
const px = Buffer.alloc(side * side * 3);
for (let i = 0; i < count; i++) {
  const p = photos[Math.floor(rand() * photos.length)];
  const x0 = Math.floor(rand() * (p.w - side + 1)),
    y0 = Math.floor(rand() * (p.h - side + 1));
  for (let y = 0; y < side; y++)
    p.data.copy(px, y * side * 3, ((y0 + y) * p.w + x0) * 3, ((y0 + y) * p.w + x0 + side) * 3);
  await sharp(px, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toFile(join(out, `${p.name}-${String(i).padStart(5, '0')}.png`));
}
console.log(`${count} patches of ${side}×${side} in ${out}`);
