/**
 * Inputs that are each valid but together ask for more than memory or time
 * allows (the class of the search-space product bug): each is refused with a
 * typed error naming the options, the size and the limit, before anything is
 * allocated. Every case here failed differently before its fix (noted per test).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as cv from '../ts/index.js';
import { checkEncode, checkNeighbours } from '../ts/anomaly/embed.js';
import { checkReconstruction } from '../ts/anomaly/score.js';
import { checkFit, checkTrainerFitOptions } from '../ts/train/options.js';
import { MAX_MESSAGE_CHARS, MAX_TENSOR_ELEMENTS } from '../ts/limits.js';
import { features } from '../ts/cli/features.js';
import { reconstruct } from '../ts/cli/reconstruct.js';
import { BUILD, backendUnderTest } from './util/backend.js';
import { thrown } from './util/thrown.js';

const be = await backendUnderTest();

describe("a layer's output for one image over MAX_TENSOR_ELEMENTS", () => {
  // Before: constructed (the parameters are 65 536 floats); the first forward threw a ShapeError after fit had
  // allocated the optimizer and fed the batch.
  it('is a ModelError at construction, naming the layer, the shape and the limit; nothing allocated', () => {
    const live = { ...be.mem.live };
    const e = thrown(
      () => new cv.ConvAutoencoder(be, { convs: [{ filters: 65536, kernel: 1 }], pool: null }, [1, 1024, 1024]),
    );
    expect(e).toBeInstanceOf(cv.ModelError);
    expect(e.message).toContain('cae.conv0 (Conv2D)');
    expect(e.message).toContain('[65536,1024,1024]');
    expect(e.message).toContain(String(MAX_TENSOR_ELEMENTS));
    expect(e.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(be.mem.live).toEqual(live);
  });

  it('in a stack and a classifier too; the largest that fits is accepted', () => {
    const blocks = [{ convs: [{ filters: 4, kernel: 1 }], pool: null }, { convs: [{ filters: 2 ** 24, kernel: 1 }] }];
    expect(() => new cv.StackedConvAutoencoder(be, blocks, [1, 32, 32])).toThrow(/block1\.conv0 \(Conv2D\)/);
    expect(() => cv.Classifier.fromBlocks(be, blocks, [1, 32, 32], { hidden: [4], classes: 2 })).toThrow(cv.ModelError);
    // 2^18 filters × 32 × 32 = 2^28 elements: at the limit, accepted (1×1 kernels: 2^20 parameters).
    const m = new cv.ConvAutoencoder(be, { convs: [{ filters: 2 ** 18, kernel: 1 }], pool: null }, [1, 32, 32]);
    expect(m.codeShape).toEqual([2 ** 18, 32, 32]);
    m.dispose();
  });
});

describe('nearest neighbours: k, queries × k, references × features, batch × references', () => {
  const emb = (n: number, dim = 1): cv.Embeddings => ({
    vectors: Float32Array.from({ length: n * dim }, (_, i) => (i * 7919) % 1009),
    n,
    dim,
  });

  // Before: k up to the references was accepted, and each query keeps its k nearest in a sorted list, so the time
  // grew with references × k per query: k = 4 000 of 4 000 references took 64 s, k = 50 000 of 50 000 hours.
  it('k over MAX_NEIGHBOURS is an ArgumentError even when there are more references', () => {
    const r = emb(cv.MAX_NEIGHBOURS + 2);
    const q = emb(1);
    const e = thrown(() => cv.nearestNeighbours(be, r, q, cv.MAX_NEIGHBOURS + 1));
    expect(e).toBeInstanceOf(cv.ArgumentError);
    expect(e.message).toContain(`[1, ${cv.MAX_NEIGHBOURS}] (MAX_NEIGHBOURS)`);
    expect(() => cv.neighbourScores(be, r, q, { k: cv.MAX_NEIGHBOURS + 1 })).toThrow(cv.ArgumentError);
    const labels = new Uint8Array(r.n);
    expect(() => cv.knnAccuracy(be, r, labels, q, new Uint8Array(1), { k: cv.MAX_NEIGHBOURS + 1 })).toThrow(
      /MAX_NEIGHBOURS/,
    );
    // The limit itself is accepted.
    expect(cv.nearestNeighbours(be, r, q, cv.MAX_NEIGHBOURS).indices.length).toBe(cv.MAX_NEIGHBOURS);
  });

  it("an anomaly detector's neighbour score with k over MAX_NEIGHBOURS is refused before an image is encoded", () => {
    const stack = new cv.StackedConvAutoencoder(be, [{ convs: [{ filters: 1, kernel: 1 }], pool: null }], [1, 2, 2]);
    const normal = cv.ImageDataset.fromFloat32(new Float32Array((cv.MAX_NEIGHBOURS + 2) * 4), [1, 2, 2]);
    const validation = cv.ImageDataset.fromFloat32(new Float32Array(8), [1, 2, 2]);
    const score = { type: 'neighbours', depth: 0, k: cv.MAX_NEIGHBOURS + 1 } as const;
    expect(() => cv.AnomalyDetector.fit(stack, normal, validation, { score })).toThrow(/score\.k.*MAX_NEIGHBOURS/);
    stack.dispose();
  });

  // Before: the dot products of a batch, [batchSize, references], were refused by be.empty as a ShapeError naming
  // no option, after the references had been copied in.
  it('a batch of queries × the references over MAX_TENSOR_ELEMENTS names batchSize, before anything is allocated', () => {
    const r = emb(300_000);
    const q = emb(1000);
    const live = { ...be.mem.live };
    const e = thrown(() => cv.nearestNeighbours(be, r, q, 1, { batchSize: 1000 }));
    expect(e).toBeInstanceOf(cv.ArgumentError);
    expect(e.message).toContain('batchSize');
    expect(e.message).toContain('1000 × 300000');
    expect(be.mem.live).toEqual(live);
  });

  // The check itself (the search it guards would take hours without it: 300 000 queries × 1 000 neighbours).
  it('queries × k over MAX_TENSOR_ELEMENTS names k', () => {
    const r = emb(cv.MAX_NEIGHBOURS);
    const q = emb(300_000);
    const e = thrown(() => checkNeighbours('nearestNeighbours', r, q, cv.MAX_NEIGHBOURS, {}));
    expect(e).toBeInstanceOf(cv.ArgumentError);
    expect(e.message).toMatch(/k .*300000 × 1000/);
  });
});

describe('workers of one pool', () => {
  // Before: any size was taken: 2 ** 26 ran the process out of heap (a fatal V8 error) filling the list of idle
  // slots, 2 ** 32 threw a RangeError; 257 was accepted.
  it('a size over MAX_WORKERS is an ArgumentError from Trainer.create, WorkerPool.create and createRunner', async () => {
    for (const size of [cv.MAX_WORKERS + 1, 2 ** 32]) {
      await expect(cv.Trainer.create(be, { size })).rejects.toThrow(/size must be an integer in \[1, 256\]/);
      await expect(cv.WorkerPool.create(be.workerOptions, { size })).rejects.toThrow(cv.ArgumentError);
      await expect(cv.createRunner(be, { workers: size })).rejects.toThrow(/workers must be an integer in \[0, 256\]/);
    }
    // The limit itself: a pool of 256 idle slots, none started.
    const t = await cv.Trainer.create(be, { size: cv.MAX_WORKERS });
    expect(t.workers).toBe(cv.MAX_WORKERS);
    await t.dispose();
    expect(await cv.defaultWorkers()).toBeLessThanOrEqual(cv.MAX_WORKERS);
  });
});

describe('codes of a dataset: images × code size', () => {
  // Before: allocated at once. 12 000 MNIST-sized images through 256 maps without pooling asked for 9.6 GB and got
  // it; here the first batch then failed with a ShapeError naming no option, the 4.4 GB array already taken.
  it('over MAX_RESULT_FLOATS is an ArgumentError naming the sizes, before any image is encoded', async () => {
    const stack = new cv.StackedConvAutoencoder(
      be,
      [{ convs: [{ filters: 4096, kernel: 1 }], pool: null }],
      [1, 64, 64],
    );
    const n = cv.MAX_RESULT_FLOATS / 2 ** 24 + 1; // codes of 4096 × 64 × 64 = 2^24 floats
    const data = cv.ImageDataset.fromFloat32(new Float32Array(n * 64 * 64), [1, 64, 64]);
    const e = thrown(() => cv.encode(stack, data));
    expect(e).toBeInstanceOf(cv.ArgumentError);
    expect(e.message).toContain(`${n} images × ${2 ** 24}`);
    expect(e.message).toContain('MAX_RESULT_FLOATS');
    const runner = cv.threadRunner(be);
    await expect(runner.encode(stack, data)).rejects.toThrow(/MAX_RESULT_FLOATS/);
    // The pixels themselves (depth 0) are small enough.
    expect(cv.encode(stack, data, { depth: 0 }).dim).toBe(64 * 64);
    stack.dispose();
  });
});

describe("a batch's layer outputs", () => {
  const optimizer = { type: 'sgd', lr: 0.1 } as const;

  // Before: the first forward threw a ShapeError naming no option ([64,256,256,256] over MAX_TENSOR_ELEMENTS).
  it('a training batch whose largest layer output passes MAX_TENSOR_ELEMENTS names batchSize before the first step', async () => {
    const m = new cv.ConvAutoencoder(
      be,
      { convs: [{ filters: 256, kernel: 3, padding: 1 }], pool: null },
      [1, 256, 256],
    );
    const data = cv.ImageDataset.fromFloat32(new Float32Array(64 * 256 * 256), [1, 256, 256]);
    const live = { ...be.mem.live };
    const e = await cv.fit(be, m.task(), data, { epochs: 1, batchSize: 64, optimizer }).then(
      () => new Error('trained'),
      (err: Error) => err,
    );
    expect(e).toBeInstanceOf(cv.ArgumentError);
    expect(e.message).toMatch(/batchSize of 64 images does not fit: at most 16/);
    expect(e.message).toContain('"cae.conv0"');
    expect(e.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(be.mem.live).toEqual(live);
    // Over 4 workers a batch of 64 is 16 per worker: it fits.
    expect(() => checkTrainerFitOptions(m, data, { epochs: 1, batchSize: 64, optimizer, workers: 4 })).not.toThrow();
    expect(() => checkTrainerFitOptions(m, data, { epochs: 1, batchSize: 64, optimizer, workers: 2 })).toThrow(
      /32 images per worker \(64 over 2\)/,
    );
    m.dispose();
  });

  // Before: accepted; the run grew memory to 4 GiB and failed with a MemoryError after 6 s, the 4 GiB kept by the
  // model's layers. (The check is called alone: without it, the run itself would take the 4 GiB.)
  it('a batch whose layer outputs together pass MAX_BACKEND_BYTES is refused, each output within the limit', () => {
    const m = new cv.ConvAutoencoder(
      be,
      {
        convs: [
          { filters: 64, kernel: 3, padding: 1 },
          { filters: 64, kernel: 3, padding: 1 },
        ],
        pool: null,
      },
      [1, 256, 256],
    );
    const data = cv.ImageDataset.fromFloat32(new Float32Array(60 * 256 * 256), [1, 256, 256]);
    expect(() => checkFit(m.task(), data, { epochs: 1, batchSize: 60, optimizer })).toThrow(
      /batchSize of 60 images does not fit: at most 42/,
    );
    expect(() => checkFit(m.task(), data, { epochs: 1, batchSize: 42, optimizer })).not.toThrow();
    m.dispose();
  });

  // The input counts (a batch of images is a tensor too); a pooling layer's switches count towards the total, but
  // each of its two tensors is only as large as its output (counted as one tensor of twice the size, a batch half
  // as large as fits was refused).
  it("a task's footprint: the input, each layer's output once, switches in the total", () => {
    const m = new cv.ConvAutoencoder(
      be,
      { convs: [{ filters: 2, kernel: 3, padding: 1 }], pool: { kernel: 1 } },
      [1, 8, 8],
    );
    // input 64; conv0, act0, pool (+ switches), unpool 128 each; deconv0, deact0 64 each.
    expect(m.task().footprint!()).toEqual({ largest: 128, layer: 'cae.conv0', total: 64 + 5 * 128 + 2 * 64 });
    m.dispose();
    const wide = new cv.ConvAutoencoder(be, { convs: [{ filters: 1, kernel: 1 }], pool: null }, [1, 64, 64]);
    expect(wide.task().footprint!()).toMatchObject({ largest: 4096, layer: 'input' });
    wide.dispose();
  });

  /** A task that claims a large footprint but computes nothing: records the batches it is given. */
  const recording = (largest: number) => {
    const seen: number[] = [];
    const task: cv.Task = {
      needsLabels: false,
      params: () => [],
      step: (x) => {
        seen.push(x.shape[0]);
        return 0;
      },
      evaluate: (x) => {
        seen.push(x.shape[0]);
        return { loss: 0 };
      },
      footprint: () => ({ largest, layer: 'big', total: largest }),
    };
    return { task, seen };
  };

  // Before: validation ran in batches of 256 whatever the model: a model training in batches of 2 failed with a
  // ShapeError after its first epoch, the weights already changed.
  it("fit's validation and evaluateTask take batches that fit by default; a given batch that does not is refused", async () => {
    const data = cv.ImageDataset.fromFloat32(new Float32Array(2 * 4), [1, 2, 2]);
    const validation = cv.ImageDataset.fromFloat32(new Float32Array(200 * 4), [1, 2, 2]);
    const { task, seen } = recording(2 ** 21); // 128 images per batch at most
    await cv.fit(be, task, data, { epochs: 1, batchSize: 2, optimizer, validation });
    expect(seen).toEqual([2, 128, 72]);
    seen.length = 0;
    cv.evaluateTask(be, task, validation);
    expect(seen).toEqual([128, 72]);
    expect(() => cv.evaluateTask(be, task, validation, { batchSize: 200 })).toThrow(/batchSize of 200 images/);
    // A small model keeps the default of 256.
    const small = recording(10);
    cv.evaluateTask(be, small.task, validation);
    expect(small.seen).toEqual([200]);
  });

  it("predict's default batch fits the model too", () => {
    const data = cv.ImageDataset.fromFloat32(new Float32Array(200 * 4), [1, 2, 2]);
    const { task } = recording(2 ** 21);
    const batches: number[] = [];
    let out: cv.Tensor | null = null;
    const model = {
      classes: 2,
      task: () => task,
      logits: (x: cv.Tensor) => {
        batches.push(x.shape[0]);
        out?.dispose();
        out = be.zeros([x.shape[0], 2]);
        return out;
      },
    };
    expect(cv.predict(be, model, data).classes.length).toBe(200);
    expect(batches).toEqual([128, 72]);
    out!.dispose();
  });
});

