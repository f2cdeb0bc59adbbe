/**
 * Kernel threads of a worker pool on the native build (the only one with more than one a worker): workers ×
 * threads per worker is bounded as a whole, as each factor is alone.
 */
import { describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { backendUnderTest } from '../util/backend.js';

const be = await backendUnderTest();

describe('kernel threads of one pool', () => {
  // Before: 256 workers × 64 kernel threads each (each bound alone allowed) asked for 16 384 OS threads.
  it('workers × kernel threads over MAX_POOL_THREADS is an ArgumentError naming threads', async () => {
    const e = await cv.Trainer.create(be, { size: cv.MAX_WORKERS, threads: 8 }).then(
      () => null,
      (x) => x,
    );
    expect(e).toBeInstanceOf(cv.ArgumentError);
    expect(e.message).toBe(
      'WorkerPool: threads 8 per worker × 256 workers = 2048 kernel threads, more than 1024 (MAX_POOL_THREADS)',
    );
    // At the limit: a pool of idle slots, none started.
    const t = await cv.Trainer.create(be, { size: cv.MAX_POOL_THREADS / 4, threads: 4 });
    expect(t.workers).toBe(cv.MAX_POOL_THREADS / 4);
    await t.dispose();
  });
});
