/**
 * The exploration behind docs/paper-results.md ("Why pretraining does not pay"):
 * one configuration of pretraining and fine-tuning, scored on held-out
 * *training* images (never the test set).
 *
 *   nice -n 10 npx tsx scripts/paper-explore.ts '{"labels":1000,"pre":{"epochs":[1,1]},"ft":{"lr":0.05,"epochs":60}}'
 *
 * Images 50 000–59 999 of the training set are the validation set; the
 * labelled subset (`labels` images, drawn per seed) and the unlabelled
 * pretraining images come from images 0–49 999. Pretrained stacks are cached
 * in scratch/paper-cache (keyed by everything that made them), so fine-tuning
 * variants reuse one pretraining. Prints one JSON line per run.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend } from '../ts/backend/backend.js';
import { loadFashionMnist, loadMnist } from '../ts/data/mnist.js';
import { type BlockSpec, StackedConvAutoencoder } from '../ts/model/autoencoder.js';
import { Classifier } from '../ts/model/classifier.js';
import { loadModel, saveModel } from '../ts/model/serialize.js';
import { evaluateClassifier, evaluateTask } from '../ts/train/evaluate.js';
import { fit } from '../ts/train/fit.js';
import { classifierTask, stackLayerTask, type Task } from '../ts/model/tasks.js';
import { Feeder } from '../ts/train/feeder.js';
import { Activation, Dense, Dropout, Flatten } from '../ts/model/layers.js';
import { Sequential } from '../ts/model/sequential.js';
import { mseLoss } from '../ts/ops/elementwise.js';
import type { Tensor } from '../ts/backend/memory.js';
import { ImageDataset } from '../ts/data/dataset.js';
import { Rng } from '../ts/util/rng.js';
import { forEachBatch } from '../ts/anomaly/embed.js';
import { ARCHITECTURES, type ArchName } from '../ts/cli/paper-arch.js';

interface Config {
  data?: 'mnist' | 'fashion';
  seed?: number;
  labels?: number;
  arch?: ArchName;
  /** Overrides of the architecture's blocks (merged per block). */
  blocks?: Partial<BlockSpec>[];
  /** null or absent: random initialisation. */
  /** `shift`: random translations of the unlabelled images (more unlabelled data, in effect). */
  /**
   * `deep`: after the greedy stage, train the whole stack end to end as one deep autoencoder
   * (every encoder, then every decoder in reverse, loss on the input pixels), as Hinton and
   * Salakhutdinov fine-tuned their unrolled stacks.
   */
  pre?: {
    epochs: number[];
    lr?: number;
    batch?: number;
    unlabelled?: number;
    shift?: number;
    /**
     * `patch`: in the end-to-end stage, hide a random `fraction` of each image's `size`×`size` grid
     * cells (all channels zeroed) and reconstruct the whole clean image, as masked autoencoders and
     * context encoders do: filling in a missing stroke needs more than copying pixels.
     */
    deep?: { epochs: number; lr?: number; patch?: { size: number; fraction: number } };
    /**
     * Learning-rate factors by parameter-name prefix in both pretraining stages. With every bias at
     * 0 (biases start at zero) this gives Paine et al.'s (2014) zero-bias CAE.
     */
    lrFactors?: Record<string, number>;
  } | null;
  head?: { hidden?: number[]; dropout?: number };
  /**
   * Pretrain the first dense layer too, without labels: a denoising
   * autoencoder (dropout noise, linear decoder) on the stack's codes of the
   * unlabelled images; its encoder initialises the classifier's dense0.
   */
  headPre?: { epochs: number; noise?: number; lr?: number };
  ft?: {
    lr?: number;
    epochs?: number;
    batch?: number;
    weightDecay?: number;
    minFactor?: number;
    lrFactors?: Record<string, number>;
    shift?: number;
    /** Epochs with the conv blocks frozen (head only) before the rest. */
    freezeEpochs?: number;
    /**
     * true: scale each pretrained conv (weight and bias alike) to the RMS weight of its random initialisation.
     * 'data': scale each pretrained conv, in order, so that its outputs before the activation have the
     * standard deviation `rescaleStd` (default 1) on 512 unlabelled images (as LSUV does at initialisation):
     * the cure for codes stuck in tanh's tails, if that is what holds them back.
     */
    rescale?: boolean | 'data';
    rescaleStd?: number;
    /** Keep only the first n pretrained conv blocks; the later ones start as in random initialisation. */
    keepBlocks?: number;
    /**
     * L2-SP (Li et al. 2018): decay the conv weights towards their pretrained values, not towards zero,
     * with this coefficient (added to their gradient as l2sp·(w − w₀)).
     */
    l2sp?: number;
    /**
     * Keep the CAEs' reconstruction loss during fine-tuning: each labelled
     * step is followed by a reconstruction step of the blocks in `lambda`
     * (weight per block; 0 skips one) on a batch of unlabelled images, its
     * gradient added to the classifier's shared conv weights.
     */
    joint?: { lambda: number[]; batch?: number };
  };
  /**
   * The headroom of any initialisation: conv blocks taken from a classifier
   * trained with the labels of all 50 000 pool images for this many epochs
   * (the head starts random). Not a method — an upper reference.
   */
  oracle?: { epochs: number };
  /**
   * Self-labelling after pretraining (as DeepCluster does, one round): k-means
   * with `k` clusters on the codes of the 50 000 pool images — the pretrained
   * stack's top codes, or the raw pixels with `on: 'pixels'` (the control) —
   * then the network, started from the stack, trained `epochs` to predict
   * each image's cluster; its conv blocks initialise fine-tuning. No labels
   * are used (the clusters' purity against the labels is only reported).
   */
  cluster?: { k: number; epochs: number; iters?: number; on?: 'codes' | 'pixels'; lr?: number };
  /** A stack saved elsewhere (e.g. by `convae paper`) instead of `pre`; its blocks must be the architecture's. */
  stackFile?: string;
  /** Kernel build (default simd). */
  build?: 'native' | 'relaxed' | 'simd';
  /** Score the validation set every n epochs too (default: only at the end). */
  evalEvery?: number;
  /** Validation images scored (default 10 000). */
  valImages?: number;
}

