/**
 * Turns the runners' results into the comparison table, the W4 agreement check
 * and the issue-5 target checks, as markdown (printed and written to
 * bench/RESULTS.md by compare.ts).
 */
import os from 'node:os';
import { FLOPS, FLOP_CONVENTION } from './flops.js';
import { median } from './timing.js';
import {
  DESCRIPTIONS,
  WORKLOAD_IDS,
  type RunnerResult,
  type WorkloadId,
  type WorkloadResult,
} from './workloads/spec.js';

export interface Run {
  label: string;
  script: string;
  args: string[];
  /** The interpreter (default: this Node with its flags). */
  command?: string;
  env?: NodeJS.ProcessEnv;
  results?: RunnerResult[];
  error?: string;
}

/**
 * Runs repeated in rounds (same label) become one run: each configuration's
 * samples pooled over the rounds, workload by workload (rows only some rounds
 * have, e.g. convae's Trainer rows, are kept as they are); a failed round's
 * error is kept.
 */
export function mergeRounds(runs: Run[]): Run[] {
  const out: Run[] = [];
  for (const r of runs) {
    const first = out.find((o) => o.label === r.label);
    if (!first) {
      out.push({ ...r, results: r.results?.map((c) => ({ ...c, rows: c.rows.map((w) => ({ ...w })) })) });
      continue;
    }
    first.error ??= r.error;
    for (const c of r.results ?? []) {
      const into = first.results?.find((f) => f.key === c.key);
      if (!into) {
        first.results = [...(first.results ?? []), c];
        continue;
      }
      for (const w of c.rows) {
        const i = into.rows.findIndex((x) => x.workload === w.workload);
        const had = into.rows[i];
        if (i < 0) into.rows.push(w);
        else if (had.status === 'ok' && w.status === 'ok')
          into.rows[i] = { ...had, imagesPerSecond: [...had.imagesPerSecond, ...w.imagesPerSecond] };
      }
    }
  }
  return out;
}

/** Native PyTorch (OpenBLAS, 1 thread of this CPU) training rates quoted by issue 5 — not measured by this benchmark. */
export const PYTORCH_QUOTED: Partial<Record<WorkloadId, number>> = { W1: 4200, W2: 2300, W3: 2600 };

type Ok = Extract<WorkloadResult, { status: 'ok' }>;
const fmtRate = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fmtRatio = (v: number) => `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}×`;

