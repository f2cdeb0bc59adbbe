/**
 * W4 (the CNN's inference, batch 256) in headless Chromium, where TensorFlow.js
 * wasm and ONNX Runtime Web can run 2 threads (not in Node: see bench/RESULTS.md):
 *   npm run bench:browser [-- --quick] [--only=convae,convae-workers,tfjs-wasm,ort]
 * Bundles bench/browser/page.ts with esbuild, serves it cross-origin isolated
 * (COOP/COEP, so SharedArrayBuffer and wasm threads work) beside the built
 * package, opens one fresh page per configuration, and writes
 * bench/results/browser.md (quick: bench/results/browser-quick.md).
 *
 * TensorFlow.js wasm sizes its XNNPACK thread pool from
 * navigator.hardwareConcurrency / 2 (for hyper-threaded x86), so on this
 * 2-core machine it runs 1 thread whatever setThreadsCount asks; the row
 * "hardwareConcurrency shown as 4" overrides that property in the page before
 * the backend starts, the shim that lets it run the 2 threads asked for.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { build } from 'esbuild';
import { PACKAGE_PAGE, PACKAGE_PREFIXES, ROOT, launchChromium, serveStatic } from '../test/util/browser.js';
import type { PageConfig, PageResult } from './browser/page.js';
import { median } from './timing.js';

const quick = process.argv.includes('--quick');
const OUT = 'node_modules/.cache/convae-bench/';
await build({
  entryPoints: [`${ROOT}bench/browser/page.ts`],
  outfile: `${ROOT}${OUT}page.js`,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  external: ['/dist/index.js'],
  logLevel: 'warning',
});
// The browser tests' page (its import map resolves the package's dependencies), with the bench's script.
const page = PACKAGE_PAGE.replace('</head>', `<script type="module" src="/${OUT}page.js"></script>\n</head>`);
const server = await serveStatic({
  page,
  prefixes: [
    ...PACKAGE_PREFIXES,
    '/node_modules/@tensorflow/tfjs-backend-wasm/dist/',
    '/node_modules/onnxruntime-web/dist/',
    `/${OUT}`,
  ],
  headers: () => ({ 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }),
});
const browser = await launchChromium();

const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const configs: PageConfig[] = (<PageConfig[]>[
  { lib: 'convae', threads: 1, quick },
  { lib: 'convae-workers', threads: 2, quick },
  { lib: 'tfjs-wasm', threads: 1, quick },
  { lib: 'tfjs-wasm', threads: 2, quick },
  { lib: 'tfjs-wasm', threads: 2, quick, reportCores: 4 },
  { lib: 'ort', threads: 1, quick },
  { lib: 'ort', threads: 2, quick },
]).filter((c) => !only || only.includes(c.lib));
type Row = { config: PageConfig; result?: PageResult; error?: string };
const rows: Row[] = [];
let version = '';
for (const config of configs) {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(e.message));
  if (process.env.DEBUG_BENCH) {
    p.on('request', (r) => process.stderr.write(`  ${r.url()}\n`));
    p.on('console', (m) => process.stderr.write(`  console: ${m.text()}\n`));
  }
  try {
    await p.goto(server.base);
    await p.waitForFunction('window.benchReady === true', null, { timeout: 30_000 });
    const result = (await p.evaluate(
      (c) => (window as unknown as { runBench(c: PageConfig): Promise<PageResult> }).runBench(c),
      config,
    )) as PageResult;
    rows.push({ config, result });
  } catch (e) {
    rows.push({ config, error: [(e as Error).message.split('\n')[0], ...errors].join('; ').slice(0, 300) });
  }
  version ||= await p.evaluate(() => navigator.userAgent).catch(() => '');
  process.stderr.write(`${config.lib} ${config.threads}: ${rows.at(-1)!.error ?? 'done'}\n`);
  await ctx.close();
}
await browser.close();
await server.close();

// The reference for "×" and for the logits check: convae on the page's thread (1) and on 2 workers (2).
const convae1 = rows.find((r) => r.config.lib === 'convae')?.result;
const convaeN = rows.find((r) => r.config.lib === 'convae-workers')?.result;
const ref = convae1?.logits;
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toPrecision(3));
const stat = (v: number[]) => `${fmt(median(v))} (${fmt(Math.min(...v))}–${fmt(Math.max(...v))})`;
const lines = [
  '| library | threads | images/s median (min–max) | convae at the same thread count ÷ this | max |Δ logits| vs convae |',
  '|---|---|---|---|---|',
];
for (const { config, result, error } of rows) {
  if (!result) {
    lines.push(`| ${config.lib} | ${config.threads} | failed: ${error} | — | — |`);
    continue;
  }
  for (const [k, v] of Object.entries(result.rates)) {
    const threads = Number(k);
    const ours = threads === 1 ? convae1?.rates['1'] : convaeN?.rates[String(threads)];
    const isOurs = config.lib.startsWith('convae');
    const ratio = !isOurs && ours ? `**${(median(ours) / median(v)).toFixed(2)}×**` : '—';
    const running =
      result.threadsRunning !== undefined && result.threadsRunning !== threads
        ? ` (runs ${result.threadsRunning})`
        : '';
    const diff = ref && !isOurs ? Math.max(...result.logits.map((y, i) => Math.abs(y - ref[i]))).toExponential(2) : '—';
    const name =
      config.lib === 'convae-workers' ? `${result.label}, ${threads} worker${threads > 1 ? 's' : ''}` : result.label;
    lines.push(`| ${name} | ${threads}${running} | ${stat(v)} | ${ratio} | ${diff} |`);
  }
}
const cpu = os.cpus()[0]?.model ?? 'cpu';
const md = [
  `# W4 in Chromium: convae vs TensorFlow.js wasm and ONNX Runtime Web${quick ? ' (quick run)' : ''}`,
  '',
  `- Date: ${new Date().toISOString()}; command: \`npm run bench:browser${quick ? ' -- --quick' : ''}\``,
  `- Machine: ${cpu}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; load average at the end ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')}`,
  `- Browser: ${version}`,
  '- W4: the CNN of `npm run bench` (conv 20 5×5 + tanh + pool 2 → conv 50 5×5 + tanh + pool 2 → dense 500 relu → dense 10), logits of a batch of 256, same weights and inputs in every library (bench/workloads/spec.ts).',
  '- Each configuration runs in a fresh page of a cross-origin isolated origin (COOP/COEP), one after another; samples are single inference calls after a warm-up (convae workers: `Trainer.predict` over 2 048 images, 1 and 2 workers in turns).',
  '',
  ...lines,
  '',
];
console.log(md.join('\n'));
mkdirSync(`${ROOT}bench/results`, { recursive: true });
const file = `${ROOT}bench/results/browser${quick ? '-quick' : ''}.md`;
writeFileSync(file, md.join('\n'));
console.log(`wrote ${file}`);
if (rows.some((r) => r.error)) process.exitCode = 1;
