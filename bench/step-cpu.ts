/**
 * CPU time per step of W1–W4 through the public model API (what bench/workloads/convae.ts
 * times), for comparing with the kernel-level steps of native_bench (same workloads, CPU time).
 *   node --import tsx bench/step-cpu.ts [--build=native] [--threads=1] [--steps=40] [--rounds=3]
 */
import * as cv from '../ts/index.js';
import { W1_BLOCK, W2_BLOCK, W3_BLOCKS, W3_HEAD } from './workloads/convae-net.js';
import { BATCH, INPUT_SHAPE, LR, WORKLOAD_IDS, inputs, w4Weights, type WorkloadId } from './workloads/spec.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const be = await cv.loadBackend({ build: (arg('build') ?? 'auto') as cv.Build });
be.setThreads(Number(arg('threads') ?? 1));
const steps = Number(arg('steps') ?? 40),
  rounds = Number(arg('rounds') ?? 3);
const only = (arg('only')?.split(',') ?? WORKLOAD_IDS) as WorkloadId[];
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

for (const id of only) {
  const batch = BATCH[id];
  const m =
    id === 'W1'
      ? new cv.StackedConvAutoencoder(be, [W1_BLOCK], INPUT_SHAPE.W1, 1)
      : id === 'W2'
        ? new cv.StackedConvAutoencoder(be, [W2_BLOCK], INPUT_SHAPE.W2, 1)
        : cv.Classifier.fromBlocks(be, W3_BLOCKS, INPUT_SHAPE[id], W3_HEAD, 1);
  if (id === 'W4') {
    const w = w4Weights();
    for (const p of m.params()) p.value.set(w[p.name]);
  }
  const { x: xs, labels: ls } = inputs(id);
  const x = be.fromArray([batch, ...INPUT_SHAPE[id]], xs),
    labels = be.fromArray([batch], ls, 'u32');
  let call: () => unknown;
  let opt: cv.Optimizer | undefined;
  if (id === 'W4') {
    const clf = m as cv.Classifier;
    call = () => clf.logits(x);
  } else {
    opt = new cv.Optimizer(be, m.params(), { type: 'sgd', lr: LR });
    const task = m.task({ layer: 0 });
    call = () => {
      opt!.zeroGrad();
      task.step(x, labels);
      opt!.step();
    };
  }
  for (let i = 0; i < 5; i++) call();
  const per: number[] = [],
    wall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = cpu(),
      t0 = performance.now();
    for (let i = 0; i < steps; i++) call();
    per.push((cpu() - c0) / steps);
    wall.push((performance.now() - t0) / 1000 / steps);
  }
  console.log(
    `${id}: ${(med(per) * 1000).toFixed(2)} CPU ms/step = ${(batch / med(per)).toFixed(0)} images per CPU-second; wall ${(batch / med(wall)).toFixed(0)} images/s (${be.build}, ${be.threads} thread)`,
  );
  opt?.dispose();
  x.dispose();
  labels.dispose();
  m.dispose();
}