const cfg: Config = JSON.parse(process.argv[2] ?? '{}');
const seed = cfg.seed ?? 1,
  nLabels = cfg.labels ?? 1000;
const archName = cfg.arch ?? 'small';
const blocks: BlockSpec[] = ARCHITECTURES[archName].blocks.map((b, k) => ({ ...b, ...(cfg.blocks?.[k] ?? {}) }));
const headBase = ARCHITECTURES[archName].head;
const t0 = performance.now();
const be = await loadBackend({ build: cfg.build ?? 'simd' });
const all = cfg.data === 'fashion' ? await loadFashionMnist({ split: 'train' }) : await loadMnist({ split: 'train' });
const range = (a: number, b: number) => Uint32Array.from({ length: b - a }, (_, i) => a + i);
const val = all.subset(range(50000, 50000 + (cfg.valImages ?? 10000)));
const pool = 50000;
const labelled = all.subset(new Rng(seed * 7 + nLabels).permutation(pool).subarray(0, nLabels));

/** The stack as one deep autoencoder: input → every encoder → every decoder in reverse → input. */
function deepTask(st: StackedConvAutoencoder, patch?: { size: number; fraction: number }, rng = new Rng(1)): Task {
  let grad: Tensor | null = null;
  let masked: Tensor | null = null;
  /** x with a random `fraction` of its grid cells zeroed (a buffer reused across steps). */
  const hide = (x: Tensor): Tensor => {
    if (!patch) return x;
    if (!masked || masked.shape[0] !== x.shape[0]) {
      masked?.dispose();
      masked = be.empty(x.shape);
    }
    const [n, c, h, w] = x.shape;
    const d = masked.data;
    d.set(x.data);
    const { size, fraction } = patch;
    for (let i = 0; i < n; i++)
      for (let y0 = 0; y0 < h; y0 += size)
        for (let x0 = 0; x0 < w; x0 += size) {
          if (rng.next() >= fraction) continue;
          for (let ch = 0; ch < c; ch++)
            for (let y = y0; y < Math.min(h, y0 + size); y++) {
              const row = ((i * c + ch) * h + y) * w;
              d.fill(0, row + x0, row + Math.min(w, x0 + size));
            }
        }
    return masked;
  };
  const forward = (x: Tensor, train: boolean) => {
    let h = x;
    for (const b of st.blocks) h = b.encoder.forward(h, train);
    for (let k = st.blocks.length - 1; k >= 0; k--) h = st.blocks[k].decoder.forward(h, train);
    return h;
  };
  return {
    needsLabels: false,
    params: () => st.params(),
    step: (x) => {
      const y = forward(hide(x), true);
      if (!grad || grad.shape[0] !== y.shape[0]) {
        grad?.dispose();
        grad = be.empty(y.shape);
      }
      const loss = mseLoss(y, x, grad);
      let g: Tensor = grad;
      for (const b of st.blocks) g = b.decoder.backward(g, true)!;
      for (let k = st.blocks.length - 1; k >= 0; k--) {
        const d = st.blocks[k].encoder.backward(g, k > 0);
        if (k > 0) g = d!;
      }
      return loss;
    },
    evaluate: (x) => ({ loss: mseLoss(forward(x, false), x) }),
  };
}