export function buildReport(
  runs: Run[],
  opts: {
    quick: boolean;
    seconds: number;
    load: number[];
    /** Load average when the run ended. */
    loadEnd?: number[];
    /** Rounds of convae and PyTorch alternating. */
    rounds?: number;
    /** Why PyTorch (or another optional peer) did not run. */
    skipped?: string[];
  },
): { text: string; markdown: string } {
  const configs = runs.flatMap((r) => r.results ?? []);
  const byKey = (key: string) => configs.find((c) => c.key === key);
  const find = (key: string, id: WorkloadId): Ok | undefined => {
    const row = byKey(key)?.rows.find((r) => r.workload === id);
    return row?.status === 'ok' ? row : undefined;
  };
  const convae1 = byKey('convae');
  const worker1 = byKey('convae-workers-1');
  const convaeN = configs
    .filter((c) => c.key.startsWith('convae-workers-') && c.threads > 1)
    .sort((a, b) => b.threads - a.threads)[0];
  /** convae's configuration to set against a peer running `threads` threads. */
  const oursFor = (threads: number) => (threads === 1 ? convae1 : convaeN?.threads === threads ? convaeN : undefined);
  const notes: string[] = [];
  const noteIndex = (text: string) => {
    let i = notes.indexOf(text);
    if (i < 0) i = notes.push(text) - 1;
    return `[${i + 1}]`;
  };

  const lines: string[] = [];
  lines.push(
    '| workload | library | configuration | batch | images/s median (min–max) | GFLOP/s | convae at the same thread count ÷ this |',
  );
  lines.push('|---|---|---|---|---|---|---|');
  for (const id of WORKLOAD_IDS) {
    for (const c of configs) {
      const row = c.rows.find((r) => r.workload === id);
      if (!row) continue;
      const name = c.key.startsWith('convae-workers-')
        ? `**convae ${c.threads} worker${c.threads > 1 ? 's' : ''}**`
        : c.library === 'convae'
          ? '**convae**'
          : c.library;
      if (row.status !== 'ok') {
        const what = row.status === 'skipped' ? row.reason : `unsupported ${noteIndex(row.reason)}`;
        lines.push(`| ${id} | ${name} | ${c.config} | — | ${what} | — | — |`);
        continue;
      }
      const m = median(row.imagesPerSecond);
      const gflops = (m * FLOPS[id]) / 1e9;
      let ratio = '—';
      if (c.library === 'convae' && c.key !== 'convae' && !c.key.startsWith('convae-workers-')) {
        // Another build on this thread (e.g. relaxed wasm beside native): the first build ÷ this.
        const one = find('convae', id);
        ratio = one ? `**${fmtRatio(median(one.imagesPerSecond) / m)}**` : '—';
      } else if (c.library === 'convae' && c.key !== 'convae') {
        const one = find('convae', id),
          w1 = find('convae-workers-1', id);
        const parts = [
          one && `${fmtRatio(m / median(one.imagesPerSecond))} this thread`,
          c !== worker1 && w1 && `${fmtRatio(m / median(w1.imagesPerSecond))} 1 worker`,
        ].filter(Boolean);
        ratio = parts.length ? `(${parts.join(', ')})` : '—';
      } else if (c.library !== 'convae') {
        const o = oursFor(c.threads)?.rows.find((r) => r.workload === id);
        ratio = o?.status === 'ok' ? `**${fmtRatio(median(o.imagesPerSecond) / m)}**` : 'n/a';
      }
      const batch = `${row.batch}${row.note ? ` ${noteIndex(row.note)}` : ''}`;
      lines.push(
        `| ${id} | ${name} | ${c.config} | ${batch} | ${fmtRate(m)} (${fmtRate(Math.min(...row.imagesPerSecond))}–${fmtRate(Math.max(...row.imagesPerSecond))}) | ${gflops.toFixed(gflops < 1 ? 3 : 1)} | ${ratio} |`,
      );
    }
  }
  for (const r of runs)
    if (r.error) lines.push(`| — | ${r.label} | failed: ${r.error.replace(/\|/g, '/')} | — | — | — | — |`);

  // W4: do the peers compute the same network? Max |Δ| of the logits against convae's, same weights and inputs.
  const agree: string[] = [];
  const ref = convae1?.rows.find((r) => r.workload === 'W4');
  if (ref?.status === 'ok' && ref.logits) {
    const scale = Math.max(...ref.logits.map(Math.abs));
    for (const c of configs) {
      if (c === convae1) continue;
      const row = c.rows.find((r) => r.workload === 'W4');
      if (row?.status !== 'ok' || !row.logits) continue;
      let d = 0;
      for (let i = 0; i < ref.logits.length; i++) d = Math.max(d, Math.abs(ref.logits[i] - row.logits[i]));
      agree.push(
        `- ${c.library} (${c.config}): max |Δ| = ${d.toExponential(2)} over ${row.logits.length} logits (largest |logit| ${scale.toFixed(3)})`,
      );
    }
  }

  // The first convae build (native where it loads) against the other builds measured in turns with it.
  const builds: string[] = [];
  for (const c of configs.filter(
    (c) => c.library === 'convae' && c.key.startsWith('convae-') && !c.key.startsWith('convae-workers-'),
  ))
    for (const id of WORKLOAD_IDS) {
      const a = find('convae', id),
        b = find(c.key, id);
      if (!a || !b) continue;
      const [ma, mb] = [median(a.imagesPerSecond), median(b.imagesPerSecond)];
      builds.push(
        `- ${id}: ${convae1!.config} ${fmtRate(ma)} images/s, ${c.config} ${fmtRate(mb)} — ${fmtRatio(ma / mb)}`,
      );
    }

  // Issue 5's targets.
  const targets: string[] = [];
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  for (const id of ['W1', 'W2', 'W3'] as const) {
    const ours = find('convae', id),
      tcpu = find('tfjs-cpu', id);
    if (!ours) continue;
    const m = median(ours.imagesPerSecond),
      pt = PYTORCH_QUOTED[id]!;
    const cpu = tcpu
      ? `; ${fmtRatio(m / median(tcpu.imagesPerSecond))} TensorFlow.js cpu${tcpu.batch !== ours.batch ? ` (its batch ${tcpu.batch})` : ''}`
      : '';
    targets.push(
      `- ${id} training, 1 thread: ${fmtRate(m)} images/s = ${fmtRatio(m / pt)} the native-PyTorch figure quoted in the issue (${pt}, not measured here) — ${verdict(m >= pt)}${cpu}`,
    );
    const n = convaeN ? find(convaeN.key, id) : undefined,
      w1 = find('convae-workers-1', id);
    if (n && w1) {
      const r = median(n.imagesPerSecond) / median(w1.imagesPerSecond);
      targets.push(
        `- ${id} training, ${convaeN!.threads} workers: ${fmtRate(median(n.imagesPerSecond))} images/s = ${fmtRatio(r)} the 1-worker figure ${fmtRate(median(w1.imagesPerSecond))} (target ≥ 1.8×) — ${verdict(r >= 1.8)}; ${fmtRatio(median(n.imagesPerSecond) / m)} this thread`,
      );
    } else
      targets.push(
        `- ${id} training, N workers: ${convaeN?.rows.find((r) => r.workload === id)?.status === 'skipped' ? 'pending (issue 4)' : 'not measured'}`,
      );
  }
  const w4 = find('convae', 'W4');
  if (w4) {
    const m = median(w4.imagesPerSecond);
    for (const [key, need, label] of [
      ['ort-1', 1.2, 'ONNX Runtime Web'],
      ['tfjs-wasm-1', 1.5, 'TensorFlow.js wasm'],
    ] as const) {
      const p = find(key, 'W4');
      if (!p) targets.push(`- W4, 1 thread vs ${label}: it did not run (see the table)`);
      else {
        const r = m / median(p.imagesPerSecond);
        targets.push(
          `- W4, 1 thread: convae ${fmtRate(m)} images/s = ${fmtRatio(r)} ${label} ${fmtRate(median(p.imagesPerSecond))} (target ≥ ${need}×) — ${verdict(r >= need)}`,
        );
      }
    }
    const n = convaeN ? find(convaeN.key, 'W4') : undefined;
    for (const [key, label] of [
      ['ort-2', 'ONNX Runtime Web'],
      ['tfjs-wasm-2', 'TensorFlow.js wasm'],
    ] as const) {
      const p = find(key, 'W4');
      if (!n)
        targets.push(`- W4, 2 threads vs ${label}: convae N workers ${convaeN ? 'not measured' : 'pending (issue 4)'}`);
      else if (!p) targets.push(`- W4, 2 threads vs ${label}: ${label} cannot run 2 threads here (see the table)`);
      else {
        const r = median(n.imagesPerSecond) / median(p.imagesPerSecond);
        targets.push(
          `- W4, 2 threads: convae ${convaeN!.threads} workers ${fmtRate(median(n.imagesPerSecond))} images/s = ${fmtRatio(r)} ${label} 2 threads ${fmtRate(median(p.imagesPerSecond))} (target > 1×) — ${verdict(r > 1)}`,
        );
      }
    }
  }

  // Issue 15's targets: convae against the faster PyTorch at 1 thread (≥ 1.5×), and against PyTorch 2.x at 2 threads (≥ 1.3×).
  const torch = configs.filter((c) => c.library.startsWith('PyTorch'));
  const torch15: string[] = [];
  if (torch.length) {
    for (const id of WORKLOAD_IDS) {
      const ours = find('convae', id);
      const best = torch
        .filter((c) => c.threads === 1)
        .map((c) => ({ c, row: find(c.key, id) }))
        .filter((x) => x.row)
        .sort((a, b) => median(b.row!.imagesPerSecond) - median(a.row!.imagesPerSecond))[0];
      if (ours && best) {
        const r = median(ours.imagesPerSecond) / median(best.row!.imagesPerSecond);
        torch15.push(
          `- ${id}, 1 thread: convae ${fmtRate(median(ours.imagesPerSecond))} images/s = ${fmtRatio(r)} the faster PyTorch (${best.c.library} ${fmtRate(median(best.row!.imagesPerSecond))}) (target ≥ 1.5×) — ${verdict(r >= 1.5)}`,
        );
      }
      const t2 = torch.find((c) => c.threads === 2 && c.version.startsWith('2.'));
      const p2 = t2 && find(t2.key, id);
      const n = convaeN?.threads === 2 ? find(convaeN.key, id) : undefined;
      if (p2 && n) {
        const r = median(n.imagesPerSecond) / median(p2.imagesPerSecond);
        torch15.push(
          `- ${id}, 2 threads: convae 2 workers ${fmtRate(median(n.imagesPerSecond))} images/s = ${fmtRatio(r)} ${t2.library} at 2 threads ${fmtRate(median(p2.imagesPerSecond))} (target ≥ 1.3×) — ${verdict(r >= 1.3)}`,
        );
      }
    }
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const versions = [...new Set(configs.map((c) => `${c.library.replace(/ [\d.]+$/, '')} ${c.version}`))].join(', ');
  const md = [
    `# convae vs TensorFlow.js, ONNX Runtime Web${torch.length ? ' and PyTorch' : ''}${opts.quick ? ' (quick run: few samples, smaller TensorFlow.js cpu training batches)' : ''}`,
    '',
    `- Date: ${new Date().toISOString()}; command: \`npm run bench${opts.quick ? ' -- --quick' : ''}\` (${opts.seconds.toFixed(0)} s)`,
    `- Machine: ${cpu}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`,
    `- Versions: ${versions}`,
    `- Load average when the run started (1 / 5 / 15 min): ${opts.load.map((l) => l.toFixed(2)).join(' / ')}${opts.loadEnd ? `, when it ended: ${opts.loadEnd.map((l) => l.toFixed(2)).join(' / ')}` : ''} (other processes on this machine share its cores)`,
    ...(opts.skipped?.length ? [`- Not run: PyTorch — ${opts.skipped.join('; ')}`] : []),
    `- convae: ${convae1?.config ?? 'did not run'}${convaeN ? `; workers: ${convaeN.config}` : ''}`,
    '',
    '## Workloads (float32, NCHW inputs)',
    '',
    ...WORKLOAD_IDS.map((id) => `- **${id}**: ${DESCRIPTIONS[id]}`),
    '',
    '## Method',
    '',
    '- Each library configuration runs in its own Node process, one after another; every sample is one call (a training step or one inference batch) after a warm-up, reported as images/s: median (min–max) over the samples.',
    '- convae: the public model API (`StackedConvAutoencoder` / `ConvAutoencoder.trainStep`, `Classifier.trainStep` / `logits`, `Optimizer`); a training step is `zeroGrad` + `trainStep` + `optimizer.step` as `fit` does it, on this thread, on one fixed batch. "convae 1 worker / N workers" is `Trainer` (ts/worker): `Trainer.fit` epochs over a synthetic dataset (data-parallel; shuffling, feeding and the all-reduce included; the Trainer\'s own epoch timing, every epoch of a call but the first, which pays for the workers\' start-up) and `Trainer.predict` for W4 — so "1 worker" is the like-for-like base of the N-worker ratio. 1 and N workers are measured in alternation, round after round, so that the machine\'s drift (other tenants of its cores) touches both alike.',
    '- TensorFlow.js: `@tensorflow/tfjs` with the pure-JavaScript `cpu` backend, and `@tensorflow/tfjs-backend-wasm` (XNNPACK, SIMD); NHWC (inputs transposed and weights converted once, outside the timing); training through `optimizer.minimize`. It has no max-unpool: pool + unpool is `h ⊙ m`, `m = (h == upsample(maxPool(h)))` held constant (gradient `dy ⊙ m`), the same values as switches up to ties.',
    '- ONNX Runtime Web: `onnxruntime-web` wasm execution provider in Node (`ort.env.wasm.numThreads`), on an ONNX model of the W4 network written at run time by `exportOnnx` (ts/export/onnx.ts) from the same weights (bench/workloads/onnx.ts).',
    ...(torch.length
      ? [
          `- PyTorch: \`bench/workloads/torch.py\` in the Python named in the configuration, the same networks written with \`torch.nn.functional\` (tied decoder: \`conv_transpose2d\` with the encoder's weight tensor; \`max_pool2d(return_indices=True)\` + \`max_unpool2d\`), \`torch.optim.SGD\`, the same inputs and W4 weights (spec.ts's generator) and the same timing loop; \`torch.set_num_threads(1)\` and \`(2)\`. convae and PyTorch ran in ${opts.rounds ?? 1} round${(opts.rounds ?? 1) > 1 ? 's' : ''} alternating them; medians over the pooled samples.`,
        ]
      : []),
    `- GFLOP/s: ${FLOP_CONVENTION}`,
    '',
    '## Results',
    '',
    ...lines,
    '',
    ...notes.map((n, i) => `[${i + 1}] ${n}`).flatMap((l) => [l, '']),
    ...(builds.length ? ['## convae builds, one thread, measured in turns', '', ...builds, ''] : []),
    '## W4: same network, same numbers',
    '',
    "Logits of the same 256 inputs with the same weights, against convae's:",
    '',
    ...(agree.length ? agree : ['- (no peer produced W4 logits)']),
    '',
    '## Issue 5 targets',
    '',
    ...targets,
    '',
    ...(torch15.length
      ? ['## Issue 15 targets (convae against PyTorch, measured in this run)', '', ...torch15, '']
      : []),
  ].join('\n');
  return { text: md, markdown: md };
}
