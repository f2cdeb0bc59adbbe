/**
 * Inference passes in workers (encode, reconstruction scores and maps, reconstructions, nearest
 * neighbours, the anomaly detector on a runner) against the same functions on
 * this thread: equal bit for bit, for 1–3 workers, uneven shards, float- and
 * byte-stored datasets; the workers keep the model and get it again when its
 * weights change or a worker is replaced; bad arguments are typed errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AnomalyDetector } from '../../ts/anomaly/detector.js';
import { encode, nearestNeighbours } from '../../ts/anomaly/embed.js';
import { reconstructionScores, reconstructThrough } from '../../ts/anomaly/score.js';
import { ImageDataset } from '../../ts/data/dataset.js';
import { ArgumentError, DataError } from '../../ts/errors.js';
import { stackLayerTask } from '../../ts/model/tasks.js';
import { fit } from '../../ts/train/fit.js';
import { threadRunner } from '../../ts/train/runner.js';
import { batchShards } from '../../ts/worker/passes.js';
import { Trainer } from '../../ts/worker/trainer.js';
import { BUILD } from '../util/backend.js';
import { be, classifierOf, data, stackOf } from './setup.js';

const trainer = await Trainer.create(be, { size: 3 });
const stack = stackOf(21);
for (const k of [0, 1])
  await fit(be, stackLayerTask(stack, k), data, {
    epochs: 1,
    batchSize: 32,
    seed: 3 + k,
    optimizer: { type: 'adam', lr: 3e-3 },
  });
afterAll(async () => {
  stack.dispose();
  await trainer.dispose();
});

const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

/** The same images stored as bytes (converted per batch on both sides). */
const bytes = (() => {
  const src = data.take(301).images;
  const b = new Uint8Array(src.length);
  for (let i = 0; i < b.length; i++) b[i] = Math.round(src[i] * 255);
  return ImageDataset.fromUint8(b, data.shape, data.labels!.subarray(0, 301), { store: 'uint8' });
})();