/** The factors of `factors` that name block `k`'s parameters (a greedy stage trains one block). */
const onlyBlock = (factors: Record<string, number>, k: number) =>
  Object.fromEntries(Object.entries(factors).filter(([name]) => name.startsWith(`block${k}.`)));

let stack: StackedConvAutoencoder | null = null;
const recon: number[] = [];
let preSeconds = 0;
if (cfg.stackFile)
  stack = loadModel(
    be,
    readFileSync(cfg.stackFile, 'utf8'),
    readFileSync(cfg.stackFile.replace(/\.json$/, '.safetensors')),
    {
      kind: 'stack',
    },
  ).model;
else if (cfg.pre) {
  const pre = { lr: 3e-3, batch: 64, unlabelled: pool, ...cfg.pre };
  const key = createHash('sha1')
    .update(JSON.stringify({ data: cfg.data ?? 'mnist', seed, blocks, pre }))
    .digest('hex')
    .slice(0, 16);
  const dir = join(import.meta.dirname, '..', 'scratch', 'paper-cache');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, key);
  if (existsSync(`${file}.json`)) {
    const json = readFileSync(`${file}.json`, 'utf8');
    stack = loadModel(be, json, readFileSync(`${file}.safetensors`), { kind: 'stack' }).model;
    recon.push(...(JSON.parse(json).training?.recon ?? []));
  } else {
    const tp = performance.now();
    stack = new StackedConvAutoencoder(be, blocks, all.shape, seed);
    const unl = all.take(pre.unlabelled);
    for (let k = 0; k < stack.blocks.length; k++) {
      await fit(be, stackLayerTask(stack, k), unl, {
        epochs: pre.epochs[k] ?? pre.epochs[pre.epochs.length - 1],
        batchSize: pre.batch,
        seed: seed * 10 + k,
        optimizer: { type: 'adam', lr: pre.lr },
        ...(pre.lrFactors ? { lrFactors: onlyBlock(pre.lrFactors, k) } : {}),
        ...(pre.shift ? { augment: { shift: pre.shift } } : {}),
      });
      recon.push(evaluateTask(be, stackLayerTask(stack, k), val.take(2000)).loss);
    }
    if (pre.deep) {
      const deep = deepTask(stack, pre.deep.patch, new Rng(seed * 10 + 9));
      await fit(be, deep, unl, {
        epochs: pre.deep.epochs,
        batchSize: pre.batch,
        seed: seed * 10 + 8,
        optimizer: { type: 'adam', lr: pre.deep.lr ?? pre.lr },
        ...(pre.lrFactors ? { lrFactors: pre.lrFactors } : {}),
      });
      recon.push(evaluateTask(be, deep, val.take(2000)).loss);
    }
    preSeconds = (performance.now() - tp) / 1000;
    const saved = saveModel(stack, { recon, seconds: preSeconds });
    writeFileSync(`${file}.json`, saved.json);
    writeFileSync(`${file}.safetensors`, saved.weights);
  }
}

