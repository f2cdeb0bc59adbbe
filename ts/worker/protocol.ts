/** The typed API a convae worker exposes (through comlink), and what its calls carry. */
import type { ProbeSpec } from '../anomaly/linearprobe.js';
import type { Build, LoadOptions } from '../backend/loader.js';
import type { Checkpoint } from '../train/checkpoint.js';
import type { BatchInfo, EpochInfo, FitOptions, History } from '../train/fit.js';
import type { TaskSpec } from '../model/model.js';
import type { DatasetWire } from './wire.js';

/** What to train in a model; the model's kind reads it (`model.task(spec)`). */
export type { TaskSpec } from '../model/model.js';

/** fit's options without what cannot cross a thread: callbacks and the signal (they travel separately). */
export type WireFitOptions = Omit<
  FitOptions,
  'onBatch' | 'onEpoch' | 'signal' | 'checkpoint' | 'resumeFrom' | 'validation'
> & {
  validation?: number;
  checkpointEvery?: number;
  /** Send the task's parameters every this many batches (live pictures of filters and reconstructions). */
  snapshotEvery?: number;
};

export interface FitJob {
  /** The model as saveModel writes it. */
  model: { json: string; weights: Uint8Array };
  task: TaskSpec;
  data: DatasetWire;
  validation?: DatasetWire;
  /** A validation split made once by the caller: images of `data` by index. */
  split?: { train: Uint32Array; validation: Uint32Array };
  options: WireFitOptions;
  resumeFrom?: Checkpoint;
  /** Data-parallel replica: index among `count`, and either the shared all-reduce buffer or a port to each other replica. */
  replica?: {
    index: number;
    count: number;
    floats: number;
    shared?: SharedArrayBuffer;
    ports?: (MessagePort | null)[];
  };
}

/** Progress reaching the caller (a comlink proxy); `checkpoint` is awaited before training goes on. */
export interface FitEvents {
  /** Every batch's info, in order, sent in groups (at most every few tens of milliseconds) to keep messages off the training path. */
  batches(infos: BatchInfo[]): void;
  epoch(info: EpochInfo): void;
  checkpoint(c: Checkpoint): Promise<void>;
  snapshot(params: Record<string, Float32Array>, info: BatchInfo): void;
  /** Answered after every earlier event was handled (messages on one port arrive in order). */
  flush(): void;
}

export interface FitResult {
  /** The trained parameters of the task, by name. */
  params: Record<string, Float32Array>;
  history: History;
}

/** A model for a worker's inference slot: sent only when the worker does not hold this version already. */
export interface ModelRef {
  /** The model as saveModel writes it, or null when the worker holds it already (same key and checksum as its last job). */
  model: { json: string; weights: Uint8Array } | null;
  modelKey: number;
  checksum: string;
}

export interface PredictJob extends ModelRef {
  data: DatasetWire;
  /** Images [start, end) of `data`. */
  start: number;
  end: number;
  batchSize: number;
}

/** What `apply` computes with a CAE stack: codes after `depth` blocks, reconstruction errors or reconstructions through `depth` blocks. */
export type ApplyOp =
  | { type: 'encode'; depth: number }
  | { type: 'reconstruction'; depth: number; maps: boolean }
  | { type: 'reconstruct'; depth: number };

export interface ApplyJob extends PredictJob {
  op: ApplyOp;
}

/** What `apply` returns for its images: codes (encode), scores and optional maps (reconstruction), or reconstructions (reconstruct). */
export interface ApplyResult {
  codes?: Float32Array;
  reconstructions?: Float32Array;
  scores?: Float64Array;
  maps?: Float32Array;
}

export interface NeighbourJob {
  reference: { vectors: Float32Array; n: number; dim: number };
  /** The worker's queries, row-major. */
  queries: Float32Array;
  k: number;
  /** ≥ 0: query row i is reference row selfOffset + i and is left out; −1: none. */
  selfOffset: number;
  batchSize: number;
}

/** A linear probe for one worker: copies of the caller's vectors and labels, made for it and transferred. */
export interface LinearProbeJob {
  train: { vectors: Float32Array; n: number; dim: number };
  /** One label a byte (classes ≤ 256). */
  trainLabels: Uint8Array;
  test: { vectors: Float32Array; n: number; dim: number };
  testLabels: Uint8Array;
  spec: ProbeSpec;
}

export interface WorkerInfo {
  build: Build;
  threads: number;
}

export interface WorkerApi {
  /** Loads the caller's build: its compiled wasm module (compiled once, by the caller), or the native addon's file (`Backend.workerOptions`), and sets its kernel threads. */
  init(backend: LoadOptions, threads: number): Promise<WorkerInfo>;
  /** `events`: a port on which the caller exposes FitEvents (closed by the caller when the call ends). */
  fit(job: number, spec: FitJob, events: MessagePort | null): Promise<FitResult>;
  /** Logits of a classifier for images [start, end), in batches (inference mode). */
  predict(job: PredictJob): Promise<Float32Array>;
  /** Codes or reconstruction errors of a CAE stack for images [start, end), in batches from `start`. */
  apply(job: ApplyJob): Promise<ApplyResult>;
  /** The k nearest reference rows of each query row. */
  neighbours(job: NeighbourJob): Promise<{ indices: Int32Array; distances: Float32Array; k: number }>;
  /** The accuracy of a linear probe (checked by the caller); `abort(job)` stops it between steps. */
  linearProbe(job: number, spec: LinearProbeJob): Promise<number>;
  abort(job: number): void;
  /** A peer of this data-parallel job died: stop waiting for it. */
  poison(job: number): void;
  pause(job: number): void;
  resume(job: number): void;
  /** For tests of failure handling: the worker dies the given way. */
  fail(how: 'exit' | 'uncaught' | 'oom'): void;
}
