import { defineConfig } from 'vitest/config';

// The kernel and model suites run once per wasm build: one realm runs one build
// (the wasm-bindgen glue keeps one instance), so each build is its own project.
// Node 20 runs relaxed SIMD only behind a V8 flag, passed to the forked workers.
// Suites that do not depend on the build (references, data readers, file
// formats, pictures, CLI, package, browser) run in the simd project only.
const perBuild = [
  'test/kernels/**/*.test.ts',
  'test/model/**/*.test.ts',
  'test/shape.test.ts',
  'test/memory.test.ts',
  'test/errors.test.ts',
];
const build = (name: 'relaxed' | 'simd' | 'scalar', include: string[], execArgv: string[] = []) => ({
  extends: true as const,
  test: { name, include, env: { CONVAE_BUILD: name }, execArgv },
});

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    projects: [
      build('simd', ['test/**/*.test.ts']),
      build('scalar', perBuild),
      build('relaxed', perBuild, ['--experimental-wasm-relaxed-simd']),
    ],
  },
});
