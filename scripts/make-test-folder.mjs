import sharp from 'sharp';
import { mkdirSync } from 'node:fs';
const root = process.argv[2];
for (const [ci, cls] of ['reds', 'blues'].entries()) {
  mkdirSync(`${root}/${cls}`, { recursive: true });
  for (let i = 0; i < 40; i++) {
    const px = Buffer.alloc(20 * 20 * 3);
    for (let p = 0; p < 400; p++) {
      px[3 * p + (ci ? 2 : 0)] = 150 + ((p * 7 + i * 13) % 100);
      px[3 * p + 1] = (p * i) % 60;
    }
    await sharp(px, { raw: { width: 20, height: 20, channels: 3 } })
      .png()
      .toFile(`${root}/${cls}/${i}.png`);
  }
}