const ft = {
  lr: 0.05,
  epochs: 60,
  batch: 64,
  weightDecay: 1e-4,
  minFactor: 0.02,
  shift: 0,
  freezeEpochs: 0,
  ...cfg.ft,
};
if (stack && ft.rescale === 'data') {
  const target = ft.rescaleStd ?? 1;
  for (let k = 0; k < stack.blocks.length; k++) {
    const conv = stack.blocks[k].convs[0];
    let s1 = 0,
      s2 = 0,
      n = 0;
    forEachBatch(be, all.take(512), 128, (x) => {
      for (const v of conv.forward(stack!.encodeThrough(k, x)).data) {
        s1 += v;
        s2 += v * v;
        n++;
      }
    });
    const scale = target / Math.sqrt(s2 / n - (s1 / n) ** 2);
    for (const p of [conv.weight, conv.bias])
      if (p) for (let j = 0; j < p.value.data.length; j++) p.value.data[j] *= scale;
    console.error(`block ${k}: pre-activation std scaled by ${scale.toFixed(3)}`);
  }
}
const head = { ...headBase, ...cfg.head, classes: 10 };
const clf = stack ? Classifier.fromStack(stack, head, seed) : Classifier.fromBlocks(be, blocks, all.shape, head, seed);
if (stack && ft.rescale === true)
  for (const p of clf.params().filter((q) => /^block\d+\.conv\d+\.weight$/.test(q.name))) {
    const [o, i, kh, kw] = p.value.shape;
    const glorot = Math.sqrt(6 / (i * kh * kw + o * kh * kw)) / Math.sqrt(3);
    const w = p.value.data;
    const rms = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
    const scale = glorot / rms;
    for (let j = 0; j < w.length; j++) w[j] *= scale;
    const bias = clf.params().find((q) => q.name === p.name.replace(/weight$/, 'bias'))!.value.data;
    for (let j = 0; j < bias.length; j++) bias[j] *= scale;
  }
