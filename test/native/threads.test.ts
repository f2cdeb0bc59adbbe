/**
 * The native backend's intra-op threads (`be.threads`, `be.setThreads`, over
 * the addon's `set_threads` / `get_threads` and convae_kernels::threads):
 * - the contract: default 1, typed errors for bad counts (nothing changes),
 *   wasm builds run one thread;
 * - what the kernels promise: conv forward, conv input gradient, the dense
 *   layers and the element-wise ops give the bits of one thread at any count;
 *   the conv weight gradients are the same bits for the same count and agree
 *   across counts within float rounding;
 * - set_force_scalar reaches the pool's helpers: scalar twins on 2 threads give
 *   the simd wasm build's bits (an AVX-512 helper would not: FMA rounding);
 * - training on 2 threads agrees with 1 thread within float tolerance, and is
 *   repeatable.
 * Shapes are W1's and W2's (batch 64), large enough that every op is cut.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { loadMnist } from '../../ts/data/mnist.js';
import { backendUnderTest } from '../util/backend.js';
import { expectBitEqual } from '../util/tensors.js';
import { bitEqual, maxRelDiff, weights } from '../worker/setup.js';

const native = await backendUnderTest();
const simd = await cv.loadBackend({ build: 'simd' });

afterEach(() => {
  native.setThreads(1);
  native.setForceScalar(false);
});

/** Values in [-1, 1) from a seeded LCG (distinct, no ties in the pools). */
function uniform(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

describe('be.threads / be.setThreads', () => {
  it('native: default 1, set and read back, per this thread', () => {
    expect(native.build).toBe('native');
    expect(native.threads).toBe(1);
    expect(native.maxThreads).toBe(64);
    for (const n of [2, 3, 64, 1]) {
      native.setThreads(n);
      expect(native.threads).toBe(n);
    }
  });

  it('bad counts: ArgumentError, and the count stays', () => {
    native.setThreads(2);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 65, 2 ** 32 + 2, '2', null, undefined]) {
      expect(() => native.setThreads(bad as number), String(bad)).toThrow(cv.ArgumentError);
      expect(native.threads).toBe(2);
    }
  });

  it('wasm builds run one thread: 1 is accepted, more is a BackendError, bad counts an ArgumentError', () => {
    expect(simd.threads).toBe(1);
    expect(simd.maxThreads).toBe(1);
    simd.setThreads(1);
    expect(() => simd.setThreads(2)).toThrow(cv.BackendError);
    expect(() => simd.setThreads(2)).toThrow(/one thread/);
    expect(() => simd.setThreads(0)).toThrow(cv.ArgumentError);
    expect(simd.threads).toBe(1);
  });
});

/** Runs `f` at each thread count and returns the copies it made. */
function atCounts<T>(counts: number[], f: () => T): T[] {
  return counts.map((n) => {
    native.setThreads(n);
    try {
      return f();
    } finally {
      native.setThreads(1);
    }
  });
}

type Case = { name: string; x: number[]; w: number[] };
const CASES: Case[] = [
  { name: 'W1 conv 1→20 5×5, x [64,1,28,28]', x: [64, 1, 28, 28], w: [20, 1, 5, 5] },
  { name: 'W2 conv 20→50 5×5, x [64,20,12,12]', x: [64, 20, 12, 12], w: [50, 20, 5, 5] },
];
const COUNTS = [1, 2, 3, 4];

