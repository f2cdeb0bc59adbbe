/**
 * Parallel training, two ways and both: images/s of the bench workloads
 * (bench/workloads: W1 the first CAE layer, W2 the second, W3 the CNN; SGD,
 * global batch 64) on this thread, on this thread with the native addon's
 * intra-op threads (`Backend.setThreads`), on data-parallel workers
 * (`Trainer`), and on workers that each use 2 threads:
 *   npm run bench:workers [-- --quick] [--build=native,relaxed] [--only=W2,W3] [--batch=64,128] [--messages] [--watch=MINUTES] [--markdown]
 * Each sample is one epoch of a fit call (the epoch time the leader reports,
 * every all-reduce included), every epoch of a 3-epoch call but the first; the
 * configurations take turns, round after round, so a drift of the machine's
 * speed touches them alike. CPU time per step is the process's (every thread:
 * workers, kernel helpers) over the same epochs: it does not depend on other
 * tenants of the cores, so it shows what each way of going parallel costs in
 * work even when the wall-clock rates are contended. `--messages` adds the
 * all-reduce used where SharedArrayBuffer is missing.
 *
 * A note for this machine kind: Linux schedules by session (autogroup), so
 * while another session's process runs, this one gets about one core's worth
 * of time however many threads it has; 2-thread scaling shows only on an
 * otherwise idle machine (the load average is printed at the start and end).
 * So every epoch is also marked quiet or not (other processes used < 5 % of
 * the cores during it, from /proc/stat) and the quiet epochs get their own
 * medians. `--watch=MINUTES` waits, before every sample, for the machine to
 * be quiet for 3 s and goes on round after round for that long (or until
 * every configuration has 12 quiet epochs): run it on a shared machine and
 * read the quiet columns.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import * as cv from '../ts/index.js';
import { W1_BLOCK, W2_BLOCK, W3_BLOCKS, W3_HEAD } from './workloads/convae-net.js';
import { INPUT_SHAPE, LR, inputs, type WorkloadId } from './workloads/spec.js';

const quick = process.argv.includes('--quick');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const only = (arg('only')?.split(',') ?? ['W1', 'W2', 'W3']) as Exclude<WorkloadId, 'W4'>[];
const batchSizes = (arg('batch') ?? '64').split(',').map(Number);
const messages = process.argv.includes('--messages');
const watchMinutes = Number(arg('watch') ?? 0);
const steps = quick ? 8 : 50,
  rounds = quick ? 1 : watchMinutes ? Number.POSITIVE_INFINITY : 5,
  epochs = 3,
  enoughQuiet = 12;

// The best build (native where it loads) and, beside native, the relaxed wasm build.
const backends: cv.Backend[] = [];
for (const name of (arg('build') ?? 'auto,relaxed').split(',')) {
  const be = await cv.loadBackend({ build: name as cv.Build | 'auto' });
  if (!backends.includes(be)) backends.push(be);
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function model(be: cv.Backend, id: Exclude<WorkloadId, 'W4'>): cv.Model {
  if (id === 'W1') return new cv.StackedConvAutoencoder(be, [W1_BLOCK], INPUT_SHAPE.W1, 1);
  if (id === 'W2') return new cv.StackedConvAutoencoder(be, [W2_BLOCK], INPUT_SHAPE.W2, 1);
  return cv.Classifier.fromBlocks(be, W3_BLOCKS, INPUT_SHAPE.W3, W3_HEAD, 1);
}

/** One way to train: where (this thread or n workers), kernel threads each, and the all-reduce. */
interface Config {
  label: string;
  workers: number;
  threads: number;
  allReduce?: 'shared' | 'messages';
}
function configs(be: cv.Backend): Config[] {
  const native = be.build === 'native';
  return [
    { label: 'this thread', workers: 0, threads: 1 },
    ...(native ? [{ label: 'this thread, 2 threads', workers: 0, threads: 2 }] : []),
    { label: '1 worker', workers: 1, threads: 1 },
    { label: '2 workers', workers: 2, threads: 1 },
    ...(native ? [{ label: '2 workers × 2 threads', workers: 2, threads: 2 }] : []),
    ...(messages
      ? [{ label: '2 workers, all-reduce by messages', workers: 2, threads: 1, allReduce: 'messages' as const }]
      : []),
  ];
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** Busy CPU ms of the whole machine (every core, every process) from /proc/stat; NaN where there is none. */
const machineBusyMs = () => {
  try {
    const f = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    return ((f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
};
/** An epoch counts as quiet when other processes used less than this share of the machine's cores during it. */
const QUIET = 0.05;
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
/** Waits until other processes have used < 3 % of the cores for 3 s (false: `deadline` came first). */
async function waitQuiet(deadline: number): Promise<boolean> {
  const cores = os.availableParallelism();
  let since = performance.now(),
    busy = machineBusyMs(),
    own = cpuMs();
  while (performance.now() < deadline) {
    await sleep(250);
    const [b, o, t] = [machineBusyMs(), cpuMs(), performance.now()];
    if ((b - busy - (o - own)) / ((t - since) * cores) >= 0.03) [since, busy, own] = [t, b, o];
    else if (t - since >= 3000) return true;
  }
  return false;
}

/** One fit call of 3 epochs: the rates of epochs 2 and 3, and the process CPU ms per step over them. */
async function sample(
  be: cv.Backend,
  trainers: Map<number, cv.Trainer>,
  c: Config,
  m: cv.Model,
  data: cv.ImageDataset,
  batchSize: number,
  seed: number,
): Promise<{ rates: number[]; quiet: boolean[]; cpuPerStep: number }> {
  const cpu: number[] = [],
    busy: number[] = [];
  const opts = {
    epochs,
    batchSize,
    seed,
    layer: 0,
    optimizer: { type: 'sgd' as const, lr: LR },
    // The CPU clock at each epoch's end (for workers: when the leader's event arrives, a few ms late on a 0.3 s epoch).
    onEpoch: () => {
      cpu.push(cpuMs());
      busy.push(machineBusyMs());
    },
  };
  let history: cv.History;
  if (c.workers === 0) {
    be.setThreads(c.threads);
    try {
      history = (await cv.threadRunner(be).fit(m, data, opts)).history;
    } finally {
      be.setThreads(1);
    }
  } else {
    const t = trainers.get(c.threads)!;
    history = (await t.fit(m, data, { ...opts, workers: c.workers, allReduce: c.allReduce })).history;
  }
  const stepsAfterFirst = (epochs - 1) * Math.ceil(data.length / batchSize);
  const cores = os.availableParallelism();
  return {
    rates: history.epochs.slice(1).map((e) => e.imagesPerSecond),
    // Other processes' CPU during the epoch: the machine's busy time minus this process's.
    quiet: history.epochs
      .slice(1)
      .map((e, i) => (busy[i + 1] - busy[i] - (cpu[i + 1] - cpu[i])) / (e.seconds * 1000 * cores) < QUIET),
    cpuPerStep: (cpu[cpu.length - 1] - cpu[0]) / stepsAfterFirst,
  };
}

console.log(
  `convae parallel training — ${os.cpus()[0]?.model ?? 'cpu'} (${os.availableParallelism()} cores), Node ${process.version}, ` +
    `builds ${backends.map((b) => `${b.build}${b.build === 'native' ? ` (${b.isa})` : ''}`).join(', ')}, ` +
    `${steps} steps per epoch, ${rounds} rounds; load average at start ${loadavg()}`,
);
const rows: string[] = [
  '| build | workload | global batch | configuration | images/s median (min–max) | × this thread | quiet epochs: images/s median (count) | × this thread | CPU ms per step | CPU × this thread |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (const be of backends) {
  const cs = configs(be);
  const trainers = new Map<number, cv.Trainer>();
  for (const threads of new Set(cs.filter((c) => c.workers > 0).map((c) => c.threads)))
    trainers.set(threads, await cv.Trainer.create(be, { size: 2, threads }));
  try {
    for (const batchSize of batchSizes)
      for (const id of only) {
        const { x, labels } = inputs(id, batchSize * steps);
        const data = cv.ImageDataset.fromFloat32(x, INPUT_SHAPE[id], Uint8Array.from(labels), 10);
        const m = model(be, id);
        const rates = new Map<string, number[]>(cs.map((c) => [c.label, []]));
        const cpu = new Map<string, number[]>(cs.map((c) => [c.label, []]));
        const quiet = new Map<string, number[]>(cs.map((c) => [c.label, []]));
        // Round 0 warms up every configuration (workers start, models load) and is not counted.
        const deadline =
          performance.now() + (watchMinutes * 60_000) / (backends.length * batchSizes.length * only.length);
        const done = () =>
          watchMinutes > 0 &&
          (performance.now() > deadline || cs.every((c) => quiet.get(c.label)!.length >= enoughQuiet));
        for (let r = 0; r <= rounds && !(r > 1 && done()); r++)
          for (const c of cs) {
            if (watchMinutes > 0 && r > 0 && !(await waitQuiet(deadline))) break;
            const s = await sample(be, trainers, c, m, data, batchSize, r);
            if (r === 0) continue;
            rates.get(c.label)!.push(...s.rates);
            quiet.get(c.label)!.push(...s.rates.filter((_, i) => s.quiet[i]));
            cpu.get(c.label)!.push(s.cpuPerStep);
          }
        if (watchMinutes > 0)
          console.error(`${id}: quiet epochs ${cs.map((c) => `${c.label} ${quiet.get(c.label)!.length}`).join(', ')}`);
        m.dispose();
        if (cs.some((c) => !rates.get(c.label)!.length)) {
          console.log(
            `| ${be.build} | ${id} | ${batchSize} | (no complete round: the machine was never quiet) | | | | | | |`,
          );
          continue;
        }
        const base = median(rates.get('this thread')!),
          baseCpu = median(cpu.get('this thread')!),
          quietBase = quiet.get('this thread')!;
        for (const c of cs) {
          const v = rates.get(c.label)!,
            q = quiet.get(c.label)!,
            u = median(cpu.get(c.label)!);
          const quietCell =
            q.length && quietBase.length
              ? `${median(q).toFixed(0)} (${q.length}) | ${(median(q) / median(quietBase)).toFixed(2)}`
              : `— (${q.length}) | —`;
          const line = `| ${be.build} | ${id} | ${batchSize} | ${c.label} | ${median(v).toFixed(0)} (${Math.min(...v).toFixed(0)}–${Math.max(...v).toFixed(0)}) | ${(median(v) / base).toFixed(2)} | ${quietCell} | ${u.toFixed(2)} | ${(u / baseCpu).toFixed(2)} |`;
          rows.push(line);
          console.log(line);
        }
      }
  } finally {
    for (const t of trainers.values()) await t.dispose();
  }
}
console.log(`load average at end ${loadavg()}`);
if (process.argv.includes('--markdown')) console.log(`\n${rows.join('\n')}`);
