/**
 * The npm package as a user gets it: `npm pack` (which builds dist/ through
 * `prepack`), install the tarball into an empty project, import `convae` by
 * name from Node, and run a kernel. Checks the exports map, the files list,
 * that the wasm builds ship next to the compiled loader, and that the shipped
 * declarations type-check in the TypeScript projects users have.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD } from './util/backend.js';
import { checkConsumerTypes, CONSUMER_PROJECTS } from './util/consumer.js';
import { npm, npmInstall, type Packed, packAndInstall } from './util/pack.js';

const root = new URL('..', import.meta.url).pathname;

// Packing and installing once is enough: run it in one of the build projects only.
describe.runIf(BUILD === 'simd')('npm package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-pkg-'));
  let packed: Packed;
  beforeAll(() => {
    packed = packAndInstall(dir);
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('packs, installs and runs from a clean project', () => {
    const files = packed.files;
    for (const f of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/wasm/convae-simd.wasm',
      'dist/wasm/convae-relaxed.wasm',
      'dist/wasm/convae-scalar.wasm',
      'dist/wasm/convae_wasm.js',
      'dist/worker.js',
    ]) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith('crates/') || f.startsWith('test/'))).toBe(false);
    // No packed script points at a source map the package leaves out (a dev server reports each one).
    const tarball = packed.tarball;
    for (const f of files.filter((f) => f.endsWith('.js'))) {
      const text = execFileSync('tar', ['-xOzf', tarball, `package/${f}`], { encoding: 'utf8', maxBuffer: 1 << 28 });
      const map = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
      if (map && !map.startsWith('data:')) expect(files, `${f} → ${map}`).toContain(join(f, '..', map));
    }

    writeFileSync(
      join(dir, 'main.js'),
      `import { loadBackend, conv2d } from 'convae';
       const be = await loadBackend({ build: process.argv[2] });
       const x = be.fromArray([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
       const w = be.fromArray([1, 1, 2, 2], [1, 0, 0, -1]);
       const y = be.empty([1, 1, 2, 2]);
       conv2d(x, w, null, y);
       console.log(JSON.stringify({ build: be.build, y: Array.from(y.data), addon: be.workerOptions.addon }));`,
    );
    // The wasm builds as every platform gets them: CONVAE_NATIVE=0 leaves the packed addon (below) alone.
    const wasmOnly = { cwd: dir, encoding: 'utf8' as const, env: { ...process.env, CONVAE_NATIVE: '0' } };
    for (const build of ['auto', 'simd', 'scalar']) {
      const out = JSON.parse(execFileSync(process.execPath, ['main.js', build], wasmOnly));
      // y[i][j] = x[i][j] − x[i+1][j+1] = −4 everywhere.
      expect(out.y).toEqual([-4, -4, -4, -4]);
      expect(out.build).toBe(build === 'auto' ? 'simd' : build); // Node 20 without the flag: no relaxed SIMD
    }
    const relaxed = JSON.parse(
      execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', 'main.js', 'auto'], wasmOnly),
    );
    expect(relaxed.build).toBe('relaxed');
    expect(readdirSync(join(dir, 'node_modules', 'convae', 'dist', 'wasm')).length).toBeGreaterThanOrEqual(4);

    // Training in workers from the installed package: the bundled worker is found next to the modules, the relaxed build carries over.
    writeFileSync(
      join(dir, 'workers.js'),
      `import { loadBackend, Trainer, Classifier, ImageDataset } from 'convae';
       const be = await loadBackend();
       const n = 96, x = new Float32Array(n * 784).map((_, i) => ((i * 7919) % 255) / 255);
       const data = ImageDataset.fromFloat32(x, [1, 28, 28], new Uint8Array(n).map((_, i) => i % 10));
       const clf = Classifier.fromBlocks(be, [{ convs: [{ filters: 4, kernel: 5 }] }], [1, 28, 28], { hidden: [8], classes: 10 }, 1);
       const trainer = await Trainer.create(be, { size: 2 });
       const r = await trainer.fit(clf, data, { epochs: 2, batchSize: 32, optimizer: { type: 'sgd', lr: 0.05 }, workers: 2 });
       await trainer.dispose();
       console.log(JSON.stringify({ build: be.build, steps: r.history.steps, losses: r.history.epochs.map((e) => e.loss) }));`,
    );
    const w = JSON.parse(execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', 'workers.js'], wasmOnly));
    expect(w.build).toBe('relaxed');
    expect(w.steps).toBe(6);
    expect(w.losses.every(Number.isFinite)).toBe(true);

    // The addon `npm run build` (through prepack) built for this platform ships inside the package, and auto
    // loads it from there, also in the workers: same data, same seed, the losses of the relaxed wasm run.
    const platforms = readdirSync(join(root, 'npm')).filter((p) =>
      existsSync(join(root, 'npm', p, `convae.${p}.node`)),
    );
    if (platforms.length === 0 && process.env.CI !== 'true') return; // no cargo here: wasm only
    const addon = `npm/${platforms[0]}/convae.${platforms[0]}.node`;
    expect(files).toContain(addon);
    const inside = JSON.parse(execFileSync(process.execPath, ['main.js', 'auto'], { cwd: dir, encoding: 'utf8' }));
    expect(inside).toEqual({ build: 'native', y: [-4, -4, -4, -4], addon: join(dir, 'node_modules', 'convae', addon) });
    const iw = JSON.parse(execFileSync(process.execPath, ['workers.js'], { cwd: dir, encoding: 'utf8' }));
    expect(iw.build).toBe('native');
    iw.losses.forEach((l: number, i: number) => expect(Math.abs(l - w.losses[i])).toBeLessThan(1e-4));

    // The per-platform package (npm/<platform>/) installed beside it, as the registry would serve it: the
    // loader takes it by package name, ahead of the copy inside the package.
    const nativePacked = JSON.parse(
      npm(['pack', '--json', '--pack-destination', dir, `./npm/${platforms[0]}`], root),
    ) as {
      filename: string;
      files: { path: string }[];
    }[];
    expect(nativePacked[0].files.map((f) => f.path).sort()).toEqual(
      [`convae.${platforms[0]}.node`, 'package.json', 'README.md'].sort(),
    );
    npmInstall(dir, [join(dir, nativePacked[0].filename)]);
    const n = JSON.parse(execFileSync(process.execPath, ['main.js', 'auto'], { cwd: dir, encoding: 'utf8' }));
    expect(n).toEqual({
      build: 'native',
      y: [-4, -4, -4, -4],
      addon: join(dir, 'node_modules', '@convae', `native-${platforms[0]}`, `convae.${platforms[0]}.node`),
    });
    const nw = JSON.parse(execFileSync(process.execPath, ['workers.js'], { cwd: dir, encoding: 'utf8' }));
    expect(nw.build).toBe('native');
    expect(nw.steps).toBe(6);
    // Same data, same seed: the native run's losses agree with the relaxed wasm run's.
    nw.losses.forEach((l: number, i: number) => expect(Math.abs(l - w.losses[i])).toBeLessThan(1e-4));
  }, 240_000);

  // Declarations are checked in the user's project (skipLibCheck: false): they must need neither the DOM lib nor
  // @types/node, and a CommonJS project's node10 resolution must find convae/node's.
  it(`its declarations type-check in ${Object.keys(CONSUMER_PROJECTS).join(', ')} projects`, () => {
    const errors = checkConsumerTypes(dir);
    expect(errors).toEqual(Object.fromEntries(Object.keys(CONSUMER_PROJECTS).map((name) => [name, ''])));
  }, 120_000);
});
