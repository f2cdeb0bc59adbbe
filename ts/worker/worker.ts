/**
 * The worker: one source for Node's worker_threads and browsers' module
 * Workers, bundled once (scripts/bundle-worker.mjs → dist/worker.js). It
 * rebuilds the model from its saved form, trains it with the same fit loop as
 * the main thread and hands the parameters back, transferred.
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { loadBackend, type Backend } from '../backend/backend.js';
import { BackendError, ModelError } from '../errors.js';
import { encodeRange, neighbourRows } from '../anomaly/embed.js';
import { linearProbeRun } from '../anomaly/linearprobe.js';
import { reconstructionRange, reconstructRange } from '../anomaly/score.js';
import type { StackedConvAutoencoder } from '../model/autoencoder.js';
import { isClassifying, type Model } from '../model/model.js';
import { loadModel } from '../model/serialize.js';
import { predictLogits } from '../train/evaluate.js';
import { fitReplica, type BatchInfo, type Task } from '../train/fit.js';
import { importNode } from '../util/nodeimport.js';
import { SharedReducer } from './allreduce.js';
import { PortReducer } from './portreduce.js';
import type {
  ApplyJob,
  ApplyResult,
  FitEvents,
  FitJob,
  FitResult,
  LinearProbeJob,
  ModelRef,
  NeighbourJob,
  PredictJob,
  WorkerApi,
} from './protocol.js';
import { datasetFromWire } from './wire.js';

let be: Backend | null = null;
/** The model of the last inference job (predict, apply): kept, so repeated passes do not ship it again. */
let held: { key: number; checksum: string; model: Model } | null = null;

interface Running {
  abort: AbortController;
  sync?: SharedReducer | PortReducer;
  resume: (() => void) | null;
  paused: Promise<void> | null;
}
const jobs = new Map<number, Running>();
const ignore = () => {};
/** Batch events travel in groups at most this often: one message per step would cost the leader time its peers wait for. */
const BATCH_EVENTS_MS = 40;