if (stack && ft.keepBlocks !== undefined) {
  const fresh = Classifier.fromBlocks(be, blocks, all.shape, head, seed);
  const dst = new Map(clf.params().map((p) => [p.name, p]));
  for (const p of fresh.params())
    if (/^block\d+\./.test(p.name) && Number(p.name.slice(5, p.name.indexOf('.'))) >= ft.keepBlocks)
      dst.get(p.name)!.value.set(p.value.data);
  fresh.dispose();
}
/** The conv blocks of `src` (a network trained on labels or clusters) into the classifier to fine-tune; `src` is disposed. */
function takeConvBlocks(src: Classifier): void {
  const dst = new Map(clf.params().map((p) => [p.name, p]));
  for (const p of src.params()) if (p.name.startsWith('block')) dst.get(p.name)!.value.set(p.value.data);
  src.dispose();
}
if (cfg.oracle) {
  const key = createHash('sha1')
    .update(JSON.stringify({ data: cfg.data ?? 'mnist', seed, blocks, oracle: cfg.oracle, head }))
    .digest('hex')
    .slice(0, 16);
  const file = join(import.meta.dirname, '..', 'scratch', 'paper-cache', `oracle-${key}`);
  let src: Classifier;
  if (existsSync(`${file}.json`))
    src = loadModel(be, readFileSync(`${file}.json`, 'utf8'), readFileSync(`${file}.safetensors`), {
      kind: 'classifier',
    }).model;
  else {
    src = Classifier.fromBlocks(be, blocks, all.shape, head, seed + 99);
    await fit(be, classifierTask(src), all.take(pool), {
      epochs: cfg.oracle.epochs,
      batchSize: 64,
      seed: seed + 99,
      optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 1e-4 },
      schedule: { type: 'cosine', epochs: cfg.oracle.epochs, minFactor: 0.02 },
    });
    mkdirSync(join(file, '..'), { recursive: true });
    const saved = saveModel(src);
    writeFileSync(`${file}.json`, saved.json);
    writeFileSync(`${file}.safetensors`, saved.weights);
  }
  takeConvBlocks(src);
}
/** Lloyd's k-means (k-means++ seeding on a 5 000-row sample): the cluster of each row of `x` (n × d). */
function kmeans(x: Float32Array, n: number, d: number, k: number, iters: number, rng: Rng): Uint8Array {
  const c = new Float32Array(k * d);
  const sample = rng.permutation(n).subarray(0, Math.min(n, 5000));
  const dist = new Float64Array(sample.length).fill(Infinity);
  let pick = sample[0];
  for (let j = 0; j < k; j++) {
    c.set(x.subarray(pick * d, pick * d + d), j * d);
    let total = 0;
    for (let s = 0; s < sample.length; s++) {
      let e = 0;
      for (let t = 0, o = sample[s] * d; t < d; t++) e += (x[o + t] - c[j * d + t]) ** 2;
      dist[s] = Math.min(dist[s], e);
      total += dist[s];
    }
    let r = rng.next() * total;
    let s = 0;
    for (; s < sample.length - 1; s++) {
      r -= dist[s];
      if (r <= 0) break;
    }
    pick = sample[s];
  }
  const assign = new Uint8Array(n);
  const cn = new Float64Array(k);
  for (let it = 0; it <= iters; it++) {
    for (let j = 0; j < k; j++) {
      let e = 0;
      for (let t = 0; t < d; t++) e += c[j * d + t] ** 2;
      cn[j] = e;
    }
    for (let i = 0; i < n; i++) {
      let best = 0,
        bestE = Infinity;
      const o = i * d;
      for (let j = 0; j < k; j++) {
        let dot = 0;
        for (let t = 0, q = j * d; t < d; t++) dot += x[o + t] * c[q + t];
        const e = cn[j] - 2 * dot;
        if (e < bestE) {
          bestE = e;
          best = j;
        }
      }
      assign[i] = best;
    }
    if (it === iters) break;
    const sum = new Float64Array(k * d),
      count = new Uint32Array(k);
    for (let i = 0; i < n; i++) {
      const j = assign[i];
      count[j]++;
      for (let t = 0; t < d; t++) sum[j * d + t] += x[i * d + t];
    }
    for (let j = 0; j < k; j++) {
      // An empty cluster restarts at a random row, as DeepCluster does.
      if (count[j] === 0) {
        const r = rng.int(n);
        c.set(x.subarray(r * d, r * d + d), j * d);
      } else for (let t = 0; t < d; t++) c[j * d + t] = sum[j * d + t] / count[j];
    }
  }
  return assign;
}

