/**
 * Where the native addon is missing or broken, `loadBackend()` falls back to
 * the best wasm build with exactly one notice line on stderr and never an
 * error; forcing `build: 'native'` there is a BackendError; CONVAE_NATIVE=0
 * turns native off silently. Each case runs in a fresh process (the addon is
 * loaded once per realm), pointed at a missing or broken binary by CONVAE_NATIVE.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const fixture = 'test/native/fixtures/load.ts';
const dir = mkdtempSync(join(tmpdir(), 'convae-native-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Out {
  build?: string;
  error?: { name: string; isBackendError: boolean; message: string };
  supported: string[];
}
function run(mode: 'auto' | 'native', native: string | undefined): { out: Out; stderr: string[] } {
  const env = { ...process.env };
  delete env.CONVAE_NATIVE;
  if (native !== undefined) env.CONVAE_NATIVE = native;
  // Node 20 without --experimental-wasm-relaxed-simd: the best wasm build is simd.
  const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, mode], { cwd: root, env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return { out: JSON.parse(r.stdout) as Out, stderr: r.stderr.split('\n').filter((l) => l.length > 0) };
}

describe('native fallback', () => {
  it('the addon present: auto is native, no notice', () => {
    const { out, stderr } = run('auto', undefined);
    expect(out.build).toBe('native');
    expect(out.supported).toEqual(['native', 'simd', 'scalar']);
    expect(stderr).toEqual([]);
  });

  it('the binary missing: auto falls back to wasm with exactly one notice line', () => {
    const { out, stderr } = run('auto', '/nonexistent/convae.linux-x64-gnu.node');
    expect(out.build).toBe('simd');
    expect(out.supported).toEqual(['simd', 'scalar']);
    expect(stderr).toEqual([
      'convae: native kernels unavailable (no native binary at /nonexistent/convae.linux-x64-gnu.node); using the simd wasm build',
    ]);
  });

  it('a binary that is no addon: the same single notice, with the loader’s reason', () => {
    const broken = join(dir, 'broken.node');
    writeFileSync(broken, 'not a shared object');
    const { out, stderr } = run('auto', broken);
    expect(out.build).toBe('simd');
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(/^convae: native kernels unavailable \(.*broken\.node.*\); using the simd wasm build$/);
    expect(stderr[0].length).toBeLessThan(300);
  });

  it('forcing native where it cannot load is a BackendError, not a notice', () => {
    const { out, stderr } = run('native', '/nonexistent/convae.node');
    expect(out.build).toBeUndefined();
    expect(out.error?.isBackendError).toBe(true);
    expect(out.error?.message).toBe(
      'convae: the native build cannot load: no native binary at /nonexistent/convae.node',
    );
    expect(stderr).toEqual([]);
  });

  it('CONVAE_NATIVE=0: wasm without a notice', () => {
    const { out, stderr } = run('auto', '0');
    expect(out.build).toBe('simd');
    expect(out.supported).toEqual(['simd', 'scalar']);
    expect(stderr).toEqual([]);
  });
});
