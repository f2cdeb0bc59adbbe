/**
 * The browser image loader (ts/data/imagefiles.ts) in headless Chromium: a
 * folder of generated PNG / JPEG / WebP files (RGB, grey, transparent, mixed
 * sizes, one corrupt file, class folders, a hidden folder and a text file) is
 * handed to `<input type=file webkitdirectory>` with playwright's
 * `setInputFiles`, loaded with `loadImageFiles` in decoding workers, and
 * compared with an independent decode of the same files in Node: sharp
 * (libvips) through `loadImageFolder`, with the same options.
 *
 * Tolerances: where no resampling happens (a file of the target size) PNG and
 * WebP-lossless pixels must be equal, JPEG within JPEG_TOL (two IDCTs), a
 * transparent PNG within 1 (compositing rounding). Resized files differ by
 * the resampling filter (Chromium's canvas 'high' quality vs libvips'
 * Lanczos 3): their mean absolute difference must stay under RESIZED_MEAN
 * (measured: 2.6 and 0.5 in RGB, 1.3 and 0.4 in grey; JPEG decodes were equal).
 *
 * Video frames: a short WebM is recorded in the page itself (MediaRecorder of
 * a canvas painting one solid colour per 400 ms) and read back with
 * `loadVideoFrames`; the frames' colours must match what was painted within
 * the lossy codec's error. `loadImageSources` is checked exactly on
 * ImageBitmaps of canvases drawn in the page.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { DAMAGE_KINDS, damagedImage, type Format } from '../fuzz/damage.js';
import { Gen } from '../fuzz/harness.js';
import { BUILD } from '../util/backend.js';
import { PACKAGE_PAGE, haveChromium, launchChromium, serveStatic, type StaticServer } from '../util/browser.js';

const JPEG_TOL = 2;
const RESIZED_MEAN = 4;

/** Deterministic noise of w×h×c bytes (a hash of the index: every value appears, neighbours unrelated). */
function noise(w: number, h: number, c: number, salt: number): Buffer {
  const b = Buffer.alloc(w * h * c);
  for (let i = 0; i < b.length; i++) b[i] = (Math.imul(i + salt * 7919, 2654435761) >>> 13) & 255;
  return b;
}
/** A smooth w×h RGB picture (gradients and a disc): what a JPEG and a resize handle gracefully. */
function smooth(w: number, h: number): Buffer {
  const b = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const q = 3 * (y * w + x);
      const inDisc = (x - w / 2) ** 2 + (y - h / 2) ** 2 < (Math.min(w, h) / 3) ** 2;
      b[q] = Math.round((255 * x) / (w - 1));
      b[q + 1] = Math.round((255 * y) / (h - 1));
      b[q + 2] = inDisc ? 220 : 40;
    }
  return b;
}
const raw = (b: Buffer, w: number, h: number, channels: 1 | 2 | 3 | 4) =>
  sharp(b, { raw: { width: w, height: h, channels } });

let dir: string;
const PAGE = PACKAGE_PAGE.replace(
  '<body>convae test page</body>',
  '<body><input id="pick" type="file" webkitdirectory multiple><input id="files" type="file" multiple></body>',
);