let purity: number | undefined;
if (cfg.cluster) {
  const cl = { iters: 15, on: 'codes' as const, lr: 0.05, ...cfg.cluster };
  if (cl.on === 'codes' && !stack) throw new Error('cluster on codes needs pre');
  if (cl.k < 2 || cl.k > 255) throw new Error('cluster.k must be 2…255');
  const poolSet = all.take(pool);
  const images = poolSet.readImages(0, pool);
  let feats: Float32Array, d: number;
  if (cl.on === 'pixels') {
    feats = images;
    d = all.shape[0] * all.shape[1] * all.shape[2];
  } else {
    d = stack!.codeShape.reduce((a, b) => a * b, 1);
    feats = new Float32Array(pool * d);
    forEachBatch(be, poolSet, 256, (x, s) => feats.set(stack!.encodeThrough(stack!.blocks.length, x).data, s * d));
  }
  const tc = performance.now();
  const assign = kmeans(feats, pool, d, cl.k, cl.iters, new Rng(seed * 17 + 3));
  const votes = new Uint32Array(cl.k * 10);
  for (let i = 0; i < pool; i++) votes[assign[i] * 10 + poolSet.labels![i]]++;
  let right = 0;
  for (let j = 0; j < cl.k; j++) right += Math.max(...votes.subarray(j * 10, j * 10 + 10));
  purity = +((100 * right) / pool).toFixed(2);
  console.error(`k-means: ${((performance.now() - tc) / 1000).toFixed(0)} s, purity ${purity} %`);
  const pseudo = ImageDataset.fromFloat32(images, all.shape, assign, cl.k);
  const src = stack
    ? Classifier.fromStack(stack, { ...head, classes: cl.k }, seed + 77)
    : Classifier.fromBlocks(be, blocks, all.shape, { ...head, classes: cl.k }, seed + 77);
  await fit(be, classifierTask(src), pseudo, {
    epochs: cl.epochs,
    batchSize: 64,
    seed: seed + 77,
    optimizer: { type: 'sgd', lr: cl.lr, momentum: 0.9, weightDecay: 1e-4 },
    schedule: { type: 'cosine', epochs: cl.epochs, minFactor: 0.02 },
    augment: { shift: 1 },
  });
  takeConvBlocks(src);
}
if (cfg.headPre) {
  if (!stack) throw new Error('headPre needs pre');
  const hp = { noise: 0.3, lr: 1e-3, ...cfg.headPre };
  const flat = new Flatten('flat');
  const units = head.hidden?.[0] ?? 500;
  const codeSize = stack.codeShape.reduce((a, b) => a * b, 1);
  const dae = new Sequential([
    ...(hp.noise ? [new Dropout('noise', hp.noise)] : []),
    new Dense('dense0', { units, init: 'he' }),
    new Activation('dense0.act', 'relu'),
    new Dense('recon', { units: codeSize }),
  ]);
  flat.build(be, stack.codeShape, new Rng(seed));
  dae.build(be, [codeSize], new Rng(seed * 13 + 1));
  let grad: Tensor | null = null;
  const codes = (x: Tensor) => flat.forward(stack!.encodeThrough(stack!.blocks.length, x));
  const daeTask: Task = {
    needsLabels: false,
    params: () => dae.params(),
    step: (x) => {
      const t = codes(x);
      const y = dae.forward(t, true);
      if (!grad || grad.shape[0] !== y.shape[0]) {
        grad?.dispose();
        grad = be.empty(y.shape);
      }
      const loss = mseLoss(y, t, grad);
      dae.backward(grad, false);
      return loss;
    },
    evaluate: (x) => {
      const t = codes(x);
      return { loss: mseLoss(dae.forward(t, false), t) };
    },
  };
  await fit(be, daeTask, all.take(pool), {
    epochs: hp.epochs,
    batchSize: 64,
    seed: seed * 10 + 9,
    optimizer: { type: 'adam', lr: hp.lr },
  });
  recon.push(evaluateTask(be, daeTask, val.take(2000)).loss);
  const dst = new Map(clf.params().map((p) => [p.name, p]));
  for (const p of dae.params()) if (p.name.startsWith('dense0.')) dst.get(p.name)!.value.set(p.value.data);
  dae.dispose();
  // `grad` is assigned inside daeTask.step, which the narrowing here cannot see.
  (grad as Tensor | null)?.dispose();
}