describe.each(CASES)('$name: kernels at 1–4 threads', ({ x: xs, w: ws }) => {
  const oh = xs[2] - ws[2] + 1,
    ow = xs[3] - ws[3] + 1;
  const ys = [xs[0], ws[0], oh, ow];
  const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

  it('conv2d, its input gradient and conv_transpose2d: the bits of one thread', () => {
    const x = native.fromArray(xs, uniform(numel(xs), 1)),
      w = native.fromArray(ws, uniform(numel(ws), 2)),
      b = native.fromArray([ws[0]], uniform(ws[0], 3)),
      dy = native.fromArray(ys, uniform(numel(ys), 4)),
      y = native.empty(ys),
      dx = native.empty(xs),
      t = native.empty(xs);
    try {
      const runs = atCounts(COUNTS, () => ({
        y: cv.conv2d(x, w, b, y).toArray(),
        dx: cv.conv2dBackwardInput(dy, w, dx).toArray(),
        // The tied decoder: conv_transpose2d of the codes with the encoder's weight.
        t: cv.convTranspose2d(dy, w, null, t).toArray(),
      }));
      for (const [i, r] of runs.entries()) {
        expectBitEqual(`conv2d, ${COUNTS[i]} threads`, r.y, runs[0].y);
        expectBitEqual(`conv2dBackwardInput, ${COUNTS[i]} threads`, r.dx, runs[0].dx);
        expectBitEqual(`convTranspose2d, ${COUNTS[i]} threads`, r.t, runs[0].t);
      }
    } finally {
      for (const v of [x, w, b, dy, y, dx, t]) v.dispose();
    }
  });

  it('weight gradients: the same bits again at each count, within float rounding across counts', () => {
    const xv = uniform(numel(xs), 5),
      dyv = uniform(numel(ys), 6);
    const x = native.fromArray(xs, xv),
      dy = native.fromArray(ys, dyv),
      dw = native.empty(ws),
      dwT = native.empty(ws);
    // Σ|a·b| of each gradient element: the same gradients of |x| and |dy| (one thread).
    const ax = native.fromArray(xs, xv.map(Math.abs)),
      ady = native.fromArray(ys, dyv.map(Math.abs)),
      sum = native.zeros(ws),
      sumT = native.zeros(ws);
    try {
      cv.conv2dBackwardWeight(ax, ady, sum);
      cv.convTranspose2dBackwardWeight(ady, ax, sumT);
      const grads = () => {
        dw.fill(0);
        dwT.fill(0);
        cv.conv2dBackwardWeight(x, dy, dw);
        // The tied decoder's weight gradient: conv_transpose2d from dy's shape (codes) to x's.
        cv.convTranspose2dBackwardWeight(dy, x, dwT);
        return { dw: dw.toArray(), dwT: dwT.toArray() };
      };
      const once = atCounts(COUNTS, grads),
        again = atCounts(COUNTS, grads);
      const bound = { dw: sum.toArray(), dwT: sumT.toArray() };
      for (const [i, n] of COUNTS.entries()) {
        expectBitEqual(`conv2dBackwardWeight, ${n} threads, repeated`, again[i].dw, once[i].dw);
        expectBitEqual(`convTranspose2dBackwardWeight, ${n} threads, repeated`, again[i].dwT, once[i].dwT);
        // Another order of the same sums: within the kernel tests' bound against the twin, 2e-6 (1 + Σ|ab|).
        for (const k of ['dw', 'dwT'] as const) {
          const a = once[i][k],
            b = once[0][k];
          for (let j = 0; j < a.length; j++)
            if (!(Math.abs(a[j] - b[j]) <= 2e-6 * (1 + bound[k][j])))
              expect.fail(`${k}[${j}] at ${n} threads: ${a[j]} vs ${b[j]} at 1 (Σ|ab| ${bound[k][j]})`);
        }
      }
      // At 2+ threads the parts' sums are added in another order: some bits differ (else nothing was cut).
      expect(bitEqual({ dw: once[1].dw }, { dw: once[0].dw })).toBe(false);
    } finally {
      for (const v of [x, dy, dw, dwT, ax, ady, sum, sumT]) v.dispose();
    }
  });

  it('tanh, max-pool with switches, unpool, their gradients, bias gradient: the bits of one thread', () => {
    const a = native.fromArray(ys, uniform(numel(ys), 7)),
      act = native.empty(ys),
      dAct = native.empty(ys),
      ps = [ys[0], ys[1], ys[2] >> 1, ys[3] >> 1],
      p = native.empty(ps),
      sw = native.empty(ps, 'u32'),
      up = native.empty(ys),
      dp = native.fromArray(ps, uniform(numel(ps), 8)),
      dx = native.empty(ys),
      du = native.empty(ps),
      db = native.empty([ys[1]]);
    try {
      const runs = atCounts(COUNTS, () => {
        cv.activation('tanh', a, act);
        cv.activationBackward('tanh', act, a, dAct);
        cv.maxPool2d(act, p, sw, { kernel: 2 });
        cv.maxPool2dBackward(dp, sw, dx, { kernel: 2 });
        cv.maxUnpool2d(dp, sw, up, { kernel: 2 });
        cv.maxUnpool2dBackward(a, sw, du, { kernel: 2 });
        db.fill(0);
        cv.biasBackward(a, db);
        return [act, dAct, p, sw, dx, up, du, db].map((t) => (t.dtype === 'u32' ? t.u32.slice() : t.toArray()));
      });
      const names = [
        'tanh',
        'tanh backward',
        'max-pool',
        'switches',
        'max-pool backward',
        'unpool',
        'unpool backward',
        'bias',
      ];
      for (const [i, r] of runs.entries())
        r.forEach((v, j) => expectBitEqual(`${names[j]}, ${COUNTS[i]} threads`, v, runs[0][j]));
    } finally {
      for (const v of [a, act, dAct, p, sw, up, dp, dx, du, db]) v.dispose();
    }
  });
});

