/**
 * The TypeScript projects users install convae into, each checking the
 * package's declarations with `skipLibCheck: false`: a Node-only project has
 * no DOM lib, a browser-only one no @types/node, a CommonJS one resolves with
 * node10 (no `exports` map). Each compiles a small program that calls the
 * API its environment can use, DOM objects included where the DOM lib is.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './pack.js';

const sources = {
  'anywhere.ts': `import { canShareMemory, ImageDataset, loadBackend, Trainer, type LoadOptions } from 'convae';

export async function run(): Promise<number> {
  const be = await loadBackend();
  // What a worker is given: the compiled module, or the addon's file.
  const again: LoadOptions = be.module ? { build: be.build, module: be.module } : be.workerOptions;
  const data = ImageDataset.fromFloat32(new Float32Array(2 * 16), [1, 4, 4], [0, 1]);
  const trainer = await Trainer.create(be, { size: 1, workerUrl: 'worker.js' });
  await trainer.dispose();
  return data.length + (canShareMemory() ? 1 : 0) + Object.keys(again).length;
}
`,
  'node.ts': `import { loadBackend } from 'convae';
import { loadImageFolder, loadMnist, writePng } from 'convae/node';

export async function fromDisk(dir: string): Promise<number> {
  const be = await loadBackend({ build: 'native', addon: \`\${dir}/convae.node\` });
  const folder = await loadImageFolder(dir, { size: [28, 28], channels: 1 });
  const mnist = await loadMnist({ split: 'test', limit: 10 });
  await writePng(\`\${dir}/x.png\`, { width: 1, height: 1, data: new Uint8Array(4) });
  return be.threads + folder.dataset.length + mnist.length;
}
`,
  'dom.ts': `import { filesFromDrop, loadBackend, loadImageFiles, loadImageSources, loadVideoFrames } from 'convae';

export async function fromPage(drop: DragEvent, picked: HTMLInputElement, video: HTMLVideoElement): Promise<number> {
  const module: WebAssembly.Module = await WebAssembly.compileStreaming(fetch('convae-simd.wasm'));
  const be = await loadBackend({ build: 'simd', module });
  const compiled: WebAssembly.Module | undefined = be.module;
  const dropped = drop.dataTransfer ? await filesFromDrop(drop.dataTransfer) : [];
  const files = await loadImageFiles([...dropped, ...Array.from(picked.files ?? [])]);
  const frames = await loadVideoFrames(video, [0, 0.5]);
  const canvas = document.createElement('canvas');
  const sources = await loadImageSources([canvas, await createImageBitmap(canvas), video, new Blob([])]);
  return (compiled ? 1 : 0) + files.dataset.length + frames.dataset.length + sources.dataset.length;
}
`,
};

type Source = keyof typeof sources;
const node = { lib: ['ES2022'], types: ['node'] };
const nodeNext = { module: 'NodeNext', moduleResolution: 'NodeNext' };

/** Each project: its compiler options beyond the common ones, and the files it compiles. */
export const CONSUMER_PROJECTS: Record<string, { options: Record<string, unknown>; files: Source[] }> = {
  'Node-only': { options: { ...node, ...nodeNext }, files: ['anywhere.ts', 'node.ts'] },
  'browser-only': {
    options: { lib: ['ES2022', 'DOM'], types: [], module: 'ESNext', moduleResolution: 'Bundler' },
    files: ['anywhere.ts', 'dom.ts'],
  },
  'Node and DOM': {
    options: { lib: ['ES2022', 'DOM'], types: ['node'], ...nodeNext },
    files: ['anywhere.ts', 'node.ts', 'dom.ts'],
  },
  'CommonJS (node10)': {
    options: { ...node, module: 'CommonJS', moduleResolution: 'Node10' },
    files: ['anywhere.ts', 'node.ts'],
  },
  node16: { options: { ...node, module: 'Node16', moduleResolution: 'Node16' }, files: ['anywhere.ts', 'node.ts'] },
};

/**
 * Writes the sources and one tsconfig per project into `dir` (where convae is
 * installed) and runs tsc on each: its output by project, '' when clean.
 */
export function checkConsumerTypes(dir: string): Record<string, string> {
  for (const [file, text] of Object.entries(sources)) writeFileSync(join(dir, file), text);
  const out: Record<string, string> = {};
  for (const [name, { options, files }] of Object.entries(CONSUMER_PROJECTS)) {
    const config = join(dir, `tsconfig.${name.replace(/\W+/g, '-')}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        compilerOptions: {
          strict: true,
          // What `tsc --init` turns on beyond strict, as the README test checks.
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          noEmit: true,
          target: 'ES2022',
          typeRoots: [join(repoRoot, 'node_modules', '@types')],
          ...options,
        },
        files,
      }),
    );
    const tsc = spawnSync(
      process.execPath,
      [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config],
      { cwd: dir, encoding: 'utf8' },
    );
    out[name] = tsc.stdout + tsc.stderr;
  }
  return out;
}