describe(`inference passes in workers (${BUILD})`, () => {
  it('batchShards: contiguous runs of whole batches covering [0, n), none empty', () => {
    for (const n of [1, 5, 63, 64, 65, 301, 1000])
      for (const bs of [1, 7, 64, 256])
        for (const parts of [1, 2, 3, 8]) {
          const s = batchShards(n, bs, parts);
          expect(s.length).toBe(Math.min(parts, Math.ceil(n / bs)));
          expect(s[0][0]).toBe(0);
          expect(s[s.length - 1][1]).toBe(n);
          s.forEach(([a, b], i) => {
            expect(b).toBeGreaterThan(a);
            expect(a % bs).toBe(0);
            if (i > 0) expect(a).toBe(s[i - 1][1]);
          });
        }
  });

  it('encode: codes at every depth equal this thread, bit for bit (1–3 workers, uneven shards, bytes or floats)', async () => {
    const test = data.take(301);
    for (const d of [test, bytes])
      for (const depth of [0, 1, 2]) {
        const want = encode(stack, d, { depth, batchSize: 64 });
        for (const workers of [1, 2, 3]) {
          const got = await trainer.encode(stack, d, { depth, batchSize: 64, workers });
          expect([got.n, got.dim]).toEqual([want.n, want.dim]);
          expect(same(got.vectors, want.vectors)).toBe(true);
        }
      }
    // The default batch (256) over 301 images: two shards of 256 and 45.
    expect(same((await trainer.encode(stack, test)).vectors, encode(stack, test).vectors)).toBe(true);
  });

  it('reconstruction scores and per-pixel maps equal this thread, bit for bit', async () => {
    const test = data.take(301);
    for (const d of [test, bytes])
      for (const depth of [1, 2]) {
        const want = reconstructionScores(stack, d, { depth, maps: true, batchSize: 50 });
        const got = await trainer.reconstructionScores(stack, d, { depth, maps: true, batchSize: 50, workers: 3 });
        expect(same(got.scores, want.scores)).toBe(true);
        expect(same(got.maps!, want.maps!)).toBe(true);
        const noMaps = await trainer.reconstructionScores(stack, d, { depth, batchSize: 50, workers: 2 });
        expect(noMaps.maps).toBeUndefined();
        expect(same(noMaps.scores, want.scores)).toBe(true);
      }
  });

  it('reconstructions (reconstructThrough) equal this thread, bit for bit', async () => {
    const test = data.take(301);
    for (const d of [test, bytes])
      for (const depth of [1, 2]) {
        const want = reconstructThrough(stack, d, depth, 50);
        for (const workers of [2, 3]) {
          const got = await trainer.reconstructThrough(stack, d, { depth, batchSize: 50, workers });
          expect(same(got, want)).toBe(true);
        }
      }
  });

  it('nearest neighbours (and with skipSelf) equal this thread, bit for bit', async () => {
    const ref = encode(stack, data.subset(Array.from({ length: 299 }, (_, i) => 300 + i)), { depth: 2 });
    const query = encode(stack, data.take(301), { depth: 2 });
    const want = nearestNeighbours(be, ref, query, 5, { batchSize: 40 });
    for (const workers of [1, 3]) {
      const got = await trainer.nearestNeighbours(ref, query, 5, { batchSize: 40, workers });
      expect(got.k).toBe(5);
      expect(same(got.indices, want.indices)).toBe(true);
      expect(same(got.distances, want.distances)).toBe(true);
    }
    const selfWant = nearestNeighbours(be, query, query, 3, { skipSelf: true, batchSize: 64 });
    const selfGot = await trainer.nearestNeighbours(query, query, 3, { skipSelf: true, batchSize: 64, workers: 3 });
    expect(same(selfGot.indices, selfWant.indices)).toBe(true);
    expect(same(selfGot.distances, selfWant.distances)).toBe(true);
    // No query is its own neighbour.
    for (let i = 0; i < query.n; i++) expect(Array.from(selfGot.indices.subarray(3 * i, 3 * i + 3))).not.toContain(i);
  });

  it('AnomalyDetector on a runner = on this thread: threshold, scores, flags and error maps', async () => {
    const normal = data.take(300),
      val = data.subset(Array.from({ length: 100 }, (_, i) => 300 + i)),
      test = data.subset(Array.from({ length: 200 }, (_, i) => 400 + i));
    for (const score of [
      { type: 'neighbours', depth: 2, k: 5 },
      { type: 'reconstruction', depth: 1 },
    ] as const) {
      const a = AnomalyDetector.fit(stack, normal, val, { score, threshold: { fpr: 0.1 } });
      for (const runner of [trainer, threadRunner(be)]) {
        const b = await AnomalyDetector.fitOn(runner, stack, normal, val, { score, threshold: { fpr: 0.1 } });
        expect(Object.is(b.threshold, a.threshold)).toBe(true);
        const da = a.detect(test),
          db = await b.detectOn(runner, test);
        expect(same(db.scores, da.scores)).toBe(true);
        expect(same(db.flags, da.flags)).toBe(true);
        expect(same(await b.errorMapsOn(runner, test), a.errorMaps(test))).toBe(true);
      }
    }
  });

  it('the workers keep the model, and get it again when its weights change or a worker is replaced', async () => {
    const s = stackOf(4);
    try {
      const test = data.take(130);
      const first = await trainer.encode(s, test, { batchSize: 32 });
      expect(same(first.vectors, encode(s, test, { batchSize: 32 }).vectors)).toBe(true);
      await fit(be, stackLayerTask(s, 0), data, { epochs: 1, batchSize: 64, optimizer: { type: 'adam', lr: 1e-2 } });
      const want = encode(s, test, { batchSize: 32 });
      expect(same(want.vectors, first.vectors)).toBe(false);
      expect(same((await trainer.encode(s, test, { batchSize: 32 })).vectors, want.vectors)).toBe(true);
      // A worker that dies is replaced; the new one has no model and must be sent it.
      const [h] = trainer.pool.handles();
      await h.call(() => h.api.fail('exit')).catch(() => {});
      expect(h.dead).toBe(true);
      expect(same((await trainer.encode(s, test, { batchSize: 32 })).vectors, want.vectors)).toBe(true);
    } finally {
      s.dispose();
    }
  });

  it('bad arguments are typed errors before any worker is busy', async () => {
    const test = data.take(10);
    await expect(trainer.encode(stack, test, { workers: 4 })).rejects.toThrow(ArgumentError);
    await expect(trainer.encode(stack, test, { workers: 0 })).rejects.toThrow(ArgumentError);
    await expect(trainer.encode(stack, test, { depth: 3 })).rejects.toThrow(ArgumentError);
    await expect(trainer.encode(stack, test, { batchSize: 0 })).rejects.toThrow(ArgumentError);
    await expect(trainer.reconstructionScores(stack, test, { depth: 0 })).rejects.toThrow(ArgumentError);
    const clf = classifierOf(1);
    await expect(trainer.encode(clf as never, test)).rejects.toThrow(ArgumentError);
    clf.dispose();
    const rgb = ImageDataset.fromFloat32(new Float32Array(3 * 28 * 28), [3, 28, 28]);
    await expect(trainer.encode(stack, rgb)).rejects.toThrow(DataError);
    const q = encode(stack, test, { depth: 1 }),
      r = encode(stack, test, { depth: 2 });
    await expect(trainer.nearestNeighbours(r, q, 1)).rejects.toThrow(ArgumentError);
    await expect(trainer.nearestNeighbours(r, r, 11)).rejects.toThrow(ArgumentError);
    await expect(trainer.nearestNeighbours(r, r, 1, { workers: 9 })).rejects.toThrow(ArgumentError);
  });

  it('null options mean the defaults and a non-object is an ArgumentError, on either runner', async () => {
    const test = data.take(20);
    const codes = encode(stack, test);
    for (const runner of [trainer, threadRunner(be)]) {
      const name = runner === trainer ? 'Trainer' : 'Runner';
      expect(same((await runner.encode(stack, test, null as never)).vectors, codes.vectors)).toBe(true);
      const scores = await runner.reconstructionScores(stack, test, null as never);
      expect(same(scores.scores, (await runner.reconstructionScores(stack, test)).scores)).toBe(true);
      expect(scores.maps).toBeUndefined();
      const nn = await runner.nearestNeighbours(codes, codes, 2, null as never);
      expect(same(nn.indices, (await runner.nearestNeighbours(codes, codes, 2)).indices)).toBe(true);
      for (const [method, run] of [
        ['encode', () => runner.encode(stack, test, 5 as never)],
        ['reconstructionScores', () => runner.reconstructionScores(stack, test, 'maps' as never)],
        ['nearestNeighbours', () => runner.nearestNeighbours(codes, codes, 2, [] as never)],
      ] as const)
        await expect(run()).rejects.toThrow(new RegExp(`^${name}\\.${method}: options must be an object, got `));
    }
    const clf = classifierOf(1);
    try {
      const want = await trainer.predict(clf, test);
      expect(same((await trainer.predict(clf, test, null as never)).logits, want.logits)).toBe(true);
      await expect(trainer.predict(clf, test, 1n as never)).rejects.toThrow(
        /^Trainer\.predict: options must be an object, got 1n/,
      );
    } finally {
      clf.dispose();
    }
  });
});
