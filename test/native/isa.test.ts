/**
 * The loader's reading of the addon's `build_isa()` codes
 * (convae_kernels::isa::Isa discriminants) and which ISAs `auto` takes.
 */
import { describe, expect, it } from 'vitest';
import { nativeDeclined, nativeIsa } from '../../ts/backend/loader.js';

describe('native ISA codes', () => {
  it('0 scalar, 3 AVX2 + FMA, 4 AVX-512F, 5 NEON; the wasm codes and unknown ones are no native ISA', () => {
    expect([0, 3, 4, 5].map(nativeIsa)).toEqual(['scalar', 'avx2', 'avx512', 'neon']);
    for (const bad of [1, 2, 6, -1, 0.5, Number.NaN, 2 ** 32]) expect(nativeIsa(bad), String(bad)).toBeUndefined();
    // Not read off the prototype chain.
    expect(nativeIsa('constructor' as unknown as number)).toBeUndefined();
  });

  it('auto takes avx512 and avx2; it declines neon (GEMM only so far) and scalar, saying why', () => {
    expect(nativeDeclined('avx512')).toBeUndefined();
    expect(nativeDeclined('avx2')).toBeUndefined();
    expect(nativeDeclined('neon')).toMatch(/only the GEMM has NEON kernels/);
    expect(nativeDeclined('scalar')).toMatch(/no AVX2 or AVX-512/);
  });
});