/** A one-block stack of `filters` 5×5 filters on 28×28 images, saved in `dir` as the CLI's commands read it. */
function saveStack(dir: string, filters: number): void {
  const stack = new cv.StackedConvAutoencoder(be, [{ convs: [{ filters, kernel: 5 }] }], [1, 28, 28]);
  const { json, weights } = cv.saveModel(stack);
  stack.dispose();
  writeFileSync(join(dir, 'stack.json'), json);
  writeFileSync(join(dir, 'stack.safetensors'), weights);
}

describe('convae features: features × --top images in one picture', () => {
  // Before: every feature's projections of its --top images were computed (and kept) first, and imageGrid refused
  // the 340001×1701 px picture at the end (2000 images, 20 features: 2.8 s, 1 GB); with 512 features the kept
  // projections alone needed 6 GB.
  it('a picture over MAX_RASTER_PIXELS names --top before any data loads or projection runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convae-features-'));
    try {
      saveStack(dir, 20);
      const args = { model: dir, data: 'mnist', top: 2000, limit: 2000, build: BUILD, quiet: true } as const;
      const t0 = performance.now();
      const e = await features(args).then(
        () => new Error('drew'),
        (err: Error) => err,
      );
      expect(e).toBeInstanceOf(cv.ArgumentError);
      expect(e.message).toMatch(/^convae features: --top 2000 draws 20 features × 2000 projections and images as/);
      expect(e.message).toContain('MAX_RASTER_PIXELS');
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(readdirSync(dir).sort()).toEqual(['stack.json', 'stack.safetensors']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('lists a caller hands over, spread as arguments', () => {
  // Before: history.epochs.push(...c.history) overflowed the call stack: a RangeError, not a ConvaeError.
  it('fit resumes from a checkpoint of 200 000 epochs', async () => {
    const m = new cv.ConvAutoencoder(be, { convs: [{ filters: 2, kernel: 3 }], pool: null }, [1, 4, 4]);
    const data = cv.ImageDataset.fromFloat32(new Float32Array(4 * 16), [1, 4, 4]);
    const opts = { epochs: 1, batchSize: 4, optimizer: { type: 'sgd', lr: 0.1 } } as const;
    let ck: cv.Checkpoint | undefined;
    const save = (c: cv.Checkpoint) => {
      ck = c;
    };
    await cv.fit(be, m.task(), data, { ...opts, checkpoint: { save } });
    const n = 200_000;
    const history = Array.from({ length: n }, (_, epoch) => ({ ...ck!.history[0], epoch }));
    const h = await cv.fit(be, m.task(), data, {
      ...opts,
      epochs: n + 1,
      resumeFrom: { ...ck!, epoch: n, history },
    });
    expect(h.epochs.length).toBe(n + 1);
    expect(h.epochs[n].epoch).toBe(n);
    m.dispose();
  });

  // Before: loose.push(...files) overflowed the call stack (the limit is MAX_IMAGE_FILES, a million).
  it('filesFromDrop takes 200 000 dropped files', async () => {
    const files = Array.from({ length: 200_000 }, (_, i) => ({ name: `f${i}.png` }) as File);
    const drop = { items: [], files } as unknown as DataTransfer;
    const entries = await cv.filesFromDrop(drop);
    expect(entries.length).toBe(200_000);
    expect(entries[199_999].path).toBe('f199999.png');
  });
});

describe('options of the probes', () => {
  const emb = (n: number, dim: number): cv.Embeddings => ({
    vectors: Float32Array.from({ length: n * dim }, (_, i) => (i * 7919) % 101),
    n,
    dim,
  });
  const labels = new Uint8Array(20);
  const probe = (o: unknown) => () =>
    cv.linearProbeAccuracy(emb(20, 4), labels, emb(20, 4), labels, o as cv.ProbeOptions);
  const knn = (o: unknown) => () => cv.knnAccuracy(be, emb(20, 4), labels, emb(20, 4), labels, o as cv.KnnOptions);

  // Before: not checked. classes 1e9 (probe) or 1e10 (knn) threw a RangeError from the weight or vote array; 2.5
  // and '3' ran on; steps 1e9 never ended (a synchronous loop: here 100 001, over the bound, to stay quick without
  // the check); lr NaN gave a number; a misspelt 'step' was ignored.
  it('classes, steps, lr, weightDecay and unknown fields are ArgumentErrors', () => {
    for (const o of [
      { classes: 1e9 },
      { classes: 2.5 },
      { classes: '3' },
      { classes: 257 },
      { steps: 100_001 },
      { steps: 2.5 },
      { steps: 0 },
      { lr: Number.NaN },
      { lr: 0 },
      { weightDecay: -1 },
      { step: 10 },
    ])
      expect(probe(o), JSON.stringify(o)).toThrow(cv.ArgumentError);
    for (const o of [{ classes: 1e10 }, { classes: '3' }, { classes: 0 }])
      expect(knn(o), JSON.stringify(o)).toThrow(/classes must be an integer in \[1, 256\]/);
    expect(probe({ classes: 256, steps: 3 })()).toBe(1);
    expect(knn({ classes: 256 })()).toBe(1);
  });

  // Before: allocated. 2^24 features here (without the check: a RangeError from the 4.3·10⁹-value weight array,
  // after standardising 384 MB of copies); 2^21 allocated 4 arrays of 4.3 GB.
  it("the probe's weights, classes × (features + 1), within MAX_TENSOR_ELEMENTS", () => {
    const wide = emb(1, 2 ** 24);
    const e = thrown(() => cv.linearProbeAccuracy(wide, [0], wide, [0], { classes: 256, steps: 1 }));
    expect(e).toBeInstanceOf(cv.ArgumentError);
    expect(e.message).toMatch(/classes 256 × \(16777216 features \+ 1\) weights are more than 268435456/);
  });
});

describe('float copies of a dataset: images × image size', () => {
  // A dataset that says it holds 2^22 + 1 images of 32×32 (its bytes are those of one): what the checks read is
  // its length and shape, before any image. A real one would be a 4 GiB byte store, within MAX_DATASET_BYTES.
  const one = cv.ImageDataset.fromFloat32(new Float32Array(1024), [1, 32, 32]);
  const huge = Object.create(one, { length: { value: 2 ** 22 + 1 } }) as cv.ImageDataset;

  // Before: each allocated its n × C·H·W floats first: here 4.3·10⁹, a RangeError (Invalid typed array length); a
  // byte dataset of 1-4 GiB asked for 4-16 GiB of floats and got them.
  it('reconstructions, maps, normalised and whitened copies over MAX_RESULT_FLOATS are ArgumentErrors', () => {
    const stack = new cv.StackedConvAutoencoder(be, [{ convs: [{ filters: 2, kernel: 3 }] }], [1, 32, 32]);
    const w: cv.Whitening = { channels: 1, window: 1, eps: 1, kernel: new Float32Array([1]) };
    const cases: [string, () => unknown, RegExp][] = [
      ['maps', () => cv.reconstructionScores(stack, huge, { maps: true }), /reconstructionScores: maps asks for/],
      ['reconstructThrough', () => cv.reconstructThrough(stack, huge, 1), /reconstructThrough: data asks for/],
      ['contrastNormalize', () => cv.contrastNormalize(huge), /contrastNormalize: data asks for/],
      ['whiten', () => cv.whiten(huge, w), /whiten: data asks for/],
    ];
    for (const [name, run, message] of cases) {
      const e = thrown(run);
      expect(e, name).toBeInstanceOf(cv.ArgumentError);
      expect(e.message, name).toMatch(message);
      expect(e.message, name).toContain('4194305 images × 1024');
    }
    stack.dispose();
  });
});

describe('convae reconstruct: --count × --scale in one picture', () => {
  // Before: the images were loaded and reconstructed (all in one batch) before reconstructionGrid refused the
  // 22409×3501875 px picture of --count 5000 --scale 100: 0.7 s and 0.9 GB for nothing.
  it('a picture over MAX_RASTER_PIXELS names --count before the images go through the CAE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convae-reconstruct-'));
    try {
      saveStack(dir, 4);
      const out = join(dir, 'r.png');
      const args = { model: dir, data: 'mnist', out, count: 5000, columns: 8, scale: 100, build: BUILD } as const;
      const e = await reconstruct(args).then(
        () => new Error('drew'),
        (err: Error) => err,
      );
      expect(e).toBeInstanceOf(cv.ArgumentError);
      expect(e.message).toMatch(/^convae reconstruct: --count 5000 at --scale 100 in 8 columns makes a 22409×/);
      expect(e.message).toContain('MAX_RASTER_PIXELS');
      // What fits is drawn.
      expect((await reconstruct({ ...args, count: 16, scale: 1 })).count).toBe(16);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('oneClassRun: the codes its neighbour scores encode', () => {
  // Before: refused by encode after the stack had trained (here with 0 epochs, so without the check the stack is
  // built and the refusal names `depth` of encode; with epochs, minutes of training came first).
  it('images × code size over MAX_RESULT_FLOATS names the score before the stack is built', async () => {
    const n = 600;
    const data = cv.ImageDataset.fromFloat32(
      new Float32Array(n * 1024),
      [1, 32, 32],
      Array.from({ length: n }, (_, i) => i % 2),
    );
    const live = { ...be.mem.live };
    const e = await cv
      .oneClassRun(be, data, data, 0, {
        blocks: [{ convs: [{ filters: 4096, kernel: 1 }], pool: null }],
        epochs: 0,
        batchSize: 8,
        optimizer: { type: 'sgd', lr: 0.1 },
        seed: 1,
        scores: [{ type: 'neighbours', depth: 1, k: 1 }],
        evaluate: 'test',
      })
      .then(
        () => new Error('scored'),
        (err: Error) => err,
      );
    expect(e).toBeInstanceOf(cv.ArgumentError);
    expect(e.message).toMatch(/^oneClassRun: scores\[0\]\.depth asks for codes of 4194304 floats: 600 images/);
    expect(be.mem.live).toEqual(live);
  });
});

describe('ImageDataset.subset: repeated indices × image size', () => {
  // Before: the copy was allocated whatever its size: repeats make it larger than the dataset (2 000 indices of one
  // 1024×1024 image took 8 GB); past 2^32 values, as here, it was a RangeError.
  it('a copy over MAX_RESULT_FLOATS (floats) or MAX_DATASET_BYTES (bytes) is an ArgumentError', () => {
    const floats = cv.ImageDataset.fromFloat32(new Float32Array(2 ** 20), [1, 1024, 1024]);
    const e = thrown(() => floats.subset(new Array(4097).fill(0)));
    expect(e).toBeInstanceOf(cv.ArgumentError);
    expect(e.message).toMatch(
      /^ImageDataset\.subset: indices asks for a copy of images of 1048576 floats: 4097 images/,
    );
    const bytes = cv.ImageDataset.fromUint8(new Uint8Array(2 ** 20), [1, 1024, 1024], undefined, { store: 'uint8' });
    expect(() => bytes.subset(new Array(8193).fill(0))).toThrow(/more than 4294967296 \(MAX_DATASET_BYTES\)/);
    expect(floats.subset([0, 0]).length).toBe(2);
  });
});

describe("a byte-stored dataset's floats: images × image size", () => {
  // Before: `images` converted every byte into a new Float32Array whatever its size (a byte store within
  // MAX_DATASET_BYTES is up to 16 GiB of floats), and so did fromUint8's default float store.
  it('over MAX_RESULT_FLOATS is an ArgumentError from the images getter and from fromUint8, nothing allocated', () => {
    const one = cv.ImageDataset.fromUint8(new Uint8Array(2 ** 20), [1, 1024, 1024], undefined, { store: 'uint8' });
    const huge = Object.create(one, { length: { value: 1025 } }) as cv.ImageDataset;
    const e = thrown(() => huge.images);
    expect(e).toBeInstanceOf(cv.ArgumentError);
    expect(e.message).toMatch(
      /^ImageDataset\.images: images asks for floats of every image of 1048576 floats: 1025 images/,
    );
    // 1 025 zero images of 1024×1024 bytes: reserved, never touched, so no memory is used until converted.
    const bytes = new Uint8Array(1025 * 2 ** 20);
    expect(() => cv.ImageDataset.fromUint8(bytes, [1, 1024, 1024])).toThrow(
      /^ImageDataset\.fromUint8: store asks for floats .* 1025 images × 1048576 = 1074790400 floats, more than 1073741824/,
    );
    expect(one.images.length).toBe(2 ** 20);
  });
});

describe('featureStrengths: images × maps', () => {
  // Before: the array of one double per image and map was allocated whatever its size (10⁴ images of a 65 536-map
  // block: 5 GB); past 2^32 values, as here, a RangeError.
  it('over MAX_RESULT_FLOATS (a double counting as two) is an ArgumentError naming block', () => {
    const stack = new cv.StackedConvAutoencoder(be, [{ convs: [{ filters: 4096, kernel: 1 }], pool: null }], [1, 2, 2]);
    const one = cv.ImageDataset.fromFloat32(new Float32Array(4), [1, 2, 2]);
    const huge = Object.create(one, { length: { value: 2 ** 20 + 1 } }) as cv.ImageDataset;
    const e = thrown(() => cv.featureStrengths(stack, huge, 0));
    expect(e).toBeInstanceOf(cv.ArgumentError);
    expect(e.message).toMatch(/^featureStrengths: block asks for strengths \(doubles\) of every map of 8192 floats/);
    expect(cv.featureStrengths(stack, one, 0).length).toBe(4096);
    stack.dispose();
  });
});

describe('predict: images × classes', () => {
  // Before: the logits were allocated whatever their size (a valid 4 096-class classifier on 2^20 images: past 2^32
  // values, a RangeError).
  it('logits over MAX_RESULT_FLOATS are an ArgumentError, on this thread and in workers', async () => {
    const clf = cv.Classifier.fromBlocks(be, [{ convs: [{ filters: 1, kernel: 1 }], pool: null }], [1, 2, 2], {
      hidden: [],
      classes: 4096,
    });
    const one = cv.ImageDataset.fromFloat32(new Float32Array(4), [1, 2, 2]);
    const huge = Object.create(one, { length: { value: 2 ** 20 + 1 } }) as cv.ImageDataset;
    expect(() => cv.predict(be, clf, huge)).toThrow(/^predict: data asks for logits of 4096 floats: 1048577 images/);
    const trainer = await cv.Trainer.create(be, { size: 1 });
    try {
      await expect(trainer.predict(clf, huge)).rejects.toThrow(/^Trainer\.predict: data asks for logits/);
    } finally {
      await trainer.dispose();
    }
    expect(cv.predict(be, clf, one).logits.length).toBe(4096);
    clf.dispose();
  });
});

describe('the default batch of a pass through a stack: 256 images, or as many as fit', () => {
  // Before: 256 whatever the stack, so encode, reconstructionScores, codeSaturation and featureStrengths (also in
  // workers) of a large first layer failed at the first forward with a ShapeError naming no option.
  it('encode and reconstruction take the most that fit by default, and refuse a given batch that does not', () => {
    // One image's conv output is 1024 × 256 × 256 = 2^26 values: 4 images fill MAX_TENSOR_ELEMENTS.
    const stack = new cv.StackedConvAutoencoder(
      be,
      [{ convs: [{ filters: 1024, kernel: 1 }], pool: null }],
      [1, 256, 256],
    );
    const data = cv.ImageDataset.fromFloat32(new Float32Array(8 * 256 * 256), [1, 256, 256]);
    try {
      expect(checkEncode('encode', stack, data, {}).batchSize).toBe(4);
      expect(checkReconstruction('reconstructionScores', stack, data, {}).batchSize).toBe(4);
      const e = thrown(() => checkEncode('encode', stack, data, { batchSize: 8 }));
      expect(e).toBeInstanceOf(cv.ArgumentError);
      expect(e.message).toBe(
        'encode: batchSize of 8 images does not fit through 1 block(s) of this stack: at most 4 (MAX_TENSOR_ELEMENTS, MAX_BACKEND_BYTES)',
      );
      // A batch larger than the data runs as one batch of the data: 3 images fit.
      expect(checkEncode('encode', stack, data.take(3), { batchSize: 8 }).batchSize).toBe(8);
      // A small stack keeps 256.
      const small = new cv.StackedConvAutoencoder(be, [{ convs: [{ filters: 4, kernel: 3 }] }], [1, 256, 256]);
      expect(checkEncode('encode', small, data, {}).batchSize).toBe(256);
      small.dispose();
    } finally {
      stack.dispose();
    }
  });
});