const api: WorkerApi = {
  async init(backend, threads) {
    be = await loadBackend(backend);
    be.setThreads(threads);
    return { build: be.build, threads: be.threads };
  },

  async fit(id: number, job: FitJob, port: MessagePort | null): Promise<FitResult> {
    if (!be) throw new BackendError('convae worker: fit before init');
    const events = port ? Comlink.wrap<FitEvents>(port) : null;
    const running: Running = { abort: new AbortController(), resume: null, paused: null };
    jobs.set(id, running);
    const replica = job.replica;
    const leader = !replica || replica.index === 0;
    const sync = !replica
      ? undefined
      : replica.shared
        ? new SharedReducer(be, replica.shared, replica.index, replica.count, replica.floats)
        : new PortReducer(be, replica.index, replica.count, replica.floats, replica.ports ?? []);
    running.sync = sync;
    let model: Model | null = null;
    try {
      // The caller checked these already (its own model, its own datasets): no non-finite scan again.
      model = loadModel(be, job.model.json, job.model.weights, {
        source: 'model posted to the worker',
        allowNonFinite: true,
      }).model;
      // The model's kind knows its tasks and their random streams (reseeded per replica by fit).
      const task = model.task(job.task);
      const o = job.options;
      let pending: BatchInfo[] = [],
        sentAt = -Infinity;
      const history = await fitReplica(be, task, datasetFromWire(job.data), {
        ...o,
        validation: job.validation ? datasetFromWire(job.validation) : o.validation,
        split: job.split,
        signal: running.abort.signal,
        resumeFrom: job.resumeFrom,
        sync,
        gate: () => running.paused,
        // Events are fire-and-forget except checkpoints, which the caller may be writing to disk.
        onBatch:
          leader && events
            ? (i) => {
                pending.push(i);
                const now = performance.now();
                if (now - sentAt >= BATCH_EVENTS_MS || i.batch === i.batches) {
                  void Promise.resolve(events.batches(pending)).catch(ignore);
                  pending = [];
                  sentAt = now;
                }
                if (o.snapshotEvery && (i.batch % o.snapshotEvery === 0 || i.batch === i.batches)) {
                  const snap = paramsOf(task);
                  void Promise.resolve(events.snapshot(Comlink.transfer(snap, buffersOf(snap)), i)).catch(ignore);
                }
              }
            : undefined,
        onEpoch: leader && events ? (i) => void Promise.resolve(events.epoch(i)).catch(ignore) : undefined,
        checkpoint:
          leader && events && o.checkpointEvery
            ? { every: o.checkpointEvery, save: (c) => events.checkpoint(c) }
            : undefined,
      });
      const params = paramsOf(task);
      // The result travels on another channel than the events: let every event reach the caller first.
      if (events) {
        if (pending.length) void Promise.resolve(events.batches(pending)).catch(ignore);
        await events.flush();
      }
      return Comlink.transfer({ params, history }, buffersOf(params));
    } catch (e) {
      sync?.poison();
      throw e;
    } finally {
      jobs.delete(id);
      sync?.dispose();
      model?.dispose();
      port?.close();
    }
  },

  async predict(job: PredictJob): Promise<Float32Array> {
    const model = holding(job);
    if (!isClassifying(model))
      throw new ModelError('worker', `predict needs a model that scores classes, not a '${model.kind}'`);
    const out = predictLogits(be!, model, datasetFromWire(job.data), job.start, job.end, job.batchSize);
    return Comlink.transfer(out, [out.buffer]);
  },

  async apply(job: ApplyJob): Promise<ApplyResult> {
    const model = holding(job);
    if (model.kind !== 'stack')
      throw new ModelError('worker', `encode and reconstruction scores need a CAE stack, not a '${model.kind}'`);
    const stack = model as StackedConvAutoencoder,
      data = datasetFromWire(job.data),
      op = job.op;
    if (op.type === 'encode') {
      const codes = encodeRange(stack, data, op.depth, job.batchSize, job.start, job.end);
      return Comlink.transfer({ codes }, [codes.buffer]);
    }
    if (op.type === 'reconstruct') {
      const reconstructions = reconstructRange(stack, data, op.depth, job.batchSize, job.start, job.end);
      return Comlink.transfer({ reconstructions }, [reconstructions.buffer]);
    }
    const r = reconstructionRange(stack, data, op.depth, job.batchSize, op.maps, job.start, job.end);
    return Comlink.transfer(r, [r.scores.buffer, ...(r.maps ? [r.maps.buffer] : [])]);
  },

  async neighbours(job: NeighbourJob) {
    if (!be) throw new BackendError('convae worker: neighbours before init');
    const nn = neighbourRows(be, job.reference, job.queries, job.k, job.selfOffset, job.batchSize);
    return Comlink.transfer(nn, [nn.indices.buffer, nn.distances.buffer]);
  },

  async linearProbe(id: number, job: LinearProbeJob): Promise<number> {
    // A job of its own, so that abort(id) reaches it; it breaks for messages every ~30 ms of steps.
    const running: Running = { abort: new AbortController(), resume: null, paused: null };
    jobs.set(id, running);
    try {
      const { train, trainLabels, test, testLabels, spec } = job;
      return await linearProbeRun(train, trainLabels, test, testLabels, spec, running.abort.signal);
    } finally {
      jobs.delete(id);
    }
  },

  abort(id) {
    const r = jobs.get(id);
    if (!r) return;
    r.abort.abort();
    r.resume?.();
  },

  poison(id) {
    jobs.get(id)?.sync?.poison();
  },

  pause(id) {
    const r = jobs.get(id);
    if (!r || r.paused) return;
    r.paused = new Promise<void>((ok) => (r.resume = ok));
  },

  resume(id) {
    const r = jobs.get(id);
    if (!r?.resume) return;
    r.resume();
    r.resume = null;
    r.paused = null;
  },

  fail(how) {
    if (how === 'exit') {
      const p = (globalThis as { process?: { exit(c: number): void } }).process;
      if (p?.exit) p.exit(3);
      else (globalThis as unknown as { close(): void }).close();
    } else if (how === 'uncaught') {
      setTimeout(() => {
        throw new Error('uncaught error in the worker (test)');
      }, 0);
    } else {
      // Grows the JS heap until the engine gives up (Node: resourceLimits of the pool).
      const hog: number[][] = [];
      const grow = () => {
        for (let i = 0; i < 64; i++) hog.push(new Array(1 << 20).fill(i + 0.5));
        setTimeout(grow, 0);
      };
      grow();
    }
  },
};

/** The model a job names: loaded from the job, or the one held since the last job (same key and checksum). */
function holding(job: ModelRef): Model {
  if (!be) throw new BackendError('convae worker: inference before init');
  if (job.model) {
    held?.model.dispose();
    held = null;
    // The caller checked its own model: no non-finite scan again.
    const { model } = loadModel(be, job.model.json, job.model.weights, {
      source: 'model posted to the worker',
      allowNonFinite: true,
    });
    held = { key: job.modelKey, checksum: job.checksum, model };
  } else if (!held || held.key !== job.modelKey || held.checksum !== job.checksum) {
    throw new ModelError(
      'worker',
      'the worker does not hold this model (internal error: the caller should have sent it)',
    );
  }
  return held.model;
}

function paramsOf(task: Task): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const p of task.params()) out[p.name] = p.value.toArray();
  return out;
}

const buffersOf = (params: Record<string, Float32Array>) => Object.values(params).map((a) => a.buffer as ArrayBuffer);

declare const WorkerGlobalScope: { new (): unknown } | undefined;
if (typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope) {
  Comlink.expose(api);
} else {
  // No top-level await: webpack copies this bundle into an app as an asset and minifies it as a classic script.
  void importNode('worker_threads').then(({ parentPort }) => {
    if (!parentPort) throw new Error('convae worker: not running in a worker');
    Comlink.expose(api, nodeEndpoint(parentPort as never));
  });
}
