import { loadBackend, type Backend, type Build } from '../../ts/index.js';

/** The build this vitest project tests (see vitest.config.ts), loaded once per worker. */
export const BUILD = (process.env.CONVAE_BUILD ?? 'simd') as Build;

export function backendUnderTest(): Promise<Backend> {
  return loadBackend({ build: BUILD });
}