/** Classification on the labelled batch, then reconstruction of unlabelled images through the stack's blocks sharing the conv weights. */
function jointTask(
  clf: Classifier,
  stack: StackedConvAutoencoder,
  unl: ImageDataset,
  lambda: number[],
  batch: number,
): Task {
  const base = classifierTask(clf);
  const feeder = new Feeder(be, unl);
  const rng = new Rng(seed * 31 + 5);
  let order = rng.permutation(unl.length);
  let cursor = 0;
  const clfParams = new Map(clf.params().map((p) => [p.name, p]));
  const shared = stack.blocks.map((b) => b.encoder.params().map((p) => clfParams.get(p.name)!));
  const own = stack.blocks.flatMap((b, k) => (lambda[k] ? b.decoder.params() : []));
  const layerTasks = stack.blocks.map((_, k) => stackLayerTask(stack, k));
  return {
    ...base,
    params: () => [...clf.params(), ...own],
    step: (x, labels) => {
      const loss = clf.trainStep(x, labels!);
      if (cursor + batch > order.length) {
        order = rng.permutation(unl.length);
        cursor = 0;
      }
      const u = feeder.feed(order, cursor, cursor + batch, false).x;
      cursor += batch;
      stack.blocks.forEach((b, k) => b.encoder.params().forEach((p, i) => p.value.set(shared[k][i].value.data)));
      for (const [k, b] of stack.blocks.entries()) {
        if (!lambda[k]) continue;
        const enc = b.encoder.params();
        for (const p of enc) p.grad.fill(0);
        const dec = b.decoder.params();
        layerTasks[k].step(u, null);
        enc.forEach((p, i) => {
          const g = shared[k][i].grad.data,
            h = p.grad.data;
          for (let j = 0; j < g.length; j++) g[j] += lambda[k] * h[j];
        });
        for (const p of dec) {
          const h = p.grad.data;
          for (let j = 0; j < h.length; j++) h[j] *= lambda[k];
        }
      }
      return loss;
    },
  };
}

/** Wraps a task so each step adds l2sp·(w − w₀) to the conv weights' gradients (w₀: the weights fine-tuning starts from). */
function l2spTask(base: Task, coef: number): Task {
  const convs = clf.params().filter((p) => /^block\d+\.conv\d+\.weight$/.test(p.name));
  const start = convs.map((p) => Float32Array.from(p.value.data));
  return {
    ...base,
    step: (x, labels) => {
      const loss = base.step(x, labels);
      convs.forEach((p, i) => {
        const w = p.value.data,
          g = p.grad.data,
          w0 = start[i];
        for (let j = 0; j < w.length; j++) g[j] += coef * (w[j] - w0[j]);
      });
      return loss;
    },
  };
}

if (ft.joint && !stack) stack = new StackedConvAutoencoder(be, blocks, all.shape, seed);
const task = ft.joint
  ? jointTask(clf, stack!, all.take(pool), ft.joint.lambda, ft.joint.batch ?? ft.batch)
  : ft.l2sp
    ? l2spTask(classifierTask(clf), ft.l2sp)
    : classifierTask(clf);
const curve: [number, number][] = [];
const tf = performance.now();
const convPrefixes = Object.fromEntries(blocks.map((_, k) => [`block${k}`, 0]));
if (ft.freezeEpochs > 0)
  await fit(be, classifierTask(clf), labelled, {
    epochs: ft.freezeEpochs,
    batchSize: ft.batch,
    seed: seed + 1000,
    optimizer: { type: 'sgd', lr: ft.lr, momentum: 0.9, weightDecay: ft.weightDecay },
    lrFactors: convPrefixes,
    augment: ft.shift ? { shift: ft.shift } : undefined,
  });
await fit(be, task, labelled, {
  epochs: ft.epochs,
  batchSize: ft.batch,
  seed,
  optimizer: { type: 'sgd', lr: ft.lr, momentum: 0.9, weightDecay: ft.weightDecay },
  schedule: { type: 'cosine', epochs: ft.epochs, minFactor: ft.minFactor },
  lrFactors: ft.lrFactors,
  augment: ft.shift ? { shift: ft.shift } : undefined,
  onEpoch: (e) => {
    if (cfg.evalEvery && (e.epoch + 1) % cfg.evalEvery === 0 && e.epoch + 1 < ft.epochs)
      curve.push([e.epoch + 1, +(100 * evaluateClassifier(be, clf, val).error).toFixed(2)]);
  },
});
const ftSeconds = (performance.now() - tf) / 1000;
const err = evaluateClassifier(be, clf, val).error;
console.log(
  JSON.stringify({
    cfg,
    valError: +(100 * err).toFixed(2),
    purity,
    curve: curve.length ? curve : undefined,
    recon: recon.map((r) => +r.toFixed(5)),
    preSeconds: +preSeconds.toFixed(0),
    ftSeconds: +ftSeconds.toFixed(0),
    seconds: +((performance.now() - t0) / 1000).toFixed(0),
  }),
);
clf.dispose();
stack?.dispose();