describe('dense layers at 1–4 threads', () => {
  it('dense, its input and weight gradients ([64, 800] → 500): the bits of one thread', () => {
    const x = native.fromArray([64, 800], uniform(64 * 800, 9)),
      w = native.fromArray([500, 800], uniform(500 * 800, 10)),
      b = native.fromArray([500], uniform(500, 11)),
      dy = native.fromArray([64, 500], uniform(64 * 500, 12)),
      y = native.empty([64, 500]),
      dx = native.empty([64, 800]),
      dw = native.empty([500, 800]);
    try {
      const runs = atCounts(COUNTS, () => {
        dw.fill(0);
        return [cv.dense(x, w, b, y), cv.denseBackwardInput(dy, w, dx), cv.denseBackwardWeight(x, dy, dw)].map((t) =>
          t.toArray(),
        );
      });
      for (const [i, r] of runs.entries())
        r.forEach((v, j) => expectBitEqual(`dense op ${j}, ${COUNTS[i]} threads`, v, runs[0][j]));
    } finally {
      for (const v of [x, w, b, dy, y, dx, dw]) v.dispose();
    }
  });
});

describe('setForceScalar reaches every thread of a parallel call', () => {
  it('scalar twins on 2 and 3 threads: conv2d and its input gradient bit for bit the simd wasm build', () => {
    const xs = [64, 20, 12, 12],
      ws = [50, 20, 5, 5],
      ys = [64, 50, 8, 8];
    const vals = { x: uniform(64 * 20 * 144, 13), w: uniform(50 * 500, 14), dy: uniform(64 * 50 * 64, 15) };
    const on = (be: cv.Backend) => {
      const x = be.fromArray(xs, vals.x),
        w = be.fromArray(ws, vals.w),
        dy = be.fromArray(ys, vals.dy),
        y = be.empty(ys),
        dx = be.empty(xs);
      try {
        return { y: cv.conv2d(x, w, null, y).toArray(), dx: cv.conv2dBackwardInput(dy, w, dx).toArray() };
      } finally {
        for (const v of [x, w, dy, y, dx]) v.dispose();
      }
    };
    const ref = on(simd);
    native.setForceScalar(true);
    for (const n of [2, 3]) {
      native.setThreads(n);
      const r = on(native);
      expectBitEqual(`conv2d, scalar twins, ${n} threads`, r.y, ref.y);
      expectBitEqual(`conv2dBackwardInput, scalar twins, ${n} threads`, r.dx, ref.dx);
    }
    // The native kernels differ from the scalar order (FMA): the comparison above can tell them apart.
    native.setForceScalar(false);
    if (native.isa !== 'scalar') expect(bitEqual({ y: on(native).y }, { y: ref.y })).toBe(false);
  });
});

const data = await loadMnist({ split: 'train', limit: 256 });

