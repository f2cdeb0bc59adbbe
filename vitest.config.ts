import { existsSync, readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// The kernel and model suites run once per build: one realm runs one wasm
// build (the wasm-bindgen glue keeps one instance), so each build is its own
// project. Node 20 runs relaxed SIMD only behind a V8 flag, passed to the
// forked workers. Suites that do not depend on the build (references, data
// readers, file formats, pictures, CLI, package, browser) run in the simd
// project only. The native project (the Node-API addon) also runs the Trainer
// suite and test/native/ (the addon against the wasm export layer).
const perBuild = [
  'test/kernels/**/*.test.ts',
  'test/model/**/*.test.ts',
  'test/shape.test.ts',
  'test/memory.test.ts',
  'test/errors.test.ts',
];
const build = (
  name: 'native' | 'relaxed' | 'simd' | 'scalar',
  include: string[],
  execArgv: string[] = [],
  exclude: string[] = [],
) => ({
  extends: true as const,
  test: { name, include, exclude: ['**/node_modules/**', ...exclude], env: { CONVAE_BUILD: name }, execArgv },
});

// The native project runs where `npm run build:native` built the addon (always in CI, where a missing addon fails).
const nativeBuilt =
  process.env.CI === 'true' ||
  (existsSync('npm') && readdirSync('npm').some((p) => existsSync(`npm/${p}/convae.${p}.node`)));
if (!nativeBuilt) console.warn('vitest: no native addon built (npm run build:native): the native project is skipped');

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    projects: [
      build('simd', ['test/**/*.test.ts'], [], ['test/native/**']),
      build('scalar', perBuild),
      build('relaxed', perBuild, ['--experimental-wasm-relaxed-simd']),
      ...(nativeBuilt
        ? [
            build('native', [
              ...perBuild,
              'test/worker/trainer.test.ts',
              'test/worker/passes.test.ts',
              'test/native/**/*.test.ts',
            ]),
          ]
        : []),
    ],
  },
});