describe.runIf(BUILD === 'simd' && haveChromium)('browser image datasets in headless Chromium', () => {
  let server: StaticServer, browser: Browser, page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'convae-browser-images-'));
    const d = (p: string) => mkdirSync(join(dir, p), { recursive: true });
    for (const p of ['pets/cat', 'pets/dog/sub', 'pets/bird', 'pets/.hidden', 'loose']) d(p);
    await raw(noise(32, 32, 3, 1), 32, 32, 3)
      .png()
      .toFile(join(dir, 'pets/cat/a-rgb.png'));
    await raw(noise(32, 32, 1, 2), 32, 32, 1)
      .png()
      .toFile(join(dir, 'pets/cat/b-grey.png'));
    await raw(smooth(32, 32), 32, 32, 3).jpeg({ quality: 90 }).toFile(join(dir, 'pets/dog/c-photo.jpg'));
    await raw(smooth(80, 48), 80, 48, 3).png().toFile(join(dir, 'pets/dog/sub/d-wide.png'));
    // Straight alpha in steps: composited over the background.
    const rgba = noise(32, 32, 4, 3);
    for (let p = 0; p < 32 * 32; p++) rgba[4 * p + 3] = [0, 64, 128, 255][p % 4];
    await raw(rgba, 32, 32, 4).png().toFile(join(dir, 'pets/dog/e-alpha.png'));
    writeFileSync(
      join(dir, 'pets/dog/f-broken.png'),
      Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]), Buffer.alloc(200, 7)]),
    );
    // A valid header, then the data cut short: the browser's decoder must refuse it.
    const whole = await raw(noise(32, 32, 3, 6), 32, 32, 3)
      .png()
      .toBuffer();
    writeFileSync(join(dir, 'pets/cat/i-truncated.png'), whole.subarray(0, Math.floor(whole.length * 0.7)));
    await raw(smooth(40, 52), 40, 52, 3).webp({ lossless: true }).toFile(join(dir, 'pets/bird/g-tall.webp'));
    await raw(noise(32, 32, 3, 4), 32, 32, 3)
      .webp({ lossless: true })
      .toFile(join(dir, 'pets/bird/h-exact.webp'));
    await raw(noise(9, 9, 3, 5), 9, 9, 3)
      .png()
      .toFile(join(dir, 'pets/.hidden/ignored.png'));
    writeFileSync(join(dir, 'pets/cat/notes.txt'), 'not an image');
    for (let i = 0; i < 3; i++)
      await raw(noise(16 + 8 * i, 16, 3, 10 + i), 16 + 8 * i, 16, 3)
        .png()
        .toFile(join(dir, `loose/${i}.png`));

    // CORS for the page's other origin (localhost): a decoding worker script served from there, as from a CDN.
    server = await serveStatic({ page: PAGE, headers: () => ({ 'Access-Control-Allow-Origin': '*' }) });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.base}/`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  interface Loaded {
    bytes: number[];
    shape: number[];
    labels: number[] | null;
    numClasses?: number;
    files: string[];
    classes: string[] | null;
    skipped: { file: string; reason: string }[];
    root: string;
    decodedIn: string;
    origins: { x: number[]; y: number[]; image: number[] } | null;
  }
  interface Failed {
    error: string;
    message: string;
  }

  /** Runs loadImageFiles in the page on an input's files with these options (JSON). */
  const load = (input: string, options: Record<string, unknown>) =>
    page.evaluate(`(async () => {
      const cv = await import('/dist/index.js');
      try {
        const r = await cv.loadImageFiles(document.getElementById(${JSON.stringify(input)}).files, ${JSON.stringify(options)});
        return { bytes: Array.from(r.dataset.bytes), shape: r.dataset.shape, labels: r.dataset.labels && Array.from(r.dataset.labels),
          numClasses: r.dataset.numClasses, files: r.files, classes: r.classes, skipped: r.skipped, root: r.root, decodedIn: r.decodedIn,
          origins: r.patchOrigins ? { x: Array.from(r.patchOrigins.x), y: Array.from(r.patchOrigins.y), image: Array.from(r.patchOrigins.image) } : null };
      } catch (e) { return { error: e.name, message: e.message }; }
    })()`) as Promise<Loaded | Failed>;

  /** Per-file differences between the browser's bytes and sharp's for the same files. */
  function compare(b: Loaded, n: { files: string[]; dataset: { bytes: Uint8Array | null } }, size: number) {
    expect(b.files).toEqual(n.files);
    return b.files.map((f, k) => {
      let max = 0,
        sum = 0;
      for (let t = 0; t < size; t++) {
        const d = Math.abs(b.bytes[k * size + t] - n.dataset.bytes![k * size + t]);
        max = Math.max(max, d);
        sum += d;
      }
      return { file: f, max, mean: sum / size };
    });
  }

  it('a picked folder: class folders, sorted files, a corrupt file thrown or skipped, pixels as sharp decodes them', async () => {
    await page.setInputFiles('#pick', join(dir, 'pets'));
    const thrown = (await load('pick', { size: [32, 32] })) as Failed;
    expect(thrown.error).toBe('FormatError');
    expect(thrown.message).toMatch(/^pets\/(cat\/i-truncated|dog\/f-broken)\.png: cannot decode the image/);
    expect(thrown.message.length).toBeLessThan(500);

    for (const channels of [3, 1] as const) {
      const t0 = performance.now();
      const b = (await load('pick', { size: [32, 32], channels, onError: 'skip' })) as Loaded;
      const ms = performance.now() - t0;
      expect((b as unknown as Failed).message).toBeUndefined();
      expect(b.decodedIn).toBe('workers');
      expect(b.root).toBe('pets');
      expect(b.classes).toEqual(['bird', 'cat', 'dog']);
      expect(b.files).toEqual([
        'bird/g-tall.webp',
        'bird/h-exact.webp',
        'cat/a-rgb.png',
        'cat/b-grey.png',
        'dog/c-photo.jpg',
        'dog/e-alpha.png',
        'dog/sub/d-wide.png',
      ]);
      expect(b.labels).toEqual([0, 0, 1, 1, 2, 2, 2]);
      expect(b.numClasses).toBe(3);
      expect(b.skipped.map((s) => s.file)).toEqual(['cat/i-truncated.png', 'dog/f-broken.png']);
      expect(b.skipped[0].reason).toMatch(/the browser cannot decode it/); // refused by the decoder
      expect(b.skipped[1].reason).toMatch(/image header/); // refused before decoding
      expect(b.shape).toEqual([channels, 32, 32]);

      // The same files decoded by sharp in Node, same options.
      const n = await loadImageFolder(join(dir, 'pets'), { size: [32, 32], channels, onError: 'skip' });
      expect(n.classes).toEqual(b.classes);
      expect(Array.from(n.dataset.labels!)).toEqual(b.labels);
      const diffs = compare(b, n, channels * 32 * 32);
      console.log(
        `browser vs sharp, ${channels} channel(s), ${b.files.length} files in ${ms.toFixed(0)} ms: ` +
          diffs.map((d) => `${d.file} max ${d.max} mean ${d.mean.toFixed(2)}`).join('; '),
      );
      const by = Object.fromEntries(diffs.map((d) => [d.file, d]));
      // No resampling: equal (lossless), within the IDCTs' difference (JPEG), within compositing rounding (alpha).
      for (const f of ['cat/a-rgb.png', 'cat/b-grey.png', 'bird/h-exact.webp']) expect(by[f].max, f).toBe(0);
      expect(by['dog/c-photo.jpg'].max).toBeLessThanOrEqual(JPEG_TOL);
      expect(by['dog/e-alpha.png'].max).toBeLessThanOrEqual(1);
      // Resized (80×48 and 40×52 → 32×32): a different filter, the same picture.
      for (const f of ['dog/sub/d-wide.png', 'bird/g-tall.webp']) expect(by[f].mean, f).toBeLessThan(RESIZED_MEAN);
    }
    expect(errors).toEqual([]);
  }, 60_000);

  it('the main-thread path (workers: 0) gives the same bytes; loose files are unlabelled; a limit; bad options', async () => {
    await page.setInputFiles('#pick', join(dir, 'pets'));
    const w = (await load('pick', { size: [20, 24], onError: 'skip', background: 'white' })) as Loaded;
    const m = (await load('pick', { size: [20, 24], onError: 'skip', background: 'white', workers: 0 })) as Loaded;
    expect(w.decodedIn).toBe('workers');
    expect(m.decodedIn).toBe('main thread');
    expect(m.bytes).toEqual(w.bytes);
    expect(m.shape).toEqual([3, 20, 24]);

    await page.setInputFiles(
      '#files',
      [0, 1, 2].map((i) => join(dir, `loose/${i}.png`)),
    );
    const loose = (await load('files', { size: [16, 16], channels: 1 })) as Loaded;
    expect(loose.root).toBe('');
    expect(loose.classes).toBeNull();
    expect(loose.labels).toBeNull();
    expect(loose.files).toEqual(['0.png', '1.png', '2.png']);
    const n = await loadImageFolder(join(dir, 'loose'), { size: [16, 16], channels: 1 });
    const diffs = compare(loose, n, 256);
    expect(diffs[0].max).toBe(0); // 16×16: no resampling
    expect(((await load('files', { limit: 2 })) as Loaded).files).toEqual(['0.png', '1.png']);
    expect(await load('files', { labels: 'folders' })).toMatchObject({ error: 'DataError', message: /top level/ });
    expect(await load('files', { size: [0, 3] })).toMatchObject({ error: 'ArgumentError' });
    expect(await load('files', { channels: 2 })).toMatchObject({ error: 'ArgumentError', message: /channels/ });
    expect(await load('files', { workers: -1 })).toMatchObject({ error: 'ArgumentError', message: /workers/ });
    // More bytes than MAX_DATASET_BYTES (100 images of 4096×4096×3 > 4 GiB) is refused before anything is decoded.
    const big = (await page.evaluate(`(async () => {
      const cv = await import('/dist/index.js');
      const file = document.getElementById('files').files[0];
      const list = Array.from({ length: 100 }, (_, i) => ({ path: i + '.png', file }));
      try { await cv.loadImageFiles(list, { size: [4096, 4096], channels: 3 }); return null; }
      catch (e) { return { error: e.name, message: e.message }; }
    })()`)) as Failed;
    expect(big).toMatchObject({ error: 'ArgumentError', message: /more than the limit/ });
    expect(errors).toEqual([]);
  }, 60_000);

  it("patches: sharp's places in Node, its pixels where nothing is resampled; too small skipped alike", async () => {
    await page.setInputFiles('#pick', join(dir, 'pets'));
    const opts = { size: [12, 10] as [number, number], onError: 'skip' as const, patches: { perImage: 6, seed: 9 } };
    const b = (await load('pick', opts)) as Loaded;
    expect((b as unknown as Failed).message).toBeUndefined();
    expect(b.decodedIn).toBe('workers');
    const n = await loadImageFolder(join(dir, 'pets'), opts);
    expect(b.shape).toEqual([3, 12, 10]);
    expect(b.labels).toEqual(Array.from(n.dataset.labels!));
    expect(b.origins).toEqual({
      x: Array.from(n.patchOrigins!.x),
      y: Array.from(n.patchOrigins!.y),
      image: Array.from(n.patchOrigins!.image),
    });
    expect(b.skipped.map((s) => s.file)).toEqual(n.skipped.map((s) => s.file));
    const worst = new Map<string, number>();
    for (const d of compare(b, n, 3 * 12 * 10)) worst.set(d.file, Math.max(worst.get(d.file) ?? 0, d.max));
    expect(worst.size).toBe(7);
    // Decoded at their own size, not resampled: as the whole-image test's files of the target size.
    for (const f of ['cat/a-rgb.png', 'cat/b-grey.png', 'bird/h-exact.webp', 'bird/g-tall.webp', 'dog/sub/d-wide.png'])
      expect(worst.get(f), f).toBe(0);
    expect(worst.get('dog/c-photo.jpg')).toBeLessThanOrEqual(JPEG_TOL);
    expect(worst.get('dog/e-alpha.png')).toBeLessThanOrEqual(1);
    // The main thread cuts the same patches.
    expect(((await load('pick', { ...opts, workers: 0 })) as Loaded).bytes).toEqual(b.bytes);

    // Scaled by 0.5: the 32×32 files become 16×16, smaller than 20×20 patches, and are skipped with the reason; the
    // others take the same places (their scaled sizes agree) and differ by the resampling filter only.
    const half = { size: [20, 20] as [number, number], onError: 'skip' as const, patches: { perImage: 4, scale: 0.5 } };
    const bh = (await load('pick', half)) as Loaded;
    const nh = await loadImageFolder(join(dir, 'pets'), half);
    expect(bh.files).toEqual(nh.files);
    expect([...new Set(bh.files)]).toEqual(['bird/g-tall.webp', 'dog/sub/d-wide.png']);
    expect(bh.origins).toEqual({
      x: Array.from(nh.patchOrigins!.x),
      y: Array.from(nh.patchOrigins!.y),
      image: Array.from(nh.patchOrigins!.image),
    });
    expect(bh.skipped.filter((s) => /smaller than a patch of 20×20/.test(s.reason)).map((s) => s.file)).toEqual(
      nh.skipped.filter((s) => /smaller than a patch/.test(s.reason)).map((s) => s.file),
    );
    expect(bh.skipped.length).toBe(7);
    for (const d of compare(bh, nh, 3 * 20 * 20)) expect(d.mean, d.file).toBeLessThan(RESIZED_MEAN);
    expect(errors).toEqual([]);
  }, 60_000);

  it('a missing decoding worker script is a DataError that says what to do', async () => {
    await page.setInputFiles('#files', [join(dir, 'loose/0.png')]);
    const r = (await load('files', { workerUrl: '/dist/no-such-worker.js' })) as Failed;
    expect(r.error).toBe('DataError');
    expect(r.message).toMatch(/decoding worker/);
  }, 30_000);

  it('a decoding worker script on another origin (a CDN, Next.js assetPrefix) starts through a same-origin blob: module', async () => {
    // The page is on 127.0.0.1; a Worker of a localhost script is refused by the browser (SecurityError).
    const other = server.base.replace('127.0.0.1', 'localhost');
    await page.setInputFiles(
      '#files',
      [0, 1, 2].map((i) => join(dir, `loose/${i}.png`)),
    );
    const here = (await load('files', { size: [16, 16] })) as Loaded;
    const there = (await load('files', { size: [16, 16], workerUrl: `${other}/dist/decode-worker.js` })) as Loaded;
    expect((there as unknown as Failed).message).toBeUndefined();
    expect(there.decodedIn).toBe('workers');
    expect(there.files).toEqual(here.files);
    expect(there.bytes).toEqual(here.bytes);
    expect(errors).toEqual([]);
  }, 30_000);

  it("damaged files (the fuzz suite's kinds): each decoded or skipped with a reason, the unreadable always skipped; thrown as a FormatError", async () => {
    const g = new Gen(41);
    const formats: Format[] = ['png', 'jpeg', 'webp'];
    const want = new Map<string, string>();
    mkdirSync(join(dir, 'damaged'), { recursive: true });
    const names: string[] = [];
    for (let i = 0; i < 6 * DAMAGE_KINDS; i++) {
      const format = formats[i % 3];
      const d = await damagedImage(g, format, i % DAMAGE_KINDS);
      const name = `${String(i).padStart(2, '0')}.${format === 'jpeg' ? 'jpg' : format}`;
      writeFileSync(join(dir, 'damaged', name), d.bytes);
      want.set(name, `${d.exp}: ${d.label}`);
      names.push(join(dir, 'damaged', name));
    }
    await page.setInputFiles('#files', names);
    const b = (await load('files', { size: [8, 8], onError: 'skip' })) as Loaded;
    expect((b as unknown as Failed).message).toBeUndefined();
    expect(b.files.length + b.skipped.length).toBe(names.length);
    expect(b.bytes.length).toBe(b.files.length * 3 * 64);
    for (const f of b.files) expect(want.get(f), f).not.toMatch(/^invalid/);
    for (const s of b.skipped) {
      expect(want.get(s.file), s.file).not.toMatch(/^valid/);
      expect(s.reason.length).toBeLessThan(500);
    }
    const skipped = new Set(b.skipped.map((s) => s.file));
    for (const [f, w] of want) if (w.startsWith('invalid')) expect(skipped.has(f), `${f} ${w}`).toBe(true);
    console.log(
      `damaged files in Chromium: ${b.files.length} decoded, ${b.skipped.length} skipped; ` +
        b.skipped
          .slice(0, 8)
          .map((s) => `${s.file} (${want.get(s.file)}): ${s.reason}`)
          .join('; '),
    );
    const thrown = (await load('files', { size: [8, 8] })) as Failed;
    expect(thrown.error).toBe('FormatError');
    expect(skipped.has(thrown.message.split(':')[0])).toBe(true);
    expect(thrown.message.length).toBeLessThan(1000);
    expect(errors).toEqual([]);
  }, 60_000);

  it('ImageBitmaps of canvases (loadImageSources): exact pixels, labels kept', async () => {
    const r = (await page.evaluate(`(async () => {
      const cv = await import('/dist/index.js');
      // Two 6×4 canvases: left half one colour, right half another.
      const colours = [[[250, 10, 20], [0, 128, 255]], [[30, 200, 60], [255, 255, 0]]];
      const bitmaps = [];
      for (const [a, b] of colours) {
        const c = new OffscreenCanvas(6, 4), g = c.getContext('2d');
        g.fillStyle = 'rgb(' + a + ')'; g.fillRect(0, 0, 3, 4);
        g.fillStyle = 'rgb(' + b + ')'; g.fillRect(3, 0, 3, 4);
        bitmaps.push(await createImageBitmap(c));
      }
      const r = await cv.loadImageSources(bitmaps, { size: [4, 6], channels: 3, labels: [1, 0] });
      return { bytes: Array.from(r.dataset.bytes), labels: Array.from(r.dataset.labels), decodedIn: r.decodedIn };
    })()`)) as { bytes: number[]; labels: number[]; decodedIn: string };
    expect(r.decodedIn).toBe('workers');
    expect(r.labels).toEqual([1, 0]);
    const expected: number[] = [];
    for (const [a, b] of [
      [
        [250, 10, 20],
        [0, 128, 255],
      ],
      [
        [30, 200, 60],
        [255, 255, 0],
      ],
    ])
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 4; y++) for (let x = 0; x < 6; x++) expected.push((x < 3 ? a : b)[c]);
    expect(r.bytes).toEqual(expected);
  }, 30_000);

  it('frames of a recorded WebM video (loadVideoFrames): the colours painted, in the order of the times asked', async () => {
    const r = (await page.evaluate(`(async () => {
      const cv = await import('/dist/index.js');
      // Record 5 solid colours, 400 ms each, from a canvas: a real VP8/VP9 WebM made by the browser itself.
      const STRETCH = 400;
      const colours = [[220, 30, 30], [30, 200, 40], [40, 60, 220], [240, 240, 240], [20, 20, 20]];
      const c = document.createElement('canvas'); c.width = 64; c.height = 48;
      const g = c.getContext('2d');
      const paint = (k) => { g.fillStyle = 'rgb(' + colours[k] + ')'; g.fillRect(0, 0, 64, 48); };
      paint(0);
      const rec = new MediaRecorder(c.captureStream(30), { mimeType: 'video/webm' });
      const chunks = [];
      rec.ondataavailable = (e) => chunks.push(e.data);
      const stopped = new Promise((ok) => (rec.onstop = ok));
      const started = new Promise((ok) => (rec.onstart = ok));
      rec.start();
      await started;
      for (let k = 0; k < colours.length; k++) {
        // Repaint every frame so the stream keeps sending frames.
        const until = performance.now() + STRETCH;
        while (performance.now() < until) { paint(k); await new Promise((ok) => requestAnimationFrame(ok)); }
      }
      rec.stop();
      await stopped;
      const blob = new Blob(chunks, { type: 'video/webm' });
      const video = document.createElement('video');
      video.muted = true;
      video.src = URL.createObjectURL(blob);
      await new Promise((ok, fail) => { video.onloadedmetadata = ok; video.onerror = () => fail(new Error('video error')); });
      // A recorded WebM has no duration in its header: reading to the end gives it.
      if (!Number.isFinite(video.duration)) {
        const known = new Promise((ok) => (video.ondurationchange = () => Number.isFinite(video.duration) && ok()));
        video.currentTime = 1e6;
        await known;
      }
      // 40 times spread over the whole video, asked latest first: the recorder's timeline need not
      // follow the page's clock (a loaded machine delays frames), so the test finds each colour's
      // stretch in the video itself rather than predicting where it starts.
      const N = 40;
      const times = Array.from({ length: N }, (_, i) => ((N - 1 - i + 0.5) * video.duration) / N);
      const r = await cv.loadVideoFrames(video, times, { size: [12, 16], channels: 3 });
      return { bytes: Array.from(r.dataset.bytes), shape: r.dataset.shape, n: N, duration: video.duration, size: blob.size, decodedIn: r.decodedIn };
    })()`)) as { bytes: number[]; shape: number[]; n: number; duration: number; size: number; decodedIn: string };
    expect(r.shape).toEqual([3, 12, 16]);
    expect(r.decodedIn).toBe('workers');
    const colours = [
      [220, 30, 30],
      [30, 200, 40],
      [40, 60, 220],
      [240, 240, 240],
      [20, 20, 20],
    ];
    const plane = 12 * 16;
    // Frames were asked latest first: reversed, they are in time order (if the loader kept the order asked).
    const means = Array.from({ length: r.n }, (_, k) =>
      [0, 1, 2].map((c) => {
        let s = 0;
        for (let p = 0; p < plane; p++) s += r.bytes[k * 3 * plane + c * plane + p];
        return s / plane;
      }),
    ).reverse();
    // A lossy codec in 4:2:0 YUV: a frame showing one colour has its mean within 12 of what was painted;
    // frames between two colours (an encoder's transition) match none.
    const clean = means.map((m) => colours.findIndex((col) => m.every((v, c) => Math.abs(v - col[c]) < 12)));
    /** The colours in the order they appear, each stretch once. */
    const seen: number[] = [];
    for (const k of clean) if (k >= 0 && k !== seen[seen.length - 1]) seen.push(k);
    console.log(
      `video: ${r.size} bytes of WebM, ${r.duration.toFixed(2)} s; colour index per frame in time order ${clean.join(' ')}`,
    );
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(clean.filter((k) => k >= 0).length).toBeGreaterThanOrEqual(0.6 * r.n);
  }, 60_000);
});
