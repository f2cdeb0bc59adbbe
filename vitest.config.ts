import { defineConfig } from 'vitest/config';

// The whole suite runs once per wasm build: one realm runs one build (the
// wasm-bindgen glue keeps one instance), so each build is its own project.
// Node 20 runs relaxed SIMD only behind a V8 flag, passed to the forked workers.
const build = (name: 'relaxed' | 'simd' | 'scalar', execArgv: string[] = []) => ({
  extends: true as const,
  test: { name, env: { CONVAE_BUILD: name }, execArgv },
});

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    projects: [build('simd'), build('scalar'), build('relaxed', ['--experimental-wasm-relaxed-simd'])],
  },
});