describe('training on 2 threads', () => {
  const blocks: cv.BlockSpec[] = [
    { convs: [{ filters: 20, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
    { convs: [{ filters: 50, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } },
  ];
  async function run(threads: number) {
    native.setThreads(threads);
    const stack = new cv.StackedConvAutoencoder(native, blocks, data.shape, 3);
    try {
      const cae = await cv.fit(native, cv.stackLayerTask(stack, 0), data, {
        epochs: 1,
        batchSize: 64,
        seed: 3,
        optimizer: { type: 'adam', lr: 3e-3 },
      });
      const clf = cv.Classifier.fromStack(stack, { hidden: [500], classes: 10 }, 3);
      try {
        const cnn = await cv.fit(native, cv.classifierTask(clf), data, {
          epochs: 1,
          batchSize: 64,
          seed: 3,
          optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 },
        });
        return {
          stack: weights(stack),
          clf: weights(clf),
          losses: [...cae.epochs, ...cnn.epochs].map((e) => e.loss),
        };
      } finally {
        clf.dispose();
      }
    } finally {
      stack.dispose();
      native.setThreads(1);
    }
  }

  it('4 CAE steps (Adam) and 4 CNN steps (SGD): the weights of 1 thread within 1e-5, repeatable at 2', async () => {
    const one = await run(1),
      two = await run(2),
      twoAgain = await run(2);
    expect(maxRelDiff(two.stack, one.stack)).toBeLessThan(1e-5);
    expect(maxRelDiff(two.clf, one.clf)).toBeLessThan(1e-5);
    two.losses.forEach((l, i) => expect(Math.abs(l - one.losses[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(l))));
    expect(bitEqual(twoAgain.stack, two.stack)).toBe(true);
    expect(bitEqual(twoAgain.clf, two.clf)).toBe(true);
    expect(twoAgain.losses).toEqual(two.losses);
  });
});

describe('threads in runners and workers', () => {
  const small = data.take(128);
  const opts = { epochs: 1, batchSize: 64, seed: 4, optimizer: { type: 'sgd', lr: 0.05 } as const };
  const stackOf = () =>
    new cv.StackedConvAutoencoder(
      native,
      [{ convs: [{ filters: 20, kernel: 5 }], activation: 'tanh', pool: { kernel: 2 } }],
      data.shape,
      4,
    );

  it('threadRunner(be, 2) trains on 2 threads and gives the backend its setting back', async () => {
    native.setThreads(3);
    const seen: number[] = [];
    const m = stackOf();
    const r = cv.threadRunner(native, 2);
    expect(r.where).toBe('this thread, 2 kernel threads');
    await r.fit(m, small, { ...opts, layer: 0, onBatch: () => seen.push(native.threads) });
    expect(seen).toEqual([2, 2]);
    expect(native.threads).toBe(3);
    m.dispose();
  });

  it('bad counts fail before anything runs: ArgumentError, or BackendError on a wasm build', async () => {
    await expect(cv.createRunner(native, { workers: 0, threads: 0 })).rejects.toThrow(cv.ArgumentError);
    await expect(cv.createRunner(native, { workers: 2, threads: 65 })).rejects.toThrow(cv.ArgumentError);
    await expect(cv.createRunner(simd, { workers: 0, threads: 2 })).rejects.toThrow(cv.BackendError);
    await expect(cv.createRunner(simd, { workers: 2, threads: 2 })).rejects.toThrow(cv.BackendError);
    await expect(cv.Trainer.create(simd, { size: 1, threads: 2 })).rejects.toThrow(cv.BackendError);
    await expect(cv.Trainer.create(native, { size: 1, threads: 1.5 })).rejects.toThrow(cv.ArgumentError);
    expect(() => cv.threadRunner(native, -1)).toThrow(cv.ArgumentError);
  });

  it('a worker with threads: 2 runs its kernels on 2 threads: the bits of this thread on 2, not on 1', async () => {
    const trainer = await cv.Trainer.create(native, { size: 1, threads: 2 });
    try {
      const [w, here2, here1] = [stackOf(), stackOf(), stackOf()];
      await trainer.fit(w, small, { ...opts, layer: 0 });
      await cv.threadRunner(native, 2).fit(here2, small, { ...opts, layer: 0 });
      await cv.threadRunner(native, 1).fit(here1, small, { ...opts, layer: 0 });
      expect(bitEqual(weights(w), weights(here2))).toBe(true);
      // The weight gradients of 2 threads round otherwise than 1 thread's: the comparison can tell them apart.
      expect(bitEqual(weights(w), weights(here1))).toBe(false);
      expect(maxRelDiff(weights(w), weights(here1))).toBeLessThan(1e-5);
      for (const m of [w, here2, here1]) m.dispose();
    } finally {
      await trainer.dispose();
    }
  });
});
