/**
 * The all-reduce of synchronous data-parallel training, in a SharedArrayBuffer
 * the coordinator allocates and every replica maps:
 *
 *   control  Int32[16]: arrived, generation, poison, stop decision (×2 parities)
 *   scalars  Float64[2 parities × replicas × 8]: [weight, scalars...]
 *   slots    Float32[2 parities × replicas × floats]: each replica's gradients
 *
 * A step: each replica writes its gradients into its slot, meets the others at
 * a barrier, then sums all slots in replica order (so every replica computes
 * the very same floats) into its own gradients. Slots alternate between two
 * parities, so a replica already writing step t+1 never overwrites what a
 * slower one still reads for step t: one barrier per step.
 *
 * A replica that fails, or the coordinator when a worker dies, sets `poison`;
 * replicas waiting at the barrier wake and throw instead of waiting forever.
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/memory.js';
import { WorkerError } from '../errors.js';
import type { Param } from '../model/layer.js';
import { axpby } from '../ops/elementwise.js';
import type { ReplicaSync } from '../train/fit.js';

/** How long a replica spins at the barrier before it sleeps. */
const SPIN_MS = 0.5;
const CONTROL = 16,
  SCALARS = 8;
const ARRIVED = 0,
  GENERATION = 1,
  POISON = 2,
  STOP = 3;

export function sharedBytes(replicas: number, floats: number): number {
  return CONTROL * 4 + 2 * replicas * SCALARS * 8 + 2 * replicas * floats * 4;
}

export function createShared(replicas: number, floats: number): SharedArrayBuffer {
  return new SharedArrayBuffer(sharedBytes(replicas, floats));
}

/** Wakes every replica waiting at the barrier and makes it throw (the coordinator's side). */
export function poisonShared(sab: SharedArrayBuffer, reason: number = 1): void {
  const c = new Int32Array(sab, 0, CONTROL);
  Atomics.store(c, POISON, reason);
  Atomics.notify(c, GENERATION);
}

export class SharedReducer implements ReplicaSync {
  private readonly control: Int32Array;
  private readonly scalars: Float64Array;
  private readonly slots: Float32Array;
  private step = 0;
  /** Two replicas: the other's gradients, copied into wasm memory to be averaged by a SIMD kernel. */
  private other: Tensor[] | null = null;

  constructor(
    private readonly be: Backend,
    sab: SharedArrayBuffer,
    readonly index: number,
    readonly count: number,
    /** Total gradient floats of the model (the sum of its trainable parameter sizes). */
    readonly floats: number,
  ) {
    if (sab.byteLength !== sharedBytes(count, floats))
      throw new WorkerError(
        'crashed',
        `shared buffer of ${sab.byteLength} bytes, expected ${sharedBytes(count, floats)}`,
      );
    this.control = new Int32Array(sab, 0, CONTROL);
    this.scalars = new Float64Array(sab, CONTROL * 4, 2 * count * SCALARS);
    this.slots = new Float32Array(sab, CONTROL * 4 + 2 * count * SCALARS * 8, 2 * count * floats);
  }

  dispose(): void {
    this.other?.forEach((t) => t.dispose());
    this.other = null;
  }

  poison(): void {
    Atomics.store(this.control, POISON, 1);
    Atomics.notify(this.control, GENERATION);
  }

  private checkPoison(): void {
    if (Atomics.load(this.control, POISON) !== 0)
      throw new WorkerError('peer-failed', 'another worker of this data-parallel job failed; this one stopped with it');
  }

  private barrier(): void {
    const c = this.control;
    const gen = Atomics.load(c, GENERATION);
    this.checkPoison();
    if (Atomics.add(c, ARRIVED, 1) === this.count - 1) {
      Atomics.store(c, ARRIVED, 0);
      Atomics.add(c, GENERATION, 1);
      Atomics.notify(c, GENERATION);
    } else {
      // Spin briefly first: the other replica is usually a fraction of a millisecond away, and
      // waking from Atomics.wait costs about that much again (a futex round trip, more in a VM).
      const spinUntil = performance.now() + SPIN_MS;
      while (Atomics.load(c, GENERATION) === gen && performance.now() < spinUntil);
      // Timed waits only to notice poison set without a notify reaching us.
      while (Atomics.load(c, GENERATION) === gen) {
        Atomics.wait(c, GENERATION, gen, 250);
        this.checkPoison();
      }
    }
    this.checkPoison();
  }

  allReduce(
    params: readonly Param[],
    part: number,
    total: number,
    scalars: readonly number[],
    stop: boolean,
  ): { sums: number[]; stop: boolean } {
    if (scalars.length > SCALARS - 1) throw new RangeError(`allReduce: at most ${SCALARS - 1} scalars`);
    const parity = this.step++ & 1,
      n = this.count,
      f = this.floats;
    const mine = (parity * n + this.index) * f;
    let off = 0;
    for (const p of params) {
      if (!p.grad) continue;
      this.slots.set(p.grad.data, mine + off);
      off += p.grad.size;
    }
    if (off !== 0 && off !== f)
      throw new WorkerError('crashed', `the model has ${off} gradient floats, the job was set up for ${f}`);
    const sc = (parity * n + this.index) * SCALARS;
    this.scalars[sc] = part / total;
    scalars.forEach((v, k) => (this.scalars[sc + 1 + k] = v));
    if (this.index === 0) Atomics.store(this.control, STOP + parity, stop ? 1 : 0);

    this.barrier();

    const decided = Atomics.load(this.control, STOP + parity) === 1;
    const sums = scalars.map((_, k) => {
      let s = 0;
      for (let r = 0; r < n; r++) s += this.scalars[(parity * n + r) * SCALARS + 1 + k];
      return s;
    });
    if (decided || off === 0) return { sums, stop: decided };
    const w = Array.from({ length: n }, (_, r) => this.scalars[(parity * n + r) * SCALARS]);
    const base = parity * n * f;
    if (n === 2) {
      // own·w_own + other·w_other: the same bits on both replicas (see axpby).
      const o = 1 - this.index;
      this.other ??= params.map((p) => this.be.empty(p.grad.shape));
      off = 0;
      params.forEach((p, k) => {
        const len = p.grad.size,
          t = this.other![k];
        t.data.set(this.slots.subarray(base + o * f + off, base + o * f + off + len));
        axpby(p.grad, w[this.index], t, w[o]);
        off += len;
      });
      return { sums, stop: false };
    }
    off = 0;
    for (const p of params) {
      if (!p.grad) continue;
      const g = p.grad.data,
        len = g.length;
      for (let j = 0; j < len; j++) {
        let s = 0;
        for (let r = 0; r < n; r++) s += w[r] * this.slots[base + r * f + off + j];
        g[j] = s;
      }
      off += len;
    }
    return { sums, stop: false };
  }
}
